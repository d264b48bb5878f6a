"""Inputs, updates and views of the port workflows.

Every workflow run, update, signal, query and activity takes one model and returns one
model (pydantic, through ``pydantic_data_converter``). Nothing here holds a plain secret:
requests reach the workflows sealed (``models.secrets.SecretRef``).
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from models.carrier import CarrierException, CarrierOrderState
from models.esign import EnvelopeStatus
from models.golive import GoLiveChecklist
from models.request import Address, DocumentKind, DocumentRef, Language, PortRequest, Signer
from models.secrets import SecretRef
from models.status import PortStatus, StatusChange


class WaitingOn(StrEnum):
    CUSTOMER = "customer"
    SIGNER = "signer"
    PM = "pm"
    CARRIER = "carrier"
    OPS = "ops"
    NOBODY = "nobody"


class Verification(StrEnum):
    PM = "pm"  # the PM confirms test calls in and out (update `verify`)
    AUTO = "auto"  # the pluggable routing check decides (demo, or a real check)


class PortOptions(BaseModel):
    """Settings frozen into the workflow at start, so its behaviour never depends on the
    worker's environment (and replays the same)."""

    lead_time_days: int = 21
    document_reminder_days: list[int] = Field(default_factory=lambda: [7, 3, 1])
    loa_reminder_hours: int = 24
    inventory_deadline_hours: int = 24
    carrier_silence_hours: int = 48
    carrier_poll_seconds: int = 3600
    carrier_foc_poll_seconds: int = 6 * 3600
    sla_hours: dict[str, int] = Field(default_factory=dict, description="status -> hours before ops are alerted")
    esign_poll_seconds: int = 900
    history_events_limit: int = Field(default=2000, ge=0, description="continue as new past this many events "
                                      "(0: only when Temporal suggests it)")
    foc_guard_hours: int = 48
    review_before_submit: bool = False
    gate_warn_business_days: int = 2
    verification: Verification = Verification.PM
    pm_email: str = "pm@portflow.local"
    ops_email: str = "ops@portflow.local"
    ui_url: str = "http://localhost:8233"
    search_customer_name: bool = Field(default=True, description="set the CustomerName search attribute (stored "
                                       "in clear by Temporal); PORTFLOW_SEARCH_CUSTOMER_NAME")


class Expedite(BaseModel):
    actor: str = Field(min_length=1, max_length=254)
    reason: str = Field(min_length=3, max_length=2000, description="why the lead time is waived")
    port_date: date | None = Field(default=None, description="a new port date; none keeps the requested one")


class PortRequestInput(BaseModel):
    request: PortRequest
    options: PortOptions = Field(default_factory=PortOptions)
    started_by: str = "pm"
    expedite: Expedite | None = None


class PortOrderInput(BaseModel):
    request_id: str
    order_id: str
    index: int
    entity_name: str | None = Field(default=None, description="the customer's name as the carrier knows it, when amended")
    customer_name: str
    language: Language
    contact_name: str
    contact_email: str
    signer: Signer
    account: "AccountSpec"
    port_date: date
    activation_time: time | None = None
    time_zone: str
    documents: list[DocumentRef] = Field(default_factory=list)
    options: PortOptions
    expedited: bool = False
    go_live: GoLiveChecklist | None = Field(default=None, description="the go-live gate its activation waits for")
    temp_numbers: list[str] = Field(default_factory=list, description="temporary DIDs calls are forwarded to")
    carry: dict[str, Any] | None = Field(
        default=None, description="a run continued as new: the order's state "
        "(workflows.port_order.state.OrderCarry, kept out of models so that models stay below workflows)")


class AccountSpec(BaseModel):
    """One losing carrier account, sealed: what the order workflow carries."""

    carrier: str
    account_number: SecretRef
    pin: SecretRef | None = None
    btn: str
    service_address: Address
    port_type: str
    remaining_numbers: str | None = None
    new_btn: str | None = None
    numbers: list[str]
    toll_free: bool = False


PortOrderInput.model_rebuild()


# --- human steps (updates) ------------------------------------------------------------


class Actor(BaseModel):
    actor: str = Field(min_length=1, max_length=254, description="who does it: an e-mail or a name")


class AttachDocument(Actor):
    document: DocumentRef


