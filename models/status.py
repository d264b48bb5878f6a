"""The port status state machine: one table, one transition function.

``TRANSITIONS`` (an order's) and ``REQUEST_TRANSITIONS`` (a request's own) are the only
places that say which status may follow which; the named groups below are the only places
that list statuses that belong together. Every status change goes through :func:`transition`, which refuses an
illegal move with :class:`InvalidTransition` and otherwise returns an immutable
:class:`StatusChange` (from, to, who, why, when) for the timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.guard import guard_problem


class PortStatus(StrEnum):
    INTAKE = "intake"  # request written down, nothing checked yet
    DOCUMENTS = "documents"  # waiting for the CSR and bill from the customer
    VALIDATED = "validated"  # data and documents complete and checked
    LOA_SENT = "loa_sent"  # LOA out for signature
    LOA_DECLINED = "loa_declined"  # signer declined or the envelope expired: fix and resend
    LOA_SIGNED = "loa_signed"
    SUBMITTED = "submitted"  # order sent to the carrier
    CARRIER_PENDING = "carrier_pending"  # carrier accepted it for processing, no FOC yet
    EXCEPTION = "exception"  # carrier rejected it: someone must fix data
    SUPPLEMENT = "supplement"  # a SUP (date change or correction) is with the carrier
    FOC_CONFIRMED = "foc_confirmed"
    ACTIVATION = "activation"  # port day: numbers switching over
    PORTED = "ported"  # carrier says the numbers are ours
    VERIFIED = "verified"  # test calls in and out passed
    COMPLETED = "completed"
    CANCEL_REQUESTED = "cancel_requested"  # SUP1 sent, carrier has not confirmed
    CANCELLED = "cancelled"
    FAILED = "failed"
    SNAPBACK = "snapback"  # activation went wrong: numbers back to the losing carrier


S = PortStatus

# Where a port may go next from each status. Cancel is possible from every status up to
# activation; terminal statuses have no way out.
TRANSITIONS: Mapping[PortStatus, frozenset[PortStatus]] = {
    S.INTAKE: frozenset({S.DOCUMENTS, S.VALIDATED, S.CANCELLED, S.FAILED}),
    S.DOCUMENTS: frozenset({S.VALIDATED, S.CANCELLED, S.FAILED}),
    S.VALIDATED: frozenset({S.LOA_SENT, S.CANCELLED, S.FAILED}),
    S.LOA_SENT: frozenset({S.LOA_SIGNED, S.LOA_DECLINED, S.CANCELLED, S.CANCEL_REQUESTED}),
    S.LOA_DECLINED: frozenset({S.LOA_SENT, S.CANCELLED, S.CANCEL_REQUESTED}),
    # LOA_SIGNED -> EXCEPTION: the carrier refused the submission itself; -> SUPPLEMENT: a new
    # LOA (the signer corrected after AUTH_PERSON_MISMATCH) goes to the open carrier order
    S.LOA_SIGNED: frozenset({S.SUBMITTED, S.LOA_SENT, S.EXCEPTION, S.SUPPLEMENT, S.CANCELLED, S.CANCEL_REQUESTED}),
    S.SUBMITTED: frozenset({S.CARRIER_PENDING, S.EXCEPTION, S.FOC_CONFIRMED, S.CANCEL_REQUESTED}),
    S.CARRIER_PENDING: frozenset({S.EXCEPTION, S.FOC_CONFIRMED, S.SUPPLEMENT, S.CANCEL_REQUESTED}),
    # EXCEPTION -> SUBMITTED: a submission the carrier refused, corrected and sent again
    S.EXCEPTION: frozenset({S.SUBMITTED, S.SUPPLEMENT, S.LOA_SENT, S.CANCEL_REQUESTED, S.CANCELLED, S.FAILED}),
    S.SUPPLEMENT: frozenset({S.CARRIER_PENDING, S.EXCEPTION, S.FOC_CONFIRMED, S.CANCEL_REQUESTED}),
    S.FOC_CONFIRMED: frozenset({S.SUPPLEMENT, S.EXCEPTION, S.ACTIVATION, S.CANCEL_REQUESTED}),  # port day first, always
    S.ACTIVATION: frozenset({S.PORTED, S.FAILED, S.SNAPBACK, S.EXCEPTION}),
    S.PORTED: frozenset({S.VERIFIED, S.SNAPBACK}),
    S.VERIFIED: frozenset({S.COMPLETED}),
    # SNAPBACK -> VERIFIED: ported but not routing, fixed by ops and re-tested by the PM
    S.SNAPBACK: frozenset({S.SUPPLEMENT, S.VERIFIED, S.FAILED, S.CANCELLED}),
    S.CANCEL_REQUESTED: frozenset({S.CANCELLED, S.CARRIER_PENDING, S.FOC_CONFIRMED, S.EXCEPTION}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}

TERMINAL: frozenset[PortStatus] = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
ACTIVE: frozenset[PortStatus] = frozenset(PortStatus) - TERMINAL
# Statuses from which a cancel can still be asked for (before the numbers switch).
CANCELLABLE: frozenset[PortStatus] = frozenset(
    s for s, nxt in TRANSITIONS.items() if S.CANCELLED in nxt or S.CANCEL_REQUESTED in nxt
)
# Named groups: the workflows, the CLI and the guard say these names, never the sets again.
# The carrier holds an order that a cancel must withdraw (SUP1); the carrier stage runs here.
WITH_CARRIER: frozenset[PortStatus] = frozenset(
    {S.SUBMITTED, S.CARRIER_PENDING, S.EXCEPTION, S.SUPPLEMENT, S.FOC_CONFIRMED}
)
# The order is with the carrier and the next word is the carrier's (silence reminders, P2 SLA).
AWAITING_CARRIER: frozenset[PortStatus] = frozenset({S.SUBMITTED, S.CARRIER_PENDING, S.SUPPLEMENT})
# A carrier event may raise an exception on the order / confirm its FOC in these statuses.
EXCEPTION_CAN_ARRIVE: frozenset[PortStatus] = AWAITING_CARRIER | {S.FOC_CONFIRMED, S.ACTIVATION}
FOC_CAN_ARRIVE: frozenset[PortStatus] = AWAITING_CARRIER | {S.EXCEPTION}
# The LOA is out: the signer signs, or the PM corrects and it goes out again.
LOA_OUT: frozenset[PortStatus] = frozenset({S.LOA_SENT, S.LOA_DECLINED})
# Before the carrier has the order: a change of what the LOA says means a new LOA.
BEFORE_SUBMISSION: frozenset[PortStatus] = LOA_OUT | {S.LOA_SIGNED}
# The numbers are switching or have switched: too late to cancel.
SWITCHING: frozenset[PortStatus] = frozenset({S.ACTIVATION, S.PORTED, S.VERIFIED})
# The carrier is answering something we sent (or the port is under way): amend after its answer.
AMEND_WAITS: frozenset[PortStatus] = SWITCHING | {S.SUBMITTED, S.SUPPLEMENT, S.CANCEL_REQUESTED}

# A port request's own status (its orders' stages are aggregated for display): intake and
# documents, then VALIDATED while its orders run; it ends when they all have ended.
REQUEST_TRANSITIONS: Mapping[PortStatus, frozenset[PortStatus]] = {
    S.INTAKE: frozenset({S.DOCUMENTS, S.VALIDATED, S.CANCELLED, S.FAILED}),
    S.DOCUMENTS: frozenset({S.VALIDATED, S.CANCELLED, S.FAILED}),
    S.VALIDATED: frozenset({S.COMPLETED, S.CANCELLED, S.FAILED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}


class NumberState(StrEnum):
    """Where one number stands: in an order's view and in the inventory (store.tables)."""

    PORTING = "porting"  # claimed by a port that has not completed
    AWAITING_ASSIGNMENT = "awaiting_assignment"  # in inventory after the FOC, no user yet
    ASSIGNED = "assigned"  # given to a user or resource account
    ACTIVE = "active"  # ported and routing to us
    RELEASED = "released"  # the port ended without it (cancel, failure, removed by the PM)
    NOT_PORTABLE = "not_portable"  # the carrier refused this number
    SPLIT = "split"  # moved to another order of the request (the carrier required a split)


