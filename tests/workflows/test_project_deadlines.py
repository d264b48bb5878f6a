"""A project's deadlines on the time-skipping server: a reminder before a milestone is due,
an escalation once it is late (each once), in the project's language for the customer."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from temporalio.client import WorkflowUpdateFailedError

from models.project import AttachPort, Phase, workflow_id
from portflow import projects
from tests.settings_helpers import use_settings
from tests.workflows.helpers import record_histories, search_attributes
from tests.workflows.project_helpers import PM, finish_phase, mails, project_spec, start, subjects, view, wait_project
from worker import build_worker
from workflows.project import ImplementationWorkflow


@pytest.fixture
def settings_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_settings(monkeypatch, TEMPORAL_TASK_QUEUE=task_queue, OPS_EMAIL="ops@provider.example")
    return port_var


def _to(var: Path, prefix: str) -> list[str]:
    return sorted(m["To"] for m, s in zip(mails(var), subjects(var), strict=True) if s.startswith(prefix))


async def test_a_late_milestone_is_reminded_then_escalated(env: WorkflowEnvironment, settings_env: Path) -> None:
    today = (await env.get_current_time()).date()
    spec = project_spec(today, reminder_days=1)
    wid = workflow_id(spec.id)
    async with build_worker(env.client):
        await start(env.client, spec)
        v = await wait_project(env.client, spec, lambda v: all(t.due_at for t in v.tasks), what="planned")
        first = v.open_tasks()[0]
        assert first.remind_at is not None and first.remind_at < first.due_at
        assert v.next_due_at == first.due_at
        assert (await search_attributes(env.client, wid))["NextDeadline"].startswith(first.due_at.strftime("%Y-%m-%dT%H:%M"))
        assert not subjects(settings_env)

        # past the reminder (09:00 New York, one business day before), not yet due
        now = await env.get_current_time()
        await env.sleep(first.remind_at - now + (first.due_at - first.remind_at) / 2)
        v = await wait_project(env.client, spec, lambda v: all(t.reminded for t in v.open_tasks()), what="reminded")
        assert not v.escalated
        reminders = [s for s in subjects(settings_env) if s.startswith("Reminder:")]
        assert len(reminders) == 5, subjects(settings_env)  # the IPM owns the five initiate tasks: English
        assert not any(s.startswith("Late milestone") for s in subjects(settings_env))

        # past the due time: each open task escalates once, to the IPM and ops
        now = await env.get_current_time()
        await env.sleep(first.due_at - now + (first.due_at - first.remind_at))
        v = await wait_project(env.client, spec, lambda v: len(v.escalated) == 5, what="escalated")
        late = [s for s in subjects(settings_env) if s.startswith("Late milestone")]
        assert len(late) == 5 and any("ipm_assigned" in s for s in late), late
        assert all("ops@provider.example" in to and PM in to for to in _to(settings_env, "Late milestone"))
        assert (await search_attributes(env.client, wid))["Escalated"] is True
        await env.sleep(first.due_at - first.remind_at)
        assert len([s for s in subjects(settings_env) if s.startswith("Late milestone")]) == 5  # once each

        # the IPM catches up: the phase moves on and the escalation clears
        v = await finish_phase(env.client, spec, Phase.INITIATE)
        v = await wait_project(env.client, spec, lambda v: v.phase == Phase.KICK_OFF, what="kick-off")
        assert not v.escalated and (await search_attributes(env.client, wid))["Escalated"] is False
        # the customer's kick-off task is reminded in the customer's language (es)
        sow = next(t for t in v.open_tasks() if t.id == "sow_agreed")
        now = await env.get_current_time()
        await env.sleep(sow.remind_at - now + (sow.due_at - sow.remind_at) / 2)
        await wait_project(env.client, spec, lambda v: all(t.reminded for t in v.open_tasks()), what="kick-off reminded")
        assert _to(settings_env, "Recordatorio:") == ["Ana Ruiz <ana@contoso.example>"], subjects(settings_env)
        await record_histories(env.client, "project_late_milestone", [wid])


async def test_project_refusals_and_an_attached_port(env: WorkflowEnvironment, settings_env: Path) -> None:
    from models.project import PORTS_TASK
    from tests.workflows.helpers import sample_request
    from tests.workflows.helpers import start as start_port

    today = (await env.get_current_time()).date()
    spec = project_spec(today, skip_tasks=["introduction_email"])
    async with build_worker(env.client):
        await start(env.client, spec)
        with pytest.raises(projects.ProjectRefused, match="already started"):
            await start(env.client, spec)
        v = await view(env.client, spec)
        assert "introduction_email" not in [t.id for t in v.tasks]
        with pytest.raises(projects.ProjectRefused, match="no task 'kickoff'.*open tasks of initiate: ipm_assigned"):
            await projects.complete_task(env.client, spec.id, "kickoff", by=PM)
        await projects.complete_task(env.client, spec.id, "ipm_assigned", by=PM, note="Irene")
        with pytest.raises(projects.ProjectRefused, match="ipm_assigned was already done by irene@provider.example"):
            await projects.complete_task(env.client, spec.id, "ipm_assigned", by=PM)
        with pytest.raises(projects.ProjectRefused, match="no port PR-2099-0001"):
            await projects.attach_port(env.client, spec.id, "PR-2099-0001", by=PM)
        with pytest.raises(projects.ProjectRefused, match="no project NOPE"):
            await projects.complete_task(env.client, "NOPE", "ipm_assigned", by=PM)

        # a port that already runs is attached and followed by id
        req = sample_request(accounts=1)
        port = await start_port(env.client, req)
        link = await projects.attach_port(env.client, spec.id, req.id, by=PM)
        assert (link.request_id, link.how, link.by) == (req.id, "attached", PM)
        assert [(p.request_id, p.how) for p in (await view(env.client, spec)).ports] == [(req.id, "attached")]
        with pytest.raises(projects.ProjectRefused, match="already part of project"):
            await projects.attach_port(env.client, spec.id, req.id, by=PM)
        for phase in (Phase.INITIATE, Phase.KICK_OFF, Phase.BUILD):
            await finish_phase(env.client, spec, phase)
        await finish_phase(env.client, spec, Phase.GO_LIVE, skip=(PORTS_TASK,))
        page = await projects.status(env.client, spec.id)
        assert page.ports[0].stage == "documents" and page.ports[0].waiting_on == "customer"
        with pytest.raises(projects.ProjectRefused, match=f"port {req.id} has not ended \\(it is documents\\)"):
            await projects.complete_task(env.client, spec.id, PORTS_TASK, by=PM)
        await port.execute_update("cancel", {"actor": PM, "reason": "the customer keeps these numbers"})
        with pytest.raises(projects.ProjectRefused, match="ended cancelled: say in --note why"):
            await projects.complete_task(env.client, spec.id, PORTS_TASK, by=PM)
        ack = await projects.complete_task(env.client, spec.id, PORTS_TASK, by=PM, note="numbers stay with Lumen")
        assert ack.phase == Phase.GO_LIVE and not ack.open_tasks  # answered before the run loop moves on
        v = await wait_project(env.client, spec, lambda v: v.phase == Phase.POST_GO_LIVE, what="post go-live")
        assert v.ports[0].outcome == "cancelled"
        await finish_phase(env.client, spec, Phase.POST_GO_LIVE)
        await wait_project(env.client, spec, lambda v: v.phase == Phase.ACCEPTANCE, what="acceptance")
        # (straight to the workflow: the time-skipping server cannot describe the cancelled port)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await env.client.get_workflow_handle(workflow_id(spec.id)).execute_update(
                ImplementationWorkflow.attach_port, AttachPort(request_id="PR-2099-0002", by=PM))
        assert "is in acceptance: its go-live has passed" in str(err.value.cause)
