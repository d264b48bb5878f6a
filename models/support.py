"""Support cases after go-live (seed 003): priorities with their response and update targets,
case states and the moves between them, and what the case workflow takes and shows.

Pure data and rules (no clock, no time zone): the workflow decides with these, the CLI and
the API check input with the same models.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, Field, field_validator

from models.request import Language

CASE_ID_PREFIX = "case-"


class Priority(StrEnum):
    P1 = "P1"  # total outage of critical services for a site (ported numbers not routing)
    P2 = "P2"  # partial or intermittent outage for several users
    P3 = "P3"  # non-critical impairment for several users, or total for one user
    P4 = "P4"  # non-critical impairment for one user


class CaseState(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Target(BaseModel):
    """How soon a case needs its first response and then each update. ``business`` targets
    count business time only (``*_days`` whole business days of the configured support day,
    plus the hours); the others count every hour, nights and weekends included."""

    first_response: timedelta = timedelta(0)
    first_days: int = 0
    update_every: timedelta = timedelta(0)
    update_days: int = 0
    business: bool = False
    label: str


# Seed 003, "Definição de prioridades": 15 min / hourly, 30 min / 2 h, 4 h / 1 business day,
# 1 business day / 2 business days.
TARGETS = MappingProxyType({
    Priority.P1: Target(first_response=timedelta(minutes=15), update_every=timedelta(hours=1),
                        label="first response within 15 minutes, updates every hour"),
    Priority.P2: Target(first_response=timedelta(minutes=30), update_every=timedelta(hours=2),
                        label="first response within 30 minutes, updates every 2 hours"),
    Priority.P3: Target(first_response=timedelta(hours=4), update_days=1, business=True,
                        label="first response within 4 business hours, updates every business day"),
    Priority.P4: Target(first_days=1, update_days=2, business=True,
                        label="first response within 1 business day, updates every 2 business days"),
})


class CaseAction(StrEnum):
    RESPOND = "respond"  # the first response: an agent picks the case up
    UPDATE = "update"  # a progress update to the customer
    WAIT = "wait"  # waiting on the customer: no update due until they answer
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    PRIORITY = "priority"  # change of priority
    PLAN_CHANGE = "plan_change"  # a change planned for a time (flagged in the maintenance window)


S = CaseState
# action -> the states it may be taken in, and the state it leads to (None: unchanged)
MOVES = MappingProxyType({
    CaseAction.RESPOND: (frozenset({S.NEW}), S.IN_PROGRESS),
    CaseAction.UPDATE: (frozenset({S.IN_PROGRESS, S.WAITING_ON_CUSTOMER}), S.IN_PROGRESS),
    CaseAction.WAIT: (frozenset({S.NEW, S.IN_PROGRESS}), S.WAITING_ON_CUSTOMER),
    CaseAction.RESOLVE: (frozenset({S.NEW, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER}), S.RESOLVED),
    CaseAction.REOPEN: (frozenset({S.RESOLVED}), S.IN_PROGRESS),
    CaseAction.CLOSE: (frozenset({S.NEW, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.RESOLVED}), S.CLOSED),
    CaseAction.PRIORITY: (frozenset({S.NEW, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER}), None),
    CaseAction.PLAN_CHANGE: (frozenset({S.NEW, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER}), None),
})


def move_problem(case_id: str, state: CaseState, action: CaseAction) -> str | None:
    """Why ``action`` cannot be taken on a case in ``state``, or None when it can."""
    allowed, _ = MOVES[action]
    if state in allowed:
        return None
    if state == S.CLOSED:
        return (f"case {case_id} is closed: open a new case that refers to it "
                f"(`starter.py case open ... --summary \"follow-up of {case_id}: ...\"`)")
    if action == CaseAction.REOPEN:
        return f"case {case_id} is {state.value}: only a resolved case can be reopened"
    if action == CaseAction.RESPOND:
        return f"case {case_id} already had its first response: post an update instead (`case update`)"
    return f"case {case_id} is {state.value}: '{action.value}' does not apply (allowed in: " \
           f"{', '.join(sorted(s.value for s in allowed))})"


def _text(v: str, what: str, lo: int, hi: int) -> str:
    v = " ".join(str(v).split())
    if not lo <= len(v) <= hi:
        raise ValueError(f"{what} must be {lo} to {hi} characters, got {len(v)}")
    return v


class CaseEvent(BaseModel):
    at: datetime
    by: str
    action: str
    note: str = ""
    state: CaseState


class PlannedChange(BaseModel):
    at: datetime
    by: str
    note: str
    in_maintenance_window: bool
    window_start: datetime
    window_end: datetime


class CaseCarry(BaseModel):
    """A case's whole state, taken into its next run when its history grows long (continue-as-new)."""

    priority: Priority
    state: CaseState
    opened_at: datetime
    first_response_at: datetime | None = None
    last_contact: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    first_due: datetime | None = None
    next_update_due: datetime | None = None
    due: datetime | None = None
    reopened: int = 0
    updates: int = 0
    overdue: int = 0
    escalations: list[str] = Field(default_factory=list)
    changes: list[PlannedChange] = Field(default_factory=list)
    history: list[CaseEvent] = Field(default_factory=list)
    runs: int = Field(default=1, description="runs before this one")


