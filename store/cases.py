"""Support case ids: ``case-<year>-<n>``, one atomic counter row per year (as request ids,
``store.requests.allocate_request_id``). The cases themselves live in their workflows
(``SupportCaseWorkflow``): the database only hands out numbers nobody else got."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

from store.db import session_scope


class CaseIdCounter(SQLModel, table=True):
    """The last support case number handed out per year (case-<year>-<last>)."""

    __tablename__ = "case_id_counters"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(default=0)


def _next_number(session: Session, year: int) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = CaseIdCounter.__table__
    stmt = (
        insert(table)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=[table.c.year], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return int(session.exec(stmt).scalar_one())  # type: ignore[call-overload]


def allocate_case_id(*, session: Session | None = None, year: int | None = None) -> str:
    """The next case id of ``year`` (default this year, UTC), committed at once without ``session``."""
    year = year if year is not None else datetime.now(UTC).year
    if not 2000 <= year <= 9999:
        raise ValueError(f"year {year} is out of range for a case id (2000-9999)")
    if session is not None:
        return f"case-{year}-{_next_number(session, year):04d}"
    with session_scope() as s:
        return f"case-{year}-{_next_number(s, year):04d}"
