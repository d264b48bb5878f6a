"""``python -m faults [--quick] [--seed N] [--ports N] [--kills N] [--restarts N] [--fault-rate R]``

Two runs side by side, each on its own dev server with its own worker and var/: the
*undisturbed* run ports the requests with nothing in the way; the *disturbed* run ports the
same requests while its worker is SIGKILLed at random moments (and started again), its
server is stopped and started again on its SQLite database, and the simulated carrier
answers 503, times out or rate-limits (some after it did the work). Then each system is
counted: no envelope, carrier submission, inventory row or mail (per template, recipient
and order) may be held more often than in the undisturbed run, and every port must end as
it did there. The seed of every random choice is printed; the table says what was injected
and what it did. Exit 0 when every port ended the same with no duplicate, else 1.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from devtools.servers import free_ports
from faults import checks
from faults.cluster import ROOT, ClusterError, Server, Worker, run_env
from faults.drive import Driver, Port, write_request

PROFILE = """carriers:
  "*": {{behaviour: accept, answer_after_seconds: 2, foc_in_seconds: {foc}}}
"""
FAULTS = """faults: {{rate: {rate}, seed: {seed}, timeout_seconds: 3, after_effect: 0.5, max_in_a_row: 2}}
"""
ESIGN_FAULTS = '{{"rate": {rate}, "seed": {seed}, "timeout_seconds": 3, "after_effect": 0.5, "max_in_a_row": 2}}'


@dataclass
class Run:
    name: str
    folder: Path
    server: Server
    worker: Worker
    env: dict[str, str]
    ports: list[Port] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    injected: list[str] = field(default_factory=list)
    down: bool = False  # the worker or the server is down on purpose: do not start it meanwhile
    replay_failures: list[str] = field(default_factory=list)

    @property
    def var(self) -> Path:
        return self.folder / "var"


def make_run(name: str, folder: Path, port: int, *, foc: int, faults: str = "") -> Run:
    folder.mkdir(parents=True)
    profile = folder / "simulator.yaml"
    profile.write_text(PROFILE.format(foc=foc) + faults, "utf-8")
    server = Server(port, folder / "temporal.db", folder / "temporal.log")
    env = run_env(address=server.address, var=folder / "var", task_queue=f"faults-{name}", profile=profile)
    return Run(name, folder, server, Worker(env, folder / "worker.log"), env)


async def chaos(run: Run, rng: random.Random, *, kills: int, restarts: int, span: float, done: asyncio.Event,
                t0: float) -> None:
    """Kill the worker ``kills`` times and restart the server ``restarts`` times, at moments
    spread at random over ``span`` seconds (a little less than an undisturbed port's life:
    the carrier's FOC comes ``--foc`` seconds after the submission)."""
    plan = sorted((rng.uniform(1.0, span), "kill") for _ in range(kills))
    plan = sorted(plan + [(rng.uniform(1.0, span), "restart") for _ in range(restarts)])
    for at, what in plan:
        wait = t0 + at - time.monotonic()
        if wait > 0:
            try:
                await asyncio.wait_for(done.wait(), wait)
                return
            except TimeoutError:
                pass
        if done.is_set():
            return
        stages = ", ".join(f"{p.request_id} {p.status}" for p in run.ports)
        now = time.monotonic() - t0
        run.down = True
        try:
            if what == "kill":
                run.worker.kill()
                run.injected.append(f"{now:6.1f} s  SIGKILL worker ({stages})")
                await asyncio.sleep(rng.uniform(0.2, 2.0))
                run.worker.start()
            else:
                down = rng.uniform(2.0, 5.0)
                run.injected.append(f"{now:6.1f} s  server down {down:.1f} s ({stages})")
                await run.server.restart(down)
                run.worker.start()
        finally:
            run.down = False


async def keep_worker_alive(run: Run, done: asyncio.Event) -> None:
    """A worker that exits by itself (it lost its server for too long) is started again."""
    while not done.is_set():
        if not run.down and not run.worker.alive():
            run.log.append(f"{time.strftime('%H:%M:%S')} worker exited by itself: started again")
            run.worker.start()
        await asyncio.sleep(1.0)


async def quiet_client(address: str, env: dict[str, str]) -> object:
    """A client whose retries while the server is down (on purpose) are not logged as warnings,
    with the payload keys of the run's worker and CLI (``env``)."""
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    from portflow.temporal import connect

    runtime = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))))
    return await connect(run_settings(env), address=address, runtime=runtime)


