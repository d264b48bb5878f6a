"""worker.py in production: the SDK's Prometheus metrics are scraped from PORTFLOW_METRICS_PORT and
/healthz on PORTFLOW_HEALTH_PORT answers 200 while Temporal answers, 503 once it is gone (what
the Kubernetes liveness probe of deploy/k8s relies on)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


from devtools.servers import local_env
from tests.local_servers import free_ports
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[2]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


async def test_worker_serves_metrics_and_health_that_fails_without_temporal(tmp_path: Path) -> None:
    metrics_port, health_port = free_ports(2)
    env = await local_env(ui=False)
    worker_env = {**os.environ, "PORTFLOW_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                  "PORTFLOW_TEMPORAL_TASK_QUEUE": "probes", "PORTFLOW_WORKER_VERSIONING": "false",
                  "PORTFLOW_VAR_DIR": str(tmp_path / "var"), "PORTFLOW_METRICS_PORT": str(metrics_port),
                  "PORTFLOW_HEALTH_PORT": str(health_port)}
    stopped = False
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        health = f"http://127.0.0.1:{health_port}/healthz"
        await eventually(lambda: _get(health)[0] == 200, timeout=60, what="/healthz to answer 200")
        await eventually(lambda: "temporal_" in _get(f"http://127.0.0.1:{metrics_port}/metrics")[1],
                         timeout=30, what="SDK metrics on /metrics")
        status, text = _get(f"http://127.0.0.1:{metrics_port}/metrics")
        names = {line.split("{")[0].split()[0] for line in text.splitlines() if line and not line.startswith("#")}
        print(f"\n{len(names)} metric names scraped, e.g. {sorted(names)[:4]}")
        assert status == 200
        assert {"temporal_num_pollers", "temporal_worker_task_slots_available"} <= names, sorted(names)
        assert _get(f"http://127.0.0.1:{health_port}/other")[0] == 404

        stopped = True
        await env.shutdown()  # the worker loses Temporal: liveness must now fail
        await eventually(lambda: _get(health)[0] == 503, timeout=30, what="/healthz to answer 503 without Temporal")
        assert "Temporal unreachable" in _get(health)[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if not stopped:
            await env.shutdown()
        print((tmp_path / "worker.log").read_text()[-2000:] if proc.returncode not in (0, -15) else "")
