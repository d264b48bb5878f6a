"""Task queues: the carrier API calls run on a queue of their own, next to the workflow's.

Temporal rate-limits a task queue for all its workers together
(``max_task_queue_activities_per_second``): the carrier calls therefore get their own queue,
``<workflow task queue>-carrier``, so ``PORTFLOW_CARRIER_CALLS_PER_SECOND`` holds however many
workers run and the rest of the work is never slowed by it. The name follows the workflow's
queue (deterministic, no setting a workflow would have to read), and every worker polls both.
"""

from __future__ import annotations

# The activities that call a carrier's API (activities/carrier.py); explain_exceptions is local.
CARRIER_API_ACTIVITIES = frozenset({
    "carrier_submit", "carrier_supplement", "carrier_cancel", "carrier_status", "carrier_poll", "carrier_activate",
})


def carrier_queue_of(task_queue: str) -> str:
    return f"{task_queue}-carrier"


def activity_queue(name: str, workflow_task_queue: str) -> str | None:
    """Where activity ``name`` runs: the carrier queue for carrier API calls, else the workflow's
    own queue (None: Temporal's default, the workflow's)."""
    return carrier_queue_of(workflow_task_queue) if name in CARRIER_API_ACTIVITIES else None
