"""The order's numbers after the FOC: into the inventory (ops alerted when that is late) and
assigned before port day (reminders to the customer and the PM)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.status import NumberState, PortStatus
    from models.workflow import InventoryChange, InventoryResult
    from workflows.common import LOCAL, act, fmt

if TYPE_CHECKING:
    from workflows.port_order.order import Order

S = PortStatus


def start_inventory(o: Order) -> None:
    """Once per order, when the FOC is confirmed: put its numbers in the inventory, in the
    background (the carrier stage goes on)."""
    if o.st.inventory_started:
        return
    o.st.inventory_started = True
    o.background.append(asyncio.create_task(_publish_inventory(o), name="inventory"))


async def inventory_done(o: Order) -> None:
    """Wait for the inventory job (started at the FOC), when port day comes right after it."""
    for task in o.background:
        if task.get_name() == "inventory":
            await task


async def _publish_inventory(o: Order) -> None:
    hours = o.inp.options.inventory_deadline_hours
    job = asyncio.ensure_future(act(
        "inventory_update", InventoryChange(request_id=o.inp.request_id, order_id=o.id, tns=o.live_numbers(),
                                            state=NumberState.AWAITING_ASSIGNMENT.value, reason="FOC confirmed"),
        InventoryResult, summary="numbers into the inventory, ready to assign", retry=LOCAL))
    try:
        await workflow.wait_condition(job.done, timeout=timedelta(hours=hours),
                                      timeout_summary=f"inventory deadline: {hours} h after FOC")
    except asyncio.TimeoutError:
        foc = o.foc() or workflow.now()
        await o.escalate("P2", f"numbers not in the inventory {hours} h after FOC", "inventory_late",
                         numbers=o.live_numbers(), foc_utc=foc.isoformat(), hours_since_foc=hours,
                         foc_received_at=fmt(o.st.foc_received_at))
    result = await job
    for nv in result.numbers:
        if nv.tn in o.st.numbers:
            o.st.numbers[nv.tn] = o.st.numbers[nv.tn].model_copy(update={"state": nv.state,
                                                                         "assigned_to": nv.assigned_to})
    foc, plan = o.foc(), o.st.plan
    await o.notify("numbers_ready", "numbers_ready", [o.contact(), o.pm()],
                   numbers=o.unassigned() or o.live_numbers(), foc_utc=foc.isoformat() if foc else None,
                   assign_by=fmt(plan.assign_reminders_at[-1]) if plan else "before the port date",
                   fix=f"python starter.py assign {o.inp.request_id} --tn +1... --to user@...")
    await o.publish()


def next_reminder(o: Order, sent: set[datetime]) -> list[datetime]:
    """The next assignment reminder still to come (a wake-up time), if any."""
    plan, now = o.st.plan, workflow.now()
    return [t for t in (plan.assign_reminders_at if plan else []) if t > now and t not in sent][:1]


async def remind_to_assign(o: Order, sent: set[datetime]) -> None:
    """Send the assignment reminder that is due (3, then 1 business day before port day).
    Reminders already past when the FOC arrived collapse into one, which counts the business
    days really left; nothing is sent when every number is assigned."""
    plan, now = o.st.plan, workflow.now()
    if plan is None or o.status != S.FOC_CONFIRMED:
        return
    due = [(t, days) for t, days in zip(plan.assign_reminders_at, plan.assign_reminder_days, strict=True)
           if t <= now and t not in sent]
    if not due:
        return
    sent.update(t for t, _ in due)
    unassigned = o.unassigned()
    if not unassigned:
        return
    at, days = due[-1]
    await o.notify(f"assign_reminder:{at.isoformat()}", "assign_reminder", [o.contact(), o.pm()],
                   unassigned_numbers=unassigned, port_date=str(plan.port_date),
                   business_days_left=min(days, plan.business_days_left))
