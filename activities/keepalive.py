"""Heartbeats for the activities that may run long (calls to carriers, DocuSign, mail relays;
work that grows with the number count), so a worker that dies is noticed within the
heartbeat timeout (seconds) instead of the start-to-close timeout.

The workflows give each activity its limits (``workflows/common.py`` ``LIMITS``); an activity
whose limits carry a heartbeat timeout is registered through :func:`heartbeating`, which
beats every :data:`BEAT_EVERY` while the activity runs. The first beat comes after one
interval: an activity that ends sooner costs no heartbeat call.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

from temporalio import activity

BEAT_EVERY = 1.0  # seconds; the SDK sends at most one heartbeat per 0.8 x heartbeat timeout


def _beat_quietly() -> None:
    try:
        activity.heartbeat()
    except Exception:  # noqa: BLE001 - the activity ended or was cancelled meanwhile: nothing to tell
        pass


def heartbeating(defined: Callable[..., Any]) -> Callable[..., Any]:
    """The activity ``defined`` (already ``@activity.defn``), under the same name, beating."""
    defn = activity._Definition.must_from_callable(defined)
    fn = defn.fn
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn, updated=())  # not its __dict__: it holds the old definition
        async def run_async(*args: Any) -> Any:
            async def beat() -> None:
                while True:
                    await asyncio.sleep(BEAT_EVERY)
                    _beat_quietly()

            beater = asyncio.create_task(beat())
            try:
                return await fn(*args)
            finally:
                beater.cancel()

        return activity.defn(name=defn.name)(run_async)

    @functools.wraps(fn, updated=())  # not its __dict__: it holds the old definition
    def run_sync(*args: Any) -> Any:
        done = threading.Event()
        ctx = contextvars.copy_context()  # the activity's context, for activity.heartbeat in the beater

        def beat() -> None:
            while not done.wait(BEAT_EVERY):
                ctx.run(_beat_quietly)

        beater = threading.Thread(target=beat, name=f"heartbeat {defn.name}", daemon=True)
        beater.start()
        try:
            return fn(*args)
        finally:
            done.set()

    return activity.defn(name=defn.name)(run_sync)
