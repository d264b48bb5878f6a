"""The number inventory: which port holds each telephone number, and who it is assigned to.

A number is in at most one active port. The database enforces it (the partial unique
index ``uq_inventory_active_tn``), so two requests claiming the same number at the same
moment cannot both win, even from two processes: the loser's insert fails and becomes a
:class:`NumberInAnotherPort` that names the number and the request holding it. Rows are
never deleted; :func:`release` closes them (``released_at``) so the number can be ported
again and the history stays.

Claiming inserts a request's numbers in batches of :data:`BATCH` rows, one executemany of
one ``INSERT`` per batch (one savepoint per batch, not per number): when a batch breaks the index, a query
finds which of its numbers another port holds, and the claim is refused naming them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.numbers import parse_tn
from store.requests import UnknownSubject
from store.tables import AssigneeKind, InventoryNumber, NumberState, PortOrderRow, PortRequestRow

_RETRIES = 3
# Rows per INSERT when claiming: 500 rows x 5 values stays far below SQLite's 32,766 and
# PostgreSQL's 65,535 bound parameters.
BATCH = 500


class NumberInAnotherPort(ValueError):
    """A number that another request already holds (in a port, or active in our inventory)."""

    def __init__(
        self,
        tn: str,
        other_request_id: str,
        *,
        state: str | None = None,
        more: dict[str, str] | None = None,
    ) -> None:
        self.tn = tn
        self.other_request_id = other_request_id
        self.state = state
        self.conflicts = {tn: other_request_id, **(more or {})}
        if state == NumberState.ACTIVE:
            where = f"is already active in our inventory (ported by {other_request_id})"
            todo = "remove it from this request: it is ours already"
        else:
            where = f"is already in port request {other_request_id}"
            todo = f"remove it from this request, or cancel or finish {other_request_id} first"
        others = [f"{n} ({r})" for n, r in self.conflicts.items() if n != tn]
        extra = f"; also held elsewhere: {', '.join(others)}" if others else ""
        super().__init__(f"{tn} {where}: {todo}{extra}")

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuild from the facts, not the message (exceptions cross process boundaries).
        more = {n: r for n, r in self.conflicts.items() if n != self.tn}
        return (_rebuild, (self.tn, self.other_request_id, self.state, more))


def _rebuild(tn: str, other: str, state: str | None, more: dict[str, str]) -> NumberInAnotherPort:
    return NumberInAnotherPort(tn, other, state=state, more=more)


class InventoryError(ValueError):
    """A number operation that does not fit the inventory (unknown number, wrong request...)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _tns(tns: Iterable[str]) -> list[str]:
    """E.164, each once, in the order given."""
    return list(dict.fromkeys(parse_tn(tn) for tn in tns))


def _live(session: Session, tns: list[str]) -> dict[str, InventoryNumber]:
    out: dict[str, InventoryNumber] = {}
    for i in range(0, len(tns), BATCH):
        stmt = select(InventoryNumber).where(
            col(InventoryNumber.tn).in_(tns[i : i + BATCH]),
            col(InventoryNumber.released_at).is_(None),
        )
        out.update((row.tn, row) for row in session.exec(stmt).all())
    return out


def _conflict(tn: str, holder: InventoryNumber, request_id: str, order_id: str) -> Exception:
    if holder.request_id != request_id:
        return NumberInAnotherPort(tn, holder.request_id, state=holder.state)
    return InventoryError(
        f"{tn} is already claimed by order {holder.order_id} of {request_id}, not {order_id}: "
        "a number belongs to one account only"
    )


def claim_numbers(
    *, session: Session, request_id: str, order_id: str, tns: Iterable[str]
) -> list[InventoryNumber]:
    """Put ``tns`` in the inventory as ``porting`` for ``order_id`` of ``request_id``.

    Re-claiming numbers this order already holds is a no-op, so a retried activity is
    safe. If another request holds any of them, nothing is claimed (when the caller's
    transaction rolls back) and :class:`NumberInAnotherPort` names each such number.
    """
    order = session.get(PortOrderRow, order_id)
    if order is None:
        raise UnknownSubject(order_id)
    if order.request_id != request_id:
        raise InventoryError(f"order {order_id} belongs to {order.request_id}, not {request_id}")
    numbers = _tns(tns)
    live = _live(session, numbers)
    conflicts = [
        _conflict(tn, row, request_id, order_id)
        for tn, row in live.items()
        if row.order_id != order_id
    ]
    _raise_first(conflicts)

    missing = [tn for tn in numbers if tn not in live]
    for i in range(0, len(missing), BATCH):
        _insert_batch(session, missing[i : i + BATCH], request_id, order_id, claim=missing)
    if missing:
        live = _live(session, numbers)
    return [live[tn] for tn in numbers]


