"""Scale-out, proven on one machine: N worker processes on one dev server, many ports with
instant providers, one worker SIGKILLed mid-run.

    python -m bench.scaleout [--ports 200] [--workers 3] [--calls-per-second 10] [--partitions 1]   # `make scale`

Every port must complete with exactly one LOA, one carrier submission and one of each mail
per order, and the carrier calls of all workers together (counted where they reach the
simulator, ``bench/scaleworker.py``) must stay within ``PORTFLOW_CARRIER_CALLS_PER_SECOND``,
the carrier task queue's rate limit. The server paces a queue as a token bucket per partition
(refilled at the limit, holding one second's worth): with one partition, as deploy/ configures the
carrier queue, at most limit x (T + 1) calls start in any T seconds (+1 for timing: ``Figures.allowed``); with Temporal's default four
partitions the bursts are larger (measured: 8 calls in 2 s at 2/s), the sustained rate the same. Prints the figures; ``tests/deploy/test_scale_out.py``
runs it smaller in ``make test``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench import ports as P
from bench.harness import portflow_settings, uid

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figures:
    ports: int
    orders: int
    workers: int
    killed_at: float  # seconds into the run
    seconds: float
    limit: float
    peak_calls_per_second: int  # most carrier calls in any one-second window
    calls: int
    mean_calls_per_second: float
    duplicates: dict[str, int] = field(default_factory=dict)  # what, beyond one per order
    busiest: dict[int, int] = field(default_factory=dict)  # window seconds -> most calls started in one such window
    busiest_at_simulator: dict[int, int] = field(default_factory=dict)  # the same, when they reached the simulator

    def allowed(self, seconds: int) -> float:
        """The most calls that may start in ``seconds``: a token bucket refilling ``limit`` a
        second and holding one second's worth allows ``limit * (T + 1)``; one more absorbs the
        gap between the dispatch the server paces and the start time its history records."""
        return self.limit * (seconds + 1) + 1

    def over_limit(self) -> list[str]:
        """Windows where the calls beat the rate limit."""
        return [f"{n} calls in {t} s (at most {self.allowed(t):g})" for t, n in self.busiest.items()
                if n > self.allowed(t)]

    def lines(self) -> list[str]:
        return [
            f"ports {self.ports} ({self.orders} orders) on {self.workers} worker processes, one SIGKILLed at "
            f"{self.killed_at:.1f} s: all completed in {self.seconds:.1f} s ({self.ports / self.seconds:.2f} ports/s)",
            f"duplicates: {sum(self.duplicates.values())} ({', '.join(f'{k} {v}' for k, v in self.duplicates.items())})",
            f"carrier calls: {self.calls}, peak {self.peak_calls_per_second} in any 1 s window, mean "
            f"{self.mean_calls_per_second:.2f}/s, limit {self.limit:g}/s (token bucket: at most limit x (T+1) + 1 in T s); "
            "busiest windows: " + ", ".join(f"{n} in {t} s" for t, n in self.busiest.items())
            + " (by the server's start of each attempt; as they reached the simulator: "
            + ", ".join(f"{n} in {t} s" for t, n in self.busiest_at_simulator.items()) + ")"
            + (f"; OVER THE LIMIT: {'; '.join(self.over_limit())}" if self.over_limit() else "; never over the limit"),
        ]


def peak_per_second(times: list[float], window: float = 1.0) -> int:
    """The most calls inside any window of ``window`` seconds (sliding over every call)."""
    times, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _spawn(n: int, var: Path, address: str) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "PORTFLOW_TEMPORAL_ADDRESS": address}
    logs = var / "worker-logs"
    logs.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([sys.executable, "-m", "bench.scaleworker"], cwd=ROOT, env=env, start_new_session=True,
                             stdout=(logs / f"worker-{i}.log").open("wb"), stderr=subprocess.STDOUT)
            for i in range(n)]


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def _duplicates(var: Path, order_ids: list[str]) -> dict[str, int]:
    """Beyond one per order: LOAs (and signed LOAs), carrier orders and submissions, mails of
    one kind. Raises when an order has none of one of them."""
    import json

    from sqlmodel import select

    from store.db import session_scope
    from store.tables import DocumentRow
    from tests.mail_helpers import outbox

    data = var / "var"
    with session_scope() as db:
        docs = Counter((r.order_id, r.kind) for r in db.exec(select(DocumentRow)) if r.kind in ("loa", "signed_loa"))
    sim = [json.loads(p.read_text()) for p in (data / "carrier-sim").rglob("*.json")]
    carrier_orders = Counter(r["order_id"] for r in sim)
    submits = Counter(r["order_id"] for r in sim for e in r["events"] if e["kind"] == "submit")
    mails = Counter((m.order_id, m.template) for m in outbox(data) if m.order_id)
    for what, seen in (("an LOA", {o for o, k in docs if k == "loa"}), ("a signed LOA", {o for o, k in docs if k == "signed_loa"}),
                       ("a carrier order", set(carrier_orders)), ("a mail", {o for o, _ in mails})):
        missing = [o for o in order_ids if o not in seen]
        if missing:
            raise AssertionError(f"{len(missing)} orders have no {what}: {missing[:3]}")
    return {
        "LOAs": sum(c - 1 for (_, k), c in docs.items() if k == "loa"),
        "signed LOAs": sum(c - 1 for (_, k), c in docs.items() if k == "signed_loa"),
        "carrier orders": sum(c - 1 for c in carrier_orders.values()),
        "submissions": sum(c - 1 for c in submits.values()),
        "mails": sum(c - 1 for c in mails.values()),
    }


async def run(ports: int = 200, workers: int = 3, calls_per_second: float = 10.0, *,
              kill_after_fraction: float = 0.3, partitions: int | None = None) -> Figures:
    from devtools.servers import local_env, register_search_attributes
    from models.status import PortStatus
    from portflow.deploy import make_current_when_polling

    tq = uid("scale")
    async with await local_env(ui=False,
            dev_server_extra_args=[f for n in ("Read", "Write") for f in (
                "--dynamic-config-value", f"matching.numTaskqueue{n}Partitions={partitions}")] if partitions else []) as env:
        await register_search_attributes(env.client)
        address = env.client.service_client.config.target_host
        with portflow_settings(**P.instant_settings(Path(tempfile.mkdtemp(prefix="portflow-scale-")), tq),
                               CARRIER_CALLS_PER_SECOND=calls_per_second, WORKER_VERSIONING="true",
                               WORKER_DEPLOYMENT_NAME=uid("scale"), WORKER_BUILD_ID="b1",
                               HISTORY_EVENTS_LIMIT=0) as var:
            procs = _spawn(workers, var, address)
            try:
                await make_current_when_polling(env.client, tq, timeout=90)
                today = datetime.now(UTC).date()
                reqs = [P.request(P.next_seq(), port_date=P.port_date_ahead(25, today)) for _ in range(ports)]
                t0 = time.monotonic()
                handles = await asyncio.gather(*(P.start(env.client, r) for r in reqs))
                results = asyncio.gather(*(h.result() for h in handles))
                await asyncio.gather(*(P.attach_documents(env.client, r, var) for r in reqs))
                await asyncio.gather(*(P.assign_all(h, r.all_numbers) for h, r in zip(handles, reqs)))
                sim = var / "var" / "carrier-sim"
                while len(list(sim.rglob("*.json"))) < max(1, int(ports * kill_after_fraction)):
                    await asyncio.sleep(0.2)
                killed_at = time.monotonic() - t0
                os.killpg(procs[0].pid, signal.SIGKILL)  # mid-run, without a chance to finish anything
                done = await asyncio.wait_for(results, timeout=120 + ports * 3)
                seconds = time.monotonic() - t0
            finally:
                _stop(procs)
            bad = [f"{r.id}: {res.status}" for r, res in zip(reqs, done) if res.status != PortStatus.COMPLETED]
            if bad:
                raise AssertionError(f"{len(bad)} port(s) did not complete: {bad[:3]}")
            order_ids = [r.order_id(i) for r in reqs for i in range(len(r.accounts))]
            # paced by the server's start of each activity attempt (what the rate limit governs)
            times = [float(line.split()[0]) for p in (var / "var" / "carrier-calls").glob("*.log")
                     for line in p.read_text().splitlines() if line.strip()]
            ran = [float(line.split()[1]) for p in (var / "var" / "carrier-calls").glob("*.log")
                   for line in p.read_text().splitlines() if line.strip()]
            span = (max(times) - min(times)) if len(times) > 1 else 1.0
            return Figures(ports=ports, orders=len(order_ids), workers=workers, killed_at=killed_at, seconds=seconds,
                           limit=calls_per_second, peak_calls_per_second=peak_per_second(times), calls=len(times),
                           mean_calls_per_second=len(times) / max(span, 1e-9),
                           duplicates=_duplicates(var, order_ids),
                           busiest={t: peak_per_second(times, t) for t in (1, 2, 5, 10)},
                           busiest_at_simulator={t: peak_per_second(ran, t) for t in (1, 2, 5, 10)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ports", type=int, default=200)
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--calls-per-second", type=float, default=10.0)
    ap.add_argument("--partitions", type=int, default=1, help="task queue partitions on the dev server (0: its default)")
    args = ap.parse_args()
    if args.ports < 1 or args.workers < 2:
        ap.error("--ports must be at least 1 and --workers at least 2 (one of them is killed)")
    figures = asyncio.run(run(args.ports, args.workers, args.calls_per_second, partitions=args.partitions or None))
    for line in figures.lines():
        print(line)
    ok = not sum(figures.duplicates.values()) and not figures.over_limit()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