def run_settings(env: dict[str, str]) -> object:
    """The settings a run's worker reads from ``env`` that this process's clients need too."""
    from core.settings import Settings

    return Settings(var_dir=env["PORTFLOW_VAR_DIR"], payload_keys=env.get("PORTFLOW_PAYLOAD_KEYS", ""),
                    payload_encryption=env.get("PORTFLOW_PAYLOAD_ENCRYPTION", "true"),
                    temporal_namespace=env["PORTFLOW_TEMPORAL_NAMESPACE"])


async def drive(run: Run, deadline: float, rng: random.Random | None, args: argparse.Namespace, t0: float) -> None:
    await run.server.start()
    run.worker.start()
    client = await quiet_client(run.server.address, run.env)
    await make_current(client, run)
    driver = Driver(run.env, client, run.log)
    done = asyncio.Event()
    helpers = [asyncio.create_task(keep_worker_alive(run, done))]
    if rng is not None:
        helpers.append(asyncio.create_task(chaos(run, rng, kills=args.kills, restarts=args.restarts,
                                                 span=args.foc + 5.0, done=done, t0=t0)))
    try:
        await asyncio.gather(*(driver.run(p, deadline) for p in run.ports))
    finally:
        done.set()
        for h in helpers:
            h.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
    run.replay_failures = await replay_all(client, run.env)


async def make_current(client: object, run: Run) -> None:
    """The worker runs as a version of the Worker Deployment (PORTFLOW_WORKER_VERSIONING): the
    server routes nothing to it until its build is current, as `make demo` does once it polls."""
    from portflow.deploy import make_current_when_polling

    await make_current_when_polling(client, run.env["PORTFLOW_TEMPORAL_TASK_QUEUE"], timeout=60)


async def replay_all(client: object, env: dict[str, str]) -> list[str]:
    """Every workflow of the run replayed with this code: a history that does not replay is a
    nondeterminism the run caused (a worker would fail the workflow's next task or query)."""
    from temporalio.worker import Replayer

    from portflow.runtime import INTERCEPTORS, WORKFLOWS, workflow_runner
    from portflow.temporal import client_options

    replayer = Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(), interceptors=INTERCEPTORS,
                        **client_options(run_settings(env), encode_failures=False))
    failures = []
    async for wf in client.list_workflows("WorkflowType = 'PortRequestWorkflow' OR WorkflowType = 'PortOrderWorkflow'"):
        history = await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(f"{wf.id}: {str(result.replay_failure)[:300]}")
    return failures


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


async def main(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    rng = random.Random(seed)
    print(f"fault suite: seed {seed} (python -m faults --seed {seed}{' --quick' if args.quick else ''} repeats "
          f"the same choices), {args.ports} port(s), {args.kills} worker kill(s), {args.restarts} server "
          f"restart(s), provider fault rate {args.fault_rate}", flush=True)
    # SIGTERM ends the run as Ctrl-C does: the finally below stops every process it started
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    scratch = Path(tempfile.mkdtemp(prefix="portflow-faults-"))
    p1, p2 = free_ports(2)
    calm = make_run("undisturbed", scratch / "undisturbed", p1, foc=args.foc)
    rough = make_run("disturbed", scratch / "disturbed", p2, foc=args.foc,
                     faults=FAULTS.format(rate=args.fault_rate, seed=seed))
    rough.env["PORTFLOW_ESIGN_LOCAL_FAULTS"] = ESIGN_FAULTS.format(rate=args.fault_rate, seed=seed)
    rough.worker.env = rough.env
    year = datetime.now(UTC).year
    for run in (calm, rough):
        run.ports = [write_request(run.folder, i, year=year) for i in range(args.ports)]
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    ok = False
    try:
        await asyncio.gather(drive(calm, deadline, None, args, t0), drive(rough, deadline, rng, args, t0))
        ok = report(calm, rough, seed, time.monotonic() - t0)
    except ClusterError as err:
        print(f"fault suite: {err}", file=sys.stderr)
    finally:
        for run in (calm, rough):
            run.worker.stop()
            run.server.stop()
            (run.folder / "commands.log").write_text("\n".join(run.log) + "\n", "utf-8")
        if ok and not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"logs and var/ of both runs: {scratch}")
    return 0 if ok else 1


