"""The daily reminder sweep: its input, what it found, and the messages it sends.

A Temporal Schedule starts ``ReminderSweepWorkflow`` every business day; its
``plan_reminders`` activity finds the ports at risk by visibility queries and writes the
messages, ``send_reminder`` delivers each once. Nothing here holds a secret: customer,
carrier, dates, document kinds and the E.164 numbers still to assign.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from models.notify import Notification


class Rule(StrEnum):
    """Why a port is at risk; each is one visibility query (``activities.reminders``)."""

    DOCUMENTS_MISSING = "documents_missing"  # request in documents, port date within the lead time + margin
    LOA_UNSIGNED = "loa_unsigned"  # order in loa_sent for N days
    NO_FOC = "no_foc"  # order with the carrier and no FOC N business days after submission
    NUMBERS_UNASSIGNED = "numbers_unassigned"  # numbers nobody has, port date within N business days


# The customer's contact hears about these; the PM about every rule (no FOC is the carrier's).
CUSTOMER_RULES = frozenset({Rule.DOCUMENTS_MISSING, Rule.LOA_UNSIGNED, Rule.NUMBERS_UNASSIGNED})


class SweepInput(BaseModel):
    scheduled_at: datetime | None = Field(
        default=None, description="the schedule's nominal time for this run; None: now"
    )


class Finding(BaseModel):
    """One port at risk under one rule, with what its people need to read."""

    rule: Rule
    port_id: str = Field(description="the request id (documents) or the order id")
    request_id: str
    customer_name: str
    carrier: str | None = None
    pm_email: str
    contact_email: str | None = None
    contact_name: str = ""
    language: str = "en"
    port_date: date
    since: date | None = Field(default=None, description="date the port entered its stage, in the sweep's zone")
    contact_since: date | None = Field(default=None, description="the same date in the customer's time zone")
    missing_documents: list[str] = Field(default_factory=list, description="document kinds (csr, bill, ...)")
    missing_from: list[str] = Field(default_factory=list, description="the carrier of each missing document")
    documents_due: date | None = None
    signer_name: str | None = None
    unassigned_numbers: list[str] = Field(default_factory=list, description="E.164")
    business_days_left: int | None = None
    line: str = Field(description="the PM digest's line for it (English)")


class ReminderMessage(BaseModel):
    """One notification of the sweep and the (rule, port, recipient) items it tells."""

    note: Notification
    marks: list[str] = Field(description="ledger keys written once it is delivered: never told twice a day")
    summary: str


class ReminderPlan(BaseModel):
    local_date: date
    time_zone: str
    skipped: str | None = Field(default=None, description="why nothing was looked at (weekend, holiday)")
    queries: dict[str, str] = Field(default_factory=dict, description="rule -> the visibility query it ran")
    findings: list[Finding] = Field(default_factory=list)
    messages: list[ReminderMessage] = Field(default_factory=list)
    already_told: int = Field(default=0, description="items left out: their people were told today already")


class SweepResult(BaseModel):
    local_date: date
    skipped: str | None = None
    findings: int = 0
    sent: list[str] = Field(default_factory=list, description="summary of each message delivered")
    duplicates: int = Field(default=0, description="messages a retry found delivered already")
    already_told: int = 0
    failed: list[str] = Field(default_factory=list)
