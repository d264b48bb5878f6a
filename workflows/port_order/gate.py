"""The go-live gate on port day (issue 17): an order tied to a go-live checklist does not
activate until every required item is done and the approved change window contains its
activation. N business days before the FOC an incomplete gate warns the PM and ops, then the
order moves its date by SUP2 or escalates, as the PM chose (``on_not_ready``).

The checklist lives in the request (the PM's updates go there); the request signals each
order the new state (``gate_changed``). Everything here runs only for an order that has a
checklist, behind ``workflow.patched(PATCH)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.guard import guard_problem
    from models.carrier import SupplementKind
    from models.golive import GatePlan, GatePlanInput, GateSignal, OnNotReady
    from models.status import PortStatus
    from models.workflow import WaitingOn
    from workflows.common import LOCAL, act, fmt
    from workflows.port_order import carrier

if TYPE_CHECKING:
    from workflows.port_order.order import Order

# Added 2026-12-03 (issue 17). Only ports whose input carries a checklist reach these
# branches, and none did before, so replay needs no patch today; the marker makes the gate's
# commands explicit should the branches ever be reached by a port in flight. Deprecate it
# (docs/upgrades.md) once no port started before the gate's deploy runs.
PATCH = "go-live-gate"
S = PortStatus


def active(o: Order) -> bool:
    """The order has a gate (run() code only: ``patched`` writes a marker)."""
    return o.st.gate is not None and workflow.patched(PATCH)


def activation_at(o: Order) -> datetime | None:
    foc = o.foc()
    if foc is not None:
        return foc
    return o.st.plan.activation_at if o.st.plan is not None else None


def problems(o: Order) -> list[str] | None:
    """Why the gate holds the activation (``[]``: ready); None without a gate. Queries use it too."""
    if o.st.gate is None:
        return None
    return o.st.gate.problems(activation_at(o), o.st.temp_numbers)


def ready(o: Order) -> bool:
    return not problems(o)


def apply_signal(o: Order, sig: GateSignal) -> None:
    """The request's new gate state (``gate_changed``): recorded on this order's timeline too."""
    o.st.gate, o.st.temp_numbers, o.st.gate_dirty = sig.gate, list(sig.temp_numbers), True
    if sig.what:
        o.note(sig.actor, f"go-live gate: {sig.what}")


async def _plan(o: Order, foc: datetime) -> GatePlan:
    gate = o.st.gate
    assert gate is not None
    if o.st.gate_plan is None or o.st.gate_plan.foc_at != foc:
        o.st.gate_plan = await act("gate_plan", GatePlanInput(
            foc_at=foc, time_zone=o.inp.time_zone, warn_business_days=gate.warn_business_days,
            slip_business_days=gate.slip_business_days,
            guard_hours=o.inp.options.foc_guard_hours if gate.on_not_ready == OnNotReady.SUP2 else 0), GatePlan,
            summary=f"go-live gate: warn {gate.warn_business_days} business days before the FOC", retry=LOCAL)
    return o.st.gate_plan


async def before_port_day(o: Order, floor: datetime | None) -> None:
    """FOC_CONFIRMED: once the warn time of this FOC has come with the gate not ready, tell
    the PM and ops, then move the date (SUP2) or escalate."""
    foc, gate = o.foc(), o.st.gate
    if foc is None or gate is None:
        return
    plan = await _plan(o, foc)
    now = max(workflow.now(), floor or workflow.now())
    key = foc.isoformat()
    if now < plan.warn_at or key in o.st.gate_warned or ready(o):
        return
    o.st.gate_warned.append(key)
    why = problems(o) or []
    days = gate.warn_business_days
    can_move = gate.on_not_ready == OnNotReady.SUP2
    guard = guard_problem(foc, workflow.now(), o.inp.options.foc_guard_hours, "change") if can_move else None
    sup2 = can_move and guard is None
    o.note("system", f"go-live gate not ready {days} business days before the FOC {fmt(foc)}: " + "; ".join(why))
    open_items = [i.id for i in gate.open_items()]
    await o.notify(f"gate_not_ready:{key}", "gate_not_ready", [o.pm(), o.ops()], foc_utc=foc.isoformat(),
                   open_items=open_items, other_problems=why[len(open_items):], business_days=days, action="sup2" if sup2 else "escalate",
                   new_port_date=plan.slip_date.isoformat() if sup2 else None,
                   fix=f"python starter.py gate show {o.inp.request_id}")
    if sup2:
        o.inp.port_date = plan.slip_date
        await carrier.supplement(o, SupplementKind.SUP2, f"go-live gate not ready {days} business days before the "
                                 f"FOC: port date moved to {plan.slip_date} (on_not_ready: sup2, the PM's choice)",
                                 actor="system", new_date=plan.slip_date)
        return
    await o.escalate("P2", f"go-live gate not ready {days} business days before the FOC {fmt(foc)}: "
                     f"{len(why)} open" + (f" (no SUP2: {guard})" if guard else ""), "escalation",
                     stage=o.status.value, waiting_on="pm",
                     next_deadline=f"complete the gate before {fmt(foc)} or move the date (amend --port-date)")


def plan_next(o: Order, wakes: list[datetime]) -> list[datetime]:
    """FOC_CONFIRMED: the next step says what the gate still needs; wake at the warn time,
    and not for a port day the gate holds (the gate's update wakes the order)."""
    why = problems(o)
    if not why:
        return wakes
    o.set_next(f"{o.next.what}; go-live gate: {len(why)} open (starter.py gate show {o.inp.request_id})",
               o.next.due_at, WaitingOn.PM)
    now = workflow.now()
    wakes = [w for w in wakes if w > now]
    plan, foc = o.st.gate_plan, o.foc()
    if plan is not None and foc is not None and foc.isoformat() not in o.st.gate_warned and plan.warn_at > now:
        wakes.append(plan.warn_at)
    return wakes


async def hold(o: Order, foc: datetime | None) -> None:
    """Port day came with the gate not ready: portflow does not start the activation; once
    per FOC the timeline says so and ops are paged."""
    if o.st.activate_req is not None:  # refused by the validator; kept only if the gate changed since
        o.note(o.st.activate_req.actor, "on-demand activation held: the go-live gate is not ready")
        o.st.activate_req = None
    key = foc.isoformat() if foc else "-"
    if key in o.st.gate_held:
        return
    o.st.gate_held.append(key)
    why = problems(o) or []
    o.note("system", f"FOC {fmt(foc)} reached with the go-live gate not ready: activation held; " + "; ".join(why))
    await o.escalate("P2", f"FOC {fmt(foc)} reached with the go-live gate not ready: activation held "
                     f"({len(why)} open)", "escalation", stage=o.status.value, waiting_on="pm",
                     next_deadline="complete the gate (starter.py gate ...) or move the date (amend --port-date)")


async def at_activation(o: Order) -> None:
    """The carrier ported by itself (a scheduled FOC) while the gate was not ready: say so, loudly."""
    if not active(o) or ready(o) or o.status != S.ACTIVATION:
        return
    why = problems(o) or []
    o.note("system", "the carrier ported the numbers with the go-live gate not ready: " + "; ".join(why))
    await o.escalate("P2", f"the carrier ported with the go-live gate not ready ({len(why)} open): check the "
                     "cutover now", "escalation", stage=o.status.value, waiting_on="ops",
                     next_deadline="confirm routing and the open gate items")
