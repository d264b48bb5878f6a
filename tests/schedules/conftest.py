"""A dev server for the reminder schedule's tests, stand-in ports, and a worker per test.

The sweep finds ports by visibility queries, which only the dev server answers (the
time-skipping test server has neither visibility queries nor schedules). The ports are
small stand-in workflows named ``PortRequestWorkflow`` and ``PortOrderWorkflow``
(``tests.schedules.fake_ports``) on their own task queue: they carry the search
attributes the real ones keep, and answer ``status`` with a RequestView / OrderView, so a
test sets exactly the stage, dates and people it needs without driving a port for weeks.
The sweep, its activities and the schedule are production's; the sweep's clock is fixed
(``activities.reminders.sweep_instant``) so what is "at risk" does not depend on the day
the suite runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.settings import reset_settings
from store.db import dispose_engines, migrate
from tests.local_servers import current_worker, dev_env  # noqa: F401 - the session's dev server fixture
from tests.polling import eventually
from tests.schedules.fake_ports import FAKE_WORKFLOWS, FakePort
from tests.settings_helpers import use_settings


def _invoke(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from starter import app

    result = CliRunner().invoke(app, ["schedules", *args], env={"COLUMNS": "300"})
    return result.exit_code, " ".join(result.output.split())


async def cli(*args: str) -> tuple[int, str]:
    """``python starter.py schedules ...`` (exit code, output on one line), run in a thread:
    the command runs its own event loop, as from a shell."""
    return await asyncio.to_thread(_invoke, *args)


class Sweeps:
    """One test's world: settings, a var/, a worker for the sweep, stand-in ports, a schedule."""

    def __init__(self, env: WorkflowEnvironment, var: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.env = env
        self.client: Client = env.client
        self.var = var
        self.monkeypatch = monkeypatch
        tag = uuid.uuid4().hex[:8]
        self.tag = tag
        self.task_queue = f"sweep-{tag}"
        self.ports_queue = f"ports-{tag}"
        self.schedule_id = f"reminders-{tag}"
        self.ports: list[WorkflowHandle[Any, Any]] = []
        self.settings: dict[str, object] = {
            "VAR_DIR": str(var),
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": env.client.namespace,
            "TEMPORAL_TASK_QUEUE": self.task_queue,
            "TEMPORAL_UI_URL": "http://localhost:8233",
            "REMINDER_SCHEDULE_ID": self.schedule_id,
            "REMINDER_TIME": "09:00",
            "REMINDER_TIME_ZONE": "America/New_York",
            "NOTIFY_CHANNELS": '["outbox"]',
            "PM_EMAIL": "pm.fallback@provider.example",
            "PORTING_HOLIDAYS": "[]",
        }
        self.configure()

    def configure(self, **overrides: object) -> None:
        """This test's settings, with ``overrides`` (names without ``PORTFLOW_``) from now on."""
        self.settings.update(overrides)
        use_settings(self.monkeypatch, self.settings)

    def fix_clock(self, at: datetime) -> None:
        """The sweep counts from ``at`` (what the schedule's nominal time would be)."""
        self.monkeypatch.setattr("activities.reminders.sweep_instant", lambda inp: at)

    @asynccontextmanager
    async def workers(self) -> AsyncIterator[None]:
        """The production worker (sweep and activities) and the stand-in ports' worker."""
        ports = Worker(self.client, task_queue=self.ports_queue, workflows=FAKE_WORKFLOWS)
        async with current_worker(self.client, self.task_queue), ports:
            yield

    async def start_ports(self, *ports: FakePort) -> None:
        """Start stand-in ports (inside ``workers()``): each has answered its status query
        and the visibility store sees all of them when this returns."""
        for port in ports:
            handle = await port.start(self.client, self.ports_queue)
            self.ports.append(handle)
            await handle.query("status")
        ids = {p.workflow_id for p in ports}
        query = f"ExecutionStatus = 'Running' AND WorkflowId IN ({', '.join(repr(i) for i in sorted(ids))})"
        await eventually(lambda: _ids(self.client, query), lambda seen: seen >= ids, what="ports in visibility")

    async def end_ports(self) -> None:
        for handle in self.ports:
            try:
                await handle.terminate("test over")
            except RPCError:
                pass
        if self.ports:
            ids = {h.id for h in self.ports}
            query = f"ExecutionStatus = 'Running' AND WorkflowId IN ({', '.join(repr(i) for i in sorted(ids))})"
            await eventually(lambda: _ids(self.client, query), lambda seen: not seen, what="ports gone from visibility")
        self.ports.clear()

    async def delete_schedule(self) -> None:
        try:
            await self.client.get_schedule_handle(self.schedule_id).delete()
        except RPCError:
            pass

    def outbox(self) -> list[Path]:
        return sorted((self.var / "outbox").glob("*.eml"))


async def _ids(client: Client, query: str) -> set[str]:
    return {wf.id async for wf in client.list_workflows(query) if wf.status == WorkflowExecutionStatus.RUNNING}


@pytest_asyncio.fixture
async def sweeps(dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sweeps]:
    monkeypatch.delenv("PORTFLOW_DATABASE_URL", raising=False)
    world = Sweeps(dev_env, tmp_path / "var", monkeypatch)
    dispose_engines()
    migrate()
    try:
        yield world
    finally:
        await world.delete_schedule()
        await world.end_ports()
        dispose_engines()
        reset_settings()