# Numbers that left an order: they no longer port with it.
LEFT_ORDER: frozenset[NumberState] = frozenset({NumberState.RELEASED, NumberState.NOT_PORTABLE, NumberState.SPLIT})
# What the inventory stores: a split number's row moves to its new order (store.inventory), so
# ``split`` is an order's view of a number, never an inventory row's state.
STORED_NUMBER_STATES: tuple[NumberState, ...] = tuple(s for s in NumberState if s is not NumberState.SPLIT)

# Progress order, for showing how far a port has come and for aggregating orders.
STAGE_ORDER: tuple[PortStatus, ...] = (
    S.INTAKE,
    S.DOCUMENTS,
    S.VALIDATED,
    S.LOA_SENT,
    S.LOA_DECLINED,
    S.LOA_SIGNED,
    S.SUBMITTED,
    S.CARRIER_PENDING,
    S.EXCEPTION,
    S.SUPPLEMENT,
    S.SNAPBACK,
    S.CANCEL_REQUESTED,
    S.FOC_CONFIRMED,
    S.ACTIVATION,
    S.PORTED,
    S.VERIFIED,
    S.COMPLETED,
    S.CANCELLED,
    S.FAILED,
)


class InvalidTransition(ValueError):
    """A status change the table does not allow."""

    def __init__(self, current: PortStatus, to: PortStatus, subject: str = "port",
                 table: Mapping[PortStatus, frozenset[PortStatus]] = TRANSITIONS) -> None:
        allowed = ", ".join(sorted(table.get(current, ()))) or "nothing (it is finished)"
        super().__init__(
            f"{subject} is '{current}' and cannot move to '{to}'; from '{current}' it can move to: {allowed}"
        )
        self.current = current
        self.to = to


