"""The bodies of the REST API that are not the workflows' own views (``models.workflow``),
so that the OpenAPI schema names every request and response."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.request import Address, Signer
from models.workflow import OrderView, RequestView



def Text() -> Any:  # noqa: N802 - reads as a type in the models below
    """A reason or note of 3 to 2,000 characters, as the workflow models require."""
    return Field(min_length=3, max_length=2000)


class RequestPage(RequestView):
    """``GET /v1/ports/{request id}``: the status page (``starter.py status --json``)."""

    workflow_problems: dict[str, str] = Field(default_factory=dict, description="workflow id -> why it stopped")


class OrderPage(OrderView):
    """``GET /v1/ports/{order id}``: one order's status page."""

    workflow_problems: dict[str, str] = Field(default_factory=dict)


class PortRow(BaseModel):
    """One port of ``GET /v1/ports`` (a line of ``starter.py list``)."""

    id: str
    kind: Literal["request", "order"]
    customer: str
    status: str
    port_date: date | None
    carriers: list[str]
    waiting_on: str
    next_deadline: datetime | None
    escalated: bool
    execution: str
    started: datetime | None


class PortList(BaseModel):
    items: list[PortRow]
    limit: int
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
    query: str = Field(description="the visibility query (paste it into the Temporal UI's search)")


class CheckProblem(BaseModel):
    severity: Literal["error", "warning", "note"]
    code: str
    section: str
    where: str
    line: int | None = None
    message: str


class CheckResult(BaseModel):
    """The offline check's report (``starter.py check --json``)."""

    model_config = ConfigDict(extra="allow")

    ok: bool
    source: str
    today: date
    customer: str | None = None
    requested_port_date: date | None = None
    earliest_port_date: date
    documents_due: date | None = None
    activation_at: datetime | None = None
    time_zone: str | None = None
    counts: dict[str, int]
    problems: list[CheckProblem]
    accounts: list[dict[str, Any]]


class Started(BaseModel):
    """``POST /v1/ports``: the port's id and its status page once intake is done."""

    id: str
    orders: list[str]
    confirmed: bool = Field(description="false: the port started but no worker answered yet (it goes on later)")
    port: RequestPage | None = None
    waived: list[CheckProblem] = Field(default_factory=list, description="lead-time problems waived by ?expedite=")


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignments: dict[str, str] = Field(min_length=1, max_length=10000,
                                        description="number (any format) -> who gets it (e-mail or resource account)")
    kind: Literal["user", "resource_account"] = "user"


class ExpediteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Text()
    port_date: date | None = None


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Text()


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class ActivateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="customer ready", min_length=3, max_length=2000)


class VerifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ok: bool
    notes: str = Text()


class CarrierEventBody(BaseModel):
    """What the carrier said, one answer at a time (``starter.py carrier-event``)."""

    model_config = ConfigDict(extra="forbid")

    carrier_order_id: str | None = Field(default=None, max_length=100)
    foc: str | None = Field(default=None, max_length=60, description="with its offset: 2026-12-21T09:00-05:00")
    reject_code: str | None = Field(default=None, max_length=100)
    reject_text: str = Field(default="", max_length=2000)
    completed: bool = False
    cancelled: bool = False
    activation_failed: bool = False
    note: str = Field(default="", max_length=2000)


class AmendBody(BaseModel):
    """Corrections to an order (``starter.py amend``): only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Text()
    signer: Signer | None = None
    service_address: Address | None = None
    btn: str | None = Field(default=None, max_length=40)
    new_btn: str | None = Field(default=None, max_length=40)
    account_number: str | None = Field(default=None, min_length=1, max_length=64, description="sealed in the vault")
    pin: str | None = Field(default=None, min_length=1, max_length=64, description="sealed in the vault")
    port_date: date | None = None
    remove_numbers: list[str] = Field(default_factory=list, max_length=10000)
    entity_name: str | None = Field(default=None, min_length=1, max_length=200)
    port_type: Literal["full", "partial"] | None = None
    remaining_numbers: Literal["keep", "disconnect"] | None = None
    new_loa: bool = False
