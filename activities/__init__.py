"""Activities: every side effect of the port workflows, one module per external system.

Each is idempotent under retry (keyed on workflow data, looked up before created) and
classifies its failures: ``ApplicationError(non_retryable=True)`` for what a person must
fix, plain exceptions (retried by the workflow's policy) for what time may fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def all_activities() -> list[Callable[..., Any]]:
    from activities import calendar, carrier, esign, intake, inventory, loa, notify, reminders, verify

    return [
        intake.record_request,
        intake.record_status,
        calendar.plan_dates,
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
    ]
