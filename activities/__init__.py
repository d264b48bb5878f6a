"""Activities: every side effect of the port workflows, one module per external system.

Each is idempotent under retry (keyed on workflow data, looked up before created) and
classifies its failures: ``ApplicationError(non_retryable=True)`` for what a person must
fix, plain exceptions (retried by the workflow's policy) for what time may fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def all_activities() -> list[Callable[..., Any]]:
    """Every activity, those with a heartbeat timeout (``core/limits.py``) beating while they run."""
    from activities import calendar, carrier, esign, intake, inventory, loa, notify, project, reminders, support, verify, webhooks
    from activities.keepalive import heartbeating
    from core.limits import limits_of

    defined = [
        intake.record_request,
        intake.record_status,
        calendar.plan_dates,
        calendar.gate_plan,
        inventory.inventory_update,
        inventory.assign_numbers,
        inventory.split_order,
        loa.render_loa,
        esign.send_loa,
        esign.esign_status,
        esign.esign_poll,
        esign.void_envelope,
        esign.fetch_signed,
        carrier.carrier_submit,
        carrier.carrier_supplement,
        carrier.carrier_cancel,
        carrier.carrier_status,
        carrier.carrier_poll,
        carrier.carrier_activate,
        carrier.explain_exceptions,
        notify.notify,
        reminders.plan_reminders,
        reminders.send_reminder,
        verify.verify_routing,
        project.plan_project,
        support.case_due,
        support.case_maintenance_check,
        support.open_support_case,
        webhooks.deliver_webhook,
        webhooks.webhook_failed,
    ]
    return [heartbeating(fn) if limits_of(_name(fn)).heartbeat else fn for fn in defined]


def _name(fn: Callable[..., Any]) -> str:
    from temporalio import activity

    return activity._Definition.must_from_callable(fn).name
