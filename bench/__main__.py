"""``python -m bench [ROW...] [--quick] [--repeat N] [--big]``: portflow's benchmarks.

Prints one table: each figure beside a baseline measured in the same run (as a ratio) or
the issue's target, whether the target is met, and the command that reproduces the row.
A row that fails prints its error in the table; the others still run. Everything the
benchmarks start (servers, workers, subprocesses) is stopped, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bench.harness import ROOT, Bench, Line, cmd

Row = Callable[[Bench], Awaitable[list[Line]]]

# name -> (the row number, module.function); imported when the row runs, so a
# row that cannot even be imported fails alone
ROWS = {
    "throughput": ("1", "lifecycle.throughput"),
    "history": ("2", "lifecycle.history"),
    "memory": ("3", "memory.memory"),
    "starts": ("4", "starts.starts"),
    "check": ("5", "bigrequest.check"),
    "bigstart": ("6", "bigrequest.big_start"),
    "cli": ("7", "cli.cli"),
}


def _row(name: str) -> Row:
    import importlib

    module, fn = ROWS[name][1].split(".")
    return getattr(importlib.import_module(f"bench.{module}"), fn)


COLUMNS = ("row", "measure", "figure", "baseline", "ratio", "target", "met", "reproduce")


def table(lines: list[Line]) -> str:
    cells = [COLUMNS] + [(l.row, l.measure, l.figure, l.baseline, l.ratio, l.target, l.met, l.command) for l in lines]
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    out = []
    for k, r in enumerate(cells):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if k == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=5).stdout.strip() or "?"
    except OSError:
        return "?"


async def run(names: list[str], b: Bench) -> list[Line]:
    lines: list[Line] = []
    try:
        for name in names:
            number = ROWS[name][0]
            t0 = time.perf_counter()
            print(f"... row {number} {name}", file=sys.stderr, flush=True)
            try:
                got = await _row(name)(b)
            except Exception as exc:  # noqa: BLE001 - a failing row is reported, the others still run
                traceback.print_exc(file=sys.stderr)
                got = [Line(number, name, f"error: {type(exc).__name__}: {str(exc)[:150]}", met="ERROR",
                            command=cmd(name, quick=b.quick))]
            lines += got
            print(f"    row {number} {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    finally:
        await b.close()
    return lines


def _quiet_sdk_logs() -> None:
    """The SDK core's warnings (the test server's missing capabilities, expired workflow
    tasks under load) would go to stdout between the table's lines: errors only."""
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(
        filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")))), error_if_already_set=False)


def main(argv: list[str] | None = None) -> int:
    known = ROWS
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    p.add_argument("rows", nargs="*", metavar="ROW", help=f"rows to run (default all): {', '.join(known)}")
    p.add_argument("--quick", action="store_true", help="small sizes (a smoke test, well under a minute per row)")
    p.add_argument("--repeat", type=int, default=3, help="runs per timed figure; the median is printed (default 3)")
    p.add_argument("--big", action="store_true", help="row 6 also runs a 50 accounts x 1,000 numbers request")
    args = p.parse_args(argv)
    unknown = [r for r in args.rows if r not in known]
    if unknown:
        p.error(f"unknown row(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    if not os.environ.get("PORTFLOW_PAYLOAD_KEYS"):
        # each row has its own var/: one payload key for the run, so its clients, workers and
        # CLI children (each reading its settings) all read what the others encrypted
        from core.payload_keys import new_key_entry

        os.environ["PORTFLOW_PAYLOAD_KEYS"] = new_key_entry("bench-run")
    names = args.rows or list(known)
    b = Bench(quick=args.quick, repeat=max(1, args.repeat), big=args.big)
    os.chdir(ROOT)
    _quiet_sdk_logs()
    try:
        lines = asyncio.run(run(names, b))
    except KeyboardInterrupt:  # everything started has been stopped on the way out
        print("interrupted: servers, workers and subprocesses stopped", file=sys.stderr)
        return 130
    print(f"portflow bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()}, "
          f"{'--quick, ' if args.quick else ''}median of {b.repeat}, {os.cpu_count()} cpu(s)")
    print(table(lines))
    for n in b.notes:
        print(f"- {n}")
    return 1 if any(l.met == "ERROR" for l in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
