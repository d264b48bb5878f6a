"""``starter.py project ...``: the command line without a server (refusals), and every
command against real workflows on the dev server (``list`` is a visibility query)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from core.calendar import PortCalendar
from core.settings import reset_settings
from starter import app
from tests.cli.conftest import EXAMPLES, PM, Harness, business_days_ahead
from tests.local_servers import free_ports
from tests.polling import eventually
from tests.settings_helpers import use_settings


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "400"})
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    [port] = free_ports(1)  # nothing listens there
    use_settings(monkeypatch, TEMPORAL_ADDRESS=f"127.0.0.1:{port}", VAR_DIR=tmp_path / "var")
    yield tmp_path
    reset_settings()


def test_bad_project_files_and_arguments_are_refused_before_connecting(offline: Path) -> None:
    bad = offline / "p.yaml"
    bad.write_text((EXAMPLES / "project.yaml").read_text().replace("kick_off: 2027-03-10", "kick_off: 2027-02-10")
                   .replace("reminder_days: 2", "reminder_days: -1"))
    code, out = _invoke("project", "start", str(bad))
    assert code == 1 and "2 problem(s)" in out, out
    assert "line 17, timeline: kick_off (2027-02-10) is before initiate (2027-03-05)" in out
    assert "line 24, reminder_days: Input should be greater than or equal to 0" in out
    code, out = _invoke("project", "start", str(EXAMPLES / "bad-utf16.csv"))
    assert code == 2 and "UTF-16" in out
    code, out = _invoke("project", "status", "ACME 2027!")
    assert code == 1 and "is not a project id" in out
    code, out = _invoke("project", "list", "--phase", "golive")
    assert code == 1 and "go_live" in out
    code, out = _invoke("project", "attach", "ACME-2027", "PR-2026-0042-1")
    assert code == 1 and "attach its request, PR-2026-0042" in out
    code, out = _invoke("project", "start-port", "ACME-2027", str(EXAMPLES / "bad-invalid-number.yaml"))
    assert code == 1 and "invalid_number" in out and "not started" in out
    code, out = _invoke("project", "start", str(EXAMPLES / "project.yaml"))
    assert code == 2 and "cannot reach the Temporal server" in out  # a good file gets as far as connecting


def _project_file(cli: Harness, pid: str, go_live) -> Path:
    cal = PortCalendar.from_settings()
    data = yaml.safe_load((EXAMPLES / "project.yaml").read_text())
    data["id"] = pid
    data["timeline"] = {"initiate": business_days_ahead(3), "kick_off": business_days_ahead(6),
                        "build": business_days_ahead(12), "go_live": go_live,
                        "post_go_live": cal.add_business_days(go_live, 5),
                        "acceptance": cal.add_business_days(go_live, 10)}
    path = cli.tmp / f"{pid}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def _cmd(*args: str) -> tuple[int, str]:
    return await asyncio.to_thread(_invoke, *args)


async def test_project_commands_on_a_dev_server(cli: Harness) -> None:
    import uuid

    pid = f"CLI-{uuid.uuid4().hex[:6]}"
    port_date = business_days_ahead(30)
    async with cli.worker():
        code, out = await _cmd("project", "start", str(_project_file(cli, pid, port_date)), "--by", PM)
        assert code == 0 and f"started project {pid}: Acme Dental, 24 milestones" in out, out
        code, out = await _cmd("project", "start", str(_project_file(cli, pid, port_date)))
        assert code == 1 and f"project {pid} was already started" in out

        code, out = await _cmd("project", "done", pid, "ipm_assigned", "--note", "Irene Park", "--by", PM)
        assert code == 0 and f"ipm_assigned done in {pid} by {PM}" in out and "open project_plan" in out
        code, out = await _cmd("project", "done", pid, "ipm_assigned")
        assert code == 1 and "ipm_assigned was already done by" in out
        code, out = await _cmd("project", "done", "NOPE-1", "ipm_assigned")
        assert code == 1 and "no project NOPE-1" in out

        code, out = await _cmd("project", "start-port", pid, str(cli.request_file(port_date=port_date, accounts=1)),
                               "--by", PM)
        assert code == 0 and f"in project {pid}" in out, out
        rid = out.split("started ", 1)[1].split(" ", 1)[0]

        code, out = await _cmd("project", "status", pid)
        assert code == 0 and "phase initiate" in out and "project_plan ipm" in out, out
        assert f"{rid} (started)" in out
        result = await asyncio.to_thread(CliRunner().invoke, app, ["project", "status", pid, "--json"])
        data = json.loads(result.output)
        assert data["phase"] == "initiate" and data["port_stages"][0]["request_id"] == rid
        assert [t["id"] for t in data["open_tasks"]][:2] == ["project_plan", "scope_of_work"]
        assert data["next_due_at"] and data["ports"][0]["how"] == "started"

        async def listed() -> str:
            return (await _cmd("project", "list", "--phase", "initiate", "--running"))[1]

        out = await eventually(listed, lambda o: pid in o, what="the project in `project list`", timeout=20)
        assert "initiate" in out

        code, out = await _cmd("project", "attach", pid, rid)
        assert code == 1 and "already part of project" in out
