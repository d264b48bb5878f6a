"""Requests and orders: ids, upserts, statuses and the timeline."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from models.request import PortType
from models.secrets import SecretRef
from models.status import PortStatus as S
from models.status import StatusChange, initial, transition
from store.db import session_scope
from store.requests import (
    StatusConflict,
    UnknownSubject,
    allocate_request_id,
    as_change,
    get_request,
    load_request,
    orders_of,
    save_request,
    set_status,
    timeline,
    update_order,
)

T0 = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)


def test_ids_are_sequential_per_year_and_skip_used_ones(engine: Engine, saved) -> None:
    assert allocate_request_id(year=2026) == "PR-2026-0001"
    assert allocate_request_id(year=2026) == "PR-2026-0002"
    assert allocate_request_id(year=2027) == "PR-2027-0001"
    saved("PR-2026-0003", ["+14155550101"])  # a request file that named its own id
    with session_scope(engine) as s:
        assert allocate_request_id(session=s, year=2026) == "PR-2026-0004"
    assert allocate_request_id().startswith(f"PR-{datetime.now(UTC).year}-")
    with pytest.raises(ValueError, match="out of range"):
        allocate_request_id(year=26)


def test_concurrent_allocation_gives_distinct_ids(engine: Engine) -> None:
    ids: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6, timeout=30)

    def take() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                ids.append(allocate_request_id(year=2030))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(ids) == [f"PR-2030-{n:04d}" for n in range(1, 31)]


def test_save_request_writes_request_and_one_order_per_account(engine: Engine, saved) -> None:
    request = saved("PR-2026-0001", ["+14155550101", "+14155550102"], ["+18005550100"])
    with session_scope(engine) as s:
        row = get_request(session=s, request_id="PR-2026-0001")
        assert (row.customer_name, row.contact_email, row.pm_email, row.status) == (
            "Contoso Ltd",
            "ana@contoso.example",
            "pm@portflow.example",
            "intake",
        )
        assert row.created_at.tzinfo is not None
        orders = orders_of(session=s, request_id="PR-2026-0001")
        assert [(o.id, o.carrier, o.port_type, o.status, o.toll_free) for o in orders] == [
            ("PR-2026-0001-1", "Carrier 1", "full", "intake", False),
            ("PR-2026-0001-2", "Carrier 2", "full", "intake", True),
        ]
        loaded = load_request(session=s, request_id="PR-2026-0001")
        assert loaded == request
        assert isinstance(loaded.accounts[0].account_number, SecretRef)
        assert load_request(session=s, request_id="PR-2026-0404") is None


def test_save_request_is_an_upsert(engine: Engine, saved, make_request) -> None:
    request = saved("PR-2026-0001", ["+14155550101"], ["+12125550101"])
    with session_scope(engine) as s:
        set_status(
            session=s,
            subject="PR-2026-0001-1",
            change=initial("PR-2026-0001-1", actor="pm", reason="new", at=T0),
        )
        set_status(
            session=s,
            subject="PR-2026-0001-1",
            change=transition(
                S.INTAKE,
                S.VALIDATED,
                subject="PR-2026-0001-1",
                actor="pm",
                reason="ok",
                at=T0 + timedelta(1),
            ),
        )
    changed = request.model_copy(update={"notes": "call before noon"})
    with session_scope(engine) as s:
        save_request(session=s, request=changed, pm_email="other@portflow.example")
    with session_scope(engine) as s:
        row = get_request(session=s, request_id="PR-2026-0001")
        assert (
            row.pm_email == "other@portflow.example" and row.summary["notes"] == "call before noon"
        )
        assert [o.status for o in orders_of(session=s, request_id="PR-2026-0001")] == [
            "validated",
            "intake",
        ]
    shrunk = request.model_copy(update={"accounts": request.accounts[:1]})
    with (
        session_scope(engine) as s,
        pytest.raises(ValueError, match="cancel PR-2026-0001-2 instead of removing"),
    ):
        save_request(session=s, request=shrunk, pm_email="pm@portflow.example")
    with session_scope(engine) as s, pytest.raises(ValueError, match="pm_email is empty"):
        save_request(session=s, request=request, pm_email=" ")


def test_status_changes_and_timeline(engine: Engine, saved) -> None:
    saved("PR-2026-0001", ["+14155550101"], ["+12125550101"])
    saved("PR-2026-00011", ["+14155550109"])  # shares the prefix text, not the request
    steps = [
        ("PR-2026-0001", initial("PR-2026-0001", actor="pm@x", reason="started", at=T0)),
        ("PR-2026-0001-1", initial("PR-2026-0001-1", actor="pm@x", reason="started", at=T0)),
        (
            "PR-2026-0001-1",
            transition(
                S.INTAKE,
                S.DOCUMENTS,
                subject="PR-2026-0001-1",
                actor="system",
                reason="need CSR",
                at=T0 + timedelta(hours=1),
            ),
        ),
        (
            "PR-2026-0001-2",
            transition(
                S.INTAKE,
                S.CANCELLED,
                subject="PR-2026-0001-2",
                actor="pm@x",
                reason="customer",
                at=T0 + timedelta(hours=2),
            ),
        ),
        ("PR-2026-00011", initial("PR-2026-00011", actor="pm@x", reason="started", at=T0)),
    ]
    with session_scope(engine) as s:
        for subject, change in steps:
            set_status(session=s, subject=subject, change=change)
    with session_scope(engine) as s:
        events = timeline(session=s, subject_prefix="PR-2026-0001")
        assert [(e.subject, e.from_status, e.to_status) for e in events] == [
            ("PR-2026-0001", None, "intake"),
            ("PR-2026-0001-1", None, "intake"),
            ("PR-2026-0001-1", "intake", "documents"),
            ("PR-2026-0001-2", "intake", "cancelled"),
        ]
        assert as_change(events[2]) == steps[2][1]
        assert [e.to_status for e in timeline(session=s, subject_prefix="PR-2026-0001-1")] == [
            "intake",
            "documents",
        ]
        orders = {o.id: o.status for o in orders_of(session=s, request_id="PR-2026-0001")}
        assert orders == {"PR-2026-0001-1": "documents", "PR-2026-0001-2": "cancelled"}


def test_replayed_change_is_a_no_op(engine: Engine, saved) -> None:
    saved("PR-2026-0001", ["+14155550101"])
    change = transition(
        S.INTAKE, S.VALIDATED, subject="PR-2026-0001", actor="pm", reason="ok", at=T0
    )
    with session_scope(engine) as s:
        first = set_status(
            session=s, subject="PR-2026-0001", change=change, details={"by": "activity"}
        )
    with session_scope(engine) as s:  # a retried activity
        again = set_status(session=s, subject="PR-2026-0001", change=change)
        assert again.id == first.id and again.details == {"by": "activity"}
        assert len(timeline(session=s, subject_prefix="PR-2026-0001")) == 1


def test_changes_that_do_not_follow_are_refused(engine: Engine, saved) -> None:
    saved("PR-2026-0001", ["+14155550101"])
    with session_scope(engine) as s:
        with pytest.raises(
            StatusConflict,
            match="is 'intake' in the database, but this change goes from 'validated'",
        ):
            set_status(
                session=s,
                subject="PR-2026-0001",
                change=transition(
                    S.VALIDATED, S.LOA_SENT, subject="PR-2026-0001", actor="pm", reason="x", at=T0
                ),
            )
        set_status(
            session=s,
            subject="PR-2026-0001",
            change=initial("PR-2026-0001", actor="pm", reason="new", at=T0),
        )
        with pytest.raises(StatusConflict, match="already has a timeline"):
            set_status(
                session=s,
                subject="PR-2026-0001",
                change=initial("PR-2026-0001", actor="pm", reason="new", at=T0 + timedelta(1)),
            )
        with pytest.raises(
            ValueError, match="is about PR-2026-0001 but was applied to PR-2026-0001-1"
        ):
            set_status(
                session=s,
                subject="PR-2026-0001-1",
                change=initial("PR-2026-0001", actor="pm", reason="n", at=T0),
            )
        with pytest.raises(UnknownSubject, match="PR-2026-0404-1 is not in the database"):
            set_status(
                session=s,
                subject="PR-2026-0404-1",
                change=initial("PR-2026-0404-1", actor="pm", reason="n", at=T0),
            )
        with pytest.raises(ValueError, match="needs a request or order id"):
            timeline(session=s, subject_prefix=" ")


def test_update_order_records_carrier_facts(engine: Engine, saved) -> None:
    saved("PR-2026-0001", ["+14155550101"])
    foc = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        update_order(session=s, order_id="PR-2026-0001-1", carrier_order_id="TX-1", foc_at=foc)
        update_order(session=s, order_id="PR-2026-0001-1", carrier_status_raw="FOC")
    with session_scope(engine) as s:
        [order] = orders_of(session=s, request_id="PR-2026-0001")
        assert (
            order.carrier_order_id,
            order.foc_at,
            order.carrier_status_raw,
            order.envelope_id,
        ) == (
            "TX-1",
            foc,
            "FOC",
            None,
        )
        assert order.port_type == PortType.FULL
        with pytest.raises(ValueError, match="has no time zone"):
            update_order(session=s, order_id="PR-2026-0001-1", foc_at=datetime(2026, 6, 2, 9, 0))


def test_status_change_needs_aware_time() -> None:
    with pytest.raises(ValueError):
        StatusChange(
            subject="PR-2026-0001",
            from_status=None,
            to_status=S.INTAKE,
            actor="a",
            reason="r",
            at=datetime(2026, 1, 1),
        )
