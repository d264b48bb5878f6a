"""Each fuzz test must stay within a memory bound (peak RSS may grow by at most 512 MB), and
the session ends with a table of the readers fuzzed: examples per test, outcome, time."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fuzz import LONG

MAX_GROWTH_KB = 512 * 1024
_RESULTS: dict[str, tuple[str, float, int]] = {}  # test -> (outcome, seconds, peak growth MB)


@pytest.fixture(autouse=True)
def bounded_memory(request: pytest.FixtureRequest) -> Iterator[None]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    outcome, seconds, _ = _RESULTS.get(request.node.nodeid, ("", 0.0, 0))
    _RESULTS[request.node.nodeid] = (outcome, seconds, grown // 1024)
    assert grown < MAX_GROWTH_KB, f"peak memory grew by {grown // 1024} MB during this test"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "tests/fuzz/" not in report.nodeid:
        return
    outcome, seconds, grown = _RESULTS.get(report.nodeid, ("", 0.0, 0))
    if report.when == "call" or report.outcome != "passed":  # a failed setup or teardown too
        failed = outcome not in ("", "passed")
        _RESULTS[report.nodeid] = (outcome if failed else report.outcome, seconds + report.duration, grown)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = [(k, v) for k, v in _RESULTS.items() if v[0]]
    if not rows:
        return
    tr = terminalreporter
    tr.section(f"fuzz: {LONG or 'bounded'} examples per test" + ("" if LONG else " (make fuzz for more)"))
    tr.write_line(f"{'test':<78} {'outcome':<8} {'seconds':>8} {'peak +MB':>9}")
    for nodeid, (outcome, seconds, grown) in sorted(rows):
        tr.write_line(f"{nodeid.replace('tests/fuzz/', ''):<78.78} {outcome:<8} {seconds:>8.1f} {grown:>9}")
    failed = sum(v[0] != "passed" for _, v in rows)
    tr.write_line(f"{len(rows)} fuzz tests, {failed} failed (a traceback, a hang over 10 s an example, "
                  "a wrong answer or over 512 MB is a failure)")
