"""The port status state machine: one table, and a function that follows it exactly."""

from __future__ import annotations

import itertools
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
    reachable,
    transition,
)

S = PortStatus
AT = datetime(2027, 11, 16, 15, 0, tzinfo=UTC)
ALL_PAIRS = list(itertools.product(PortStatus, PortStatus))


def test_the_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(PortStatus)
    for targets in TRANSITIONS.values():
        assert targets <= set(PortStatus)


# What the state machine must allow, written out: each status and the statuses it may move
# to next. Every (from, to) pair not listed here must be refused.
EXPECTED_MOVES: dict[PortStatus, set[PortStatus]] = {
    S.INTAKE: {S.DOCUMENTS, S.VALIDATED, S.CANCELLED, S.FAILED},
    S.DOCUMENTS: {S.VALIDATED, S.CANCELLED, S.FAILED},
    S.VALIDATED: {S.LOA_SENT, S.CANCELLED, S.FAILED},
    S.LOA_SENT: {S.LOA_SIGNED, S.LOA_DECLINED, S.CANCELLED, S.CANCEL_REQUESTED},
    S.LOA_DECLINED: {S.LOA_SENT, S.CANCELLED, S.CANCEL_REQUESTED},
    S.LOA_SIGNED: {S.SUBMITTED, S.LOA_SENT, S.EXCEPTION, S.SUPPLEMENT, S.CANCELLED, S.CANCEL_REQUESTED},
    S.SUBMITTED: {S.CARRIER_PENDING, S.EXCEPTION, S.FOC_CONFIRMED, S.CANCEL_REQUESTED},
    S.CARRIER_PENDING: {S.EXCEPTION, S.FOC_CONFIRMED, S.SUPPLEMENT, S.CANCEL_REQUESTED},
    S.EXCEPTION: {S.SUBMITTED, S.SUPPLEMENT, S.LOA_SENT, S.CANCEL_REQUESTED, S.CANCELLED, S.FAILED},
    S.SUPPLEMENT: {S.CARRIER_PENDING, S.EXCEPTION, S.FOC_CONFIRMED, S.CANCEL_REQUESTED},
    S.FOC_CONFIRMED: {S.SUPPLEMENT, S.EXCEPTION, S.ACTIVATION, S.CANCEL_REQUESTED},
    S.ACTIVATION: {S.PORTED, S.FAILED, S.SNAPBACK, S.EXCEPTION},
    S.PORTED: {S.VERIFIED, S.SNAPBACK},
    S.VERIFIED: {S.COMPLETED},
    S.SNAPBACK: {S.SUPPLEMENT, S.VERIFIED, S.FAILED, S.CANCELLED},
    S.CANCEL_REQUESTED: {S.CANCELLED, S.CARRIER_PENDING, S.FOC_CONFIRMED, S.EXCEPTION},
    S.COMPLETED: set(),
    S.CANCELLED: set(),
    S.FAILED: set(),
}


def table_differences(expected: dict[PortStatus, set[PortStatus]]) -> list[str]:
    """Every (from, to) pair on which ``can_transition`` disagrees with ``expected``, one line each."""
    out = []
    for current, to in ALL_PAIRS:
        want, got = to in expected.get(current, set()), can_transition(current, to)
        if want != got:
            out.append(f"{current} -> {to}: expected {'allowed' if want else 'refused'}, "
                       f"the table {'allows' if got else 'refuses'} it")
    return out


def transition_disagreements(current: PortStatus, to: PortStatus) -> list[str]:
    """What ``transition`` does wrong for one pair, given what ``can_transition`` says: an
    allowed move is recorded as asked; a refused one raises, naming both statuses, the
    subject and every move that is allowed."""
    pair = f"{current} -> {to}"
    try:
        change = transition(current, to, subject="PR-2027-0001", actor="pm@example.com", reason="test", at=AT)
    except InvalidTransition as err:
        if can_transition(current, to):
            return [f"{pair}: allowed, yet transition() refused it: {err}"]
        message = str(err)
        problems = [] if (err.current, err.to) == (current, to) else [f"{pair}: refusal names {err.current} -> {err.to}"]
        if not (f"'{current}'" in message and f"'{to}'" in message and "PR-2027-0001" in message):
            problems.append(f"{pair}: refusal does not name both statuses and the subject: {message}")
        allowed_part = message.split("can move to:")[1] if "can move to:" in message else ""
        problems += [f"{pair}: refusal does not offer {move}: {message}"
                     for move in TRANSITIONS[current] if str(move) not in allowed_part]
        return problems
    if not can_transition(current, to):
        return [f"{pair}: refused, yet transition() recorded it"]
    got = (change.from_status, change.to_status, change.subject, change.actor, change.reason, change.at)
    want = (current, to, "PR-2027-0001", "pm@example.com", "test", AT)
    return [] if got == want else [f"{pair}: recorded as {got}, not {want}"]


def test_the_state_machine_allows_exactly_the_expected_moves() -> None:
    """All 361 (from, to) pairs at once: the table against ``EXPECTED_MOVES``, and
    ``transition`` against the table; a failure lists every pair that differs."""
    assert set(EXPECTED_MOVES) == set(PortStatus)
    problems = table_differences(EXPECTED_MOVES)
    problems += [p for current, to in ALL_PAIRS for p in transition_disagreements(current, to)]
    assert not problems, f"{len(problems)} pair(s) differ:\n" + "\n".join(problems)


def test_a_wrong_table_is_reported_pair_by_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison catches a table that is wrong: one move taken away, one added."""
    wrong = dict(TRANSITIONS)
    wrong[S.VERIFIED] = frozenset()  # a verified port could never complete
    wrong[S.COMPLETED] = frozenset({S.INTAKE})  # a finished port could start over
    monkeypatch.setattr("models.status.TRANSITIONS", wrong)
    assert table_differences(EXPECTED_MOVES) == [
        "verified -> completed: expected allowed, the table refuses it",
        "completed -> intake: expected refused, the table allows it",
    ]


def test_terminal_states_have_no_way_out() -> None:
    assert TERMINAL == {S.COMPLETED, S.CANCELLED, S.FAILED}
    assert ACTIVE == set(PortStatus) - TERMINAL
    for state in TERMINAL:
        assert TRANSITIONS[state] == frozenset()
        for to in PortStatus:
            with pytest.raises(InvalidTransition, match="nothing \\(it is finished\\)"):
                transition(state, to, subject="PR-2027-0001", actor="system", reason="late", at=AT)


def test_every_status_is_reachable_from_intake_and_can_finish() -> None:
    assert reachable(S.INTAKE) == set(PortStatus)
    for state in ACTIVE:
        assert reachable(state) & TERMINAL, f"{state} can never finish"


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
