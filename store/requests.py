"""Port requests and orders in the database: ids, upserts, statuses and the timeline.

The workflow is the source of truth for a port's status; these rows are what the API,
reports and ops read. Every status change arrives as a :class:`models.status.StatusChange`
(made by ``models.status.transition``) and is stored once: replaying the same change (a
retried activity) is a no-op, and a change that does not start from the stored status is
refused instead of silently rewriting history.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.request import PortRequest
from models.status import PortStatus, StatusChange
from store.db import session_scope
from store.tables import AuditEvent, PortOrderRow, PortRequestRow, RequestIdCounter, utcnow
from store.vault import UnsealedSecret, is_sealed

ORDER_ID = re.compile(r"^(PR-\d{4}-\d{4,})-(\d+)$")


class UnknownSubject(LookupError):
    """A request or order id the database does not have."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject)
        self.subject = subject

    def __str__(self) -> str:
        return (
            f"{self.subject} is not in the database: save the request first "
            "(store.requests.save_request)"
        )


class StatusConflict(ValueError):
    """A status change that does not follow from the stored status."""


def _now() -> datetime:
    return datetime.now(UTC)


# --- ids -------------------------------------------------------------------------------


def _next_number(session: Session, year: int) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = RequestIdCounter.__table__
    stmt = (
        insert(table)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=[table.c.year], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return int(session.exec(stmt).scalar_one())  # type: ignore[call-overload]


def allocate_request_id(*, session: Session | None = None, year: int | None = None) -> str:
    """The next request id of ``year`` (default: this year, UTC): ``PR-2026-0001``, ``-0002``...

    One atomic counter row per year (an upsert), so concurrent callers on any database
    get distinct ids. Ids already used by a saved request (a request file that named its
    own) are skipped. Without ``session`` the number is committed at once, so it is never
    handed out twice even if the request is never saved.
    """
    year = year if year is not None else _now().year
    if not 2000 <= year <= 9999:
        raise ValueError(f"year {year} is out of range for a request id (2000-9999)")

    def run(s: Session) -> str:
        while True:
            rid = f"PR-{year}-{_next_number(s, year):04d}"
            if s.get(PortRequestRow, rid) is None:
                return rid

    if session is not None:
        return run(session)
    with session_scope() as s:
        return run(s)


# --- requests and orders ---------------------------------------------------------------


def save_request(*, session: Session, request: PortRequest, pm_email: str) -> PortRequestRow:
    """Insert or update a request and its orders (one per account, ``<request id>-<n>``).

    The request must be sealed (``store.vault.seal``): its ``summary`` column keeps the
    whole request with vault references instead of secrets. A new request and its orders
    start in ``intake``; the statuses of existing rows are left to :func:`set_status`.
    """
    if not is_sealed(request):
        raise UnsealedSecret(
            f"request {request.id} still holds plain account numbers or PINs: seal it with "
            "store.vault.seal(request) before saving"
        )
    pm_email = pm_email.strip()
    if not pm_email:
        raise ValueError(
            f"request {request.id}: pm_email is empty: give the e-mail of the PM in charge"
        )
    now = _now()
    fields: dict[str, Any] = {
        "customer_name": request.customer.name,
        "contact_email": str(request.contact.email),
        "pm_email": pm_email,
        "requested_port_date": request.requested_port_date,
        "summary": request.model_dump(mode="json"),
    }
    row = session.get(PortRequestRow, request.id, with_for_update=True)
    if row is None:
        row = PortRequestRow(
            id=request.id, status=PortStatus.INTAKE, created_at=now, updated_at=now, **fields
        )
        session.add(row)
        session.flush()
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = now
        session.add(row)

    known = {o.id: o for o in orders_of(session=session, request_id=request.id)}
    parts = request.order_parts()
    wanted = [p.order_id for p in parts]
    dropped = sorted(set(known) - set(wanted))
    if dropped:
        raise ValueError(
            f"request {request.id} had orders {', '.join(sorted(known))} but now has {len(wanted)} "
            f"order(s): cancel {', '.join(dropped)} instead of removing its account"
        )
    for part in parts:
        order_id, account = part.order_id, request.accounts[part.account_index]
        values = {
            "carrier": account.carrier,
            "port_type": str(account.port_type),
            "toll_free": part.toll_free,
        }
        order = known.get(order_id)
        if order is None:
            order = PortOrderRow(
                id=order_id,
                request_id=request.id,
                status=PortStatus.INTAKE,
                created_at=now,
                updated_at=now,
                **values,
            )
        else:
            for name, value in values.items():
                setattr(order, name, value)
            order.updated_at = now
        session.add(order)
    session.flush()
    return row


def get_request(*, session: Session, request_id: str) -> PortRequestRow | None:
    return session.get(PortRequestRow, request_id)


def load_request(*, session: Session, request_id: str) -> PortRequest | None:
    """The saved (sealed) request as a model, or ``None``."""
    row = session.get(PortRequestRow, request_id)
    return PortRequest.model_validate(row.summary) if row is not None else None


def orders_of(*, session: Session, request_id: str) -> list[PortOrderRow]:
    stmt = select(PortOrderRow).where(PortOrderRow.request_id == request_id)
    return sorted(session.exec(stmt).all(), key=lambda o: int(o.id.rsplit("-", 1)[1]))


_UNSET: Any = object()


def update_order(
    *,
    session: Session,
    order_id: str,
    carrier_status_raw: str | None = _UNSET,
    carrier_order_id: str | None = _UNSET,
    envelope_id: str | None = _UNSET,
    foc_at: datetime | None = _UNSET,
) -> PortOrderRow:
    """Record carrier and e-signature facts of an order (only the arguments given change)."""
    if foc_at is not _UNSET and foc_at is not None and foc_at.tzinfo is None:
        raise ValueError(
            f"{order_id}: FOC time {foc_at.isoformat()} has no time zone: give it in UTC"
        )
    order = session.get(PortOrderRow, order_id, with_for_update=True)
    if order is None:
        raise UnknownSubject(order_id)
    given = {
        "carrier_status_raw": carrier_status_raw,
        "carrier_order_id": carrier_order_id,
        "envelope_id": envelope_id,
        "foc_at": foc_at,
    }
    for name, value in given.items():
        if value is not _UNSET:
            setattr(order, name, value)
    order.updated_at = _now()
    session.add(order)
    session.flush()
    return order


# --- status and timeline ---------------------------------------------------------------


def _subject_row(session: Session, subject: str) -> PortRequestRow | PortOrderRow:
    model: type[PortRequestRow] | type[PortOrderRow] = (
        PortOrderRow if ORDER_ID.match(subject) else PortRequestRow
    )
    row = session.get(model, subject, with_for_update=True)
    if row is None:
        raise UnknownSubject(subject)
    return row


def set_status(
    *, session: Session, subject: str, change: StatusChange, details: dict[str, Any] | None = None
) -> AuditEvent:
    """Apply ``change`` to the request or order ``subject`` and append it to the timeline.

    Replaying a change already recorded (same subject, target and time) returns the stored
    event and changes nothing. The stored status must be ``change.from_status``; a first
    entry (``from_status`` None, see ``models.status.initial``) is accepted only while the
    subject has no timeline yet. Raises :class:`UnknownSubject` or :class:`StatusConflict`.
    """
    if change.subject != subject:
        raise ValueError(f"status change is about {change.subject} but was applied to {subject}")
    row = _subject_row(session, subject)
    same = session.exec(
        select(AuditEvent).where(
            AuditEvent.subject == subject,
            AuditEvent.to_status == change.to_status,
            AuditEvent.at == change.at,
        )
    ).first()
    if same is not None:
        if same.from_status != (change.from_status and str(change.from_status)):
            raise StatusConflict(
                f"{subject}: a change to '{change.to_status}' at {change.at.isoformat()} "
                "is already recorded "
                f"from '{same.from_status}', not from '{change.from_status}'"
            )
        return same
    if change.from_status is None:
        has_history = session.exec(
            select(AuditEvent.id).where(AuditEvent.subject == subject).limit(1)
        ).first()
        if has_history is not None:
            raise StatusConflict(
                f"{subject} already has a timeline: a change with no from-status "
                "is only its first entry"
            )
    elif row.status != change.from_status:
        raise StatusConflict(
            f"{subject} is '{row.status}' in the database, but this change goes from "
            f"'{change.from_status}' to '{change.to_status}': apply the changes in order "
            "(the workflow's status is the truth)"
        )
    event = AuditEvent(
        subject=subject,
        from_status=str(change.from_status) if change.from_status is not None else None,
        to_status=str(change.to_status),
        actor=change.actor,
        reason=change.reason,
        at=change.at,
        details=details or {},
    )
    try:
        with session.begin_nested():
            session.add(event)
    except IntegrityError:
        # Another transaction recorded the same change first: it stands.
        winner = session.exec(
            select(AuditEvent).where(
                AuditEvent.subject == subject,
                AuditEvent.to_status == change.to_status,
                AuditEvent.at == change.at,
            )
        ).one()
        return winner
    row.status = str(change.to_status)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return event


def timeline(*, session: Session, subject_prefix: str) -> list[AuditEvent]:
    """The status changes of a request and all its orders (or of one order), oldest first."""
    prefix = subject_prefix.strip()
    if not prefix:
        raise ValueError("timeline needs a request or order id")
    stmt = (
        select(AuditEvent)
        .where(
            sa.or_(
                AuditEvent.subject == prefix,
                col(AuditEvent.subject).startswith(prefix + "-", autoescape=True),
            )
        )
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    return list(session.exec(stmt).all())


def as_change(event: AuditEvent) -> StatusChange:
    """A timeline row as the model the API and workflows use."""
    return StatusChange(
        subject=event.subject,
        from_status=PortStatus(event.from_status) if event.from_status else None,
        to_status=PortStatus(event.to_status),
        actor=event.actor,
        reason=event.reason,
        at=event.at,
    )