def _raise_first(conflicts: list[Exception]) -> None:
    if not conflicts:
        return
    first = conflicts[0]
    if isinstance(first, NumberInAnotherPort):
        more = {
            e.tn: e.other_request_id for e in conflicts[1:] if isinstance(e, NumberInAnotherPort)
        }
        raise NumberInAnotherPort(first.tn, first.other_request_id, state=first.state, more=more)
    raise first


_INSERT = sa.insert(InventoryNumber.__table__)  # type: ignore[attr-defined]


def _insert_batch(
    session: Session, tns: list[str], request_id: str, order_id: str, *, claim: list[str]
) -> None:
    """Insert live rows for ``tns`` (a batch of ``claim``) with one statement. A concurrent
    claim that won any of them becomes NumberInAnotherPort naming each number of ``claim``
    held elsewhere, not only this batch's."""
    pending = tns
    for _ in range(_RETRIES):
        now = _now()
        rows = [
            {"tn": tn, "state": NumberState.PORTING.value, "request_id": request_id,
             "order_id": order_id, "updated_at": now}
            for tn in pending
        ]
        try:
            with session.begin_nested():
                # executemany of one cached INSERT (pysqlite's executemany; psycopg pipelines
                # it): a multi-row VALUES would be compiled anew for every batch.
                session.execute(_INSERT, rows)
            return
        except IntegrityError:
            # uq_inventory_active_tn: someone committed live rows for some of these numbers
            # after we looked. Find out who (a winner may also have rolled back: try again).
            holders = _live(session, pending)
            if any(row.order_id != order_id for row in holders.values()):
                everywhere = _live(session, claim)
                _raise_first(
                    [_conflict(tn, row, request_id, order_id)
                     for tn, row in everywhere.items() if row.order_id != order_id]
                )
            pending = [tn for tn in pending if tn not in holders]  # ours already: a retried claim
            if not pending:
                return
    raise InventoryError(
        f"{', '.join(pending[:5])}{' ...' if len(pending) > 5 else ''}: could not claim "
        f"{'it' if len(pending) == 1 else 'them'} after {_RETRIES} tries; try again"
    )


def _own(
    session: Session, *, request_id: str, order_id: str | None, tns: list[str]
) -> dict[str, InventoryNumber]:
    """The live rows of ``tns`` held by this request (and order); refuses anything else."""
    live = _live(session, tns)
    problems: list[str] = []
    for tn in tns:
        row = live.get(tn)
        if row is None:
            problems.append(f"{tn} is not in the inventory of {order_id or request_id}")
        elif row.request_id != request_id:
            problems.append(f"{tn} belongs to port request {row.request_id}, not {request_id}")
        elif order_id is not None and row.order_id != order_id:
            problems.append(f"{tn} belongs to order {row.order_id}, not {order_id}")
    if problems:
        raise InventoryError("; ".join(problems) + ": check the numbers against the request")
    return live


def _order(session: Session, order_id: str) -> PortOrderRow:
    order = session.get(PortOrderRow, order_id)
    if order is None:
        raise UnknownSubject(order_id)
    return order


def set_state(
    *, session: Session, order_id: str, tns: Iterable[str], state: NumberState | str
) -> list[InventoryNumber]:
    """Move the order's numbers to ``state`` (e.g. ``awaiting_assignment`` after the FOC).

    A number that already has an assignee stays ``assigned`` when asked to await
    assignment. Use :func:`release` to release numbers.
    """
    try:
        new = NumberState(state)
    except ValueError:
        raise InventoryError(
            f"unknown inventory state {state!r}: use one of "
            + ", ".join(s.value for s in NumberState)
        ) from None
    if new is NumberState.RELEASED:
        raise InventoryError(
            "to release numbers call store.inventory.release (it records when and why)"
        )
    order = _order(session, order_id)
    numbers = _tns(tns)
    rows = _own(session, request_id=order.request_id, order_id=order_id, tns=numbers)
    now = _now()
    out = []
    for tn in numbers:
        row = rows[tn]
        target = (
            NumberState.ASSIGNED
            if new is NumberState.AWAITING_ASSIGNMENT and row.assigned_to
            else new
        )
        if row.state != target:
            row.state = target
            row.updated_at = now
            session.add(row)
        out.append(row)
    session.flush()
    return out


