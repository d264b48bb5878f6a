"""Driving ports through the real carrier adapters (manual, Telnyx) in workflow tests.

The PM's hand is the real command line: :func:`starter` runs ``starter.py`` commands with
typer's runner in a thread (each command connects to the test server by itself, as it
would from a terminal). Telnyx's side is the stand-in (``tests/telnyx_standin``) plus
:class:`TelnyxWebhooks`, which posts the webhooks Telnyx sends, Ed25519-signed, to the
webhook URL the adapter set on the porting order.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from core.calendar import PortCalendar
from core.settings import Settings, get_settings, reset_settings
from models.request import PortRequest
from models.status import PortStatus
from models.workflow import OrderView
from portflow.cli import actions as cli_actions
from core.settings import get_settings
from tests.dates import port_date_in
from tests.workflows.helpers import (  # noqa: F401 - PM, assign_all, order_status: for the adapter tests
    PM,
    assign_all,
    attach_all,
    order_status,
    sample_request,
    server_now,
    sign_all,
    start,
    wait_for,
    wait_order,
)
from worker import build_worker

PUBLIC_URL = "https://portflow.example.test"


def adapter_settings(env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch, provider: str) -> dict[str, object]:
    """What :func:`~tests.settings_helpers.configure` adds for a port through ``provider``
    driven with ``starter.py`` on the test server: the CLI connects to that server, LOAs are
    signed by hand with the local flow, and the carrier poll slows to every 10 days once the
    FOC is in (so a month-long port is a few dozen timers).

    Also readies the CLI here: the status page as on a wide terminal, and no describe().
    ``status`` asks describe() whether a workflow stopped; the time-skipping test server keeps
    an unset search attribute (NextDeadline) as a null the SDK cannot decode, so describe()
    fails there (not on a real server). Every workflow here runs or completes: no problem."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli_actions, "workflow_problem", _running)
    return {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "CARRIER_PROVIDER": provider,
        "CARRIER_FOC_POLL_SECONDS": 10 * 86400,
        "ESIGN_PROVIDER": "local",
        "AUTO_SIGN": "false",
    }


async def _running(client: Client, workflow_id: str) -> None:
    return None


async def one_account_request(env: WorkflowEnvironment) -> PortRequest:
    """A one-account (Lumen) request dated a month ahead of the server's clock."""
    return sample_request(accounts=1, port_date=await port_date_in(env, 30))


async def submitted(env: WorkflowEnvironment, req: PortRequest, tmp: Path) -> tuple[WorkflowHandle, OrderView]:
    """Start the port, attach its documents, sign its LOA: the order goes to the carrier."""
    handle = await start(env.client, req)
    await attach_all(env.client, req, tmp)
    await wait_for(handle, lambda v: len(v.orders) == 1 and v.orders[0].status == PortStatus.LOA_SENT,
                   what="LOA sent")
    await sign_all(env.client, req)
    view = await wait_order(env.client, req.order_id(0), lambda o: o.status not in (
        PortStatus.LOA_SENT, PortStatus.LOA_SIGNED) and o.carrier_order_id is not None, what="submission")
    return handle, view


@asynccontextmanager
async def submitted_port(env: WorkflowEnvironment, tmp: Path
                         ) -> AsyncIterator[tuple[PortRequest, WorkflowHandle, OrderView]]:
    """Under a worker: a one-account request (:func:`one_account_request`) taken to the
    carrier (:func:`submitted`); yields the request, its handle and the submitted order."""
    req = await one_account_request(env)
    async with build_worker(env.client):
        handle, view = await submitted(env, req, tmp)
        yield req, handle, view


async def sleep_past(env: WorkflowEnvironment, when: datetime, margin: timedelta = timedelta(minutes=1)) -> None:
    """Skip the server's clock to ``margin`` after ``when``."""
    left = when + margin - await server_now(env)
    if left > timedelta(0):
        await env.sleep(left)


def port_day_foc(day: date, tz: str = "America/New_York", at: str = "09:00") -> datetime:
    """The port day at the activation time, local to the customer (what a carrier confirms)."""
    hh, mm = (int(p) for p in at.split(":"))
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=ZoneInfo(tz))


