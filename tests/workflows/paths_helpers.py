"""Helpers for the lifecycle-path tests (documents, LOA, cancel, durability).

Signing times come from the time-skipping server's clock (``env.get_current_time()``),
as port dates do (``tests.dates.port_date_in``), never the wall clock: once a test skipped
weeks, a signature or a date taken from the wall clock would lie in the workflow's past.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from core.settings import reset_settings
from models.esign import EnvelopeEvent
from models.notify import Notification
from models.request import PortRequest, new_request_id
from providers.esign.local import LocalESign
from store import inventory
from store.db import session_scope
from store.tables import InventoryNumber
from tests.workflows.helpers import PM, order_status, server_now, wait_order  # noqa: F401 - for the path tests
from workflows.port_order import PortOrderWorkflow

PM_MAIL = "pm@portflow.local"  # PORTFLOW_PM_EMAIL's default: where the workflows write to the PM
CONTACT = "ana@contoso.example"  # the customer contact of helpers.sample_request

# a simulator profile: every carrier answers at once with an FOC on the requested date
ACCEPT_AT_ONCE = """
carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 0
"""


async def sign(env: WorkflowEnvironment, order_id: str, name: str) -> EnvelopeEvent:
    """The signer signs the order's latest LOA (local flow) at the server's time, and the
    event reaches the order as `starter.py sign` delivers it."""
    ev = await LocalESign().sign(order_id, name, at=await server_now(env))
    await env.client.get_workflow_handle(order_id).execute_update(PortOrderWorkflow.esign_event, ev)
    return ev


async def refusal(call: Awaitable[Any]) -> str:
    """The validator's message for an update that must be refused."""
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await call
    cause = err.value.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause)


async def terminate_running(client: Client, workflow_ids: list[str]) -> None:
    """End what a test leaves running (a port it stopped halfway, or one an assertion left):
    a workflow task nobody polls for holds the test server's clock still."""
    for wid in workflow_ids:
        try:
            await client.get_workflow_handle(wid).terminate(reason="test finished")
        except RPCError:
            pass  # finished already, or never started


# ---------------------------------------------------------------------- history


async def notifications_sent(client: Client, workflow_id: str, template: str) -> list[tuple[datetime, Notification]]:
    """(when it was scheduled, the notification) for each ``notify`` activity of a template,
    read from the workflow's history: the timestamps of the timers that woke the workflow."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    out = []
    for ev in history.events:
        if ev.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        attrs = ev.activity_task_scheduled_event_attributes
        if attrs.activity_type.name != "notify":
            continue
        (note,) = await client.data_converter.decode(attrs.input.payloads, [Notification])
        if note.template == template:
            out.append((ev.event_time.ToDatetime().replace(tzinfo=UTC), note))
    return out


async def workflow_task_identities(client: Client, workflow_id: str) -> list[str]:
    """Which worker (identity) ran each workflow task of the workflow, in order."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [ev.workflow_task_started_event_attributes.identity for ev in history.events
            if ev.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED]



async def activity_identities(client: Client, workflow_id: str) -> dict[str, list[str]]:
    """Activity name -> the identity of the worker that ran each of its (started) attempts."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    names: dict[int, str] = {}
    out: dict[str, list[str]] = {}
    for ev in history.events:
        if ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            names[ev.event_id] = ev.activity_task_scheduled_event_attributes.activity_type.name
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = ev.activity_task_started_event_attributes
            out.setdefault(names[attrs.scheduled_event_id], []).append(attrs.identity)
    return out

# ---------------------------------------------------------------------- carrier simulator


def carrier_record(carrier_order_id: str) -> dict[str, Any]:
    """What the simulated carrier holds for one of its orders (submission without secrets,
    the supplements and the cancel we sent)."""
    from providers.carrier.simulator import CarrierSimulator

    rec = CarrierSimulator().store.get(carrier_order_id)
    assert rec is not None, f"the simulated carrier has no order {carrier_order_id}"
    return rec


def carrier_records() -> list[dict[str, Any]]:
    from providers.carrier.simulator import CarrierSimulator

    root = CarrierSimulator().store.root
    return [json.loads(p.read_text()) for p in sorted(root.glob("SIM-*.json"))] if root.is_dir() else []


def same_numbers(request: PortRequest) -> PortRequest:
    """Another request (a new id) for the same numbers, as a PM would type it again."""
    return request.model_copy(update={"id": new_request_id(2099)})


def inventory_rows(request_id: str, *, include_released: bool = True) -> list[InventoryNumber]:
    with session_scope() as s:
        return inventory.numbers_of(session=s, request_id=request_id, include_released=include_released)
