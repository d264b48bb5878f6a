"""A snapback opens a P1 support case, "ported numbers not routing" (seed 003), once per order
and trigger: the case is its own workflow (``workflows/support_case``) with the deterministic
id ``case-<order id>-<trigger>``, started by an activity that finds the existing case on a
retry or a second snapback of the same kind. Not a child workflow: a case outlives its order
(it is reopened and closed weeks later) and must not be tied to the order's runs
(continue-as-new) or its cancellation; an activity with a conflict policy keeps it separate and
idempotent at once.

Guarded by ``workflow.patched(PATCH)``: histories recorded before it replay unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.support import CaseInput, OpenCaseResult, Priority
    from workflows.common import LOCAL, act

if TYPE_CHECKING:
    from workflows.port_order.order import Order

PATCH = "support-case-on-snapback"
ACTIVATION_FAILED = "activation-failed"
VERIFICATION_FAILED = "verification-failed"


def case_id(order_id: str, trigger: str) -> str:
    return f"case-{order_id}-{trigger}"


async def open_p1(o: Order, trigger: str, why: str) -> None:
    """Open (or find) the order's P1 case for ``trigger``; the order's timeline names it."""
    if not workflow.patched(PATCH):
        return
    inp = CaseInput(case_id=case_id(o.id, trigger), customer_name=o.inp.customer_name, language=o.inp.language,
                    contact_email=o.inp.contact_email, priority=Priority.P1,
                    summary=f"ported numbers not routing ({trigger}): {why}"[:500], opened_by="system",
                    request_id=o.inp.request_id, order_id=o.id, trigger=trigger, pm_email=o.inp.options.pm_email,
                    ops_email=o.inp.options.ops_email, customer_timezone=o.inp.time_zone)
    res = await act("open_support_case", inp, OpenCaseResult, summary=f"P1 support case for {o.id} ({trigger})",
                    retry=LOCAL)
    o.note("system", f"P1 support case {res.case_id} {'opened' if res.started else 'already open'}: "
                     f"follow it with `starter.py case status {res.case_id}`")
