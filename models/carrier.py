"""Carrier submission: the normalized view of a port order at the losing/gaining carrier.

Each adapter (simulator, manual, Telnyx) maps the carrier's own words to these statuses and
keeps the raw status and codes beside them, so ops can see both.
"""

from __future__ import annotations

import hashlib

from datetime import date, datetime, time
from enum import StrEnum

from pydantic import BaseModel, Field

from models.request import Address, DocumentRef, PortType, RemainingNumbers


class CarrierOrderStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PENDING = "pending"  # in process at the carrier, no FOC yet
    EXCEPTION = "exception"
    FOC_CONFIRMED = "foc_confirmed"
    CANCEL_PENDING = "cancel_pending"
    CANCELLED = "cancelled"
    ACTIVATING = "activating"
    PORTED = "ported"
    ACTIVATION_FAILED = "activation_failed"


class NumberOutcome(StrEnum):
    PENDING = "pending"
    PORTED = "ported"
    NOT_PORTABLE = "not_portable"
    FAILED = "failed"


class SupplementKind(StrEnum):
    SUP1 = "SUP1"  # cancel
    SUP2 = "SUP2"  # new due date
    SUP3 = "SUP3"  # other corrections


class CarrierException(BaseModel):
    code: str = Field(description="normalized code, Telnyx's names: BTN_ATN_MISMATCH, ...")
    raw_code: str | None = None
    message: str = ""
    numbers: list[str] = Field(default_factory=list, description="numbers it concerns; empty: the whole order")


class CarrierNumber(BaseModel):
    tn: str
    outcome: NumberOutcome = NumberOutcome.PENDING
    reason: str | None = None


class CarrierSubmission(BaseModel):
    """Everything a carrier needs for one order. Secrets are resolved only inside the
    carrier activity (never in history): here they are vault refs (models.secrets)."""

    idempotency_key: str
    request_id: str
    order_id: str
    carrier: str
    entity_name: str
    auth_person_name: str
    account_number_ref: str = Field(description="vault ref of the account number")
    pin_ref: str | None = None
    btn: str
    service_address: Address
    port_type: PortType
    remaining_numbers: RemainingNumbers | None = None
    new_btn: str | None = None
    numbers: list[str]
    toll_free: bool = False
    requested_foc_date: date
    activation_time: time | None = None
    time_zone: str = "America/New_York"
    documents: list[DocumentRef] = Field(default_factory=list)


class Supplement(BaseModel):
    kind: SupplementKind
    idempotency_key: str
    new_foc_date: date | None = None
    corrections: dict[str, str] = Field(
        default_factory=dict, description="field -> new value; secrets as vault refs"
    )
    reason: str = ""


class CarrierOrderState(BaseModel):
    """What the carrier says about an order now."""

    carrier_order_id: str
    provider: str
    status: CarrierOrderStatus
    raw_status: str = Field(description="the carrier's own status word")
    foc_at: datetime | None = Field(default=None, description="confirmed FOC date and time (UTC)")
    exceptions: list[CarrierException] = Field(default_factory=list)
    numbers: list[CarrierNumber] = Field(default_factory=list)
    fast_port_eligible: bool = False
    activation_window: tuple[datetime, datetime] | None = None
    updated_at: datetime | None = None


class CarrierEvent(BaseModel):
    """A carrier event for an order's workflow: from a webhook, a poll, or a PM by hand."""

    event_id: str = Field(min_length=1, description="dedupe key")
    order_id: str
    state: CarrierOrderState
    at: datetime
    actor: str = "carrier"
    note: str = ""


def fingerprint(state: CarrierOrderState | None) -> str:
    """What a carrier poll compares (the state without its timestamp): the poll reports a
    change only. Deterministic, so workflows compute it too."""
    if state is None:
        return ""
    return hashlib.sha256(state.model_dump_json(exclude={"updated_at"}).encode()).hexdigest()[:24]