class AmendOrder(Actor):
    """Corrections a PM makes to an order. Only the fields given change."""

    order_id: str
    reason: str = Field(min_length=3, max_length=2000)
    signer: Signer | None = None
    service_address: Address | None = None
    btn: str | None = None
    new_btn: str | None = None
    account_number: SecretRef | None = None
    pin: SecretRef | None = None
    port_date: date | None = None
    remove_numbers: list[str] = Field(default_factory=list)
    entity_name: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="the name exactly as on the bill/CSR")
    port_type: Literal["full", "partial"] | None = None
    remaining_numbers: Literal["keep", "disconnect"] | None = None
    new_loa: bool = Field(default=False, description="have the signer sign a new LOA (with the corrections)")

    def changed_fields(self) -> list[str]:
        names = ["signer", "service_address", "btn", "new_btn", "account_number", "pin", "port_date",
                 "entity_name", "port_type", "remaining_numbers"]
        out = [n for n in names if getattr(self, n) is not None]
        if self.remove_numbers:
            out.append("remove_numbers")
        if self.new_loa:
            out.append("loa")
        return out

    def account_updates(self) -> dict[str, object]:
        """The changes to the order's account data (what a SUP3 sends as corrections)."""
        names = ("service_address", "btn", "new_btn", "account_number", "pin", "port_type", "remaining_numbers")
        return {k: getattr(self, k) for k in names if getattr(self, k) is not None}


class Approve(Actor):
    order_id: str
    note: str = Field(default="", max_length=2000)


class ActivateNow(Actor):
    """Activate a fast-port order on demand, inside the carrier's activation window."""

    order_id: str
    reason: str = Field(default="customer ready", min_length=3, max_length=2000)


class ConfirmVerification(Actor):
    order_id: str
    ok: bool
    notes: str = Field(min_length=3, max_length=2000, description="what was tested: calls in and out")


class AssignNumbers(Actor):
    """TN (E.164) -> who gets it: a user's e-mail or a resource account."""

    assignments: dict[str, str] = Field(min_length=1)
    kind: str = Field(default="user", pattern=r"^(user|resource_account)$")


class Cancel(Actor):
    reason: str = Field(min_length=3, max_length=2000, description="why the port is cancelled")


class ExpediteRequest(Expedite):
    pass