def assign(
    *,
    session: Session,
    request_id: str,
    assignments: dict[str, str],
    kind: AssigneeKind | str = "user",
) -> list[InventoryNumber]:
    """Record who each number goes to: ``{"+14155550123": "ana@contoso.com"}``.

    ``kind`` is ``user`` or ``resource_account`` (auto attendant, call queue). Refuses, all
    or nothing, numbers that are not this request's live numbers or that the carrier
    refused (``not_portable``).
    """
    try:
        assignee_kind = AssigneeKind(kind)
    except ValueError:
        raise InventoryError(
            f"unknown assignee kind {kind!r}: use 'user' or 'resource_account'"
        ) from None
    if session.get(PortRequestRow, request_id) is None:
        raise UnknownSubject(request_id)
    if not assignments:
        raise InventoryError("no assignments given: map each number to a user or resource account")
    cleaned: dict[str, str] = {}
    for tn, who in assignments.items():
        e164 = parse_tn(tn)
        who = (who or "").strip()
        if not who:
            raise InventoryError(
                f"{e164}: the assignee is empty: give the user's or resource account's address"
            )
        if len(who) > 320:
            raise InventoryError(f"{e164}: the assignee is longer than 320 characters")
        cleaned[e164] = who
    rows = _own(session, request_id=request_id, order_id=None, tns=list(cleaned))
    refused = [tn for tn in cleaned if rows[tn].state == NumberState.NOT_PORTABLE]
    if refused:
        raise InventoryError(
            f"{', '.join(refused)}: the carrier refused to port it, so it cannot be assigned"
        )
    now = _now()
    out = []
    for tn, who in cleaned.items():
        row = rows[tn]
        row.assigned_to = who
        row.assigned_kind = assignee_kind
        if row.state != NumberState.ACTIVE:
            row.state = NumberState.ASSIGNED
        row.updated_at = now
        session.add(row)
        out.append(row)
    session.flush()
    return out


def release(
    *, session: Session, request_id: str, order_id: str | None = None, reason: str
) -> list[InventoryNumber]:
    """Release the live numbers of a request (or of one order) so they may be ported again.

    Idempotent: numbers already released are left alone. Returns the rows released now.
    """
    reason = reason.strip()
    if not reason:
        raise InventoryError("release needs a reason (e.g. 'port cancelled by the customer')")
    stmt = select(InventoryNumber).where(
        InventoryNumber.request_id == request_id, col(InventoryNumber.released_at).is_(None)
    )
    if order_id is not None:
        stmt = stmt.where(InventoryNumber.order_id == order_id)
    now = _now()
    rows = list(session.exec(stmt.with_for_update()).all())
    for row in rows:
        row.state = NumberState.RELEASED
        row.released_at = now
        row.release_reason = reason[:500]
        row.updated_at = now
        session.add(row)
    session.flush()
    return rows


def numbers_of(
    *, session: Session, request_id: str, include_released: bool = False
) -> list[InventoryNumber]:
    """The request's live numbers (and its released history when asked), by order and number."""
    stmt = select(InventoryNumber).where(InventoryNumber.request_id == request_id)
    if not include_released:
        stmt = stmt.where(col(InventoryNumber.released_at).is_(None))
    stmt = stmt.order_by(
        col(InventoryNumber.order_id), col(InventoryNumber.tn), col(InventoryNumber.id)
    )
    return list(session.exec(stmt).all())


def unassigned(*, session: Session, request_id: str) -> list[str]:
    """The request's live numbers that nobody has been assigned yet (not counting refused ones)."""
    return sorted(
        row.tn
        for row in numbers_of(session=session, request_id=request_id)
        if row.assigned_to is None and row.state != NumberState.NOT_PORTABLE
    )


def split_off(
    *, session: Session, request_id: str, from_order: str, to_order: str, tns: Iterable[str]
) -> list[InventoryNumber]:
    """Move ``tns`` from ``from_order`` to a new order ``to_order`` of the same request (the
    carrier required a split). The new order's row is created like its sibling's. Safe to
    repeat: numbers already moved stay where they are."""
    source = _order(session, from_order)
    if source.request_id != request_id:
        raise InventoryError(f"order {from_order} belongs to {source.request_id}, not {request_id}")
    target = session.get(PortOrderRow, to_order)
    if target is None:
        target = PortOrderRow(id=to_order, request_id=request_id, carrier=source.carrier, port_type=source.port_type,
                              status=source.status, toll_free=source.toll_free)
        session.add(target)
        session.flush()
    elif target.request_id != request_id:
        raise InventoryError(f"order {to_order} belongs to {target.request_id}, not {request_id}")
    numbers = _tns(tns)
    live = _live(session, numbers)
    problems = [f"{tn} is not in the inventory of {request_id}" for tn in numbers if tn not in live]
    problems += [f"{tn} belongs to order {row.order_id}, not {from_order}" for tn, row in live.items()
                 if row.order_id not in (from_order, to_order)]
    if problems:
        raise InventoryError("; ".join(problems))
    now = _now()
    out = []
    for tn in numbers:
        row = live[tn]
        if row.order_id != to_order:
            row.order_id = to_order
            row.updated_at = now
            session.add(row)
        out.append(row)
    session.flush()
    return out
