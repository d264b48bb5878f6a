"""Stand-in ports for the reminder sweep's tests.

``FakeRequest`` and ``FakeOrder`` are registered as ``PortRequestWorkflow`` and
``PortOrderWorkflow`` on a test-only task queue. They start with the search attributes
the real workflows keep (``workflows.search``) and answer the ``status`` query with the
RequestView / OrderView they were given (built with the real models, so the payload has
the real shape), then wait until terminated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from models.status import PortStatus
from models.workflow import Deadline, NumberView, OrderView, RequestView, WaitingOn
from workflows import search


@workflow.defn(name="PortRequestWorkflow", sandboxed=False)
class FakeRequest:
    @workflow.init
    def __init__(self, view: dict[str, Any]) -> None:
        self.view = view

    @workflow.run
    async def run(self, view: dict[str, Any]) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.query
    def status(self) -> dict[str, Any]:
        return self.view


@workflow.defn(name="PortOrderWorkflow", sandboxed=False)
class FakeOrder:
    @workflow.init
    def __init__(self, view: dict[str, Any]) -> None:
        self.view = view

    @workflow.run
    async def run(self, view: dict[str, Any]) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.query
    def status(self) -> dict[str, Any]:
        return self.view


FAKE_WORKFLOWS = [FakeRequest, FakeOrder]


def midnight(d: date) -> datetime:
    """How the port workflows store a port date in PortDate."""
    return datetime.combine(d, time(0, 0), tzinfo=UTC)


@dataclass
class FakePort:
    """A request or an order: its view and the search attributes it carries."""

    view: RequestView | OrderView
    request_id: str
    customer: str
    carriers: list[str]
    status: PortStatus
    port_date: date
    stage_since: datetime | None = None
    numbers_unassigned: int | None = None

    @property
    def workflow_id(self) -> str:
        return self.view.request_id if isinstance(self.view, RequestView) else self.view.order_id

    def search_attributes(self) -> TypedSearchAttributes:
        pairs = [
            SearchAttributePair(search.REQUEST_ID, self.request_id),
            SearchAttributePair(search.CUSTOMER_NAME, self.customer),
            SearchAttributePair(search.LOSING_CARRIER, self.carriers),
            SearchAttributePair(search.PORT_DATE, midnight(self.port_date)),
            SearchAttributePair(search.PORT_STATUS, self.status.value),
            SearchAttributePair(search.WAITING_ON, WaitingOn.NOBODY.value),
            SearchAttributePair(search.ESCALATED, False),
        ]
        if self.stage_since is not None:
            pairs.append(SearchAttributePair(search.STAGE_SINCE, self.stage_since))
        if self.numbers_unassigned is not None:
            pairs.append(SearchAttributePair(search.NUMBERS_UNASSIGNED, self.numbers_unassigned))
        return TypedSearchAttributes(pairs)

    async def start(self, client: Client, task_queue: str) -> WorkflowHandle[Any, Any]:
        kind = "PortRequestWorkflow" if isinstance(self.view, RequestView) else "PortOrderWorkflow"
        payload = self.view.model_dump(mode="json")
        return await client.start_workflow(kind, payload, id=self.workflow_id, task_queue=task_queue,
                                           search_attributes=self.search_attributes())


def request(
    request_id: str, customer: str, *, status: PortStatus, port_date: date, pm: str, contact: str,
    contact_name: str = "Lee Park", language: str = "en", missing: list[str] | None = None,
    documents_due: datetime | None = None, since: datetime | None = None, live_status: PortStatus | None = None,
    carriers: list[str] | None = None,
) -> FakePort:
    """A request; ``live_status`` differs from ``status`` to play a visibility store that lags."""
    view = RequestView(
        request_id=request_id, customer_name=customer, status=live_status or status,
        requested_port_date=port_date, port_date=port_date, missing_documents=missing or [],
        next=Deadline(what="documents", due_at=documents_due, waiting_on=WaitingOn.CUSTOMER) if documents_due
        else Deadline(what="nothing"),
        ui_url=f"http://localhost:8233/namespaces/default/workflows/{request_id}",
        contact_name=contact_name, contact_email=contact, pm_email=pm, language=language, stage_since=since,
    )
    return FakePort(view=view, request_id=request_id, customer=customer, carriers=carriers or ["Lumen"],
                    status=status, port_date=port_date, stage_since=since)


def order(
    order_id: str, customer: str, *, carrier: str, status: PortStatus, port_date: date,
    since: datetime, numbers: dict[str, str | None] | None = None, raw_status: str | None = None,
    with_request_id: bool = True, live_since: datetime | None = None,
) -> FakePort:
    """An order; ``numbers`` maps each TN to who has it (None: nobody yet); ``live_since``
    differs from ``since`` to play a visibility store that lags."""
    request_id = order_id.rsplit("-", 1)[0]
    tns = numbers or {}
    view = OrderView(
        order_id=order_id, carrier=carrier, status=status, port_date=port_date, carrier_raw_status=raw_status,
        numbers=[NumberView(tn=tn, assigned_to=who, state="assigned" if who else "porting") for tn, who in tns.items()],
        request_id=request_id if with_request_id else None, stage_since=live_since or since,
    )
    unassigned = sum(1 for who in tns.values() if who is None)
    return FakePort(view=view, request_id=request_id, customer=customer, carriers=[carrier], status=status,
                    port_date=port_date, stage_since=since, numbers_unassigned=unassigned)
