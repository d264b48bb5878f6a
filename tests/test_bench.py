"""``python -m bench --quick`` on the cheap rows: every row prints a figure, a baseline or a
target, a ratio and its command. Benchmarks only print: no timing is ever asserted here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(120)
def test_quick_bench_prints_each_row_with_its_baseline_or_target_and_ratio(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    proc = subprocess.run([sys.executable, "-m", "bench", "history", "cli", "--quick", "--repeat", "1"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and not line.startswith("| row")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in rows]
    assert {c[0] for c in cells} == {"2", "7"}, proc.stdout
    for row, measure, figure, baseline, ratio, target, met, command in cells:
        assert figure and not figure.startswith("error"), (measure, figure)
        assert command.startswith("python -m bench"), measure
        if target != "-":  # a judged figure: its ratio and whether the target is met
            assert ratio.endswith(("x", "x of target")), (measure, ratio)
            assert met in ("met", "NOT met"), (measure, met)
        else:  # a figure shown for information (a history's size) has no target to judge
            assert "size" in measure, measure
    judged = [c for c in cells if c[5] != "-"]
    assert len(judged) == 5  # row 2: events of the order and of the request; row 7: three commands
    assert all(c[3] != "-" for c in judged if c[0] == "7")  # beside python -c pass
