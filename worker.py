"""The portflow worker: one process hosting the port workflows and their activities.

    python worker.py            # connects per settings (PORTFLOW_TEMPORAL_*)

Stops cleanly on SIGTERM or Ctrl-C: running activities finish (up to a grace period),
workflows simply continue on the next worker.
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
from core.settings import get_settings
from portflow.deploy import this_version, version_warning
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


def build_worker(client: Client, *, task_queue: str | None = None, executor: ThreadPoolExecutor | None = None,
                 versioning: bool | None = None) -> Worker:
    """The worker with every workflow and activity (tests use this too). ``versioning``:
    run as a Worker Deployment version (default: ``PORTFLOW_WORKER_VERSIONING``)."""
    return Worker(
        client,
        task_queue=task_queue or get_settings().temporal_task_queue,
        workflows=WORKFLOWS,
        activities=all_activities(),
        activity_executor=executor or ThreadPoolExecutor(max_workers=16),
        workflow_runner=workflow_runner(),
        interceptors=INTERCEPTORS,  # status changes ride with activities (workflows.audit)
        graceful_shutdown_timeout=timedelta(seconds=10),
        # a dead worker's sticky queue holds its workflows' next task this long before any
        # worker may take it (SDK default 10 s): a killed worker's ports stall less
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
        deployment_config=deployment_config(versioning),
    )


async def main(client: Client | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    migrate()
    client = client or await connect()
    await sync_at_worker_start(client)  # the daily reminder sweep's schedule; a warning if it cannot be
    worker = build_worker(client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker polling task queue %r on %s", worker.task_queue, get_settings().temporal_address)
    async with worker:
        if worker.config().get("deployment_config") is not None:
            version = this_version()
            log.info("worker is build %s of Worker Deployment %r", version.build_id, version.deployment_name)
            warning = await version_warning(client)  # only the current (or ramping) build gets ports
            if warning:
                log.warning(warning)
        await stop.wait()
        log.info("shutting down")


if __name__ == "__main__":
    asyncio.run(main())
