"""A time-skipping Temporal test server for the session, and a worker per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from core.settings import reset_settings
from devtools.servers import register_search_attributes, time_skipping_env
from store.db import dispose_engines, migrate
from tests.settings_helpers import use_settings


@pytest_asyncio.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server per test: its clock only moves forward, so a test that skips
    weeks must not leave the next test's port (and wall-clock signatures) in the past.
    Starting one costs about a second."""
    async with await time_skipping_env() as env:
        await register_search_attributes(env.client)
        yield env


@pytest.fixture
def port_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh var/ (database, documents, outbox, simulator state) for one test."""
    var = tmp_path / "var"
    use_settings(monkeypatch, VAR_DIR=var, DATABASE_URL=None)
    dispose_engines()
    migrate()
    yield var
    dispose_engines()
    reset_settings()


@pytest.fixture
def task_queue() -> str:
    return f"pf-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=8)
