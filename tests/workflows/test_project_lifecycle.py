"""ImplementationWorkflow on the time-skipping server: a project through every phase with its
port, and a project without ports."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models.project import FORWARDING_TASK, PHASES, PORTS_TASK, Phase, workflow_id
from models.status import PortStatus
from portflow import ports, projects
from tests.settings_helpers import use_settings
from tests.workflows.helpers import attach_all, current_details, record_histories, sample_request, search_attributes, sign_all, wait_for
from tests.workflows.project_helpers import PM, finish_phase, project_spec, start, view, wait_project
from worker import build_worker


@pytest.fixture
def settings_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_settings(monkeypatch, TEMPORAL_TASK_QUEUE=task_queue, VERIFICATION="auto")
    return port_var


async def test_a_project_without_ports_closes(env: WorkflowEnvironment, settings_env: Path) -> None:
    today = (await env.get_current_time()).date()
    spec = project_spec(today)
    async with build_worker(env.client):
        handle = await start(env.client, spec)
        v = await wait_project(env.client, spec, lambda v: v.tasks[0].due_at is not None, what="planned")
        assert v.phase == Phase.INITIATE and len(v.open_tasks()) == 5
        assert (await search_attributes(env.client, workflow_id(spec.id)))["PortflowProjectPhase"] == "initiate"
        details = await current_details(env.client, workflow_id(spec.id))  # what the Temporal UI shows
        assert details.startswith("**initiate** · Contoso Dental") and "- [ ] ipm_assigned (ipm) due" in details
        for phase in PHASES[:-1]:
            await finish_phase(env.client, spec, phase, skip=(PORTS_TASK,))
        result = await handle.result()
        final = await view(env.client, spec)
        await record_histories(env.client, "project_without_ports", [workflow_id(spec.id)])

    assert result.phase == Phase.CLOSED and not result.ports
    assert [c.phase for c in final.phases] == list(PHASES)
    ported = next(t for t in final.tasks if t.id == PORTS_TASK)
    assert ported.done_by == "portflow" and ported.note == "no port in this project"
    assert all(t.done and t.done_by for t in final.tasks)
    assert FORWARDING_TASK not in [t.id for t in final.tasks]  # no port, no temporary numbers
    assert (await search_attributes(env.client, workflow_id(spec.id)))["PortflowProjectPhase"] == "closed"


async def test_a_project_through_every_phase_with_its_port(env: WorkflowEnvironment, settings_env: Path,
                                                           tmp_path: Path) -> None:
    today = (await env.get_current_time()).date()
    # calls are forwarded to a temporary number while the port is pending (the request says so,
    # not the project file): acceptance then includes removing the forwarding
    req = sample_request(accounts=1, temporary_numbers=["+13035550188"])
    spec = project_spec(today, go_live=req.requested_port_date)
    async with build_worker(env.client):
        handle = await start(env.client, spec)
        await finish_phase(env.client, spec, Phase.INITIATE)
        await finish_phase(env.client, spec, Phase.KICK_OFF)
        # the port starts as the project's child, through the same start_port as `starter.py start`
        port = await ports.start_port(env.client, req, started_by=PM, launch=projects.launcher(spec.id, PM))
        desc = await port.describe()
        assert desc.parent_id == workflow_id(spec.id)
        forwarding = next(t for t in (await view(env.client, spec)).tasks if t.id == FORWARDING_TASK)
        assert forwarding.phase == Phase.ACCEPTANCE and forwarding.due_at is not None
        assert forwarding.note == f"{req.id} recorded 1 temporary number(s): remove the forwarding"
        # the same request again is refused, by the project and by `start` (one workflow id)
        with pytest.raises(ports.PortRefused, match=f"{req.id} is already part of project {spec.id}"):
            await ports.start_port(env.client, req, started_by=PM, launch=projects.launcher(spec.id, PM))
        with pytest.raises(ports.PortRefused, match="already started"):
            await ports.start_port(env.client, req, started_by=PM)
        await finish_phase(env.client, spec, Phase.BUILD)
        v = await finish_phase(env.client, spec, Phase.GO_LIVE, skip=(PORTS_TASK,))
        assert v.phase == Phase.GO_LIVE and [t.id for t in v.open_tasks()] == [PORTS_TASK]
        with pytest.raises(projects.ProjectRefused, match="still running"):
            await projects.complete_task(env.client, spec.id, PORTS_TASK, by=PM)
        page = await projects.status(env.client, spec.id)
        assert [p.request_id for p in page.ports] == [req.id] and page.ports[0].stage != "completed"

        await attach_all(env.client, req, tmp_path)
        await wait_for(port, lambda v: len(v.orders) == 1 and v.orders[0].status == PortStatus.LOA_SENT, what="LOA sent")
        await port.execute_update("assign", {"actor": PM, "assignments": {
            tn: f"user{i}@contoso.example" for i, tn in enumerate(req.all_numbers)}})
        await sign_all(env.client, req)
        # a handle the test did not start itself: let the server skip time while it waits
        async with env.time_skipping_unlocked():
            port_result = await port.result()
        assert port_result.status == PortStatus.COMPLETED
        v = await wait_project(env.client, spec, lambda v: v.phase == Phase.POST_GO_LIVE, what="go-live done")
        ported = next(t for t in v.tasks if t.id == PORTS_TASK)
        assert ported.done_by == "portflow" and req.id in ported.note
        await finish_phase(env.client, spec, Phase.POST_GO_LIVE)
        v = await view(env.client, spec)
        assert FORWARDING_TASK in [t.id for t in v.open_tasks()]
        await finish_phase(env.client, spec, Phase.ACCEPTANCE)
        result = await handle.result()
        page = await projects.status(env.client, spec.id)
        await record_histories(env.client, "project_with_port", [workflow_id(spec.id), req.id])

    assert result.phase == Phase.CLOSED
    assert [(p.request_id, p.how, p.outcome) for p in result.ports] == [(req.id, "started", "completed")]
    assert page.ports[0].stage == "completed"
    assert [c.phase for c in page.view.phases] == list(PHASES)
