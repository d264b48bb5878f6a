"""What ops see of an order and when they are called: publishing (search attributes, the
UI's current details, the request's copy of the view), escalations and the SLA watch."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.status import AWAITING_CARRIER, TERMINAL, PortStatus
    from models.workflow import OrderView
    from workflows.common import fmt

if TYPE_CHECKING:
    from workflows.port_order.order import Order

S = PortStatus


async def publish(o: Order) -> None:
    """Keep ops' view current: search attributes and current details now; the parent's copy
    now when run() waits, else at its next wait (one signal for the moves in between)."""
    o.sa.update(status=o.status.value, waiting_on=o.next.waiting_on, escalated=escalated(o),
                next_deadline=o.next.due_at or o.sa.clear(), stage_since=o.stage_since,
                numbers_unassigned=len(o.unassigned()) if o.status not in TERMINAL else 0)
    workflow.set_current_details(details(o))
    if workflow.info().parent is None:
        return
    o.parent_dirty = True
    if o.idle:
        await send_parent(o)


async def send_parent(o: Order) -> None:
    """Signal the request the order's brief view (counts, never numbers) if it changed."""
    parent = workflow.info().parent
    if parent is None or not o.parent_dirty:
        return
    o.parent_dirty = False
    brief = view(o, brief=True)
    key = brief.model_dump_json(exclude={"stage_since"})
    if key == o.sent_parent:
        return
    o.sent_parent = key
    await workflow.get_external_workflow_handle(parent.workflow_id).signal("order_progress", brief)


def escalated(o: Order) -> bool:
    """An escalation is open while the order is still in the stage it was raised in."""
    return o.st.escalated_since is not None and o.st.escalated_since == o.stage_since and o.status not in TERMINAL


async def escalate(o: Order, priority: str, why: str, template: str, **ctx: Any) -> None:
    o.st.escalations.append(f"{priority}: {why}")
    o.st.escalated_since = o.stage_since
    o.sa.update(escalated=True)
    await o.notify(f"{template}:{len(o.st.escalations)}", template, [o.pm(), o.ops()],
                   priority=priority, reason=why, **ctx)
    await publish(o)  # ops see it now; the request now, or at run()'s next wait


async def sla_watch(o: Order) -> None:
    """Alert ops when an order sits in a status longer than its SLA (options.sla_hours);
    in SNAPBACK the P1 alert repeats every SLA period (hourly updates) until it is resolved."""
    while o.status not in TERMINAL:
        status, since = o.status, o.stage_since
        hours = o.inp.options.sla_hours.get(status.value)
        moved = lambda: o.status != status or o.stage_since != since  # noqa: E731
        if not hours:
            await workflow.wait_condition(moved)
            continue
        # periods already past: a run continued as new does not alert again for them
        rounds = int((workflow.now() - since) / timedelta(hours=hours))
        while not moved():
            rounds += 1
            left = since + timedelta(hours=hours * rounds) - workflow.now()
            if left > timedelta(0):
                try:
                    await workflow.wait_condition(moved, timeout=left, timeout_summary=f"SLA: {status.value} within {hours} h")
                    break
                except asyncio.TimeoutError:
                    pass
            if moved():
                break
            if status == S.SNAPBACK:
                await escalate(o, "P1", f"update {rounds}: numbers still not routing, {hours * rounds} h after snapback",
                               "escalation", stage=status.value, waiting_on=o.next.waiting_on.value,
                               next_deadline=f"next update in {hours} h")
                continue
            await escalate(o, "P2" if status in AWAITING_CARRIER | {S.EXCEPTION} else "P3",
                           f"SLA: {status.value} for more than {hours} h ({o.next.what})", "escalation",
                           stage=status.value, waiting_on=o.next.waiting_on.value,
                           next_deadline=fmt(o.next.due_at) if o.next.due_at else o.next.what)
            await workflow.wait_condition(moved)


def details(o: Order) -> str:
    """The UI's current details: status, next step, the carrier's word, what is open."""
    st = o.st
    lines = [f"**{o.status.value}** · {o.carrier_name}",
             f"Next: {o.next.what} · waiting on {o.next.waiting_on.value} · due {fmt(o.next.due_at)}"]
    if st.carrier:
        lines.append(f"Carrier: {st.carrier.carrier_order_id} raw status '{st.carrier.raw_status}'")
    if st.remediation:
        lines.append("Open exceptions: " + "; ".join(f"{r.code}: {r.message}" for r in st.remediation))
    if st.gate is not None and o.status not in TERMINAL:
        why = _gate_problems(o) or []
        lines.append(f"Go-live gate: {st.gate.summary()}" + (f"; holds activation: {'; '.join(why)}" if why else "; ready"))
    if escalated(o):
        lines.append("**Escalated**: " + st.escalations[-1])
    elif st.escalations:
        lines.append("Earlier escalations: " + "; ".join(st.escalations[-3:]))
    return "\n\n".join(lines)


def view(o: Order, brief: bool = False) -> OrderView:
    """The order as the ``status`` query, the request and the CLI show it; ``brief`` (the
    request's copy) leaves out the timeline and the numbers, and keeps their counts."""
    st, c = o.st, o.st.carrier
    tally = Counter(v.state for v in st.numbers.values())
    return OrderView(
        order_id=o.id, carrier=o.carrier_name, status=o.status,
        port_date=o.inp.port_date, foc_at=c.foc_at if c else None, toll_free=o.inp.account.toll_free,
        envelope_id=st.envelope.envelope_id if st.envelope else None,
        carrier_order_id=c.carrier_order_id if c else None, carrier_raw_status=c.raw_status if c else None,
        carrier_exceptions=c.exceptions if c else [],
        remediation=[f"{r.code}: {r.message} (fix {', '.join(r.fields) or r.action}; {r.who_acts.value})"
                     for r in st.remediation],
        numbers=[] if brief else list(st.numbers.values()), next=o.next,
        number_states=dict(sorted(tally.items())),
        numbers_unassigned=len(o.unassigned()) if o.status not in TERMINAL else 0,
        timeline=[] if brief else list(o.timeline), escalations=list(st.escalations),
        request_id=o.inp.request_id, stage_since=o.stage_since, escalated=escalated(o),
        gate_problems=_gate_problems(o),
    )


def _gate_problems(o: Order) -> list[str] | None:
    if o.st.gate is None:
        return None
    foc = c.foc_at if (c := o.st.carrier) else None
    at = foc or (o.st.plan.activation_at if o.st.plan else None)
    return o.st.gate.problems(at, o.st.temp_numbers)
