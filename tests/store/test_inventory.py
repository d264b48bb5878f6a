"""The number inventory, and THE RULE: a number is in at most one active port, enforced by
the database so that two concurrent claims cannot both win (SQLite and PostgreSQL)."""

from __future__ import annotations

import pickle
import re
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from models.numbers import NumberProblem
from store.db import session_scope
from store.inventory import (
    InventoryError,
    NumberInAnotherPort,
    assign,
    claim_numbers,
    numbers_of,
    release,
    set_state,
    unassigned,
)
from store.requests import UnknownSubject
from store.tables import InventoryNumber, NumberState
from tests.polling import eventually_sync

A1, A2, A3 = "+14155550101", "+14155550102", "+14155550103"
B1 = "+12125550101"


def claim(engine: Engine, request_id: str, tns: list[str], order: int = 1) -> list[InventoryNumber]:
    with session_scope(engine) as s:
        return claim_numbers(
            session=s, request_id=request_id, order_id=f"{request_id}-{order}", tns=tns
        )


def test_claim_is_idempotent_for_the_same_order(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1, A2])
    first = claim(engine, "PR-2026-0001", [A1, "(415) 555-0102"])
    again = claim(engine, "PR-2026-0001", [A2, A1, A1])
    assert [r.tn for r in first] == [A1, A2]
    assert {r.id for r in again} == {r.id for r in first}
    assert all(r.state == NumberState.PORTING for r in again)
    with session_scope(engine) as s:
        assert [r.tn for r in numbers_of(session=s, request_id="PR-2026-0001")] == [A1, A2]


def test_a_number_of_another_port_is_refused_with_who_holds_it(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1, A2])
    saved("PR-2026-0002", [A1, A2, A3])
    claim(engine, "PR-2026-0001", [A1, A2])
    with pytest.raises(NumberInAnotherPort) as err:
        claim(engine, "PR-2026-0002", [A3, A1, A2])
    assert isinstance(err.value, ValueError)
    assert (err.value.tn, err.value.other_request_id) == (A1, "PR-2026-0001")
    assert err.value.conflicts == {A1: "PR-2026-0001", A2: "PR-2026-0001"}
    copy = pickle.loads(pickle.dumps(err.value))
    assert (str(copy), copy.conflicts) == (str(err.value), err.value.conflicts)
    message = str(err.value)
    assert message.startswith(
        f"{A1} is already in port request PR-2026-0001: remove it from this request"
    )
    assert A2 in message
    with session_scope(engine) as s:  # all or nothing: A3 was not claimed either
        assert numbers_of(session=s, request_id="PR-2026-0002") == []


def test_a_number_active_in_inventory_says_so(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1])
    saved("PR-2026-0002", [A1])
    claim(engine, "PR-2026-0001", [A1])
    with session_scope(engine) as s:
        set_state(session=s, order_id="PR-2026-0001-1", tns=[A1], state="active")
    with pytest.raises(
        NumberInAnotherPort, match=r"already active in our inventory \(ported by PR-2026-0001\)"
    ):
        claim(engine, "PR-2026-0002", [A1])


def test_release_then_reclaim(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1, A2])
    saved("PR-2026-0002", [A1])
    claim(engine, "PR-2026-0001", [A1, A2])
    with session_scope(engine) as s:
        with pytest.raises(InventoryError, match="needs a reason"):
            release(session=s, request_id="PR-2026-0001", reason=" ")
        released = release(session=s, request_id="PR-2026-0001", reason="cancelled by the customer")
        assert {r.tn for r in released} == {A1, A2}
        assert release(session=s, request_id="PR-2026-0001", reason="again") == []
    [row] = claim(engine, "PR-2026-0002", [A1])
    assert row.request_id == "PR-2026-0002" and row.state == NumberState.PORTING
    with session_scope(engine) as s:
        history = numbers_of(session=s, request_id="PR-2026-0001", include_released=True)
        assert {(r.tn, r.state, r.release_reason) for r in history} == {
            (A1, "released", "cancelled by the customer"),
            (A2, "released", "cancelled by the customer"),
        }
        assert all(r.released_at is not None and r.released_at.tzinfo is not None for r in history)
        assert numbers_of(session=s, request_id="PR-2026-0001") == []
    # the first request may take its numbers back only if nobody else holds them
    with pytest.raises(NumberInAnotherPort):
        claim(engine, "PR-2026-0001", [A1])
    assert [r.tn for r in claim(engine, "PR-2026-0001", [A2])] == [A2]


