"""Continue-as-new: an order that went back and forth with its carrier for months starts a
fresh history before Temporal's limits, carrying its whole state (:class:`OrderCarry`).

It continues only where nothing is in flight: between stages, or at the top of the carrier
stage's loop (whose clocks live in the state); never with an update handler running, an
amendment not yet applied or the inventory job under way. The store and the request are
brought up to date first, and the idempotency keys of every side effect are counters in the
state, so nothing is sent twice across the boundary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.port_order.state import OrderCarry

if TYPE_CHECKING:
    from workflows.port_order.order import Order

SLA_TASK = "sla-watch"


def due(o: Order) -> bool:
    """The history is long (Temporal suggests a new run, or the order's own limit is passed)
    and the order is at rest."""
    info = workflow.info()
    limit = o.inp.options.history_events_limit
    if not (info.is_continue_as_new_suggested() or (limit and info.get_current_history_length() >= limit)):
        return False
    busy = [t for t in o.background if not t.done() and t.get_name() != SLA_TASK]
    return not busy and not o.st.amends and workflow.all_handlers_finished()


async def go(o: Order, in_stage: str | None = None) -> None:
    """Continue as new (raises ``ContinueAsNewError``), unless something arrived meanwhile."""
    await o.settle()  # the store has the timeline, the request the order's view
    if not due(o):
        return
    carry = OrderCarry(status=o.status, timeline=o.timeline, next=o.next, stage_since=o.stage_since,
                       cancel_req=o.cancel_req, sent_parent=o.sent_parent, state=o.st, runs=o.runs + 1,
                       in_stage=in_stage, audit=[e.change for e in o.audit.entries if not e.confirmed])
    workflow.continue_as_new(o.inp.model_copy(update={"carry": carry.model_dump(mode="json")}))


def restore(o: Order, carry: OrderCarry) -> None:
    """The new run takes the old one's state as it was."""
    o.status, o.timeline, o.next, o.stage_since = carry.status, list(carry.timeline), carry.next, carry.stage_since
    o.cancel_req, o.sent_parent, o.st, o.runs = carry.cancel_req, carry.sent_parent, carry.state, carry.runs
    o.resume_in = carry.in_stage
    for change in carry.audit:
        o.audit.add(change)
