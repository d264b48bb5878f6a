"""Issue 15's scale-out proof, in make test's size: 3 worker processes on one dev server, ports
with instant providers, one worker SIGKILLed mid-run (bench/scaleout.py). Every port completes
with exactly one LOA, one carrier submission and one of each mail per order, and all workers
together stay within the carrier queue's rate limit. `make scale` runs the issue's 200 ports."""

from __future__ import annotations

import os

from bench.scaleout import Figures, peak_per_second, run

PORTS = int(os.environ.get("PORTFLOW_SCALE_PORTS", "20"))
LIMIT = 2.0  # calls/s: far below what 3 workers with instant providers would make unlimited


def test_peak_per_second_counts_sliding_windows() -> None:
    assert peak_per_second([0.0, 0.5, 0.99, 1.0, 1.2, 5.0]) == 4  # 0.5 .. 1.2
    assert peak_per_second([0.0, 0.5, 0.99, 1.0, 1.2, 5.0], 10) == 6
    assert peak_per_second([]) == 0


def test_over_limit_names_the_window() -> None:
    f = Figures(ports=1, orders=1, workers=3, killed_at=0, seconds=1, limit=2, peak_calls_per_second=5, calls=5,
                mean_calls_per_second=5, busiest={1: 5, 5: 12})
    assert f.over_limit() == []  # 5 <= 2 x 2 + 1, 12 <= 2 x 6 + 1
    f.busiest = {1: 6, 5: 13}
    assert f.over_limit() == ["6 calls in 1 s (at most 5)"]


async def test_three_workers_one_killed_every_port_once_within_the_carrier_limit() -> None:
    # one partition, as deploy/ configures the carrier queue: each partition has its own bucket
    figures = await run(PORTS, workers=3, calls_per_second=LIMIT, partitions=1)
    print("\n" + "\n".join(figures.lines()))
    assert figures.duplicates and not any(figures.duplicates.values()), figures.duplicates
    assert not figures.over_limit(), figures.lines()
    assert figures.calls >= 2 * figures.orders  # a submission and an activation each, at least
    # the limit paced the run: unlimited, 3 workers make these calls within a second or two
    assert figures.busiest[10] >= 10 * LIMIT - LIMIT, figures.busiest
