"""The baseline workflows: trivial workflows with a real port's shape, and one that waits.

``NoopRequest`` starts one ``NoopOrder`` child per order; each does the activities, timers,
search-attribute and memo upserts and sends the signals counted in a real port's history
(``bench.ports.shape_of``), with activities that return at once, and waits for as many
client signals and updates as the real workflow received. ``Waiting`` only waits on a
condition (row 3's baseline) and ``Trivial`` returns at once (row 4's).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

_STATUS = SearchAttributeKey.for_keyword("PortStatus")


class Shape(BaseModel):
    activities: int = 0
    timers: int = 0
    timers_fired: int = 0  # the others are cancelled (a reminder no longer due)
    upserts: int = 0
    memo_upserts: int = 0
    children: int = 0
    client_signals: int = 0
    updates: int = 0
    signals_sent: int = 0


class NoopInput(BaseModel):
    shape: Shape
    child: Shape | None = None
    parent_id: str | None = None


@activity.defn
async def noop_activity(i: int) -> int:
    return i


async def _do(shape: Shape) -> None:
    pending = []
    for i in range(max(shape.activities, shape.timers, shape.upserts, shape.memo_upserts)):
        if i < shape.activities:
            await workflow.execute_activity(noop_activity, i, start_to_close_timeout=timedelta(minutes=1))
        if i < shape.timers_fired:
            await workflow.sleep(timedelta(milliseconds=10))
        elif i < shape.timers:
            pending.append(asyncio.get_running_loop().create_task(workflow.sleep(timedelta(days=1))))
        if i < shape.upserts:
            workflow.upsert_search_attributes([_STATUS.value_set(f"s{i}")])
        if i < shape.memo_upserts:
            workflow.upsert_memo({"step": i})
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


class _Counting:
    def __init__(self) -> None:
        self.signals = 0
        self.updates = 0

    @workflow.signal
    def ping(self) -> None:
        self.signals += 1

    @workflow.update
    def poke(self) -> int:
        self.updates += 1
        return self.updates


@workflow.defn
class NoopOrder(_Counting):
    @workflow.run
    async def run(self, inp: NoopInput) -> int:
        s = inp.shape
        await _do(s)
        if inp.parent_id:
            parent = workflow.get_external_workflow_handle(inp.parent_id)
            for _ in range(s.signals_sent):
                await parent.signal("ping")
        await workflow.wait_condition(lambda: self.signals >= s.client_signals and self.updates >= s.updates)
        return self.signals


@workflow.defn
class NoopRequest(_Counting):
    @workflow.run
    async def run(self, inp: NoopInput) -> int:
        s, child = inp.shape, inp.child or Shape()
        me = workflow.info().workflow_id
        kids = [await workflow.start_child_workflow(NoopOrder.run, NoopInput(shape=child, parent_id=me), id=f"{me}-{i + 1}")
                for i in range(s.children)]
        await _do(s)
        want = s.client_signals + s.children * child.signals_sent
        await workflow.wait_condition(lambda: self.signals >= want and self.updates >= s.updates)
        for k in kids:
            await k
        return self.signals


@workflow.defn
class Waiting:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self, note: str) -> str:
        await workflow.wait_condition(lambda: self.done)
        return note

    @workflow.signal
    def finish(self) -> None:
        self.done = True

    @workflow.query
    def waiting(self) -> bool:
        return not self.done


@workflow.defn
class Trivial:
    @workflow.run
    async def run(self, note: str) -> str:
        return note


BASELINE_WORKFLOWS = [NoopRequest, NoopOrder, Waiting, Trivial]
BASELINE_ACTIVITIES = [noop_activity]
