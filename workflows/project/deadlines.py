"""A project's mail about its milestones: a reminder to whoever owns a task before it is due,
an escalation to the IPM and ops once it is late. Each at most once per task (the notify
activity keeps a ledger by key, so a retried activity sends nothing twice)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.notify import Audience
    from models.project import ProjectTask
    from workflows.common import notify
    from workflows.project.state import Project


def _context(p: Project, t: ProjectTask) -> dict[str, Any]:
    return dict(
        request_id=workflow.info().workflow_id,
        customer_name=p.spec.customer.name,
        project_id=p.spec.id,
        task_id=t.id,
        task_title=t.title,
        phase=t.phase.value,
        owner=t.owner.value,
        due_utc=t.due_at.isoformat() if t.due_at else None,
        time_zone=p.spec.time_zone,
        ipm_name=p.spec.ipm.name,
    )


async def remind(p: Project, t: ProjectTask) -> None:
    audience, address, name = p.owner_address(t.owner)
    language = p.spec.customer.language if audience == "customer" else "en"
    await notify(f"{workflow.info().workflow_id}:remind:{t.id}", "project_reminder",
                 [(Audience(audience), address, name)], language=language, **_context(p, t))
    t.reminded = True


async def escalate(p: Project, t: ProjectTask) -> None:
    to = [(Audience.PM, str(p.spec.ipm.email), p.spec.ipm.name)]
    if p.ops_email():
        to.append((Audience.OPS, p.ops_email(), "Ops"))
    await notify(f"{workflow.info().workflow_id}:late:{t.id}", "project_escalation", to,
                 **_context(p, t), open_tasks=[x.id for x in p.current()])
    t.escalated = True


async def send_due(p: Project) -> int:
    """Send what is due now; how many mails went out."""
    remind_now, late_now = p.due_events(workflow.now())
    for t in remind_now:
        await remind(p, t)
    for t in late_now:
        await escalate(p, t)
    return len(remind_now) + len(late_now)
