"""The fault suite's bounded subset (``python -m faults --quick``, issue 12): one port through
the CLI on a dev server while its worker is SIGKILLed twice, the server is restarted on its
database and the carrier and the e-signature fail a fifth of their calls; beside an undisturbed run of the same
port. Fails on a duplicate (envelope, carrier submission, inventory row, mail), an end state
other than the undisturbed run's, a history that no longer replays, or a port that does not
complete. Under 90 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from faults.__main__ import parse
from faults.checks import duplicates

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.faults, pytest.mark.timeout(150)]


def test_a_duplicate_is_what_is_held_more_often_than_undisturbed() -> None:
    from collections import Counter

    run = Counter({"mail port_day to a@x about PR-1-1": 2, "envelope PR-1-1": 1, "mail escalation to ops": 2})
    base = Counter({"mail port_day to a@x about PR-1-1": 1, "envelope PR-1-1": 1, "mail escalation to ops": 2})
    assert duplicates(run, base) == ["mail port_day to a@x about PR-1-1: 2 (undisturbed: 1)"]


def test_quick_is_the_bounded_subset_and_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse(["--quick"])
    assert (args.ports, args.kills, args.restarts, args.timeout) == (1, 2, 1, 80.0)
    with pytest.raises(SystemExit):
        parse(["--fault-rate", "2"])
    assert "--fault-rate between 0 and 1" in capsys.readouterr().err


def test_the_quick_fault_run_finds_no_duplicate_and_the_same_end_state() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    # --timeout 150: the quick run's own 80 s budget was spent once by its undisturbed half
    # alone while make test's other process ran a demo beside it
    proc = subprocess.run([sys.executable, "-m", "faults", "--quick", "--timeout", "150"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    out = proc.stdout + proc.stderr
    assert "fault suite: seed " in out  # the seed is reported, so a failure can be repeated
    assert proc.returncode == 0, out[-5000:]
    assert "duplicates found  0 " in out and "same end state    yes" in out, out[-3000:]
    assert "histories replay  yes" in out, out[-3000:]
    assert "ports completed   1/1 disturbed" in out, out[-3000:]
    assert "Traceback" not in proc.stdout, out[-3000:]
