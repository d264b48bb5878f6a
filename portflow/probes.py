"""What a worker shows its orchestrator: SDK metrics for Prometheus and a health endpoint.

``PORTFLOW_METRICS_PORT`` (0: off): the Temporal SDK's own metrics (task slots, poll and
schedule-to-start latencies, activity and workflow task failures, request latencies) in
Prometheus' text format at ``http://<PORTFLOW_PROBE_HOST>:<port>/metrics``, served by the SDK
core itself. ``PORTFLOW_HEALTH_PORT`` (0: off): ``GET /healthz`` answers 200 while this
worker runs and Temporal answers its health check, 503 otherwise, so a Kubernetes liveness
probe restarts a worker that lost Temporal (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.settings import Settings

log = logging.getLogger("portflow.probes")

HEALTH_TIMEOUT = 5.0  # seconds Temporal has to answer one health check


def metrics_runtime(s: Settings) -> Runtime | None:
    """A runtime exporting the SDK metrics on ``PORTFLOW_METRICS_PORT``; None when it is 0."""
    if not s.metrics_port:
        return None
    bind = f"{s.probe_host}:{s.metrics_port}"
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=bind)))
    except Exception as exc:  # the core raises a plain error when the port is taken
        raise RuntimeError(f"cannot serve metrics on {bind} ({exc}): free the port or change "
                           "PORTFLOW_METRICS_PORT (0 turns metrics off)") from None


async def temporal_healthy(client: Client) -> bool:
    try:
        return bool(await asyncio.wait_for(client.service_client.check_health(), HEALTH_TIMEOUT))
    except Exception:  # noqa: BLE001 - unreachable, refused, timed out: all unhealthy
        return False


async def serve_health(client: Client, s: Settings, running: Callable[[], bool]) -> asyncio.Server | None:
    """Start ``GET /healthz`` on ``PORTFLOW_HEALTH_PORT`` (None when it is 0). ``running``
    says whether the worker is still polling; both it and Temporal must be well for a 200."""
    if not s.health_port:
        return None

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            path = line.split()[1].decode() if len(line.split()) > 1 else ""
            if path != "/healthz":
                status, body = "404 Not Found", "GET /healthz\n"
            elif not running():
                status, body = "503 Service Unavailable", "worker stopped\n"
            elif not await temporal_healthy(client):
                status, body = "503 Service Unavailable", "Temporal unreachable\n"
            else:
                status, body = "200 OK", "ok\n"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n{body}".encode())
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    try:
        server = await asyncio.start_server(answer, s.probe_host, s.health_port)
    except OSError as exc:
        raise RuntimeError(f"cannot serve /healthz on {s.probe_host}:{s.health_port} ({exc.strerror}): free the "
                           "port or change PORTFLOW_HEALTH_PORT (0 turns it off)") from None
    log.info("health on http://%s:%d/healthz", s.probe_host, s.health_port)
    return server
