"""Key rotation (issue 14): a port written under key A still reads after rotating to B with
A kept; with A removed, ``starter.py status`` fails with one line naming key A."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from core.payload_keys import new_key_entry
from portflow.codec import KEY_ID
from portflow.cli import actions
from portflow.temporal import with_codec
from starter import app
from tests.cli.conftest import Harness, business_days_ahead
from tests.cli.test_ports_cli import start
from tests.local_servers import current_worker

A, B = new_key_entry("key-a"), new_key_entry("key-b")


async def _key_ids(client, workflow_id: str) -> set[str]:  # noqa: ANN001
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    first = history.events[0].workflow_execution_started_event_attributes.input.payloads
    return {p.metadata[KEY_ID].decode() for p in first}


async def test_a_port_under_key_a_reads_after_rotation_and_names_a_once_removed(
    cli: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.configure(PAYLOAD_KEYS=A)
    client_a = cli.client = with_codec(cli.client)  # the session's client has the tests' key
    async with current_worker(client_a, cli.task_queue):
        rid = await start(cli, port_date=business_days_ahead(30), documents=False)
        assert (await actions.cmd_status(client_a, rid)).request.status.value == "documents"
    assert await _key_ids(client_a, rid) == {"key-a"}

    cli.configure(PAYLOAD_KEYS=f"{B},{A}")  # rotate: B encrypts, A still decrypts
    client_b = cli.client = with_codec(cli.client)
    async with current_worker(client_b, cli.task_queue):
        page = await actions.cmd_status(client_b, rid)
        assert page.request.status.value == "documents" and page.request.customer_name == cli.customer

    cli.configure(PAYLOAD_KEYS=B)  # A removed everywhere
    async with current_worker(with_codec(cli.client), cli.task_queue):
        # the command runs its own event loop, as from a shell
        result = await asyncio.to_thread(CliRunner().invoke, app, ["status", rid], env={"COLUMNS": "300"})
    out = " ".join((result.output + (result.stderr if result.stderr_bytes is not None else "")).split())
    assert result.exit_code != 0, out
    assert "'key-a'" in out and "add key 'key-a' back" in out and "Traceback" not in out, out