class StatusChange(BaseModel):
    """One entry of a timeline: immutable once written."""

    model_config = ConfigDict(frozen=True)

    subject: str = Field(description="what changed: the request id or an order id")
    from_status: PortStatus | None
    to_status: PortStatus
    actor: str = Field(min_length=1, description="who: a person's e-mail, 'system', 'carrier:<name>'")
    reason: str = Field(min_length=1, description="why, in words")
    at: datetime

    @field_validator("at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("a status change time must carry its time zone (UTC)")
        return v


def reachable(start: PortStatus, table: Mapping[PortStatus, frozenset[PortStatus]] = TRANSITIONS) -> set[PortStatus]:
    """Every status a port in ``start`` can come to (``start`` included)."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in table.get(todo.pop(), frozenset()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def can_transition(current: PortStatus, to: PortStatus) -> bool:
    return to in TRANSITIONS[current]


def transition(
    current: PortStatus, to: PortStatus, *, subject: str, actor: str, reason: str, at: datetime,
    table: Mapping[PortStatus, frozenset[PortStatus]] = TRANSITIONS,
) -> StatusChange:
    """Check a status change against ``table`` (an order's ``TRANSITIONS`` by default, a
    request's ``REQUEST_TRANSITIONS``) and record it.

    Raises :class:`InvalidTransition` when the table does not allow it. Deterministic, so
    workflows call it with ``workflow.now()``.
    """
    if to not in table.get(current, frozenset()):
        raise InvalidTransition(current, to, subject, table)
    return StatusChange(subject=subject, from_status=current, to_status=to, actor=actor, reason=reason, at=at)


def initial(subject: str, *, actor: str, reason: str, at: datetime) -> StatusChange:
    """The first entry of a timeline: a port is born in ``intake``."""
    return StatusChange(subject=subject, from_status=None, to_status=S.INTAKE, actor=actor, reason=reason, at=at)


def cancel_problem(status: PortStatus, foc_at: datetime | None, now: datetime, guard_hours: int,
                   order_id: str) -> str | None:
    """Why an order in ``status`` cannot be cancelled now, or None: the rule the order's and
    the request's cancel validators both apply (the FOC guard: :mod:`core.guard`)."""
    if status in SWITCHING:
        return f"order {order_id} is {status}: too late to cancel, the numbers have switched"
    if status not in CANCELLABLE:
        return f"order {order_id} is {status}: it can no longer be cancelled"
    if status == S.FOC_CONFIRMED:  # the FOC stands: the guard (core.guard) decides
        return guard_problem(foc_at, now, guard_hours, "cancel")
    return None
