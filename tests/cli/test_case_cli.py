"""``starter.py case ...`` end to end on the dev server, each command in its own interpreter as a
person runs it: open, status (text and JSON), respond, a change planned in the maintenance
window (warned), list (a visibility query), close, and the refusals' exit codes."""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import UTC, datetime, timedelta

from core.calendar import PortCalendar
from tests.cli.conftest import Harness
from tests.cli.test_deploy import starter as starter_blocking
from tests.polling import eventually

AGENT = "agent@provider.example"


async def starter(cli: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    """``starter.py`` in its own interpreter, off the event loop: the worker runs in this one."""
    return await asyncio.to_thread(starter_blocking, cli, *args)


async def test_a_case_through_the_commands(cli: Harness) -> None:
    async with cli.worker():
        opened = await starter(cli, "case", "open", "--priority", "p2", "--summary", "calls drop on transfer for the front desk",
                         "--customer", cli.customer, "--contact", "lee@acme.example", "--language", "fr", "--by", AGENT)
        assert opened.returncode == 0, opened.stderr[-300:]
        year = datetime.now(UTC).year
        cid = f"case-{year}-0001"
        assert f"opened {cid} (P2)" in opened.stdout
        assert "first response due" in opened.stdout and "P2 · new" in opened.stdout

        responded = await starter(cli, "case", "respond", cid.removeprefix("case-"), "--note", "looking at the SIP traces",
                            "--by", AGENT)
        assert responded.returncode == 0, responded.stderr
        assert f"{cid}: respond recorded, now in_progress" in responded.stdout and "next update due" in responded.stdout

        cal = PortCalendar.from_settings()
        now = datetime.now(UTC)
        start, _ = cal.maintenance_window(now.year, now.month)
        if start < now + timedelta(hours=1):
            nxt = now.replace(day=1) + timedelta(days=32)
            start, _ = cal.maintenance_window(nxt.year, nxt.month)
        planned = await starter(cli, "case", "plan-change", cid, "--at", (start + timedelta(minutes=30)).isoformat(),
                          "--note", "move the front desk to the new queue", "--by", AGENT)
        assert planned.returncode == 0, planned.stderr
        assert "is inside the maintenance window" in planned.stdout

        text = (await starter(cli, "case", "status", cid)).stdout
        assert f"{cid} · P2 · in_progress" in text and "IN THE MAINTENANCE WINDOW" in text
        assert " · respond · agent@provider.example · in_progress · looking at the SIP traces" in text
        status = await starter(cli, "case", "status", cid, "--json")
        view = json.loads(status.stdout)
        assert view["state"] == "in_progress" and view["priority"] == "P2"
        assert [e["action"] for e in view["history"]] == ["open", "respond", "plan_change"]
        assert view["planned_changes"][0]["in_maintenance_window"] is True

        async def listed() -> str:
            return (await starter(cli, "case", "list", "--priority", "P2")).stdout

        rows = await eventually(listed, lambda out: cid in out, what="the case in `case list`", timeout=30, interval=1)
        assert f"{cid}  P2  in_progress" in rows

        refused = await starter(cli, "case", "reopen", cid, "--note", "still broken", "--by", AGENT)
        assert refused.returncode == 1 and "only a resolved case can be reopened" in refused.stderr
        closed = await starter(cli, "case", "close", cid, "--note", "customer confirmed transfers work", "--by", AGENT)
        assert closed.returncode == 0 and "now closed" in closed.stdout
        gone = await starter(cli, "case", "update", cid, "--note", "one more thing", "--by", AGENT)
        assert gone.returncode == 1 and f"case {cid} is closed" in gone.stderr
        missing = await starter(cli, "case", "status", "case-1999-0042")
        assert missing.returncode == 1 and "no case case-1999-0042" in missing.stderr