def report(calm: Run, rough: Run, seed: int, took: float) -> bool:
    from providers.faults import count_faults

    held, base = checks.holdings(rough.var), checks.holdings(calm.var)
    dups = {what: checks.duplicates(held[what], base[what]) for what in held}
    diffs = [d for c, r in zip(calm.ports, rough.ports)
             for d in checks.differences(r.end or {"status": r.status}, c.end or {"status": c.status}, r.request_id)]
    provider = count_faults(rough.var)
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(f"{f['stand_in']} {f['kind']}" for f in provider).items()))
    after = sum(1 for f in provider if f["after_effect"])
    delays = [r.took - c.took for c, r in zip(calm.ports, rough.ports) if r.took is not None and c.took is not None]
    completed = sum(1 for p in rough.ports if p.status == "completed")
    kills = sum(1 for i in rough.injected if "SIGKILL" in i)
    restarts = sum(1 for i in rough.injected if "server down" in i)
    n_dups = sum(len(v) for v in dups.values())
    rows = [
        ("seed", str(seed)),
        ("faults injected", f"{kills + restarts + len(provider)}: {kills} worker SIGKILL, {restarts} server restart, "
                            f"{len(provider)} provider ({kinds or 'none'}; {after} after the work was done)"),
        ("ports completed", f"{completed}/{len(rough.ports)} disturbed, "
                            f"{sum(1 for p in calm.ports if p.status == 'completed')}/{len(calm.ports)} undisturbed"),
        ("same end state", "yes" if not diffs else f"NO: {len(diffs)} port(s) differ"),
        ("histories replay", "yes" if not rough.replay_failures else f"NO: {len(rough.replay_failures)} do not"),
        ("duplicates found", f"{n_dups} (" + ", ".join(f"{k} {len(v)}" for k, v in dups.items()) + ")"),
        ("worst delay", (f"{max(delays):.1f} s longer than undisturbed (a port took "
                         f"{max(c.took or 0 for c in calm.ports):.0f} s undisturbed)") if delays else "-"),
        ("commands", f"{sum(p.commands for p in rough.ports)} starter.py runs, "
                     f"{sum(p.retries for p in rough.ports)} retried after a failure"),
        ("took", f"{took:.0f} s"),
    ]
    print("\nfault suite: disturbed run against the undisturbed one")
    print(table(rows))
    print("\nwhen:")
    print("\n".join(f"  {line}" for line in rough.injected) or "  (nothing: every port ended first)")
    for problem in diffs + [d for v in dups.values() for d in v] + rough.replay_failures:
        print(f"  PROBLEM {problem}")
    return not diffs and n_dups == 0 and completed == len(rough.ports) and not rough.replay_failures


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m faults", description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the bounded subset make test runs (1 port, under 90 s)")
    ap.add_argument("--seed", type=int, help="repeat a run's random choices (default: a new seed, printed)")
    ap.add_argument("--ports", type=int, help="ports per run (default 3, quick 1)")
    ap.add_argument("--kills", type=int, help="worker SIGKILLs (default 10, quick 2)")
    ap.add_argument("--restarts", type=int, help="server restarts (default 2, quick 1)")
    ap.add_argument("--fault-rate", type=float, help="share of the carrier simulator's and the local e-signature's calls that fail (default 0.3, quick 0.2)")
    ap.add_argument("--foc", type=int, help="the carrier's FOC, seconds after submission (default 40, quick 15)")
    ap.add_argument("--timeout", type=float, help="give up after this many seconds (default 600, quick 80)")
    ap.add_argument("--keep", action="store_true", help="keep the runs' logs and var/ even when all is well")
    args = ap.parse_args(argv)
    quick = args.quick
    for name, full, short in (("ports", 3, 1), ("kills", 10, 2), ("restarts", 2, 1), ("foc", 40, 15),
                              ("timeout", 600.0, 80.0), ("fault_rate", 0.3, 0.2)):
        if getattr(args, name) is None:
            setattr(args, name, short if quick else full)
    if args.ports < 1 or args.kills < 0 or args.restarts < 0 or not 0 <= args.fault_rate <= 1:
        ap.error("--ports must be at least 1, --kills and --restarts at least 0, --fault-rate between 0 and 1")
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
