"""A worker process for row 3: ``python -m bench.memworker ADDRESS TASK_QUEUE real|trivial``.

``real`` is ``worker.build_worker`` (every portflow workflow and activity); ``trivial`` the
same kind of worker (the same sandbox runner, default cache of 1,000 workflows) hosting
only the baseline workflows. Prints ``ready`` once polling; runs until terminated.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.worker import Worker

from portflow.temporal import connect
from bench.noop import BASELINE_ACTIVITIES, BASELINE_WORKFLOWS
from worker import build_worker, workflow_runner


async def main(address: str, task_queue: str, kind: str) -> None:
    client = await connect(address=address)
    if kind == "real":
        worker = build_worker(client, task_queue=task_queue, versioning=True)
    else:
        worker = Worker(client, task_queue=task_queue, workflows=BASELINE_WORKFLOWS, activities=BASELINE_ACTIVITIES,
                        workflow_runner=workflow_runner())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with worker:
        if kind == "real":  # a versioned worker gets work once its build is current
            from portflow.deploy import make_current_when_polling

            await make_current_when_polling(client, task_queue)
        print("ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
