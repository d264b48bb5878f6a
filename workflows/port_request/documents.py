"""Intake and the documents stage: record the request, then wait for the CSR and bill under
the lead time (reminders 7, 3 and 1 days before they are due; the port date slips when they
are late, unless a PM expedites)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.status import PortStatus
    from models.workflow import RecordRequestInput, RequestRecorded, WaitingOn
    from workflows.common import LOCAL, act, fmt
    from workflows.port_request.request import at_midnight

if TYPE_CHECKING:
    from workflows.port_request.request import Request

S = PortStatus
REMIND_AFTER_SLIP = timedelta(days=2)


async def intake(r: Request) -> bool:
    """Record the request and claim its numbers; False (the request FAILED, the PM told) when
    the store refuses it, e.g. a number already in another port."""
    req = r.inp.request
    try:
        await act("record_request", RecordRequestInput(request=req, pm_email=r.inp.options.pm_email), RequestRecorded,
                  summary=f"record {req.id} and claim its {len(req.all_numbers)} numbers", retry=LOCAL)
    except ActivityError as err:
        why = str(err.cause.message if isinstance(err.cause, ApplicationError) else err.cause)
        r.set_next("PM fixes the request and starts it again", None, WaitingOn.PM)
        await r.move(S.FAILED, "system", f"intake refused: {why}")
        await r.notify("intake_failed", "escalation", [r.pm()], priority="P3", reason=f"intake refused: {why}",
                       stage="failed", waiting_on="pm", next_deadline="fix the request and start it again")
        return False
    r.audit.add(r.timeline[0])  # the request is saved now: its timeline starts with the next activity
    await r.replan()
    assert r.plan is not None
    await r.notify("received", "request_received", [r.contact(), r.pm()], requested_date=str(r.port_date),
                   number_count=len(req.all_numbers), documents_due=fmt(r.plan.documents_due_at),
                   missing_documents=r.missing())
    return True


async def stage(r: Request) -> None:
    """DOCUMENTS: until every order has its documents; then VALIDATED, the lead time kept."""
    opts = r.inp.options
    slipped = False
    sent: set[str] = set()
    while r.missing():
        if r.status == S.INTAKE:
            await r.move(S.DOCUMENTS, "system", "waiting for " + ", ".join(r.missing()))
        assert r.plan is not None
        now, due = workflow.now(), r.plan.documents_due_at
        if slipped:  # after a slip: remind every two days until they come
            wake = now + REMIND_AFTER_SLIP
        else:
            reminders = sorted(t for t in (due - timedelta(days=d) for d in opts.document_reminder_days)
                               if t > now and t.isoformat() not in sent)
            wake = min([*reminders[:1], due]) if due > now else (reminders[:1] or [now + REMIND_AFTER_SLIP])[0]
        r.set_next("customer sends " + ", ".join(r.missing()), due, WaitingOn.CUSTOMER)
        await r.publish()
        amends_seen = len(r.pre_amends)
        if await r.wait(lambda: not r.missing() or len(r.pre_amends) > amends_seen, wake,
                        f"documents due {fmt(due)}: " + ", ".join(r.missing())):
            continue
        now = workflow.now()
        if now >= due and not slipped and r.expedite is None:
            old = r.port_date
            await r.replan(documents_complete_at=now)
            assert r.plan is not None
            slipped = True
            await _slip(r, r.plan.earliest_port_date, f"documents late: port date moved from {old} to "
                                                     f"{r.plan.earliest_port_date} (3-week lead time)")
        else:
            sent.add(wake.isoformat())
            await r.notify(f"docs_missing:{wake.isoformat()}", "documents_missing", [r.contact()],
                           missing_documents=r.missing(), due_date=fmt(due), requested_date=str(r.port_date),
                           days_left=max(0, (due - workflow.now()).days))
    # documents complete: keep the lead time from this moment unless expedited
    if r.expedite is None:
        await r.replan(documents_complete_at=workflow.now())
        assert r.plan is not None
        if r.plan.earliest_port_date > r.port_date:
            await _slip(r, r.plan.earliest_port_date,
                        f"documents completed late: port date moved from {r.port_date} to {r.plan.earliest_port_date}")
    why = "documents complete" + (f"; expedited by {r.expedite.actor}: {r.expedite.reason}" if r.expedite else "")
    await r.move(S.VALIDATED, "system", why)


async def _slip(r: Request, new_date, reason: str) -> None:
    """The port date moves to ``new_date``: the plan (due date, reminders) follows, people are told."""
    old, r.port_date = r.port_date, new_date
    await r.replan()  # the due date of the new port date, for the status and reminders
    r.note("system", reason)
    r.sa.update(port_date=at_midnight(r.port_date))
    await r.notify(f"slip:{r.port_date}", "date_slipped", [r.contact(), r.pm()], old_date=str(old),
                   new_date=str(r.port_date), missing_documents=r.missing())
