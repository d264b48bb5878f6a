"""``starter.py --help`` and ``starter.py check`` stay light: they never import the Temporal
client, SQLAlchemy/SQLModel, the workflows, the activities or the store.

Those cost about a second at every start; the command groups import them inside the
commands that use them. Each case runs ``starter.py`` in a fresh interpreter with
``-X importtime`` and reads which modules it imported (no timing is asserted: the machine
decides that, the imports do not change with it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A module is forbidden when its name is one of these or starts with one of them and a dot.
FORBIDDEN = ("temporalio.client", "sqlalchemy", "sqlmodel", "workflows", "activities", "store")


def imported_modules(*args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "starter.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }
    modules.discard("package")  # the header line: "import time: self [us] | cumulative | imported package"
    return modules, proc


def _forbidden(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("schedules", "--help"),
        ("deploy", "--help"),
        ("replay", "--help"),
        ("check", "examples/good-request.yaml"),
        ("check", "examples/good-request.csv"),
        ("check", "--json", "examples/bad-invalid-number.yaml"),
    ],
    ids=["help", "schedules-help", "deploy-help", "replay-help", "check", "check-csv", "check-json-refused"],
)
def test_light_commands_import_no_client_database_or_workflows(args: tuple[str, ...]) -> None:
    modules, proc = imported_modules(*args)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "typer" in modules, "no import trace read: is -X importtime still written to stderr?"
    bad = _forbidden(modules)
    assert not bad, (
        f"`starter.py {' '.join(args)}` imported {', '.join(bad[:12])}{' ...' if len(bad) > 12 else ''}: import these "
        "inside the command that uses them, so --help and check stay fast"
    )
