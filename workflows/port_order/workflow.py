"""PortOrderWorkflow: one losing carrier account, from LOA to verified port.

``run`` reads as the lifecycle: each status belongs to one stage (``STAGES``), each stage is a
module of this package that works on the :class:`Order`. People and systems reach the order
through updates whose validators refuse bad input before it touches history; the ``status``
query shows where it stands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from core.guard import guard_problem
    from models.amend import amend_place
    from models.carrier import CarrierEvent
    from models.esign import EnvelopeEvent
    from models.events import EventAck
    from models.golive import GateSignal
    from models.status import CANCELLABLE, TERMINAL, NumberState, PortStatus, cancel_problem
    from models.workflow import (
        ActivateNow,
        AmendOrder,
        Approve,
        AssignedSignal,
        Cancel,
        ConfirmVerification,
        OrderView,
        PortOrderInput,
        WaitingOn,
    )
    from workflows.common import fmt
    from workflows.audit import AuditTrail
    from workflows.lifecycle import CancelNow
    from workflows.port_order import carrier, carrier_wait, changes, gate, loa, ops, port_day
    from workflows.port_order.carry import SLA_TASK, restore
    from workflows.port_order.order import Order
    from workflows.port_order.state import OrderCarry

S = PortStatus
Stage = Callable[[Order], Awaitable[None]]

# Which stage runs the order in each status it can wait in (tests/workflows check it covers
# every status an order reaches; CANCEL_REQUESTED belongs to the cancel path).
STAGES: Mapping[PortStatus, Stage] = MappingProxyType({
    S.VALIDATED: loa.stage,
    S.LOA_SENT: loa.stage,
    S.LOA_DECLINED: loa.stage,
    S.LOA_SIGNED: carrier.submit_stage,
    S.SUBMITTED: carrier_wait.stage,
    S.CARRIER_PENDING: carrier_wait.stage,
    S.EXCEPTION: carrier_wait.stage,
    S.SUPPLEMENT: carrier_wait.stage,
    S.FOC_CONFIRMED: carrier_wait.stage,
    S.ACTIVATION: port_day.activation,
    S.PORTED: port_day.verification,
    S.SNAPBACK: port_day.snapback,
    S.VERIFIED: port_day.complete,
})


# AUTO_UPGRADE, as its request: an order waits weeks on signers, carriers and the port date,
# so pinning it would keep every old build's workers alive for as long; changes go behind
# workflow.patched() and replay against the ports in flight before a deploy (docs/upgrades.md).
@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class PortOrderWorkflow:
    @workflow.init
    def __init__(self, inp: PortOrderInput) -> None:
        # built here, not in run(): an update in the first task sees the order
        self.o = Order(inp)
        if inp.carry is not None:  # a continued run (carry.py)
            restore(self.o, OrderCarry.model_validate(inp.carry))

    @property
    def audit_trail(self) -> AuditTrail:
        """The status changes the store has yet to confirm (``workflows.audit``)."""
        return self.o.audit

    @workflow.run
    async def run(self, inp: PortOrderInput) -> OrderView:
        o = self.o
        o.background.append(asyncio.create_task(ops.sla_watch(o), name=SLA_TASK))
        if inp.carry is None:
            await o.move(S.VALIDATED, "system", f"order for {inp.account.carrier} account with {len(inp.account.numbers)} numbers")
            await o.replan()
        else:
            await o.publish()  # this run's search attributes and details
        try:
            while o.status not in TERMINAL:
                if o.cancel_req is not None:
                    raise CancelNow()
                if o.may_continue_as_new():
                    await o.continue_as_new()
                await STAGES[o.status](o)
        except CancelNow:
            await changes.cancel(o)
        o.idle = True  # run() is done: the last view goes to the request now
        await o.publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await o.flush_audit()
        # the result carries counts: the numbers stay in the store and in the status query
        return o.view().model_copy(update={"numbers": []})

    # ------------------------------------------------------------------ systems
    @workflow.update
    async def esign_event(self, ev: EnvelopeEvent) -> EventAck:
        return self._event(ev.event_id, lambda: self.o.st.esign_q.append(ev))

    @esign_event.validator
    def _v_esign(self, ev: EnvelopeEvent) -> None:
        self._v_order(ev.order_id)

    @workflow.update
    async def carrier_event(self, ev: CarrierEvent) -> EventAck:
        return self._event(ev.event_id, lambda: self.o.st.carrier_q.append((ev.state, ev.actor)))

    @carrier_event.validator
    def _v_carrier(self, ev: CarrierEvent) -> None:
        self._v_order(ev.order_id)
        if self.o.status in TERMINAL:
            raise ValueError(f"order {ev.order_id} is {self.o.status}: carrier events no longer apply")
        if self.o.st.carrier is None and self.o.status != S.SUBMITTED:
            raise ValueError(f"order {ev.order_id} is {self.o.status}: it has not been submitted to the carrier yet")

    def _event(self, event_id: str, enqueue: Callable[[], None]) -> EventAck:
        """Webhooks and carrier events arrive at least once: each event id is applied once."""
        if event_id in self.o.st.seen_events:
            return EventAck(duplicate=True, status=self.o.status.value)
        self.o.st.seen_events.add(event_id)
        enqueue()
        return EventAck(status=self.o.status.value)

    # ------------------------------------------------------------------ the PM
    @workflow.update
    async def amend(self, a: AmendOrder) -> OrderView:
        """Answers once the amendment is applied (the new LOA out, the supplement sent)."""
        st = self.o.st
        st.amends.append(a)
        st.amends_received += 1
        mine = st.amends_received
        await workflow.wait_condition(lambda: st.amends_applied >= mine or self.o.status in TERMINAL)
        return self.o.view()

    @amend.validator
    def _v_amend(self, a: AmendOrder) -> None:
        o = self.o
        self._v_order(a.order_id)
        if not a.changed_fields():
            raise ValueError("nothing to amend: give at least one field to change")
        if o.status in TERMINAL or o.cancel_req is not None:
            raise ValueError(f"order {a.order_id} is {o.status}: it can no longer be amended")
        if amend_place(o.status, o.st.carrier is not None) is None:
            raise ValueError(f"order {a.order_id} is {o.status}: wait for the carrier's answer before amending")
        if o.status == S.FOC_CONFIRMED:
            problem = guard_problem(o.foc(), workflow.now(), o.inp.options.foc_guard_hours, "change")
            if problem:
                raise ValueError(problem)
        unknown = [n for n in a.remove_numbers if n not in o.st.numbers]
        if unknown:
            raise ValueError(f"not numbers of order {a.order_id}: {', '.join(unknown)}")
        if a.remove_numbers and len(set(a.remove_numbers)) >= len(o.live_numbers()):
            raise ValueError("that would remove every number: cancel the order instead")
        if a.port_date is not None and a.port_date < workflow.now().date():
            raise ValueError(f"port date {a.port_date} is in the past")
        if o.status == S.SNAPBACK and port_day.ported_not_routing(o):
            raise ValueError(f"order {a.order_id}: the carrier has ported the numbers to us, so a new date changes nothing; "
                             f"ops fix the routing (P1), then confirm test calls with `starter.py verify {a.order_id}`")

    @workflow.update
    async def approve(self, a: Approve) -> OrderView:
        self.o.st.approval = a
        self.o.note(a.actor, f"submission approved{': ' + a.note if a.note else ''}")
        return self.o.view()

    @approve.validator
    def _v_approve(self, a: Approve) -> None:
        self._v_order(a.order_id)
        if not self.o.inp.options.review_before_submit:
            raise ValueError("review before submission is off: orders go to the carrier once the LOA is signed")
        if self.o.st.approval is not None:
            raise ValueError(f"already approved by {self.o.st.approval.actor}")
        if self.o.status in TERMINAL:
            raise ValueError(f"order is {self.o.status}")

    @workflow.update
    async def activate_now(self, a: ActivateNow) -> OrderView:
        self.o.st.activate_req = a
        await workflow.wait_condition(lambda: self.o.status not in (S.FOC_CONFIRMED, S.ACTIVATION))
        return self.o.view()

    @activate_now.validator
    def _v_activate(self, a: ActivateNow) -> None:
        o = self.o
        self._v_order(a.order_id)
        if o.status != S.FOC_CONFIRMED or o.st.carrier is None:
            raise ValueError(f"order {a.order_id} is {o.status}: on-demand activation needs a confirmed FOC")
        if o.st.activate_req is not None:
            raise ValueError(f"activation already asked for by {o.st.activate_req.actor}")
        window = carrier_wait.on_demand_window(o)
        if window is None:
            raise ValueError(f"{o.st.carrier.provider} did not make order {a.order_id} eligible for on-demand "
                             f"activation: it activates at the FOC ({fmt(o.foc())})")
        start, end, _ = window
        if gate.problems(o):
            raise ValueError(f"the go-live gate is not ready: {'; '.join(gate.problems(o) or [])} "
                             f"(starter.py gate show {o.inp.request_id})")
        now = workflow.now()
        if not start <= now <= end:
            raise ValueError(f"outside the carrier's activation window {fmt(start)} to {fmt(end)}: "
                             + ("wait for it to open" if now < start else "the carrier activates it at the window's end"))

    @workflow.update
    async def verify(self, v: ConfirmVerification) -> OrderView:
        self.o.st.verification = v
        before = self.o.status
        await workflow.wait_condition(lambda: self.o.status != before or self.o.st.verification is not v)
        return self.o.view()

    @verify.validator
    def _v_verify(self, v: ConfirmVerification) -> None:
        self._v_order(v.order_id)
        if self.o.status == S.SNAPBACK and port_day.ported_not_routing(self.o):
            return  # re-testing after ops fixed the routing
        if self.o.status != S.PORTED:
            raise ValueError(f"order is {self.o.status}: test calls are confirmed once the numbers are ported")

    @workflow.update
    async def cancel(self, c: Cancel) -> OrderView:
        self.o.cancel_req = c
        await workflow.wait_condition(lambda: self.o.status in TERMINAL)
        return self.o.view()

    @cancel.validator
    def _v_cancel(self, c: Cancel) -> None:
        problem = self.cancel_problem()
        if problem:
            raise ValueError(problem)

    # ------------------------------------------------------------------ the request
    @workflow.signal
    async def cancel_order(self, c: Cancel) -> None:
        """From the request workflow (its validator already checked every order)."""
        if self.o.cancel_req is None and self.o.status in CANCELLABLE:
            self.o.cancel_req = c

    @workflow.signal
    async def numbers_assigned(self, view: AssignedSignal) -> None:
        o = self.o
        for tn, who in view.assignments.items():
            o.mark([tn], NumberState.ASSIGNED, assigned_to=who)
        if o.status in TERMINAL:
            return
        if o.status == S.FOC_CONFIRMED and not o.unassigned() and o.next.waiting_on == WaitingOn.CUSTOMER:
            o.next = o.next.model_copy(update={"waiting_on": WaitingOn.NOBODY, "what": o.next.what.split(";")[0]})
        await o.publish()

    @workflow.signal
    async def gate_changed(self, sig: GateSignal) -> None:
        """From the request: the go-live checklist or the temporary numbers changed."""
        if self.o.status in TERMINAL:
            return
        gate.apply_signal(self.o, sig)
        await self.o.publish()

    @workflow.query
    def status(self) -> OrderView:
        return self.o.view()

    # ------------------------------------------------------------------ rules the validators share
    def cancel_problem(self) -> str | None:
        o = self.o
        if o.cancel_req is not None:
            return f"order {o.id} is {o.status}: a cancel is already under way"
        return cancel_problem(o.status, o.foc(), workflow.now(), o.inp.options.foc_guard_hours, o.id)

    def _v_order(self, order_id: str) -> None:
        if order_id != self.o.id:
            raise ValueError(f"this is order {self.o.id}, not {order_id}")