class CaseInput(BaseModel):
    """What a support case starts with. No phone numbers, PINs or account numbers here:
    the summary is free text and the CLI refuses secrets-like words in it."""

    case_id: str = Field(pattern=r"^case-[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")
    customer_name: str = Field(min_length=1, max_length=200)
    language: Language = Language.EN
    contact_email: str = Field(min_length=3, max_length=254)
    priority: Priority
    summary: str
    opened_by: str = Field(min_length=1, max_length=254)
    request_id: str | None = Field(default=None, max_length=64)
    order_id: str | None = Field(default=None, max_length=64)
    trigger: str | None = Field(default=None, max_length=64, description="automatic cases: what opened it")
    pm_email: str = Field(min_length=3, max_length=254)
    ops_email: str = Field(min_length=3, max_length=254)
    reopen_days: int = Field(default=7, ge=0, le=365, description="a resolved case may reopen this many days")
    support_timezone: str = "America/Denver"
    customer_timezone: str | None = Field(default=None, max_length=64,
                                          description="the customer's mail shows times here (default: support's)")
    continue_after_events: int = Field(default=10_000, ge=20, description="history length that starts a new run")
    carry: CaseCarry | None = None

    @field_validator("summary")
    @classmethod
    def _summary(cls, v: str) -> str:
        return _text(v, "summary", 3, 500)


class CaseCommand(BaseModel):
    """One action on a case by a person: who, what, why."""

    case_id: str
    action: CaseAction
    by: str = Field(min_length=1, max_length=254)
    note: str = ""
    priority: Priority | None = None
    at: datetime | None = Field(default=None, description="plan_change: when the change is planned (UTC)")

    @field_validator("note")
    @classmethod
    def _note(cls, v: str) -> str:
        return " ".join(v.split())[:2000]


class CaseView(BaseModel):
    """The status query: ids, state, targets and counts (never every number of a port)."""

    case_id: str
    customer_name: str
    priority: Priority
    state: CaseState
    summary: str
    request_id: str | None = None
    order_id: str | None = None
    trigger: str | None = None
    opened_at: datetime
    opened_by: str
    first_response_due: datetime | None = None
    first_response_at: datetime | None = None
    next_update_due: datetime | None = None
    resolved_at: datetime | None = None
    reopen_until: datetime | None = None
    closed_at: datetime | None = None
    reopened: int = 0
    updates: int = 0
    escalations: list[str] = Field(default_factory=list)
    planned_changes: list[PlannedChange] = Field(default_factory=list)
    history: list[CaseEvent] = Field(default_factory=list)
    target: str = ""
    runs: int = Field(default=1, description="workflow runs so far (a long case continues as new)")


class CaseDueInput(BaseModel):
    """Ask the calendar activity when a business-hours target falls: ``start`` plus ``hours``
    and ``days`` business days of business time, in the support time zone."""

    start: datetime
    hours: timedelta = timedelta(0)
    days: int = Field(default=0, ge=0)
    time_zone: str


class MaintenanceCheck(BaseModel):
    at: datetime


class MaintenanceAnswer(BaseModel):
    in_window: bool
    window_start: datetime
    window_end: datetime


class OpenCaseResult(BaseModel):
    case_id: str
    started: bool = Field(description="False: the case already existed (the same order and trigger)")
