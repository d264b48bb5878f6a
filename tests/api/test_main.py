"""``python -m api`` serves the app on the host and port the settings give."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.local_servers import free_ports
from tests.polling import eventually_sync

ROOT = Path(__file__).resolve().parents[2]


def test_python_m_api_listens_where_the_settings_say(tmp_path: Path) -> None:
    [port] = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTFLOW_")}
    env.update(PORTFLOW_API_HOST="127.0.0.1", PORTFLOW_API_PORT=str(port), PORTFLOW_VAR_DIR=str(tmp_path / "var"))
    proc = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def health() -> httpx.Response | None:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
                return None

        resp = eventually_sync(health, lambda r: r is not None, what=f"the API on port {port}", timeout=30)
        assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
