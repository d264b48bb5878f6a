"""Waiting, in real time, until something holds: the one poll every test uses.

``eventually`` (async) and ``eventually_sync`` (threads, subprocesses) call ``probe`` until
``check`` accepts what it returned and give that value back. A probe may itself raise
(an ``AssertionError`` for "this will never happen": a process that exited, an order that
moved on): that fails at once. On timeout both raise ``AssertionError`` saying what was
awaited and the last value seen (``show`` turns it into text, ``repr`` unless told).

Time-skipping is not polling: a test that moves the test server's clock uses
``env.sleep`` (see ``tests/workflows/carrier_helpers.skip_until``).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

MESSAGE_LIMIT = 4000  # characters of a timeout message: enough for a status dump, not a whole history


class _Deadline:
    """What both variants share: when to give up, how often to look, what to say."""

    def __init__(self, what: str, timeout: float, interval: float, show: Callable[[Any], str]) -> None:
        self.what, self.timeout, self.interval, self.show = what, timeout, interval, show
        self.until = time.monotonic() + timeout

    def passed(self) -> bool:
        return time.monotonic() > self.until

    def failure(self, last: Any) -> AssertionError:
        return AssertionError(
            f"timed out after {self.timeout:g} s waiting for {self.what}; last seen: {self.show(last)}"[:MESSAGE_LIMIT])


def _truthy(value: Any) -> bool:
    return bool(value)


async def eventually(probe: Callable[[], Awaitable[T] | T], check: Callable[[T], bool] = _truthy, *,
                     what: str, timeout: float = 60.0, interval: float = 0.2,
                     show: Callable[[Any], str] = repr) -> T:
    """Call ``probe`` (async or not) every ``interval`` seconds until ``check(value)``; return the value."""
    deadline = _Deadline(what, timeout, interval, show)
    while True:
        value = probe()
        if inspect.isawaitable(value):
            value = await value
        if check(value):
            return value
        if deadline.passed():
            raise deadline.failure(value)
        await asyncio.sleep(interval)


def eventually_sync(probe: Callable[[], T], check: Callable[[T], bool] = _truthy, *,
                    what: str, timeout: float = 60.0, interval: float = 0.2,
                    show: Callable[[Any], str] = repr) -> T:
    """:func:`eventually` for code without an event loop: ``time.sleep`` between probes."""
    deadline = _Deadline(what, timeout, interval, show)
    while True:
        value = probe()
        if check(value):
            return value
        if deadline.passed():
            raise deadline.failure(value)
        time.sleep(interval)
