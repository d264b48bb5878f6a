"""The order a stage works on: its input (as amended), its state, and the verbs every stage
uses (numbers, recipients, carrier calls, the calendar). Stage modules take an
:class:`Order` and change it; the workflow class only wires handlers to it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.carrier import CarrierOrderState
    from models.notify import Audience
    from models.status import LEFT_ORDER, TRANSITIONS, NumberState, PortStatus
    from models.workflow import CarrierCall, NumberView, OrderView, PlanDatesInput, PortOrderInput
    from workflows.lifecycle import Lifecycle, Recipient
    from workflows.port_order import carry, changes, ops
    from workflows.port_order.state import OrderState


class Order(Lifecycle):
    def __init__(self, inp: PortOrderInput) -> None:
        super().__init__(inp.order_id, PortStatus.INTAKE, TRANSITIONS, inp.options.pm_email)
        self.inp = inp
        self.st = OrderState(numbers={tn: NumberView(tn=tn) for tn in inp.account.numbers},
                             gate=inp.go_live, temp_numbers=list(inp.temp_numbers))
        self.sent_parent: str | None = None  # the last view signalled to the request (ops.send_parent)
        self.parent_dirty = False  # published since the last signal to the request
        self.background: list[asyncio.Task[None]] = []  # the SLA watch, the inventory job
        self.runs = 0  # earlier runs of this order (continue-as-new, carry.py)
        self.resume_in: str | None = None  # the stage a continued run goes on inside

    @property
    def id(self) -> str:
        return self.inp.order_id

    @property
    def carrier_name(self) -> str:
        return self.inp.account.carrier

    # ------------------------------------------------------------------ numbers
    def live_numbers(self) -> list[str]:
        """The numbers still porting with this order (not removed, refused or split off)."""
        return [tn for tn, v in self.st.numbers.items() if v.state not in LEFT_ORDER]

    def unassigned(self) -> list[str]:
        return [tn for tn in self.live_numbers() if self.st.numbers[tn].assigned_to is None]

    def mark(self, tns: list[str], state: NumberState, **extra: Any) -> None:
        for tn in tns:
            if tn in self.st.numbers:
                self.st.numbers[tn] = self.st.numbers[tn].model_copy(update={"state": state.value, **extra})

    def take_outcomes(self, state: CarrierOrderState) -> None:
        """What the carrier says of each number (ported, failed, not portable, why)."""
        for ns in state.numbers:
            if ns.tn in self.st.numbers:
                self.st.numbers[ns.tn] = self.st.numbers[ns.tn].model_copy(
                    update={"carrier_outcome": ns.outcome.value, "reason": ns.reason})

    # ------------------------------------------------------------------ the carrier
    def foc(self) -> datetime | None:
        return self.st.carrier.foc_at if self.st.carrier else None

    def call(self, op: str, reason: str = "") -> CarrierCall:
        """A call on the open carrier order, keyed for idempotency by order and operation."""
        assert self.st.carrier is not None, f"{op}: no carrier order yet"
        return CarrierCall(order_id=self.id, carrier=self.carrier_name,
                           carrier_order_id=self.st.carrier.carrier_order_id,
                           idempotency_key=f"{self.id}:{op}", reason=reason)

    def pm_actor(self) -> str:
        return self.st.approval.actor if self.st.approval else "system"

    async def replan(self) -> None:
        """The port-day calendar for the requested date, or the carrier's FOC once it is in."""
        self.st.plan = await self.plan_dates(PlanDatesInput(
            requested_port_date=self.inp.port_date, activation_time=self.inp.activation_time,
            time_zone=self.inp.time_zone, now=workflow.now(), lead_time_days=self.inp.options.lead_time_days,
            foc_at=self.foc()), summary="port-day calendar: activation time and assignment reminders")

    # ------------------------------------------------------------------ people
    def contact(self) -> Recipient:
        return (Audience.CUSTOMER, self.inp.contact_email, self.inp.contact_name)

    def signer(self) -> Recipient:
        return (Audience.SIGNER, self.inp.signer.email, self.inp.signer.name)

    def ops(self) -> Recipient:
        return (Audience.OPS, self.inp.options.ops_email, "Ops")

    def mail_context(self) -> dict[str, Any]:
        return dict(request_id=self.inp.request_id, order_id=self.id, language=self.inp.language,
                    customer_name=self.inp.customer_name, losing_carrier=self.carrier_name,
                    time_zone=self.inp.time_zone)

    # ------------------------------------------------------------------ the other stages' verbs
    async def publish(self) -> None:
        await ops.publish(self)

    # ------------------------------------------------------------------ continue-as-new
    def may_continue_as_new(self) -> bool:
        return carry.due(self)

    async def continue_as_new(self, in_stage: str | None = None) -> None:
        await carry.go(self, in_stage)

    def resuming(self, stage: str) -> bool:
        """True once, for the stage a continued run goes on inside."""
        if self.resume_in != stage:
            return False
        self.resume_in = None
        return True

    async def send_pending(self) -> None:
        await ops.send_parent(self)

    async def escalate(self, priority: str, why: str, template: str, **ctx: Any) -> None:
        await ops.escalate(self, priority, why, template, **ctx)

    async def apply_amends(self) -> None:
        """Apply the amendments that arrived (changes.py); every waiting stage calls it."""
        await changes.apply_amends(self)

    def view(self, brief: bool = False) -> OrderView:
        return ops.view(self, brief)
