"""Rows 1 and 2: whole port lifecycles on the time-skipping test server.

1 ``throughput``: N one-account ports (3 numbers each) through the whole lifecycle with
  instant providers, ports/s, beside N no-op request/order pairs of the same shape.
2 ``history``: one clean order with default settings; the sizes of its histories.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.worker import Worker

from bench import ports as P
from bench.harness import Bench, Line, cmd, portflow_settings, ratio_line, time_skipping, uid, verdict
from bench.noop import BASELINE_ACTIVITIES, BASELINE_WORKFLOWS, NoopInput, NoopRequest, Shape

async def _real_batch(client: Client, n: int, today: Any, tmp: Any) -> list[str]:
    """N ports: start all, then the documents, then the assignment, then every result."""
    from models.status import PortStatus

    reqs = [P.request(P.next_seq(), port_date=P.port_date_ahead(25, today)) for _ in range(n)]
    handles = await asyncio.gather(*(P.start(client, r) for r in reqs))
    await asyncio.gather(*(P.attach_documents(client, r, tmp) for r in reqs))
    await asyncio.gather(*(P.assign_all(h, r.all_numbers) for h, r in zip(handles, reqs)))
    results = await asyncio.gather(*(h.result() for h in handles))
    bad = [f"{r.id}: {res.status}" for r, res in zip(reqs, results) if res.status != PortStatus.COMPLETED]
    if bad:
        raise RuntimeError(f"{len(bad)} port(s) did not complete: {bad[:3]}")
    return [r.id for r in reqs]


async def _to_child(client: Client, wid: str, signals: int, updates: int) -> None:
    h = client.get_workflow_handle(wid)
    for _ in range(200):  # the child may not exist yet
        try:
            for _ in range(signals):
                await h.signal("ping")
            signals = 0
            for _ in range(updates):
                await h.execute_update("poke")
                updates -= 1
            return
        except RPCError:
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{wid} never appeared")


async def _noop_batch(client: Client, n: int, tq: str, parent: Shape, child: Shape) -> None:
    ids = [uid("noop") for _ in range(n)]
    handles = await asyncio.gather(*(client.start_workflow(NoopRequest.run, NoopInput(shape=parent, child=child),
                                                           id=i, task_queue=tq) for i in ids))

    async def drive(h: Any) -> None:
        for _ in range(parent.client_signals):
            await h.signal("ping")
        for _ in range(parent.updates):
            await h.execute_update("poke")
        for k in range(parent.children):
            await _to_child(client, f"{h.id}-{k + 1}", child.client_signals, child.updates)

    await asyncio.gather(*(drive(h) for h in handles))
    await asyncio.gather(*(h.result() for h in handles))


async def _shapes(client: Client, req_id: str, order_ids: list[str]) -> tuple[Shape, Shape]:
    parent = P.shape_of((await client.get_workflow_handle(req_id).fetch_history()).events)
    kids = [P.shape_of((await client.get_workflow_handle(o).fetch_history()).events) for o in order_ids]
    child = kids[0]
    if not parent.pop("workflow_signals", 0):
        # the time-skipping server does not say which signals came from a workflow: the
        # orders' own signals to the request are not the client's
        parent["client_signals"] = max(0, parent.get("client_signals", 0) - sum(k.get("signals_sent", 0) for k in kids))
    child.pop("workflow_signals", None)
    return Shape(**parent), Shape(**child)


async def throughput(b: Bench) -> list[Line]:
    """Row 1, and its codec cost (issue 14): the same batches with the payload codec (as
    production runs) and without it, alternating, each worker warmed by one untimed port."""
    from core.settings import Settings
    from devtools.servers import current_worker
    from portflow.temporal import with_codec
    from worker import workflow_runner

    n = 5 if b.quick else 30
    tq, noop_tq = uid("tq"), uid("noop")
    env = await b.dev()
    with portflow_settings(**P.instant_settings(b.scratch(), tq), PAYLOAD_ENCRYPTION="true") as var:
        codec, plain = with_codec(env.client), with_codec(env.client, Settings(payload_encryption=False))
        today = datetime.now(UTC).date()
        async with Worker(plain, task_queue=noop_tq, workflows=BASELINE_WORKFLOWS, activities=BASELINE_ACTIVITIES,
                          workflow_runner=workflow_runner()):
            async with current_worker(codec, tq):
                first = await _real_batch(codec, 1, today, var)  # warm-up, and the shape to copy
                parent, child = await _shapes(codec, first[0], [f"{first[0]}-1"])
            await _noop_batch(plain, 1, noop_tq, parent, child)
            rates: dict[str, list[float]] = {"codec": [], "plain": []}
            base = []
            for _ in range(b.repeat):  # alternate, so drift on the shared box hits all three
                for name, client in (("codec", codec), ("plain", plain)):
                    async with current_worker(client, tq):
                        await _real_batch(client, 1, today, var)  # this worker's warm-up
                        t0 = time.perf_counter()
                        await _real_batch(client, n, today, var)
                        rates[name].append(n / (time.perf_counter() - t0))
                t0 = time.perf_counter()
                await _noop_batch(plain, n, noop_tq, parent, child)
                base.append(n / (time.perf_counter() - t0))
    b.note(f"row 1 shape copied from a real port: request {parent.model_dump(exclude_defaults=True)}, "
           f"order {child.model_dump(exclude_defaults=True)}")
    with_codec_rate, plain_rate = statistics.median(rates["codec"]), statistics.median(rates["plain"])
    command = cmd("throughput", quick=b.quick)
    return [
        ratio_line("1", f"lifecycle throughput, {n} ports (instant providers, dev server, payload codec)",
                   with_codec_rate, statistics.median(base), "ports/s", target=0.9, higher_is_better=True,
                   command=command),
        ratio_line("1", f"lifecycle throughput, {n} ports, without the payload codec",
                   plain_rate, statistics.median(base), "ports/s", target=0.9, higher_is_better=True, command=command),
        ratio_line("1", "payload codec cost: ports/s with the codec beside without (issue 14)",
                   with_codec_rate, plain_rate, "ports/s", target=0.9, higher_is_better=True, command=command),
    ]


async def history(b: Bench) -> list[Line]:
    from worker import build_worker

    tq = uid("tq")
    tmp = b.scratch()
    profile = tmp / "five-day-foc.yaml"
    profile.write_text(P.FIVE_DAY_FOC_PROFILE)
    with portflow_settings(TEMPORAL_TASK_QUEUE=tq, SIMULATOR_PROFILE=profile, VERIFICATION="auto") as var:
        async with time_skipping() as env, build_worker(env.client):
            now = await env.get_current_time()
            req = P.request(P.next_seq(), port_date=P.port_date_ahead(25, now.date()))
            handle = await P.start(env.client, req)
            await env.sleep(timedelta(days=1))
            await P.attach_documents(env.client, req, var)
            await P.assign_all(handle, req.all_numbers)
            await env.sleep(timedelta(days=1))
            await P.sign_all(env.client, req, now=await env.get_current_time())
            result = await handle.result()
            order = await P.history_stats(env.client, req.order_id(0))
            request = await P.history_stats(env.client, req.id)
    c = cmd("history")
    lines = []
    for what, st, limit in (("order", order, 120), ("request", request, 80)):
        lines.append(Line("2", f"history of one clean {what}: events", str(st.events), target=f"<= {limit}",
                          ratio=f"{st.events / limit:.2f}x of target", met=verdict(st.events <= limit), command=c))
        lines.append(Line("2", f"history of one clean {what}: size", f"{st.size / 1024:.1f} KB", command=c))
        top = ", ".join(f"{k} {v}" for k, v in st.by_type.most_common(5))
        acts = ", ".join(f"{k} {v}" for k, v in st.activities.most_common(3))
        b.note(f"row 2 {what} {st.workflow_id} ({result.status}): top event types: {top}; "
               f"activities scheduled, top 3: {acts}")
    return lines
