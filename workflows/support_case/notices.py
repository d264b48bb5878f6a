"""A case's mail: the customer hears of the case and of each move in their language
(``case_opened``, ``case_update``); the PM and ops hear of a missed target (``case_escalation``).
Each mail has its own key, so a retried activity never sends one twice."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.notify import Audience
    from models.support import TARGETS
    from workflows.common import notify

if TYPE_CHECKING:
    from workflows.support_case.case import Case


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


async def _send(c: Case, key: str, template: str, to: list[tuple[Audience, str, str]], **ctx: Any) -> None:
    await notify(f"{c.id}:{key}", template, to, request_id=c.inp.request_id or c.id, order_id=c.id,
                 language=c.inp.language, customer_name=c.inp.customer_name, case_id=c.id,
                 summary=c.inp.summary, time_zone=c.inp.customer_timezone or c.inp.support_timezone, **ctx)


def _customer(c: Case) -> tuple[Audience, str, str]:
    return (Audience.CUSTOMER, c.inp.contact_email, c.inp.customer_name)


def _staff(c: Case) -> list[tuple[Audience, str, str]]:
    return [(Audience.PM, c.inp.pm_email, "PM"), (Audience.OPS, c.inp.ops_email, "Ops")]


async def opened(c: Case) -> None:
    """The customer (and the PM) learn the case id, its priority and when to expect an answer."""
    await _send(c, "opened", "case_opened", [_customer(c), _staff(c)[0]], case_priority=c.priority.value,
                first_response_utc=_iso(c.first_due))


async def moved(c: Case) -> None:
    """The customer hears of the case's last move (response, update, waiting, resolved, reopened, closed)."""
    last = c.history[-1]
    await _send(c, f"update:{len(c.history)}", "case_update", [_customer(c)], case_priority=c.priority.value,
                # a person's note as written; the system's own (English) reasons are said by the template
                case_state=c.state.value, action=last.action, note=None if last.by == "system" else last.note,
                next_update_utc=_iso(c.next_update_due if c.state.value == "in_progress" else None),
                reopen_until_utc=_iso(c.reopen_until() if c.state.value == "resolved" else None))


async def escalate(c: Case, what: str, due: datetime) -> None:
    """A missed target: the PM and ops, with what was due, when, and the round."""
    c.overdue += 1
    reason = f"{what} overdue (due {due:%Y-%m-%d %H:%M} UTC, round {c.overdue})"
    c.escalations.append(f"{c.priority.value}: {reason}")
    c.record("system", "escalate", reason)
    await notify(f"{c.id}:escalation:{len(c.escalations)}", "case_escalation", _staff(c),
                 request_id=c.inp.request_id or c.id, order_id=c.id, priority=c.priority.value,
                 customer_name=c.inp.customer_name, case_id=c.id, summary=c.inp.summary, reason=reason,
                 case_state=c.state.value, target=TARGETS[c.priority].label, port_order=c.inp.order_id,
                 contact_email=c.inp.contact_email, overdue=c.overdue)
