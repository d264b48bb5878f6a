"""Activity limits (issue 12): a worker killed during an activity is replaced within seconds.

Each activity the workflows call has a start-to-close of a few seconds or a heartbeat
timeout of a few seconds, and an activity with a heartbeat timeout really beats while it
runs (else the server would time it out while it works).
"""

from __future__ import annotations

import ast
import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities import all_activities
from activities.keepalive import BEAT_EVERY, heartbeating
from core.limits import LIMITS, limits_of

ROOT = Path(__file__).resolve().parents[2]
TAKEOVER = timedelta(seconds=10)  # the longest a dead worker may hold an activity


def _called_activity_names() -> set[str]:
    """Every activity name the workflows pass to act(...) or Poll(...)."""
    names = set()
    for path in (ROOT / "workflows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("act", "Poll")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                names.add(node.args[0].value)
    return names


def test_every_activity_the_workflows_call_is_given_up_on_a_dead_worker_within_seconds() -> None:
    called = _called_activity_names()
    assert len(called) > 15, called
    registered = {activity._Definition.must_from_callable(fn).name for fn in all_activities()}
    assert called <= registered
    for name in sorted(registered):
        lim = limits_of(name)
        noticed = lim.heartbeat or lim.start_to_close
        assert noticed <= TAKEOVER, f"{name}: a dead worker holds it {noticed}"


def test_an_activity_missing_from_the_table_says_where_to_add_it() -> None:
    with pytest.raises(KeyError, match="add it to core/limits.py"):
        limits_of("no_such_activity")


@pytest.mark.parametrize("is_async", [True, False])
def test_a_long_activity_beats_while_it_runs(is_async: bool) -> None:
    if is_async:
        @activity.defn(name="slow")
        async def slow(x: int) -> int:
            await asyncio.sleep(BEAT_EVERY * 3.5)
            return x + 1
    else:
        @activity.defn(name="slow")
        def slow(x: int) -> int:
            time.sleep(BEAT_EVERY * 3.5)
            return x + 1

    beats: list[float] = []
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *_: beats.append(time.monotonic())
    wrapped = heartbeating(slow)
    assert activity._Definition.must_from_callable(wrapped).name == "slow"
    result = env.run(wrapped, 41)
    assert asyncio.iscoroutine(result) == is_async
    if is_async:
        result = asyncio.run(result)
    assert result == 42
    assert len(beats) >= 3, beats
    n = len(beats)
    time.sleep(BEAT_EVERY * 1.5)
    assert len(beats) == n  # no beat after the activity ended


def test_the_worker_registers_the_long_activities_beating() -> None:
    long = {n for n, lim in LIMITS.items() if lim.heartbeat}
    for fn in all_activities():
        name = activity._Definition.must_from_callable(fn).name
        beating = hasattr(activity._Definition.must_from_callable(fn).fn, "__wrapped__")
        assert beating == (name in long), name
