"""The poll every test waits with: it returns the value that passed, and a timeout says
what was awaited and what was seen last."""

from __future__ import annotations

import pytest

from tests.polling import eventually, eventually_sync


async def test_returns_the_first_value_that_passes() -> None:
    seen = iter(range(10))

    async def probe() -> int:
        return next(seen)

    assert await eventually(probe, lambda n: n >= 2, what="two", interval=0) == 2
    assert await eventually(lambda: "ready", what="a plain function's truthy value") == "ready"
    assert eventually_sync(iter([0, 0, 3]).__next__, what="a truthy value", interval=0) == 3


async def test_a_timeout_names_what_was_awaited_and_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"waiting for the port in documents; last seen: 'loa_sent'"):
        await eventually(lambda: "loa_sent", lambda s: s == "documents", what="the port in documents",
                         timeout=0.05, interval=0.01)
    with pytest.raises(AssertionError, match=r"after 0.05 s waiting for mail; last seen: \['subject'\]"):
        eventually_sync(lambda: ["subject"], lambda m: len(m) > 1, what="mail", timeout=0.05, interval=0.01)


async def test_a_probe_that_fails_fails_at_once() -> None:
    def probe() -> int:
        raise AssertionError("the process exited")

    with pytest.raises(AssertionError, match="the process exited"):
        eventually_sync(probe, what="an answer", timeout=60)
