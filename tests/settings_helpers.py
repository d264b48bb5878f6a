"""Settings for one test: the environment variables portflow reads, set through pytest's
``monkeypatch`` (undone after the test), and the settings reloaded.

``use_settings`` is the one way the tests change settings; ``configure`` is what a
workflow test on the time-skipping server starts from. After each test, monkeypatch puts
the environment back and ``tests/conftest.py`` drops the settings read from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from core.settings import Settings, get_settings, reset_settings


def use_settings(monkeypatch: pytest.MonkeyPatch, values: Mapping[str, object] | None = None, /,
                 **more: object) -> Settings:
    """Set ``PORTFLOW_<NAME>`` for each name (without the prefix) to ``str(value)``, or unset
    it for ``None``; reload the settings and return them."""
    for name, value in {**(values or {}), **more}.items():
        if value is None:
            monkeypatch.delenv(f"PORTFLOW_{name}", raising=False)
        else:
            monkeypatch.setenv(f"PORTFLOW_{name}", str(value))
    reset_settings()
    return get_settings()


def configure(monkeypatch: pytest.MonkeyPatch, port_var: Path, task_queue: str, *, profile: str | None = None,
              **settings: object) -> Path:
    """Settings for a workflow test: its own task queue, automatic verification, carrier
    polls slow enough that a skipped month is a handful of timers, a simulator profile
    (YAML text) when given, and anything in ``settings`` on top. Returns ``port_var``."""
    values: dict[str, object] = {
        "TEMPORAL_TASK_QUEUE": task_queue,
        "VERIFICATION": "auto",
        "CARRIER_POLL_SECONDS": 6 * 3600,
        "CARRIER_FOC_POLL_SECONDS": 7 * 86400,
        **settings,
    }
    if profile is not None:
        path = port_var.parent / "simulator-profile.yaml"
        path.write_text(profile)
        values["SIMULATOR_PROFILE"] = path
    use_settings(monkeypatch, values)
    return port_var
