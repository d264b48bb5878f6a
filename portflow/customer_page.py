"""What the customer's self-service page shows (api/customer.py renders it).

One request only, the one the link names. The numbers, orders, statuses and the contact come
from the store; the documents still missing, the current port date and the documents' due
date from the request workflow's ``status`` query (the workflow decides what is required).
Nothing secret is ever read here: the stored request is sealed (account numbers and PINs are
vault references) and only its customer, contact and language are taken from it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import phonenumbers
from temporalio.client import Client

from models.request import DocumentKind, PortRequest
from models.status import PortStatus
from models.workflow import RequestView, WaitingOn
from store import inventory
from store.db import session_scope
from store.requests import get_request, orders_of

log = logging.getLogger("portflow.customer_page")

S = PortStatus
MAX_NUMBERS_SHOWN = 500  # a 10,000-number port shows the first ones and says how many more
UPLOAD_KINDS = (DocumentKind.CSR, DocumentKind.BILL)

# The customer's steps, in order, and the stage each port status belongs to.
STEPS = ("documents", "loa", "carrier", "scheduled", "port_day", "done")
_STEP_OF = {
    S.INTAKE: "documents", S.DOCUMENTS: "documents",
    S.VALIDATED: "loa", S.LOA_SENT: "loa", S.LOA_DECLINED: "loa", S.LOA_SIGNED: "loa",
    S.SUBMITTED: "carrier", S.CARRIER_PENDING: "carrier", S.EXCEPTION: "carrier", S.SUPPLEMENT: "carrier",
    S.FOC_CONFIRMED: "scheduled", S.ACTIVATION: "port_day", S.SNAPBACK: "port_day",
    S.PORTED: "done", S.VERIFIED: "done", S.COMPLETED: "done",
}
_BEFORE_LOA = frozenset({S.INTAKE, S.DOCUMENTS, S.VALIDATED})
_STOPPED = frozenset({S.CANCEL_REQUESTED, S.CANCELLED, S.FAILED})


@dataclass(frozen=True)
class MissingDoc:
    kind: str  # csr, bill
    order_id: str
    carrier: str


@dataclass(frozen=True)
class OrderLine:
    order_id: str
    carrier: str
    status: str
    loa: str  # not_yet, sent, declined, signed, stopped
    foc_date: str | None = None


@dataclass(frozen=True)
class NumberLine:
    tn: str  # national format, e.g. (212) 555-0100
    assigned_to: str | None


@dataclass
class CustomerView:
    request_id: str
    language: str
    customer_name: str
    contact_name: str
    contact_email: str
    pm_email: str
    status: str  # the request's PortStatus value
    port_date: date
    documents_due: date | None = None
    live: bool = True  # False: the workflow did not answer; documents are not listed
    missing: list[MissingDoc] = field(default_factory=list)
    orders: list[OrderLine] = field(default_factory=list)
    numbers: list[NumberLine] = field(default_factory=list)
    more_numbers: int = 0

    @property
    def step(self) -> str:
        """The customer's step (STEPS), or ``stopped`` for a cancelled or failed port."""
        status = S(self.status)
        return "stopped" if status in _STOPPED else _STEP_OF.get(status, "carrier")

    @property
    def need(self) -> str:
        """What is needed from the customer next (a text key of the page)."""
        if self.step == "stopped":
            return "need_stopped"
        if self.missing:
            return "need_documents"
        if any(o.loa == "sent" for o in self.orders):
            return "need_signature"
        if self.step in ("scheduled", "port_day") and any(n.assigned_to is None for n in self.numbers):
            return "need_assignments"
        if self.step == "done":
            return "need_done"
        return "need_nothing"

    @property
    def missing_kinds(self) -> list[str]:
        return [k.value for k in UPLOAD_KINDS if any(m.kind == k.value for m in self.missing)]

    @property
    def assigned_count(self) -> int:
        return sum(n.assigned_to is not None for n in self.numbers)


def loa_state(status: str) -> str:
    s = S(status)
    if s in _STOPPED:
        return "stopped"
    if s in _BEFORE_LOA:
        return "not_yet"
    if s == S.LOA_SENT:
        return "sent"
    if s == S.LOA_DECLINED:
        return "declined"
    return "signed"


def _day(at: datetime | None) -> str | None:
    return at.date().isoformat() if at else None


def national(tn: str) -> str:
    try:
        return phonenumbers.format_number(phonenumbers.parse(tn, None), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return tn


def from_store(request_id: str) -> CustomerView | None:
    """The page from the store alone (no workflow): None when the request is unknown."""
    with session_scope() as s:
        row = get_request(session=s, request_id=request_id)
        if row is None:
            return None
        sealed = PortRequest.model_validate(row.summary)
        orders = orders_of(session=s, request_id=request_id)
        numbers = inventory.numbers_of(session=s, request_id=request_id)
        view = CustomerView(
            request_id=request_id, language=sealed.customer.language.value, customer_name=row.customer_name,
            contact_name=sealed.contact.name, contact_email=row.contact_email, pm_email=row.pm_email,
            status=row.status, port_date=row.requested_port_date,
            orders=[OrderLine(order_id=o.id, carrier=o.carrier, status=o.status, loa=loa_state(o.status),
                              foc_date=o.foc_at.date().isoformat() if o.foc_at else None) for o in orders],
            numbers=[NumberLine(tn=national(n.tn), assigned_to=n.assigned_to) for n in numbers[:MAX_NUMBERS_SHOWN]],
            more_numbers=max(0, len(numbers) - MAX_NUMBERS_SHOWN),
        )
    return view


def _apply(view: CustomerView, live: RequestView) -> None:
    view.status = live.status.value
    view.port_date = live.port_date
    view.missing = [MissingDoc(kind=m.kind.value, order_id=m.order_id, carrier=m.carrier) for m in live.missing]
    # the orders' stages as their workflows report them (the store follows a moment later)
    live_orders = {o.order_id: o for o in live.orders}
    view.orders = [OrderLine(order_id=o.order_id, carrier=o.carrier, status=live_orders[o.order_id].status.value,
                             loa=loa_state(live_orders[o.order_id].status.value),
                             foc_date=_day(live_orders[o.order_id].foc_at) or o.foc_date)
                   if o.order_id in live_orders else o for o in view.orders]
    if live.next.waiting_on == WaitingOn.CUSTOMER and live.next.due_at is not None and view.missing:
        view.documents_due = live.next.due_at.date()


def stored_facts(request_id: str) -> tuple[str, str] | None:
    """(language, PM e-mail) of a stored request, for the page that says its link expired."""
    with session_scope() as s:
        row = get_request(session=s, request_id=request_id)
        if row is None:
            return None
        return PortRequest.model_validate(row.summary).customer.language.value, row.pm_email


async def load(client: Client | None, request_id: str) -> CustomerView | None:
    """The page of ``request_id``; None when the store does not know the request."""
    from portflow.cli.actions import query_request

    view = await asyncio.to_thread(from_store, request_id)
    if view is None:
        return None
    try:
        if client is None:
            raise ConnectionError("no Temporal client")
        _apply(view, await query_request(client, request_id))
    except Exception as exc:  # noqa: BLE001 - the stored status still shows; documents wait for the workflow
        log.warning("customer page of %s: the workflow did not answer its status query: %s", request_id, exc)
        view.live = False
    return view


def foc_dates(view: CustomerView) -> list[str]:
    return sorted({o.foc_date for o in view.orders if o.foc_date})


