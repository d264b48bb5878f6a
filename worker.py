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
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities import all_activities
from activities.audit import INTERCEPTORS
from core.settings import get_settings
from portflow.schedules import sync_at_worker_start
from portflow.temporal import connect
from store.db import migrate
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow
from workflows.reminders import ReminderSweepWorkflow

WORKFLOWS = [PortRequestWorkflow, PortOrderWorkflow, ReminderSweepWorkflow]
log = logging.getLogger("portflow.worker")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox, with the pure libraries the models use passed through (phonenumbers
    loads region data lazily behind a threading.Lock, which the sandbox refuses, so a fresh
    worker's first request failed its workflow task), and portflow's own deterministic
    modules: models, core and workflows. A sandbox re-imports every other module for each
    workflow it runs; passing workflows/ through took a waiting port from 251 to 151 KiB of
    worker memory (bench row 3). The sandbox then no longer checks workflows/ for clocks and
    I/O: tests/workflows/test_workflow_purity.py does."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "phonenumbers", "email_validator", "idna", "pydantic", "models", "core", "workflows"
        )
    )


def build_worker(client: Client, *, task_queue: str | None = None, executor: ThreadPoolExecutor | None = None) -> Worker:
    """The worker with every workflow and activity (tests use this too)."""
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
        await stop.wait()
        log.info("shutting down")


if __name__ == "__main__":
    asyncio.run(main())
