"""The portflow worker: one process hosting the port workflows and their activities.

    python worker.py            # connects per settings (PORTFLOW_TEMPORAL_*)

Stops cleanly on SIGTERM or Ctrl-C: running activities finish (up to
``PORTFLOW_WORKER_SHUTDOWN_SECONDS``), workflows simply continue on the next worker. In
production it also serves the SDK metrics (``PORTFLOW_METRICS_PORT``) and ``/healthz``
(``PORTFLOW_HEALTH_PORT``): ``portflow/probes.py``, docs/deploy.md.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities import all_activities
from activities.audit import INTERCEPTORS
from activities.webhook_dispatch import WebhookDispatchInterceptor, dispatch_left_over
from core.queues import CARRIER_API_ACTIVITIES, carrier_queue_of
from core.settings import get_settings
from portflow.deploy import this_version, version_warning
from portflow.probes import metrics_runtime, serve_health
from portflow.runtime import WORKFLOWS, build_replayer, workflow_runner  # noqa: F401 - tests import them from here
from portflow.schedules import sync_at_worker_start
from portflow.temporal import connect
from store.db import migrate

log = logging.getLogger("portflow.worker")


def deployment_config(versioning: bool | None = None) -> WorkerDeploymentConfig | None:
    """This worker as a version of the Worker Deployment (``PORTFLOW_WORKER_DEPLOYMENT_NAME``,
    build ``PORTFLOW_WORKER_BUILD_ID`` or ``portflow-<package version>``); None when
    ``PORTFLOW_WORKER_VERSIONING`` is off (the time-skipping test server has no deployments).

    No default versioning behavior: each workflow declares its own (``@workflow.defn``), and
    the SDK fails the task of one that does not, so none is versioned by accident."""
    if not (get_settings().worker_versioning if versioning is None else versioning):
        return None
    return WorkerDeploymentConfig(version=this_version(), use_worker_versioning=True)


class Workers:
    """The process's two Temporal workers, run and stopped together: every workflow and activity
    on the task queue, and the carrier API calls on ``<task queue>-carrier`` under the rate limit
    ``PORTFLOW_CARRIER_CALLS_PER_SECOND`` that the server enforces across all workers
    (``core/queues.py``). Used like one ``Worker``: ``async with build_worker(client): ...``."""

    def __init__(self, main: Worker, carrier: Worker) -> None:
        self.main, self.carrier = main, carrier

    @property
    def task_queue(self) -> str:
        return self.main.task_queue

    def config(self) -> dict:
        return self.main.config()

    async def __aenter__(self) -> Workers:
        await self.main.__aenter__()
        try:
            await self.carrier.__aenter__()
        except BaseException:
            await self.main.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(self.carrier.__aexit__(*exc), self.main.__aexit__(*exc))

    async def shutdown(self) -> None:
        await asyncio.gather(self.carrier.shutdown(), self.main.shutdown())


def build_worker(client: Client, *, task_queue: str | None = None, executor: ThreadPoolExecutor | None = None,
                 versioning: bool | None = None) -> Workers:
    """The workers with every workflow and activity (tests use this too). ``versioning``:
    run as a Worker Deployment version (default: ``PORTFLOW_WORKER_VERSIONING``). The main
    queue keeps the carrier activities too: ports scheduled them there before the carrier queue."""
    s = get_settings()
    queue = task_queue or s.temporal_task_queue
    executor = executor or ThreadPoolExecutor(max_workers=16)
    # status changes ride with activities; then their webhook deliveries start (activities/webhook_dispatch.py)
    common = dict(activity_executor=executor, interceptors=[*INTERCEPTORS, WebhookDispatchInterceptor(client, queue)],
                  graceful_shutdown_timeout=timedelta(seconds=s.worker_shutdown_seconds),
                  # a dead worker's sticky queue holds its workflows' next task this long before any
                  # worker may take it (SDK default 10 s): a killed worker's ports stall less
                  sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
                  deployment_config=deployment_config(versioning))
    activities = all_activities()
    main = Worker(client, task_queue=queue, workflows=WORKFLOWS, activities=activities,
                  workflow_runner=workflow_runner(), **common)
    carrier = Worker(client, task_queue=carrier_queue_of(queue),
                     activities=[a for a in activities if _name(a) in CARRIER_API_ACTIVITIES],
                     max_task_queue_activities_per_second=s.carrier_calls_per_second, **common)
    return Workers(main, carrier)


def _name(fn) -> str:  # noqa: ANN001
    from temporalio import activity

    return activity._Definition.must_from_callable(fn).name


async def main(client: Client | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    migrate()
    settings = get_settings()
    if client is None:
        client = await connect(runtime=metrics_runtime(settings))
        if settings.metrics_port:
            log.info("SDK metrics on http://%s:%d/metrics", settings.probe_host, settings.metrics_port)
    await sync_at_worker_start(client)  # the daily reminder sweep's schedule; a warning if it cannot be
    worker = build_worker(client)
    await dispatch_left_over(client, worker.task_queue)  # webhook deliveries whose start failed earlier
    stop = asyncio.Event()
    health = await serve_health(client, settings, running=lambda: not stop.is_set())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling task queues %r and %r (carrier calls at most %g/s) on %s", worker.task_queue,
             worker.carrier.task_queue, settings.carrier_calls_per_second, settings.temporal_address)
    async with worker:
        if worker.config().get("deployment_config") is not None:
            version = this_version()
            log.info("worker is build %s of Worker Deployment %r", version.build_id, version.deployment_name)
            warning = await version_warning(client)  # only the current (or ramping) build gets ports
            if warning:
                log.warning(warning)
        await stop.wait()
        log.info("shutting down")
        if health is not None:
            health.close()


if __name__ == "__main__":
    asyncio.run(main())