# --------------------------------------------------------------------------- the CLI
def starter(env: WorkflowEnvironment, *args: str) -> Result:
    """``python starter.py <args>`` against the test server, in-process (typer's runner)."""
    import starter as starter_module

    assert get_settings().temporal_address == env.client.service_client.config.target_host, "configure() with adapter_settings() first"
    return CliRunner().invoke(starter_module.app, list(args), catch_exceptions=False)


async def run_starter(env: WorkflowEnvironment, *args: str) -> Result:
    """:func:`starter` in a thread: each command runs its own event loop, as from a shell."""
    return await asyncio.to_thread(starter, env, *args)


async def status_json(env: WorkflowEnvironment, port_id: str) -> dict[str, Any]:
    result = await run_starter(env, "status", port_id, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def status_text(env: WorkflowEnvironment, port_id: str) -> str:
    """The status page as ``starter.py status`` prints it, its whitespace collapsed (rich
    pads the columns and wraps long cells)."""
    result = await run_starter(env, "status", port_id)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def order_json(page: dict[str, Any], order_id: str) -> dict[str, Any]:
    [o] = [o for o in page["orders"] if o["order_id"] == order_id]
    return o


# --------------------------------------------------------------------------- history
async def updates_admitted(client: Client, workflow_id: str) -> int:
    """How many updates reached the workflow (accepted into its history)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)


# --------------------------------------------------------------------------- Telnyx webhooks
class TelnyxWebhooks:
    """Telnyx's side of the webhooks: the account's Ed25519 key pair and the deliveries.

    :meth:`status_changed` posts ``porting_order.status_changed`` for a stand-in order the
    way Telnyx does (``{"data": {event_type, id, occurred_at, payload: {id,
    customer_reference, status}}, "meta": ...}``, headers ``telnyx-signature-ed25519`` over
    ``"<telnyx-timestamp>|<raw body>"``) to the order's ``webhook_url``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.key = Ed25519PrivateKey.generate()
        self.sent: list[dict[str, Any]] = []

    @property
    def public_key(self) -> str:
        """What goes in PORTFLOW_TELNYX_PUBLIC_KEY (base64 of the raw 32-byte key)."""
        return base64.b64encode(self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()

    def body(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "data": {
                "event_type": "porting_order.status_changed",
                "id": str(uuid.uuid4()),
                "record_type": "event",
                "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "payload": {
                    "id": order["id"],
                    "customer_reference": order["customer_reference"],
                    "status": order["status"],
                    "support_key": "sr_" + order["id"][:6],
                    "updated_at": order["updated_at"],
                },
            },
            "meta": {"attempt": 1, "delivered_to": order["webhook_url"]},
        }

    def sign(self, raw: bytes, key: Ed25519PrivateKey | None = None) -> dict[str, str]:
        stamp = str(int(time.time()))
        sig = base64.b64encode((key or self.key).sign(stamp.encode() + b"|" + raw)).decode()
        return {"telnyx-signature-ed25519": sig, "telnyx-timestamp": stamp, "content-type": "application/json"}

    async def post(self, order: dict[str, Any], raw: bytes, headers: dict[str, str]) -> httpx.Response:
        url = order["webhook_url"]
        assert url and url.startswith(PUBLIC_URL), f"the porting order has no portflow webhook_url: {url!r}"
        return await self.http.post(url[len(PUBLIC_URL):], content=raw, headers=headers)

    async def status_changed(self, order: dict[str, Any]) -> httpx.Response:
        """Deliver the order's current status, genuinely signed."""
        body = self.body(order)
        raw = json.dumps(body).encode()
        resp = await self.post(order, raw, self.sign(raw))
        self.sent.append(body)
        return resp

    async def redeliver(self, order: dict[str, Any]) -> httpx.Response:
        """Telnyx retries the last delivery (same event id), freshly signed."""
        raw = json.dumps(self.sent[-1]).encode()
        return await self.post(order, raw, self.sign(raw))


def standin_calls(standin: Any, method: str, path_end: str) -> list[dict[str, Any]]:
    """The JSON bodies the stand-in received for ``method`` on paths ending with ``path_end``."""
    return [json.loads(b) if b else {} for m, p, b in standin.requests if m == method and p.endswith(path_end)]


def walked(o: OrderView) -> list[PortStatus]:
    """The statuses an order moved through, in order (notes left out)."""
    return [c.to_status for c in o.timeline if c.from_status != c.to_status]
