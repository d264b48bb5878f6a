"""The port status state machine: one table, and a function that follows it exactly."""

from __future__ import annotations

import itertools
from collections import deque
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from models.status import (
    ACTIVE,
    CANCELLABLE,
    STAGE_ORDER,
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    PortStatus,
    StatusChange,
    can_transition,
    initial,
    transition,
)

S = PortStatus
AT = datetime(2027, 11, 16, 15, 0, tzinfo=UTC)
ALL_PAIRS = list(itertools.product(PortStatus, PortStatus))


def test_the_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(PortStatus)
    for targets in TRANSITIONS.values():
        assert targets <= set(PortStatus)


@pytest.mark.parametrize(("current", "to"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_pair_follows_the_table(current: PortStatus, to: PortStatus) -> None:
    allowed = to in TRANSITIONS[current]
    assert can_transition(current, to) is allowed
    if allowed:
        change = transition(
            current, to, subject="PR-2027-0001", actor="pm@example.com", reason="test", at=AT
        )
        assert (change.from_status, change.to_status) == (current, to)
        assert (change.subject, change.actor, change.reason, change.at) == (
            "PR-2027-0001",
            "pm@example.com",
            "test",
            AT,
        )
    else:
        with pytest.raises(InvalidTransition) as err:
            transition(
                current, to, subject="PR-2027-0001", actor="pm@example.com", reason="test", at=AT
            )
        assert (err.value.current, err.value.to) == (current, to)
        message = str(err.value)
        assert f"'{current}'" in message and f"'{to}'" in message and "PR-2027-0001" in message
        for move in TRANSITIONS[current]:  # names every allowed move
            assert str(move) in message.split("can move to:")[1]


def test_terminal_states_have_no_way_out() -> None:
    assert TERMINAL == {S.COMPLETED, S.CANCELLED, S.FAILED}
    assert ACTIVE == set(PortStatus) - TERMINAL
    for state in TERMINAL:
        assert TRANSITIONS[state] == frozenset()
        for to in PortStatus:
            with pytest.raises(InvalidTransition, match="nothing \\(it is finished\\)"):
                transition(state, to, subject="PR-2027-0001", actor="system", reason="late", at=AT)


def _reachable(start: PortStatus) -> set[PortStatus]:
    seen, todo = {start}, deque([start])
    while todo:
        for nxt in TRANSITIONS[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_status_is_reachable_from_intake_and_can_finish() -> None:
    assert _reachable(S.INTAKE) == set(PortStatus)
    for state in ACTIVE:
        assert _reachable(state) & TERMINAL, f"{state} can never finish"


def test_the_happy_path_is_allowed() -> None:
    path = [
        S.INTAKE,
        S.DOCUMENTS,
        S.VALIDATED,
        S.LOA_SENT,
        S.LOA_SIGNED,
        S.SUBMITTED,
        S.CARRIER_PENDING,
        S.FOC_CONFIRMED,
        S.ACTIVATION,
        S.PORTED,
        S.VERIFIED,
        S.COMPLETED,
    ]
    for a, b in itertools.pairwise(path):
        assert can_transition(a, b), f"{a} -> {b}"


def test_a_port_can_be_cancelled_at_every_stage_before_activation() -> None:
    before_activation = STAGE_ORDER[: STAGE_ORDER.index(S.FOC_CONFIRMED) + 1]
    for state in before_activation:
        if state not in TERMINAL and state is not S.SNAPBACK:
            assert state in CANCELLABLE, f"{state} cannot be cancelled"
    for state in (S.ACTIVATION, S.PORTED, S.VERIFIED):
        assert state not in CANCELLABLE
    assert S.CANCELLED in TRANSITIONS[S.CANCEL_REQUESTED]


def test_stage_order_lists_every_status_once() -> None:
    assert sorted(STAGE_ORDER) == sorted(PortStatus)
    assert len(STAGE_ORDER) == len(set(STAGE_ORDER))


def test_status_change_requires_an_aware_time() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        transition(
            S.INTAKE,
            S.DOCUMENTS,
            subject="PR-2027-0001",
            actor="system",
            reason="intake",
            at=datetime(2027, 1, 4),
        )
    eastern = timezone(timedelta(hours=-5))
    change = transition(
        S.INTAKE,
        S.DOCUMENTS,
        subject="PR-2027-0001",
        actor="system",
        reason="intake",
        at=datetime(2027, 1, 4, 9, tzinfo=eastern),
    )
    assert change.at.utcoffset() == timedelta(hours=-5)


@pytest.mark.parametrize("field", ["actor", "reason"])
def test_status_change_requires_who_and_why(field: str) -> None:
    values = {"subject": "PR-2027-0001", "actor": "system", "reason": "intake", "at": AT}
    values[field] = ""
    with pytest.raises(ValidationError, match=field):
        transition(S.INTAKE, S.DOCUMENTS, **values)


def test_status_changes_are_immutable() -> None:
    change = transition(
        S.INTAKE, S.DOCUMENTS, subject="PR-2027-0001", actor="system", reason="intake", at=AT
    )
    with pytest.raises(ValidationError):
        change.to_status = S.COMPLETED  # type: ignore[misc]
    assert StatusChange.model_validate_json(change.model_dump_json()) == change


def test_initial_starts_in_intake() -> None:
    first = initial("PR-2027-0001", actor="pm@example.com", reason="request written down", at=AT)
    assert first.from_status is None and first.to_status is S.INTAKE
