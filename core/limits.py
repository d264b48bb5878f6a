"""How long each activity may run, by name: its start-to-close timeout and, for those that
may run long, a heartbeat timeout (issue 12: a killed worker stalled a port ~60 s).

Short work (one row or a small computation) gets a start-to-close of a few seconds: a
worker killed during it is replaced at the next retry, seconds later. Work that may take
long (a carrier's, DocuSign's or a mail relay's answer; anything that grows with the number
count) gets a generous start-to-close and a heartbeat timeout of a few seconds: the activity
beats while it runs (``activities/keepalive.py``), so a dead worker is noticed within
:data:`HEARTBEAT` whatever the activity's length. The workflows read this table
(``workflows/common.py`` ``act``, ``workflows/port_order/waits.py`` ``Poll``); the worker
registers the activities that have a heartbeat through ``activities.keepalive.heartbeating``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

HEARTBEAT = timedelta(seconds=5)


@dataclass(frozen=True)
class Limits:
    start_to_close: timedelta
    heartbeat: timedelta | None = None


QUICK = Limits(timedelta(seconds=10))
LONG = Limits(timedelta(minutes=10), HEARTBEAT)

LIMITS: dict[str, Limits] = {
    # one row or a small computation
    "record_status": QUICK,
    "plan_dates": QUICK,
    "plan_project": QUICK,
    "gate_plan": QUICK,
    "explain_exceptions": QUICK,
    "case_due": QUICK,
    "case_maintenance_check": QUICK,
    "open_support_case": QUICK,  # one start (or describe) call on the Temporal server
    "webhook_failed": QUICK,
    # one HTTP request to a webhook receiver (PORTFLOW_WEBHOOK_TIMEOUT_SECONDS, at most 60 s)
    "deliver_webhook": LONG,
    # grows with the number count (10,000 numbers: several seconds on a busy machine)
    "record_request": LONG,
    "inventory_update": LONG,
    "assign_numbers": LONG,
    "split_order": LONG,
    "render_loa": LONG,
    "plan_reminders": LONG,
    # an outside system's answer (each has its own request timeouts and retries inside)
    "send_loa": LONG,
    "esign_status": LONG,
    "esign_poll": LONG,
    "void_envelope": LONG,
    "fetch_signed": LONG,
    "carrier_submit": LONG,
    "carrier_supplement": LONG,
    "carrier_cancel": LONG,
    "carrier_status": LONG,
    "carrier_poll": LONG,
    "carrier_activate": LONG,
    "verify_routing": LONG,
    "notify": LONG,
    "send_reminder": LONG,
}


def limits_of(name: str) -> Limits:
    """The limits of the activity ``name``; an activity missing from the table is a bug."""
    try:
        return LIMITS[name]
    except KeyError:
        raise KeyError(f"activity {name!r} has no limits: add it to core/limits.py LIMITS") from None
