"""Each fuzz test must stay within a memory bound: peak RSS may grow by at most 512 MB."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

MAX_GROWTH_KB = 512 * 1024


@pytest.fixture(autouse=True)
def bounded_memory() -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < MAX_GROWTH_KB, f"peak memory grew by {grown // 1024} MB during this test"
