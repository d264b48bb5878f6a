"""Row 4: starts per second on the dev server.

``portflow.ports.start_port`` is what ``starter.py start`` does once the file passed the
check and has an id (``portflow.cli.actions.cmd_start``): the settings' options, the
database migration check, the busy-numbers query, a describe for a duplicate, sealing the
secrets into the vault, and ``start_workflow`` with search attributes, memo and summary.
(``cmd_start`` then waits for the intake and attaches documents: not measured here.) The
baseline is ``client.start_workflow`` of a trivial workflow on the same server. Both run
M starts one after the other with no worker polling (the start alone is measured).
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from bench import ports as P
from bench.harness import Bench, Line, cmd, portflow_settings, ratio_line, uid
from bench.noop import Trivial


async def starts(b: Bench) -> list[Line]:
    m = 10 if b.quick else 50
    env = await b.dev()
    client = env.client
    tq = uid("starts")
    real, base = [], []
    with portflow_settings(TEMPORAL_TASK_QUEUE=tq):
        today = datetime.now(UTC).date()
        for _ in range(b.repeat):  # alternate, so drift on the shared box hits both
            reqs = [P.request(P.next_seq(), port_date=P.port_date_ahead(30, today)) for _ in range(m + 1)]
            await P.start(client, reqs.pop())  # warm-up: first connection to the database and vault
            t0 = time.perf_counter()
            for r in reqs:
                await P.start(client, r)
            real.append(m / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for _ in range(m):
                await client.start_workflow(Trivial.run, "x", id=uid("trivial"), task_queue=tq)
            base.append(m / (time.perf_counter() - t0))
    return [ratio_line("4", f"starts/s, {m} sequential start_port (dev server, no worker)", statistics.median(real),
                       statistics.median(base), "starts/s", target=0.5, higher_is_better=True,
                       command=cmd("starts", quick=b.quick), fmt="{:.1f}")]