class ManualCarrierEvent(Actor):
    """A carrier event typed by a PM (manual adapter or any carrier by hand)."""

    order_id: str
    carrier_order_id: str | None = None
    foc_at: datetime | None = None
    reject_code: str | None = None
    reject_text: str | None = None
    completed: bool = False
    note: str = ""

    @field_validator("foc_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("foc_at needs a time zone, e.g. 2026-12-21T09:00:00-05:00")
        return v


# --- views (queries) -------------------------------------------------------------------


class Deadline(BaseModel):
    what: str
    due_at: datetime | None = None
    waiting_on: WaitingOn = WaitingOn.NOBODY


class NumberView(BaseModel):
    tn: str
    state: str = "porting"
    assigned_to: str | None = None
    carrier_outcome: str | None = None
    reason: str | None = None


class OrderView(BaseModel):
    order_id: str
    carrier: str
    status: PortStatus
    port_date: date
    foc_at: datetime | None = None
    toll_free: bool = False
    envelope_id: str | None = None
    carrier_order_id: str | None = None
    carrier_raw_status: str | None = None
    carrier_exceptions: list[CarrierException] = Field(default_factory=list)
    remediation: list[str] = Field(default_factory=list, description="what to fix, for people")
    numbers: list[NumberView] = Field(default_factory=list)
    next: Deadline = Field(default_factory=lambda: Deadline(what="nothing"))
    timeline: list[StatusChange] = Field(default_factory=list)
    escalations: list[str] = Field(default_factory=list)
    request_id: str | None = None
    stage_since: datetime | None = Field(default=None, description="when the order entered its current status")
    escalated: bool = Field(default=False, description="an escalation is open for the current stage")
    number_states: dict[str, int] = Field(default_factory=dict, description="number state -> how many")
    numbers_unassigned: int = Field(default=0, description="live numbers nobody is assigned to yet")
    gate_problems: list[str] | None = Field(default=None, description="why the go-live gate holds activation; "
                                            "None: no gate, []: ready")


class MissingDocument(BaseModel):
    kind: DocumentKind
    order_id: str
    carrier: str


class RequestView(BaseModel):
    request_id: str
    customer_name: str
    status: PortStatus
    requested_port_date: date
    port_date: date
    expedited: bool = False
    documents: list[DocumentRef] = Field(default_factory=list)
    missing_documents: list[str] = Field(default_factory=list)
    missing: list[MissingDocument] = Field(default_factory=list, description="the same, for programs")
    orders: list[OrderView] = Field(default_factory=list)
    next: Deadline = Field(default_factory=lambda: Deadline(what="nothing"))
    timeline: list[StatusChange] = Field(default_factory=list)
    escalations: list[str] = Field(default_factory=list)
    ui_url: str | None = None
    contact_name: str = ""
    contact_email: str = ""
    pm_email: str = ""
    language: str = "en"
    stage_since: datetime | None = Field(default=None, description="when the request entered its current status")
    go_live: GoLiveChecklist | None = Field(default=None, description="the go-live checklist, when the port has one")
    temporary_numbers: list[str] = Field(default_factory=list)


class PortResult(BaseModel):
    """How a request ended: its orders without their numbers (those are in the store and in
    the ``status`` query), and how many numbers ended in each state."""

    request_id: str
    status: PortStatus
    orders: list[OrderView]
    number_states: dict[str, int] = Field(default_factory=dict, description="number state -> how many")


# --- activity payloads -----------------------------------------------------------------


class PlanDatesInput(BaseModel):
    requested_port_date: date
    activation_time: time | None = None
    time_zone: str
    now: datetime
    lead_time_days: int = 21
    documents_complete_at: datetime | None = None
    foc_at: datetime | None = Field(default=None, description="the carrier's FOC: port day and activation time")


class PortPlan(BaseModel):
    port_date: date
    port_date_ok: bool = Field(description="a business day and at least the lead time after documents")
    earliest_port_date: date
    documents_due_at: datetime
    activation_at: datetime
    assign_reminders_at: list[datetime]
    assign_reminder_days: list[int] = Field(default_factory=lambda: [3, 1],
                                            description="business days before port day, one per reminder")
    business_days_left: int = Field(default=0, description="business days from `now` (local) to the port date")
    in_maintenance_window: bool = False
    problems: list[str] = Field(default_factory=list)


class RecordRequestInput(BaseModel):
    request: PortRequest
    pm_email: str


class InventoryChange(BaseModel):
    request_id: str
    order_id: str | None = None
    tns: list[str] = Field(default_factory=list, description="empty: every number of the order/request")
    state: str
    reason: str = ""


class SplitInput(BaseModel):
    request_id: str
    from_order: str
    to_order: str
    tns: list[str]


class SplitRequest(BaseModel):
    """An order asks its request for a new order: the carrier required these numbers apart."""

    from_order: str
    numbers: list[str]
    account: AccountSpec
    signer: Signer
    entity_name: str | None = None
    port_date: date
    reason: str


class AssignInput(BaseModel):
    request_id: str
    assignments: dict[str, str]
    kind: str = "user"


class AuditInput(BaseModel):
    changes: list[StatusChange]


class RenderLoaInput(BaseModel):
    request_id: str
    order_id: str
    customer_name: str
    signer: Signer
    account: AccountSpec
    port_date: date


class CarrierCall(BaseModel):
    """One carrier operation for ``activities.carrier``."""

    order_id: str
    carrier: str
    carrier_order_id: str | None = None
    idempotency_key: str
    reason: str = ""


class CarrierPoll(BaseModel):
    """Ask the carrier until the order's state differs from ``known`` (a fingerprint)."""

    call: CarrierCall
    known: str = ""


class EnvelopePoll(BaseModel):
    """Ask the e-signature provider until the envelope's status differs from ``known``."""

    envelope_id: str
    known: EnvelopeStatus


class CarrierResult(BaseModel):
    state: CarrierOrderState


class DocumentsNeeded(BaseModel):
    kinds: list[DocumentKind]


class RequestRecorded(BaseModel):
    request_id: str
    numbers: int


class InventoryResult(BaseModel):
    numbers: list[NumberView] = Field(default_factory=list)


class EnvelopeQuery(BaseModel):
    envelope_id: str
    reason: str = ""


class FetchSigned(BaseModel):
    envelope_id: str
    request_id: str
    order_id: str


class SupplementInput(BaseModel):
    order_id: str
    carrier: str
    carrier_order_id: str
    supplement: "Supplement"


class SubmitInput(BaseModel):
    submission: "CarrierSubmission"


class Remediation(BaseModel):
    code: str
    message: str
    who_acts: WaitingOn
    fields: list[str] = Field(default_factory=list)
    action: str = "amend"
    numbers: list[str] = Field(default_factory=list)


class ExplainInput(BaseModel):
    exceptions: list[CarrierException]


class ExplainResult(BaseModel):
    items: list[Remediation]


class NotifyResult(BaseModel):
    channels: list[str] = Field(default_factory=list)
    duplicates: int = 0


class VerifyInput(BaseModel):
    order_id: str
    numbers: list[str]


class VerifyResult(BaseModel):
    ok: bool
    detail: str = ""


from models.carrier import CarrierSubmission, Supplement  # noqa: E402

SupplementInput.model_rebuild()
SubmitInput.model_rebuild()


class AssignedSignal(BaseModel):
    assignments: dict[str, str]
