"""``starter.py list``: ports found by a visibility query on their search attributes.

The search attributes (``workflows.search``) are what ops filter on in the Temporal UI;
``list`` builds the same query, so a PM's terminal and the UI agree. Values typed on the
command line are checked against the known statuses and waiting-on values and quoted, so
a typo says what is allowed instead of silently matching nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from temporalio.client import Client

from core.text import shorten
from models.status import PortStatus
from models.workflow import WaitingOn
from portflow.cli.errors import CliError, about
from workflows import search


@dataclass(frozen=True)
class ListFilter:
    status: str | None = None
    carrier: str | None = None
    port_date_before: date | None = None
    port_date_after: date | None = None
    waiting_on: str | None = None
    escalated: bool = False
    orders: bool = False
    running: bool = False
    customer: str | None = None


@dataclass(frozen=True)
class PortRow:
    """One line of ``list``."""

    workflow_id: str
    kind: str  # request or order
    customer: str
    status: str
    port_date: date | None
    carriers: list[str]
    waiting_on: str
    next_deadline: datetime | None
    escalated: bool
    execution: str  # Running, Completed, Failed, Terminated, ...
    started: datetime | None


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _choice(value: str, allowed: list[str], option: str) -> str:
    v = value.strip().lower()
    if v not in allowed:
        raise CliError(f"{option} '{shorten(value, 40)}' is not one of: {', '.join(allowed)}")
    return v


def build_query(f: ListFilter) -> str:
    """The visibility query for ``f`` (SQL-like, as the Temporal UI's search box takes it)."""
    kind = "PortOrderWorkflow" if f.orders else "PortRequestWorkflow"
    for option, value in (("--carrier", f.carrier), ("--customer", f.customer)):
        if value is not None and len(value.strip()) > 200:
            raise CliError(f"{option} is {len(value.strip()):,} characters long, more than 200: shorten it")
    parts = [f"WorkflowType = {_quote(kind)}"]
    if f.status:
        parts.append(f"{search.PORT_STATUS.name} = {_quote(_choice(f.status, [s.value for s in PortStatus], '--status'))}")
    if f.carrier:
        parts.append(f"{search.LOSING_CARRIER.name} = {_quote(f.carrier.strip())}")
    if f.customer:
        parts.append(f"{search.CUSTOMER_NAME.name} = {_quote(f.customer.strip())}")
    if f.port_date_before and f.port_date_after and f.port_date_after >= f.port_date_before:
        raise CliError(f"no date is after {f.port_date_after} and before {f.port_date_before}: swap them")
    if f.port_date_before:
        parts.append(f"{search.PORT_DATE.name} < {_quote(f.port_date_before.isoformat() + 'T00:00:00Z')}")
    if f.port_date_after:
        parts.append(f"{search.PORT_DATE.name} > {_quote(f.port_date_after.isoformat() + 'T00:00:00Z')}")
    if f.waiting_on:
        parts.append(f"{search.WAITING_ON.name} = "
                     f"{_quote(_choice(f.waiting_on, [w.value for w in WaitingOn], '--waiting-on'))}")
    if f.escalated:
        parts.append(f"{search.ESCALATED.name} = true")
    if f.running:
        parts.append("ExecutionStatus = 'Running'")
    return " AND ".join(parts)


async def cmd_list(client: Client, f: ListFilter, *, limit: int = 50) -> list[PortRow]:
    """The ports matching ``f``, newest first, at most ``limit``."""
    if limit < 1:
        raise CliError("--limit must be at least 1")
    rows: list[PortRow] = []
    async with about("list"):
        async for wf in client.list_workflows(build_query(f), limit=limit):
            rows.append(port_row(wf))
            if len(rows) >= limit:
                break
    return rows


def port_row(wf: Any) -> PortRow:
    """One workflow of a visibility listing as a ``list`` line."""
    sa = wf.typed_search_attributes
    port_date = sa.get(search.PORT_DATE)
    return PortRow(
        workflow_id=wf.id,
        kind="order" if wf.workflow_type == "PortOrderWorkflow" else "request",
        customer=sa.get(search.CUSTOMER_NAME) or "-",
        status=sa.get(search.PORT_STATUS) or "-",
        port_date=port_date.date() if port_date else None,
        carriers=list(sa.get(search.LOSING_CARRIER) or []),
        waiting_on=sa.get(search.WAITING_ON) or "-",
        next_deadline=sa.get(search.NEXT_DEADLINE),
        escalated=bool(sa.get(search.ESCALATED)),
        execution=wf.status.name.title().replace("_", " ") if wf.status else "-",
        started=wf.start_time,
    )


async def list_page(client: Client, f: ListFilter, *, limit: int = 50,
                    page_token: bytes | None = None) -> tuple[list[PortRow], bytes | None]:
    """One page of ``list``'s ports (the REST API pages with it): the rows, newest first,
    and the token of the next page (None on the last)."""
    if not 1 <= limit <= 1000:
        raise CliError("limit must be from 1 to 1000")
    async with about("list"):
        pages = client.list_workflows(build_query(f), page_size=limit, next_page_token=page_token or None)
        await pages.fetch_next_page()
        return [port_row(wf) for wf in pages.current_page or []], pages.next_page_token or None
