"""``python -m api`` serves the app on the host and port the settings give."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_python_m_api_listens_where_the_settings_say(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update(PORTFLOW_API_HOST="127.0.0.1", PORTFLOW_API_PORT=str(port), PORTFLOW_VAR_DIR=str(tmp_path / "var"))
    proc = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
                assert time.monotonic() < deadline, "the API did not answer within 30 s"
                time.sleep(0.2)
        assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
