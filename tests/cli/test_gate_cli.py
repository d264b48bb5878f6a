"""``starter.py gate ...`` and ``starter.py temp-numbers add`` through the command line
(typer's runner) against a port on the dev server: what a PM types and reads."""

from __future__ import annotations

import asyncio
import uuid

import yaml
from typer.testing import CliRunner

from portflow.cli import actions
from portflow.cli.files import plan_start
from starter import app
from tests.cli.conftest import PM, Harness, business_days_ahead
from tests.polling import eventually


async def invoke(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, " ".join(result.output.split())


async def _start_with_gate(cli: Harness) -> tuple[str, str]:
    port_date = business_days_ahead(30)
    path = cli.request_file(port_date=port_date, documents=False, accounts=1)
    data = yaml.safe_load(path.read_text("utf-8"))
    data["go_live"] = {"on_not_ready": "escalate", "optional": ["uat_passed", "cutover_planned"]}
    gated = cli.tmp / f"gated-{uuid.uuid4().hex[:6]}.yaml"
    gated.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    plan = plan_start(gated)
    rid = await actions.fresh_request_id(cli.client)
    await actions.cmd_start(cli.client, plan.request.model_copy(update={"id": rid}), base_dir=plan.base_dir, actor=PM)
    return rid, port_date.isoformat()


async def test_the_gate_commands_on_a_running_port(cli: Harness) -> None:
    async with cli.worker():
        rid, day = await _start_with_gate(cli)
        await eventually(lambda: actions.cmd_status(cli.client, rid), lambda p: p.request.status.value == "documents",
                         what="documents stage")
        code, out = await invoke("gate", "show", rid)
        assert code == 0, out
        assert "go-live gate · 0/8 required items done" in out and "escalate" in out
        assert "✗ users_trained yes - - end users trained" in out and "· uat_passed no" in out

        code, out = await invoke("gate", "done", rid, "users-trained", "--by", "ipm@provider.example",
                                 "--note", "3 sessions, 41 agents")
        assert code == 0 and f"{rid}: users_trained done · 1/8 required items done" in out, out
        code, out = await invoke("gate", "done", rid, "users_trained")
        assert code == 1 and "users_trained is already done (by ipm@provider.example at" in out, out
        code, out = await invoke("gate", "done", rid, "uat_temp_number")
        assert code == 1 and "record it first with `starter.py temp-numbers add" in out, out

        # the activation is 10:00 America/Chicago on the port date: a window the evening before misses it
        code, out = await invoke("gate", "change-window", rid, "--from", f"{day} 06:00", "--to", "08:00",
                                 "--tz", "America/Chicago", "--approved-by", "CAB")
        assert code == 1 and (f"the change window {day} 06:00-08:00 America/Chicago ends before activation at 10:00; "
                              f"ask the change board for a window that contains {day} 10:00 America/Chicago") in out, out
        code, out = await invoke("gate", "change-window", rid, "--from", f"{day} 09:00", "--to", "12:00",
                                 "--tz", "America/Chicago", "--approved-by", "CAB", "--ref", "CR-2211")
        assert code == 0 and f"change window {day} 09:00-12:00 America/Chicago recorded" in out, out
        code, out = await invoke("gate", "rollback", rid, "--plan", "https://wiki.example/rollback")
        assert code == 0 and "https://wiki.example/rollback" in out, out
        code, out = await invoke("temp-numbers", "add", rid, "(303) 555-0188")
        assert code == 0 and "1 temporary number(s) recorded" in out, out
        code, out = await invoke("gate", "done", rid, "uat_temp_number", "--note", "scripts 1-14")
        assert code == 0, out

        code, out = await invoke("status", rid)
        assert code == 0, out
        assert "go-live gate · 4/8 required items done" in out
        assert f"change window: {day} 09:00-12:00 America/Chicago approved by CAB (CR-2211)" in out
        assert "temporary numbers (remove the forwarding once the port completes): (303) 555-0188" in out
        assert "go-live gate: users_trained done: 3 sessions, 41 agents" in out and "ipm@provider.example" in out
        code, out = await invoke("gate", "show", f"{rid}-1")
        assert code == 1 and f"belongs to the whole request: use {rid}" in out
        await actions.cmd_cancel(cli.client, rid, actor=PM, reason="test finished", wait=10)


async def test_a_port_without_a_gate(cli: Harness) -> None:
    from tests.cli.test_ports_cli import start

    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(30), documents=False)
        code, out = await invoke("gate", "show", rid)
        assert code == 1 and f"{rid} has no go-live checklist" in out, out
        code, out = await invoke("gate", "done", rid, "users_trained")
        assert code == 1 and "has no go-live checklist: give its request file a go_live: section" in out, out
        code, out = await invoke("temp-numbers", "add", rid, "(303) 555-0188")
        assert code == 0, out  # temporary numbers need no gate
        await actions.cmd_cancel(cli.client, rid, actor=PM, reason="test finished", wait=10)
