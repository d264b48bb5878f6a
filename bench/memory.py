"""Row 3: memory per waiting port, in one worker process.

A worker subprocess (``bench.memworker``) on the dev server; after a warm-up of a few
workflows (the sandbox's first imports are a one-off), K more are started and the growth
of the worker's RSS (``VmRSS`` in /proc, not tracemalloc: the SDK core's Rust side counts
too) divided by K is the figure. Real ports wait for their documents; the baseline is a
workflow waiting on a condition in the same kind of worker. K <= 1,000: the worker's
default cache (``max_cached_workflows``), so every workflow stays cached.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from temporalio.client import Client

from bench import ports as P
from bench.harness import PY, ROOT, Bench, Line, cmd, portflow_settings, ratio_line, rss_bytes, subprocess_guard, uid
from bench.noop import Waiting

WARM = 5


async def _gather_limited(fns: list[Callable[[], Awaitable[object]]], limit: int = 16) -> list[object]:
    sem = asyncio.Semaphore(limit)

    async def one(fn: Callable[[], Awaitable[object]]) -> object:
        async with sem:
            return await fn()

    return await asyncio.gather(*(one(f) for f in fns))


async def _settled_rss(pid: int) -> int:
    await asyncio.sleep(2.0)  # the last workflow tasks' buffers freed
    return rss_bytes(pid)


async def _measure(client: Client, address: str, kind: str, k: int, tq: str) -> float:
    """Bytes of worker RSS per workflow for ``k`` waiting workflows of ``kind``."""
    from models.status import PortStatus
    from workflows.port_request import PortRequestWorkflow

    proc = await asyncio.create_subprocess_exec(PY, "-m", "bench.memworker", address, tq, kind, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE)
    async with subprocess_guard(proc):
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"the {kind} worker did not start (exit {proc.returncode})")
        today = datetime.now(UTC).date()

        async def one() -> None:
            if kind == "real":
                h = await P.start(client, P.request(P.next_seq(), port_date=P.port_date_ahead(30, today)))
                for _ in range(600):
                    if (await h.query(PortRequestWorkflow.status)).status == PortStatus.DOCUMENTS:
                        return
                    await asyncio.sleep(0.1)
                raise RuntimeError(f"{h.id} never waited for documents")
            h = await client.start_workflow(Waiting.run, "waiting", id=uid("wait"), task_queue=tq)
            if not await h.query(Waiting.waiting):
                raise RuntimeError(f"{h.id} is not waiting")

        await _gather_limited([one for _ in range(WARM)])
        before = await _settled_rss(proc.pid)
        await _gather_limited([one for _ in range(k)])
        after = await _settled_rss(proc.pid)
    return (after - before) / k


async def memory(b: Bench) -> list[Line]:
    k = 50 if b.quick else 500
    env = await b.dev()
    address = env.client.service_client.config.target_host
    tq = uid("mem")
    with portflow_settings(TEMPORAL_TASK_QUEUE=tq, TEMPORAL_ADDRESS=address) as _var:
        real = await _measure(env.client, address, "real", k, tq)
        base = await _measure(env.client, address, "trivial", k, uid("memnoop"))
    print(f"    row 3: {real / 1024:.1f} KiB per port, {base / 1024:.1f} KiB per waiting workflow", file=sys.stderr)
    return [ratio_line("3", f"worker RSS growth per waiting port, {k} ports waiting for documents (dev server)",
                       real / 1024, base / 1024, "KiB", target=1.5, higher_is_better=False,
                       command=cmd("memory", quick=b.quick), fmt="{:.1f}")]