def test_release_of_one_order_only(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1], [B1])
    claim(engine, "PR-2026-0001", [A1], order=1)
    claim(engine, "PR-2026-0001", [B1], order=2)
    with session_scope(engine) as s:
        release(
            session=s,
            request_id="PR-2026-0001",
            order_id="PR-2026-0001-2",
            reason="order cancelled",
        )
        assert [r.tn for r in numbers_of(session=s, request_id="PR-2026-0001")] == [A1]


def test_database_refuses_two_live_rows_for_one_number(engine: Engine, saved) -> None:
    """The rule holds even for code that bypasses claim_numbers."""
    saved("PR-2026-0001", [A1])
    saved("PR-2026-0002", [A1])

    def insert(request_id: str) -> InventoryNumber:
        with session_scope(engine) as s:
            row = InventoryNumber(
                tn=A1, state="porting", request_id=request_id, order_id=f"{request_id}-1"
            )
            s.add(row)
            return row

    insert("PR-2026-0001")
    with pytest.raises(IntegrityError):
        insert("PR-2026-0002")
    with session_scope(engine) as s:
        release(session=s, request_id="PR-2026-0001", reason="done")
    insert("PR-2026-0002")


def test_database_refuses_an_unknown_state(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1])
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(
            InventoryNumber(
                tn=A1, state="lost", request_id="PR-2026-0001", order_id="PR-2026-0001-1"
            )
        )


def test_claim_checks_request_order_and_numbers(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1], [B1])
    saved("PR-2026-0002", [A2])
    with session_scope(engine) as s:
        with pytest.raises(UnknownSubject, match="PR-2026-0009-1 is not in the database"):
            claim_numbers(session=s, request_id="PR-2026-0009", order_id="PR-2026-0009-1", tns=[A1])
        with pytest.raises(InventoryError, match="belongs to PR-2026-0002"):
            claim_numbers(session=s, request_id="PR-2026-0001", order_id="PR-2026-0002-1", tns=[A1])
        with pytest.raises(NumberProblem):
            claim_numbers(
                session=s, request_id="PR-2026-0001", order_id="PR-2026-0001-1", tns=["555-0101"]
            )
    claim(engine, "PR-2026-0001", [A1], order=1)
    with pytest.raises(InventoryError, match="already claimed by order PR-2026-0001-1"):
        claim(engine, "PR-2026-0001", [A1], order=2)


def _run_both(targets: list[Callable[[], object]]) -> list[object]:
    results: list[object] = [None] * len(targets)

    def run(i: int) -> None:
        try:
            results[i] = targets[i]()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a claim never finished"
    return results


def test_two_concurrent_claims_one_wins(engine: Engine, saved) -> None:
    """Two starts claim the same number at once, each in its own transaction and connection.

    On PostgreSQL both transactions are open (a statement run) before either claims. On
    SQLite a write transaction starts with BEGIN IMMEDIATE, so only one can be open at a
    time: both sessions are begun, and they race for the lock the moment the barrier opens.
    """
    saved("PR-2026-0001", [A1, A2])
    saved("PR-2026-0002", [B1, A2])
    barrier = threading.Barrier(2, timeout=30)
    postgres = engine.dialect.name == "postgresql"

    def start(request_id: str, tns: list[str]) -> Callable[[], object]:
        def go() -> object:
            with session_scope(engine) as s:
                if postgres:
                    s.connection().execute(sa.text("SELECT 1"))
                barrier.wait()
                return [
                    r.tn
                    for r in claim_numbers(
                        session=s, request_id=request_id, order_id=f"{request_id}-1", tns=tns
                    )
                ]

        return go

    results = _run_both([start("PR-2026-0001", [A1, A2]), start("PR-2026-0002", [B1, A2])])
    errors = [r for r in results if isinstance(r, BaseException)]
    wins = [r for r in results if not isinstance(r, BaseException)]
    assert len(wins) == 1 and len(errors) == 1, results
    [error] = errors
    assert isinstance(error, NumberInAnotherPort), repr(error)
    winner = "PR-2026-0001" if wins[0] == [A1, A2] else "PR-2026-0002"
    assert error.tn == A2 and error.other_request_id == winner
    assert f"{A2} is already in port request {winner}" in str(error)
    with session_scope(engine) as s:
        rows = s.exec(sa.select(InventoryNumber.tn, InventoryNumber.request_id)).all()  # type: ignore[call-overload]
    assert sorted(rows) == sorted((tn, winner) for tn in wins[0])


def _backend_waits_on_lock(engine: Engine, pid: int) -> bool:
    with engine.connect() as c:
        return bool(
            c.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE pid = :pid AND wait_event_type = 'Lock'"
                ),
                {"pid": pid},
            ).scalar_one()
        )


