"""The Temporal dev server with its UI, and the Chromium that looks at it.

The UI tests need what a person at a desk has: a dev server started as ``make demo`` starts
it (``devtools.devserver``: SQLite, portflow's search attributes, the UI on its own port),
a worker with the local providers, and a browser. The browser is Debian's ``chromium``,
driven by the ``playwright`` package with ``executable_path`` (Playwright never downloads a
browser here). Without chromium the tests are skipped on a developer's machine, with the
command that installs it, but fail in CI: ``.ci/run`` installs chromium, so a CI run
without it is a broken setup, and a skip there would let the UI go unchecked.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from devtools.demo import ApiService, codec_endpoint
from devtools.devserver import DevServer, ensure_dev_server, port_open
from models.numbers import parse_tn
from tests.local_servers import free_ports
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"

# The worker decodes phone numbers inside the workflow sandbox, which refuses phonenumbers'
# lazy loading of its region data (see tests/cli/conftest.py): load it before any worker.
parse_tn("+13125550100")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's chromium; skip (developer) or fail (CI) when it is missing."""
    found = find_chromium()
    if found:
        return found
    message = ("Debian's chromium is not installed, so the Temporal UI cannot be checked in a browser: "
               "install it with `apt-get install chromium` (.ci/run does)")
    if in_ci():
        pytest.fail(message + "; in CI this test must run, not be skipped", pytrace=False)
    pytest.skip(message)


@pytest_asyncio.fixture(scope="module")
async def ui_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DevServer]:
    """A dev server with the UI on free ports (a developer's own 7233/8233 stay untouched),
    stopped after the module's tests; its SQLite database and log live in a temporary directory."""
    port, ui_port, api_port = free_ports(3)
    tmp = tmp_path_factory.mktemp("temporal-ui")
    # as make demo: the UI decodes payloads through the API service's codec server
    api = ApiService(api_port)
    api.start()
    server = await ensure_dev_server(port=port, ui_port=ui_port, db_file=tmp / "temporal.db",
                                     log_path=tmp / "temporal.log", codec_endpoint=codec_endpoint(api_port))
    server.codec_endpoint = codec_endpoint(api_port)  # type: ignore[attr-defined]
    assert server.started_here, f"port {port} was free a moment ago, yet a server answered there"
    try:
        # the UI comes up beside the frontend, not always by the time gRPC answers
        await eventually(lambda: port_open(ui_port), what=f"the Temporal UI on port {ui_port} (see {server.log_path})",
                         timeout=30)
        yield server
    finally:
        server.stop()
        await api.stop()
