"""Everything a port order knows between workflow tasks, in one typed place.

Grouped by the stage that writes it; other stages read it. What ``@workflow.init`` always
sets is never Optional. Status, timeline and the next step live in the shared
:class:`workflows.lifecycle.Lifecycle`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.carrier import CarrierOrderState
    from models.esign import EnvelopeEvent, EnvelopeInfo, SignedDocuments
    from models.golive import GatePlan, GoLiveChecklist
    from models.status import PortStatus, StatusChange
    from models.workflow import (
        ActivateNow,
        AmendOrder,
        Approve,
        Cancel,
        ConfirmVerification,
        Deadline,
        NumberView,
        PortPlan,
        Remediation,
    )


@dataclass
class OrderState:
    numbers: dict[str, NumberView]  # every number the order started with, by E.164
    # LOA (loa.py)
    envelope: EnvelopeInfo | None = None
    loa_version: int = 0
    loa_sent_at: datetime | None = None
    signed: SignedDocuments | None = None
    # the carrier (carrier.py): its order, its last answer, what to fix, idempotency counters
    carrier: CarrierOrderState | None = None
    last_carrier_at: datetime | None = None
    foc_received_at: datetime | None = None
    remediation: list[Remediation] = field(default_factory=list)
    submissions: int = 0
    supplements: int = 0
    exceptions_told: int = 0  # exception mails sent (each one's idempotency key)
    plan: PortPlan | None = None  # the port-date calendar (activation instant, assign reminders)
    inventory_started: bool = False  # the numbers went to the inventory once the FOC came (numbers.py)
    # people and systems (the update handlers), consumed by the stages
    esign_q: list[EnvelopeEvent] = field(default_factory=list)
    carrier_q: list[tuple[CarrierOrderState, str]] = field(default_factory=list)
    seen_events: set[str] = field(default_factory=set)
    amends: list[AmendOrder] = field(default_factory=list)
    amends_received: int = 0
    amends_applied: int = 0
    approval: Approve | None = None
    verification: ConfirmVerification | None = None
    activate_req: ActivateNow | None = None
    activation_actor: str | None = None  # who reported the activation's outcome (a PM for manual carriers)
    # ops (ops.py): escalations and the stage (by its start) an open one is about
    escalations: list[str] = field(default_factory=list)
    escalated_since: datetime | None = None
    # the carrier stage's own clock (carrier_wait.py), kept here so that it survives a
    # continue-as-new in the middle of months with the carrier
    silence_at: datetime | None = None
    reminded: set[datetime] = field(default_factory=set)
    window_noted: bool = False
    # the go-live gate (gate.py): the checklist as the request last sent it, the temporary
    # numbers, the warn time of the current FOC, and the FOCs already warned about or held at
    gate: GoLiveChecklist | None = None
    temp_numbers: list[str] = field(default_factory=list)
    gate_plan: GatePlan | None = None
    gate_warned: list[str] = field(default_factory=list)
    gate_held: list[str] = field(default_factory=list)
    gate_dirty: bool = False


class OrderCarry(BaseModel):
    """What a port order takes into its next run when it continues as new (a long history):
    its whole state, so the new run goes on where the old one stood."""

    status: PortStatus
    timeline: list[StatusChange]
    next: Deadline
    stage_since: datetime
    cancel_req: Cancel | None = None
    sent_parent: str | None = None
    state: OrderState
    runs: int = Field(default=1, description="runs before this one")
    in_stage: str | None = Field(default=None, description="the stage the old run continued from, if inside one")
    audit: list[StatusChange] = Field(default_factory=list, description="changes the store had not confirmed")