def test_loser_waiting_on_the_winners_uncommitted_claim(engine: Engine, saved) -> None:
    """The loser checks before the winner commits and so sees nothing: only the unique
    index stops it. It waits for the winner, then gets a clear NumberInAnotherPort."""
    saved("PR-2026-0001", [A1])
    saved("PR-2026-0002", [A1])
    a_claimed, b_blocked = threading.Event(), threading.Event()
    b_pid: list[int] = []

    def a() -> object:
        with session_scope(engine) as s:
            claim_numbers(session=s, request_id="PR-2026-0001", order_id="PR-2026-0001-1", tns=[A1])
            a_claimed.set()
            assert b_blocked.wait(30), "the second claim never started"
        return "won"

    def b() -> object:
        assert a_claimed.wait(30)
        with session_scope(engine) as s:
            if engine.dialect.name == "postgresql":
                b_pid.append(
                    s.connection().execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
                )
            else:
                b_blocked.set()  # SQLite: BEGIN IMMEDIATE waits for A's lock, A may commit now
            return claim_numbers(
                session=s, request_id="PR-2026-0002", order_id="PR-2026-0002-1", tns=[A1]
            )

    threads_done: list[object] = []
    runner = threading.Thread(target=lambda: threads_done.extend(_run_both([a, b])))
    runner.start()
    if engine.dialect.name == "postgresql":
        eventually_sync(lambda: bool(b_pid and _backend_waits_on_lock(engine, b_pid[0])),
                        what="the second claim to wait on the first's lock", timeout=30, interval=0.02)
        b_blocked.set()
    runner.join(60)
    result_a, result_b = threads_done
    assert result_a == "won"
    assert isinstance(result_b, NumberInAnotherPort), repr(result_b)
    assert (result_b.tn, result_b.other_request_id) == (A1, "PR-2026-0001")


def test_set_state_assign_and_unassigned(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1, A2, A3])
    saved("PR-2026-0002", [B1])
    claim(engine, "PR-2026-0001", [A1, A2, A3])
    claim(engine, "PR-2026-0002", [B1])
    with session_scope(engine) as s:
        assign(session=s, request_id="PR-2026-0001", assignments={A1: "ana@contoso.example"})
        rows = set_state(
            session=s, order_id="PR-2026-0001-1", tns=[A1, A2, A3], state="awaiting_assignment"
        )
        assert [r.state for r in rows] == ["assigned", "awaiting_assignment", "awaiting_assignment"]
        set_state(session=s, order_id="PR-2026-0001-1", tns=[A3], state=NumberState.NOT_PORTABLE)
        assert unassigned(session=s, request_id="PR-2026-0001") == [A2]
        [row] = assign(
            session=s,
            request_id="PR-2026-0001",
            assignments={"415-555-0102": "queue@contoso.example"},
            kind="resource_account",
        )
        assert (row.tn, row.assigned_to, row.assigned_kind, row.state) == (
            A2,
            "queue@contoso.example",
            "resource_account",
            "assigned",
        )
        assert unassigned(session=s, request_id="PR-2026-0001") == []


def test_assign_refuses_numbers_it_does_not_own(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1, A3])
    saved("PR-2026-0002", [B1])
    claim(engine, "PR-2026-0001", [A1, A3])
    claim(engine, "PR-2026-0002", [B1])
    with session_scope(engine) as s:
        with pytest.raises(InventoryError) as err:
            assign(
                session=s,
                request_id="PR-2026-0001",
                assignments={A1: "a@x.example", B1: "b@x.example", A2: "c@x.example"},
            )
        assert f"{B1} belongs to port request PR-2026-0002, not PR-2026-0001" in str(err.value)
        assert f"{A2} is not in the inventory of PR-2026-0001" in str(err.value)
        assert (
            numbers_of(session=s, request_id="PR-2026-0001")[0].assigned_to is None
        )  # all or nothing
        with pytest.raises(InventoryError, match="assignee is empty"):
            assign(session=s, request_id="PR-2026-0001", assignments={A1: " "})
        with pytest.raises(InventoryError, match="unknown assignee kind"):
            assign(
                session=s, request_id="PR-2026-0001", assignments={A1: "a@x.example"}, kind="robot"
            )
        set_state(session=s, order_id="PR-2026-0001-1", tns=[A3], state="not_portable")
        with pytest.raises(InventoryError, match="carrier refused"):
            assign(session=s, request_id="PR-2026-0001", assignments={A3: "a@x.example"})
        with pytest.raises(UnknownSubject):
            assign(session=s, request_id="PR-2026-0404", assignments={A1: "a@x.example"})


