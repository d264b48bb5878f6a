"""Row 7: CLI start-up, each command's wall time beside ``python -c pass``.

``starter.py --help`` and ``starter.py check examples/good-request.yaml`` run offline;
``starter.py status ID`` asks a port started on the dev server, with a worker running
(in this process) to answer the query. Output is discarded (a pipe, not a terminal).
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime

from bench import ports as P
from bench.bigrequest import run_cli
from bench.harness import Bench, Line, child_env, cmd, portflow_settings, uid, verdict


async def _median(b: Bench, *args: str, env: dict[str, str] | None = None) -> float:
    return statistics.median([await run_cli(*args, env=env) for _ in range(b.repeat)])


async def cli(b: Bench) -> list[Line]:
    from devtools.servers import current_worker
    from models.status import PortStatus
    from workflows.port_request import PortRequestWorkflow

    c = cmd("cli", quick=b.quick)
    results: list[tuple[str, float, float, float]] = []  # what, time, python -c pass, target
    with portflow_settings():
        base = await _median(b, "-c", "pass")
        results.append(("starter.py --help", await _median(b, "starter.py", "--help"), base, 0.4))
        results.append(("starter.py check examples/good-request.yaml",
                        await _median(b, "starter.py", "check", "examples/good-request.yaml"), base, 0.4))
    env = await b.dev()
    address = env.client.service_client.config.target_host
    tq = uid("cli")
    tmp = b.scratch()
    with portflow_settings(**P.instant_settings(tmp, tq), TEMPORAL_ADDRESS=address):
        async with current_worker(env.client, tq):  # versioned, its build current
            req = P.request(P.next_seq(), port_date=P.port_date_ahead(30, datetime.now(UTC).date()))
            h = await P.start(env.client, req)
            await h.query(PortRequestWorkflow.status)
            base = await _median(b, "-c", "pass")  # again: now a worker and a server share the box
            t = await _median(b, "starter.py", "status", req.id, env=child_env())
            results.append((f"starter.py status {req.id} (a port in {PortStatus.DOCUMENTS.value}, dev server)", t, base, 0.8))
    return [Line("7", f"CLI start-up: {what} (wall)", f"{t:.2f} s", f"{base:.2f} s (python -c pass)", f"{t / base:.1f}x",
                 f"< {target} s", verdict(t < target), c) for what, t, base, target in results]
