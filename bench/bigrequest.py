"""Rows 5 and 6: a big request (10 accounts x 1,000 numbers; ``bench.genrequest`` writes it).

5 ``check``: ``starter.py check BIG`` wall time minus ``starter.py check examples/good-request.yaml``.
6 ``bigstart``: ``starter.py start BIG`` wall time with a dev server and a worker running;
  then the same size of request run to completion with instant providers on the
  time-skipping server, and its histories scanned for the largest event and history.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from bench import genrequest
from bench import ports as P
from bench.harness import PY, ROOT, Bench, Line, child_env, cmd, portflow_settings, time_skipping, uid, verdict

KB = 1024


async def run_cli(*args: str, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> float:
    """Wall time of ``python starter.py ARGS`` (output discarded); raises on an unexpected exit code."""
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(PY, *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    took = time.perf_counter() - t0
    if proc.returncode not in ok:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {err.decode(errors='replace')[-300:]}")
    return took


def _sizes(b: Bench) -> tuple[int, int]:
    return (10, 100) if b.quick else (10, 1000)


async def check(b: Bench) -> list[Line]:
    accounts, numbers = _sizes(b)
    tmp = b.scratch()
    big = genrequest.write(tmp / "big-request.yaml", accounts, numbers)
    small, large = [], []
    with portflow_settings():
        for _ in range(b.repeat):  # alternate, so drift on the shared box hits both
            small.append(await run_cli("starter.py", "check", "examples/good-request.yaml"))
            large.append(await run_cli("starter.py", "check", str(big)))
    small_t, big_t = statistics.median(small), statistics.median(large)
    added = big_t - small_t
    b.note(f"row 5 request file: python -m bench.genrequest OUT.yaml {accounts} {numbers} ({big.stat().st_size // 1024} KB)")
    return [Line("5", f"check of {accounts} accounts x {numbers:,} numbers (starter.py check, wall)",
                 f"{big_t:.2f} s ({added:+.2f} s)", f"{small_t:.2f} s (good-request.yaml)", f"{big_t / small_t:.2f}x",
                 "adds < 0.3 s", verdict(added < 0.3),
                 cmd("check", quick=b.quick))]


async def _start_times(b: Bench, accounts: int, numbers: int) -> float:
    from devtools.servers import current_worker

    env = await b.dev()
    address = env.client.service_client.config.target_host
    tq = uid("bigstart")
    tmp = b.scratch()
    times = []
    with portflow_settings(**P.instant_settings(tmp, tq), TEMPORAL_ADDRESS=address) as _var:
        async with current_worker(env.client, tq):  # versioned, its build current
            for _ in range(b.repeat):
                f = genrequest.write(tmp / f"big-{uid()}.yaml", accounts, numbers, first_block=P.next_blocks(accounts),
                                     request_id=f"PR-2099-{P.next_seq():05d}")
                # a request over the check's default limit (10,000) needs the PM's setting
                times.append(await run_cli("starter.py", "start", str(f),
                                           env=child_env(MAX_NUMBERS_PER_REQUEST=max(10_000, accounts * numbers))))
    return statistics.median(times)


async def _to_completion(b: Bench, accounts: int, numbers: int) -> tuple[P.HistoryStats, P.HistoryStats, str]:
    """The request run through with instant providers; (largest event's history, largest history, status)."""
    from models.request import PortRequest
    from worker import build_worker

    tmp = b.scratch()
    tq = uid("bigrun")
    with portflow_settings(**P.instant_settings(tmp, tq)) as var:
        async with time_skipping() as env, build_worker(env.client):
            today = (await env.get_current_time()).date()
            req = PortRequest.model_validate(genrequest.request_data(
                accounts, numbers, first_block=P.next_blocks(accounts), request_id=f"PR-2099-{P.next_seq():05d}",
                today=today))
            handle = await P.start(env.client, req)
            await P.attach_documents(env.client, req, var)
            result = await handle.result()
            ids = [req.id] + [p.order_id for p in req.order_parts()]
            stats = [await P.history_stats(env.client, i) for i in ids]
    return max(stats, key=lambda s: s.largest_event), max(stats, key=lambda s: s.size), str(result.status)


async def big_start(b: Bench) -> list[Line]:
    lines = []
    for accounts, numbers in [_sizes(b)] + ([(50, 1000)] if b.big else []):
        label = f"{accounts} accounts x {numbers:,} numbers"
        c = cmd("bigstart", quick=b.quick, extra="--big" if accounts == 50 else "")
        try:
            t = await _start_times(b, accounts, numbers)
            lines.append(Line("6", f"start of {label} (starter.py start, dev server + worker, wall)", f"{t:.2f} s",
                              target="< 2 s", ratio=f"{t / 2:.2f}x of target", met=verdict(t < 2), command=c))
        except Exception as exc:  # noqa: BLE001 - the run to completion is still measured
            lines.append(Line("6", f"start of {label}", f"error: {type(exc).__name__}: {str(exc)[:150]}", met="ERROR",
                              command=c))
        big_event, big_history, status = await _to_completion(b, accounts, numbers)
        lines.append(Line("6", f"{label} run to completion ({status}): largest event payload",
                          f"{big_event.largest_event / KB:.1f} KB ({big_event.largest_event_type} in {big_event.workflow_id})",
                          target="<= 256 KB", ratio=f"{big_event.largest_event / KB / 256:.2f}x of target",
                          met=verdict(big_event.largest_event <= 256 * KB), command=c))
        lines.append(Line("6", f"{label} run to completion: largest history",
                          f"{big_history.size / KB:.1f} KB, {big_history.events} events ({big_history.workflow_id})",
                          target="<= 2 MB", ratio=f"{big_history.size / KB / 2048:.2f}x of target",
                          met=verdict(big_history.size <= 2048 * KB), command=c))
    return lines