def test_set_state_refuses_bad_states_and_foreign_numbers(engine: Engine, saved) -> None:
    saved("PR-2026-0001", [A1], [B1])
    claim(engine, "PR-2026-0001", [A1], order=1)
    claim(engine, "PR-2026-0001", [B1], order=2)
    with session_scope(engine) as s:
        with pytest.raises(InventoryError, match="unknown inventory state 'lost'"):
            set_state(session=s, order_id="PR-2026-0001-1", tns=[A1], state="lost")
        with pytest.raises(InventoryError, match="store.inventory.release"):
            set_state(session=s, order_id="PR-2026-0001-1", tns=[A1], state="released")
        with pytest.raises(
            InventoryError, match=re.escape(f"{B1} belongs to order PR-2026-0001-2")
        ):
            set_state(session=s, order_id="PR-2026-0001-1", tns=[B1], state="active")


MANY = [f"+1415234{n:04d}" for n in range(1000, 2200)]  # 1,200 numbers: more than one batch


def test_a_large_claim_inserts_in_batches_and_names_every_number_held_elsewhere(
    engine: Engine, saved
) -> None:
    held = [MANY[5], MANY[600], MANY[1150]]  # one in each batch of 500
    saved("PR-2026-0001", held)
    saved("PR-2026-0002", MANY)
    claim(engine, "PR-2026-0001", held)
    with pytest.raises(NumberInAnotherPort) as err:
        claim(engine, "PR-2026-0002", MANY)
    assert err.value.conflicts == dict.fromkeys(held, "PR-2026-0001")
    assert str(err.value).startswith(f"{held[0]} is already in port request PR-2026-0001")
    assert all(tn in str(err.value) for tn in held)
    with session_scope(engine) as s:
        assert numbers_of(session=s, request_id="PR-2026-0002") == []
        release(session=s, request_id="PR-2026-0001", reason="customer changed their mind")
    rows = claim(engine, "PR-2026-0002", MANY)
    assert [r.tn for r in rows] == MANY and len({r.id for r in rows}) == len(MANY)
    assert [r.tn for r in claim(engine, "PR-2026-0002", MANY[::-1])] == MANY[::-1]  # a retry: no-op


def test_a_batch_that_loses_the_race_in_the_index_names_the_numbers(
    engine: Engine, saved, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another port claims two of the numbers after this claim looked and before it inserts:
    the batch breaks uq_inventory_active_tn and the refusal names both numbers."""
    import store.inventory as inventory

    saved("PR-2026-0001", [MANY[10], MANY[700]])
    saved("PR-2026-0002", MANY)
    claim(engine, "PR-2026-0001", [MANY[10], MANY[700]])
    real_live, looks = inventory._live, []

    def late_look(session, tns):  # noqa: ANN001, ANN202 - the first look happens "too early"
        looks.append(len(tns))
        return {} if len(looks) == 1 else real_live(session, tns)

    monkeypatch.setattr(inventory, "_live", late_look)
    with pytest.raises(NumberInAnotherPort) as err:
        claim(engine, "PR-2026-0002", MANY)
    # the first batch broke the index; the refusal names the second batch's number too
    assert err.value.conflicts == {MANY[10]: "PR-2026-0001", MANY[700]: "PR-2026-0001"}
    assert str(err.value).startswith(f"{MANY[10]} is already in port request PR-2026-0001")
    with session_scope(engine) as s:
        assert numbers_of(session=s, request_id="PR-2026-0002") == []


def test_notifications_read_their_number_lists_from_the_store(engine: Engine, saved) -> None:
    """A workflow names the lists a mail needs (port_complete, cancelled); the notify activity
    reads them from the inventory, so no list of numbers crosses the workflow's history."""
    from activities.notify import number_lists
    from models.notify import NumberList

    saved("PR-2026-0001", [A1, A2, A3])
    claim(engine, "PR-2026-0001", [A1, A2, A3])
    with session_scope(engine) as s:
        set_state(session=s, order_id="PR-2026-0001-1", tns=[A1, A3], state=NumberState.ACTIVE)
        set_state(session=s, order_id="PR-2026-0001-1", tns=[A2], state=NumberState.NOT_PORTABLE)
    lists = {"numbers": NumberList.ACTIVE, "not_ported": NumberList.NOT_ACTIVE, "every": NumberList.ALL}
    assert number_lists("PR-2026-0001", lists) == {"numbers": [A1, A3], "not_ported": [A2], "every": [A1, A2, A3]}
    with session_scope(engine) as s:
        release(session=s, request_id="PR-2026-0001", reason="cancelled")
    assert number_lists("PR-2026-0001", lists) == {"numbers": [], "not_ported": [], "every": [A1, A2, A3]}
    assert number_lists("PR-2026-0099", lists) == {"numbers": [], "not_ported": [], "every": []}
