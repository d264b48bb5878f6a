"""Building project specs and driving ImplementationWorkflow in tests."""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from core.calendar import PortCalendar
from models.project import Phase, ProjectSpec, ProjectView, workflow_id
from portflow import projects
from tests.polling import eventually
from workflows.project import ImplementationWorkflow

PM = "irene@provider.example"
_count = 0


def business_day(start: date, days: int) -> date:
    return PortCalendar.from_settings().add_business_days(start, days)


def project_spec(today: date, *, go_live: date | None = None, **over: Any) -> ProjectSpec:
    """A project whose phases fall on business days after ``today`` (the server's date)."""
    global _count
    _count += 1
    go_live = go_live or business_day(today, 25)
    data: dict[str, Any] = {
        "id": f"T{_count}-{today:%m%d}-{id(over) % 10000}",
        "customer": {"name": "Contoso Dental", "language": "es"},
        "contact": {"name": "Ana Ruiz", "email": "ana@contoso.example"},
        "ipm": {"name": "Irene Park", "email": PM},
        "ops_email": "ops@provider.example",
        "time_zone": "America/New_York",
        "timeline": {"initiate": business_day(today, 3), "kick_off": business_day(today, 6),
                     "build": business_day(today, 15), "go_live": go_live,
                     "post_go_live": business_day(go_live, 5), "acceptance": business_day(go_live, 10)},
    }
    data.update(over)
    return ProjectSpec.model_validate(data)


async def start(client: Client, spec: ProjectSpec) -> WorkflowHandle:
    return await projects.start_project(client, spec, started_by=PM)


async def view(client: Client, spec: ProjectSpec) -> ProjectView:
    return await client.get_workflow_handle(workflow_id(spec.id)).query(ImplementationWorkflow.status)


async def wait_project(client: Client, spec: ProjectSpec, pred: Callable[[ProjectView], bool], *, what: str,
                       timeout: float = 30.0) -> ProjectView:
    return await eventually(lambda: view(client, spec), pred, what=f"{spec.id}: {what}", timeout=timeout,
                            show=lambda v: f"phase {v.phase}: {v.model_dump_json(indent=1)[:3000]}")


async def finish_phase(client: Client, spec: ProjectSpec, phase: Phase, *, skip: tuple[str, ...] = ()) -> ProjectView:
    """Complete every open task of ``phase`` (but ``skip``) and wait for the next phase."""
    v = await view(client, spec)
    assert v.phase == phase, (v.phase, phase)
    for t in [t for t in v.tasks if t.phase == phase and not t.done and t.id not in skip]:
        ack = await projects.complete_task(client, spec.id, t.id, by=PM, note=f"{t.id} done")
        assert ack.task == t.id and ack.done_by == PM and t.id not in ack.open_tasks
    return await view(client, spec)


def mails(var: Path) -> list[email.message.Message]:
    return [email.message_from_bytes(p.read_bytes()) for p in sorted((var / "outbox").glob("*.eml"))]


def subjects(var: Path) -> list[str]:
    from email.header import decode_header, make_header

    return [" ".join(str(make_header(decode_header(m["Subject"]))).split()) for m in mails(var)]


async def skip(env: WorkflowEnvironment, days: float) -> None:
    await env.sleep(timedelta(days=days))
