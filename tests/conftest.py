"""Shared fixtures. Every test session gets its own var/ directory, so tests never touch
the developer's database, documents or outbox."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SESSION_VAR = Path(tempfile.mkdtemp(prefix="portflow-test-"))
os.environ["PORTFLOW_VAR_DIR"] = str(_SESSION_VAR)
os.environ.pop("PORTFLOW_DATABASE_URL", None)
# The time-skipping test server has no Worker Deployments, and a versioned worker on a dev
# server runs nothing until its build is made current: the tests that check versioning turn
# it on themselves (tests/devtools/test_versioning.py, the demo test).
os.environ["PORTFLOW_WORKER_VERSIONING"] = "false"
# The payload key of the tests (never used anywhere else): fixed, so the histories recorded
# under tests/histories/ (encrypted) replay on any clone. Rotation tests set their own keys.
TEST_PAYLOAD_KEY = "tests-2026:SzwsctJlZuIy+yWBC14K/6D5YT2Q1qaNDrk/ZshJS64="
os.environ["PORTFLOW_PAYLOAD_KEYS"] = TEST_PAYLOAD_KEY
os.environ["PORTFLOW_PAYLOAD_ENCRYPTION"] = "true"

from core.settings import get_settings, reset_settings  # noqa: E402
from tests.settings_helpers import use_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _settings_reloaded_after_each_test() -> Iterator[None]:
    """Settings a test changed (``tests.settings_helpers.use_settings``) end with it:
    monkeypatch restores the environment, and this drops the settings read from it."""
    yield
    reset_settings()


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh var/ for one test (database, documents, outbox), with settings reloaded."""
    use_settings(monkeypatch, VAR_DIR=tmp_path / "var")
    yield tmp_path / "var"
    reset_settings()


@pytest.fixture
def settings():
    return get_settings()


# The files that take a minute or more (whole demos, the fault run, the data-at-rest scans,
# the scale-out run): collected first, so that `make test`'s two processes (pytest-xdist,
# whole files each) start on them and finish together, instead of one process running a
# two-minute demo alone at the end. Order changes nothing else: every test sets up its own world.
SLOW_FIRST = ("tests/test_demo.py", "tests/test_demo_project.py", "tests/test_faults.py",
              "tests/test_data_at_rest.py", "tests/deploy/test_scale_out.py", "tests/ui/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))  # stable: order kept within each part
