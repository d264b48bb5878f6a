"""ImplementationWorkflow: one customer's implementation project around its ports (issue 17).

Phases initiate -> kick_off -> build -> go_live -> post_go_live -> acceptance -> closed;
people complete each phase's tasks (update ``complete_task``: who, when, a note) and the
phase moves on once its required tasks are done. The workflow sleeps on one timer, to its
next deadline (a reminder or a due date of the current phase's open tasks), and wakes
early for every update; no polling. Its ports are children it started (``start_port``) or
requests it follows by id (``attach_port``). Workflow id: ``project-<project id>``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from models.project import (
        PORTS_ENDED,
        PORTS_TASK,
        AttachPort,
        CompleteTask,
        Phase,
        PlanProjectInput,
        PortLaunch,
        PortLink,
        ProjectInput,
        ProjectPlan,
        ProjectResult,
        ProjectView,
        TaskAck,
    )
    from models.request import REQUEST_ID
    from workflows.common import LOCAL, act, fmt
    from workflows.project import deadlines, ports
    from workflows.project.state import Project


# AUTO_UPGRADE: a project lives for months; like the ports it moves to each new build at its
# next task, and a change that would not replay goes behind workflow.patched().
@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class ImplementationWorkflow:
    @workflow.init
    def __init__(self, inp: ProjectInput) -> None:
        self.p = Project(inp)

    @workflow.run
    async def run(self, inp: ProjectInput) -> ProjectResult:
        p = self.p
        plan = await act("plan_project", PlanProjectInput(
            time_zone=inp.spec.time_zone, reminder_days=inp.spec.reminder_days,
            dues={tid: t.due for tid, t in {**p.tasks, **p.dormant}.items()}), ProjectPlan, summary="plan the milestones' dates",
            retry=LOCAL)
        p.plan(plan)
        while True:
            p.changed = False
            p.advance()
            if p.phase == Phase.CLOSED:
                break
            p.publish()
            if await deadlines.send_due(p):
                p.publish()
            wake, what = p.next_deadline()
            timeout = None if wake is None else max(wake - workflow.now(), timedelta(seconds=1))
            try:
                await workflow.wait_condition(lambda: p.changed, timeout=timeout,
                                              timeout_summary=(f"{what} at {fmt(wake)}" if wake else "")[:200] or None)
            except asyncio.TimeoutError:
                pass
        p.publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return p.result()

    # ------------------------------------------------------------------ tasks
    @workflow.update
    def complete_task(self, c: CompleteTask) -> TaskAck:
        p = self.p
        if c.task == PORTS_TASK:
            for rid, outcome in c.port_outcomes.items():
                p.port_ended(rid, outcome)
            for rid in c.with_temporary_numbers:
                p.temporary_numbers(rid, 1)
        t = p.complete(c.task, c.by, c.note)
        return TaskAck(task=t.id, done_by=c.by, done_at=t.done_at, phase=p.phase, open_tasks=[x.id for x in p.current()])

    @complete_task.validator
    def _v_complete(self, c: CompleteTask) -> None:
        p = self.p
        if p.phase == Phase.CLOSED:
            raise ValueError(f"project {p.spec.id} is closed")
        t = p.tasks.get(c.task)
        if t is None:
            open_ = ", ".join(x.id for x in p.current()) or "none"
            raise ValueError(f"no task {c.task!r} in project {p.spec.id}; open tasks of {p.phase.value}: {open_}")
        if t.done:
            raise ValueError(f"{t.id} was already done by {t.done_by} at {fmt(t.done_at)}")
        if t.id == PORTS_TASK:
            self._check_ports(c)

    def _check_ports(self, c: CompleteTask) -> None:
        p = self.p
        if not p.ports:
            raise ValueError(f"{PORTS_TASK} passes by itself when the project has no ports; it has none yet")
        problems, not_ported = [], []
        for rid, link in p.ports.items():
            outcome = link.outcome or c.port_outcomes.get(rid)
            if link.how == "started" and link.outcome is None:
                problems.append(f"port {rid} is still running")
            elif outcome is None or outcome not in PORTS_ENDED:
                problems.append(f"port {rid} has not ended" + (f" (it is {outcome})" if outcome else ""))
            elif outcome != "completed":
                not_ported.append(f"{rid} ended {outcome}")
        if problems:
            raise ValueError("; ".join(problems) + ": the numbers are ported once every port has ended")
        if not_ported and not c.note.strip():
            raise ValueError(f"{'; '.join(not_ported)}: say in --note why go-live goes on without those numbers")

    # ------------------------------------------------------------------ ports
    @workflow.update
    async def start_port(self, launch: PortLaunch) -> PortLink:
        return await ports.start_child(self.p, launch)

    @start_port.validator
    def _v_start_port(self, launch: PortLaunch) -> None:
        self._check_new_port(launch.request_id)

    @workflow.update
    def attach_port(self, a: AttachPort) -> PortLink:
        link = ports.attach(self.p, a.request_id, a.by)
        self.p.temporary_numbers(a.request_id, a.temporary_numbers)
        return link

    @attach_port.validator
    def _v_attach_port(self, a: AttachPort) -> None:
        self._check_new_port(a.request_id)

    def _check_new_port(self, request_id: str) -> None:
        p = self.p
        if p.phase in (Phase.ACCEPTANCE, Phase.CLOSED):
            raise ValueError(f"project {p.spec.id} is in {p.phase.value}: its go-live has passed, a new port "
                             "is a project of its own")
        if not REQUEST_ID.match(request_id):
            raise ValueError(f"{request_id!r} is not a request id (PR-YYYY-NNNN)")
        if request_id in p.ports:
            raise ValueError(f"{request_id} is already part of project {p.spec.id}")

    # ------------------------------------------------------------------ status
    @workflow.query
    def status(self) -> ProjectView:
        return self.p.view()
