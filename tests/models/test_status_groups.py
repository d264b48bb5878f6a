"""The named status groups, the request's own table, number states and the cancel rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.status import (
    AWAITING_CARRIER,
    BEFORE_SUBMISSION,
    CANCELLABLE,
    LEFT_ORDER,
    REQUEST_TRANSITIONS,
    STORED_NUMBER_STATES,
    SWITCHING,
    TERMINAL,
    TRANSITIONS,
    WITH_CARRIER,
    InvalidTransition,
    NumberState,
    PortStatus,
    cancel_problem,
    transition,
)

S = PortStatus
FOC = datetime(2026, 12, 21, 14, 0, tzinfo=UTC)


def test_groups_agree_with_the_transition_table() -> None:
    # with the carrier: a cancel there is a SUP1 (CANCEL_REQUESTED), never a plain CANCELLED
    assert all(S.CANCEL_REQUESTED in TRANSITIONS[s] for s in WITH_CARRIER)
    assert AWAITING_CARRIER < WITH_CARRIER
    # the numbers switching: nothing leads back to a cancel
    assert not any(TRANSITIONS[s] & {S.CANCELLED, S.CANCEL_REQUESTED} for s in SWITCHING)
    assert not SWITCHING & CANCELLABLE
    # before submission nothing of the carrier's is in the way: a new LOA can go out
    assert all(S.LOA_SENT in TRANSITIONS[s] or s == S.LOA_SENT for s in BEFORE_SUBMISSION)


def test_the_request_has_its_own_table() -> None:
    at = FOC
    assert transition(S.VALIDATED, S.COMPLETED, subject="PR-1", actor="system", reason="done", at=at,
                      table=REQUEST_TRANSITIONS).to_status == S.COMPLETED
    with pytest.raises(InvalidTransition, match="from 'documents' it can move to: cancelled, failed, validated"):
        transition(S.DOCUMENTS, S.COMPLETED, subject="PR-1", actor="system", reason="x", at=at,
                   table=REQUEST_TRANSITIONS)
    # a request never enters an order's carrier statuses: those are aggregated, not its own
    assert not set(REQUEST_TRANSITIONS) & WITH_CARRIER
    assert {s for s, nxt in REQUEST_TRANSITIONS.items() if not nxt} == TERMINAL


def test_number_states() -> None:
    assert NumberState.SPLIT in LEFT_ORDER and NumberState.SPLIT not in STORED_NUMBER_STATES
    assert set(STORED_NUMBER_STATES) | {NumberState.SPLIT} == set(NumberState)


@pytest.mark.parametrize(("status", "now", "refused"), [
    (S.FOC_CONFIRMED, FOC - timedelta(hours=72), None),
    (S.FOC_CONFIRMED, FOC - timedelta(hours=24), "cannot cancel now: the FOC is 2026-12-21 14:00 UTC, 24.0 hours"),
    # decided once (core.guard): an FOC that stands and has passed means port day is under way
    (S.FOC_CONFIRMED, FOC + timedelta(hours=1), "1.0 hours ago: port day is under way"),
    # an exception (the carrier withdrew its commitment, or the FOC expired): the carrier decides
    (S.EXCEPTION, FOC - timedelta(hours=24), None),
    (S.EXCEPTION, FOC + timedelta(hours=1), None),
    (S.ACTIVATION, FOC - timedelta(hours=72), "too late to cancel, the numbers have switched"),
    (S.COMPLETED, FOC - timedelta(hours=72), "it can no longer be cancelled"),
    (S.LOA_SENT, FOC - timedelta(hours=1), None),
])
def test_one_cancel_rule_for_the_order_and_the_request(status: PortStatus, now: datetime, refused: str | None) -> None:
    problem = cancel_problem(status, FOC, now, 48, "PR-1-1")
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem, problem
