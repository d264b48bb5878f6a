"""What both port workflows do the same way, written once.

A :class:`Lifecycle` is a status with its timeline (moves checked against a transition
table, audited through ``workflows.audit``), the next step and whom it waits on, waits that a
cancel interrupts, mail to the people of the port and the port-date calendar. The request
and each order keep one, with their own subject, table, mail context and publishing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.notify import Audience
    from models.status import PortStatus, StatusChange, transition
    from models.workflow import Cancel, Deadline, PlanDatesInput, PortPlan, WaitingOn
    from workflows.audit import FLUSH_ACTIVITY, AuditTrail
    from workflows.common import LOCAL, SearchState, act, notify

Recipient = tuple[Audience, str, str]


class CancelNow(Exception):
    """Raised out of a wait once a cancel was accepted: unwinds to the cancel path."""


class Lifecycle:
    """The status, timeline and next step of one port workflow (a request or an order)."""

    def __init__(self, subject: str, status: PortStatus, table: Mapping[PortStatus, frozenset[PortStatus]],
                 pm_email: str) -> None:
        self.subject = subject
        self.status = status
        self.table = table
        self.pm_email = pm_email
        self.timeline: list[StatusChange] = []
        self.next = Deadline(what="starting")
        self.stage_since: datetime = workflow.now()
        self.cancel_req: Cancel | None = None
        self.sa = SearchState()
        self.audit = AuditTrail()
        # True while run() waits (or has ended): what changes then is published at once;
        # while run() works, publishing to others waits for its next wait (see settle)
        self.idle = False

    # ------------------------------------------------------------------ status
    async def move(self, to: PortStatus, actor: str, reason: str) -> None:
        """Change status (checked against the table), audit it and publish the new state."""
        change = transition(self.status, to, subject=self.subject, actor=actor, reason=reason,
                            at=workflow.now(), table=self.table)
        self.status = to
        self.stage_since = change.at
        self.timeline.append(change)
        self.audit.add(change)  # the store hears of it with the next activity (workflows.audit)
        await self.publish()

    async def settle(self) -> None:
        """Before a wait: the store and whoever follows this workflow learn where it stands,
        once for all the moves since the last wait."""
        await self.flush_audit()
        await self.send_pending()

    async def send_pending(self) -> None:
        """Send what publishing held back while run() worked (an order's view to its request)."""

    async def flush_audit(self) -> None:
        """Write the changes no activity carries now (before a wait, at the end)."""
        if not self.audit.unsent():
            return
        batch = self.audit.take()
        try:
            await act(FLUSH_ACTIVITY, self.audit.payload(batch), type(None),
                      summary=f"timeline: {', '.join(str(e.change.to_status) for e in batch)}", retry=LOCAL)
        except BaseException:
            self.audit.settled(batch, ok=False)
            raise
        self.audit.settled(batch, ok=True)

    def note(self, actor: str, reason: str) -> None:
        """A timeline entry that does not change the status (amends, approvals, FOC moves)."""
        self.timeline.append(StatusChange(subject=self.subject, from_status=self.status, to_status=self.status,
                                          actor=actor, reason=reason, at=workflow.now()))

    def set_next(self, what: str, due: datetime | None, who: WaitingOn) -> None:
        self.next = Deadline(what=what, due_at=due, waiting_on=who)

    async def publish(self) -> None:
        """Show the current state to ops (search attributes, details): each workflow's own."""
        raise NotImplementedError

    # ------------------------------------------------------------------ waiting
    async def wait(self, cond: Callable[[], bool], until: datetime | None, summary: str, *,
                   interruptible: bool = True) -> bool:
        """Wait for ``cond`` or until ``until`` (None: no limit); True when ``cond`` holds.
        An accepted cancel interrupts an ``interruptible`` wait with :class:`CancelNow`."""
        timeout = None
        if until is not None:
            timeout = until - workflow.now()
            if timeout <= timedelta(0):
                return bool(cond())
        cancelled = (lambda: self.cancel_req is not None) if interruptible else (lambda: False)
        if not (cond() or cancelled()):
            await self.settle()
        self.idle = True
        try:
            await workflow.wait_condition(lambda: cond() or cancelled(), timeout=timeout,
                                          timeout_summary=summary[:200])
        except asyncio.TimeoutError:
            return False
        finally:
            self.idle = False
        if cancelled():
            raise CancelNow()
        return True

    # ------------------------------------------------------------------ mail
    def pm(self) -> Recipient:
        return (Audience.PM, self.pm_email, "PM")

    def mail_context(self) -> dict[str, Any]:
        """What every mail of this workflow says about the port (request id, language...)."""
        raise NotImplementedError

    async def notify(self, key: str, template: str, to: list[Recipient], **ctx: Any) -> None:
        """One mail, at most once per ``key`` within this workflow's subject."""
        await notify(f"{self.subject}:{key}", template, to, **{**self.mail_context(), **ctx})

    # ------------------------------------------------------------------ calendar
    @staticmethod
    async def plan_dates(inp: PlanDatesInput, summary: str) -> PortPlan:
        """The port-date calendar (holidays and time zones live in the activity)."""
        return await act("plan_dates", inp, PortPlan, summary=summary, retry=LOCAL)
