"""An implementation project's state: its phase, its tasks and their deadlines, its ports,
and what ops see of it (search attributes, the UI's current details, the status view).

Pure bookkeeping: no activity here. ``workflows.project.deadlines`` sends the mail, the
workflow decides when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.project import (
        PHASES,
        PORTS_ENDED,
        PORTS_TASK,
        FORWARDING_TASK,
        Owner,
        Phase,
        PhaseChange,
        PortLink,
        ProjectInput,
        ProjectPlan,
        ProjectResult,
        ProjectTask,
        ProjectView,
        workflow_id,
    )
    from workflows import search
    from workflows.common import fmt

SYSTEM = "portflow"


class Project:
    def __init__(self, inp: ProjectInput) -> None:
        self.inp = inp
        self.spec = inp.spec
        self.phase = Phase.INITIATE
        self.phase_since: datetime = workflow.now()
        self.phases: list[PhaseChange] = [PhaseChange(phase=Phase.INITIATE, at=self.phase_since,
                                                      reason=f"project started by {inp.started_by}")]
        self.tasks: dict[str, ProjectTask] = {
            t.id: ProjectTask(id=t.id, phase=t.phase, title=t.title, owner=t.owner, required=t.required, due=t.due)
            for t in self.spec.task_specs()}
        # tasks that join when called for (the forwarding's removal once a port has temporary numbers)
        self.dormant: dict[str, ProjectTask] = {
            t.id: ProjectTask(id=t.id, phase=t.phase, title=t.title, owner=t.owner, required=t.required, due=t.due)
            for t in self.spec.dormant_specs()}
        self.ports: dict[str, PortLink] = {}
        self.followers: list[Any] = []  # the tasks awaiting child ports' results
        self.changed = False  # set by every update and port outcome: the run loop looks again
        self.planned = False
        self.sa_last: dict[str, Any] = {}

    # ------------------------------------------------------------------ tasks and phases
    def plan(self, plan: ProjectPlan) -> None:
        for tid, t in {**self.tasks, **self.dormant}.items():
            t.due_at = plan.due_at.get(tid)
            t.remind_at = plan.remind_at.get(tid)
        self.planned = True

    def wake(self, task_id: str, why: str) -> None:
        """A dormant task joins the project (before it closes), once."""
        t = self.dormant.pop(task_id, None)
        if t is None or self.phase == Phase.CLOSED:
            return
        t.note = why
        self.tasks[task_id] = t
        self.changed = True

    def temporary_numbers(self, request_id: str, count: int) -> None:
        if count > 0:
            self.wake(FORWARDING_TASK, f"{request_id} recorded {count} temporary number(s): remove the forwarding")

    def current(self) -> list[ProjectTask]:
        """The open tasks of the current phase."""
        return [t for t in self.tasks.values() if t.phase == self.phase and not t.done]

    def ports_ported(self) -> bool | None:
        """True when every port of the project is ported, False while one runs or one ended
        otherwise, None when the project has no ports."""
        if not self.ports:
            return None
        return all(p.outcome == "completed" for p in self.ports.values())

    def complete(self, task_id: str, by: str, note: str) -> ProjectTask:
        t = self.tasks[task_id]
        t.done_by, t.done_at, t.note = by, workflow.now(), note
        self.changed = True
        return t

    def auto_tasks(self) -> None:
        """The ports task is the workflow's own: done when every port is ported, or passed
        when the project reaches it with no ports at all."""
        t = self.tasks.get(PORTS_TASK)
        if t is None or t.done or t.phase != self.phase:
            return
        ported = self.ports_ported()
        if ported:
            self.complete(PORTS_TASK, SYSTEM, f"{len(self.ports)} port(s) completed: {', '.join(sorted(self.ports))}")
        elif ported is None:
            self.complete(PORTS_TASK, SYSTEM, "no port in this project")

    def advance(self) -> list[Phase]:
        """Move on while the current phase's required tasks are done; the phases entered."""
        entered = []
        while self.phase != Phase.CLOSED:
            self.auto_tasks()
            if any(t.required for t in self.current()):
                break
            done = [t for t in self.tasks.values() if t.phase == self.phase]
            nxt = PHASES[PHASES.index(self.phase) + 1]
            self.phase, self.phase_since = nxt, workflow.now()
            self.phases.append(PhaseChange(phase=nxt, at=self.phase_since,
                                           reason=f"{len(done)} task(s) of the previous phase done"))
            entered.append(nxt)
        return entered

    # ------------------------------------------------------------------ deadlines
    def due_events(self, now: datetime) -> tuple[list[ProjectTask], list[ProjectTask]]:
        """(reminders due, escalations due) among the current phase's open tasks."""
        if not self.planned:
            return [], []
        open_ = self.current()
        remind = [t for t in open_ if not t.reminded and not t.escalated and t.remind_at and t.remind_at <= now
                  and t.due_at and now < t.due_at]
        late = [t for t in open_ if not t.escalated and t.due_at and t.due_at <= now]
        return remind, late

    def next_deadline(self) -> tuple[datetime | None, str]:
        """The next instant the workflow must wake at by itself, and what it is."""
        best: tuple[datetime | None, str] = (None, "")
        for t in self.current():
            for at, what in ((None if t.reminded or t.escalated else t.remind_at, f"reminder: {t.id}"),
                             (None if t.escalated else t.due_at, f"{t.id} due")):
                if at is not None and (best[0] is None or at < best[0]):
                    best = (at, what)
        return best

    def next_due(self) -> tuple[datetime | None, str]:
        """What the status shows as next: the earliest due date of the phase's open tasks."""
        dated = sorted((t for t in self.current() if t.due_at), key=lambda t: t.due_at)
        if dated:
            return dated[0].due_at, f"{dated[0].id} ({dated[0].owner.value})"
        return None, "nothing due" if self.phase == Phase.CLOSED else f"{self.phase.value}: waiting on the ports"

    def late(self) -> list[str]:
        return [t.id for t in self.current() if t.escalated]

    # ------------------------------------------------------------------ what ops see
    def publish(self) -> None:
        due, _ = self.next_due()
        values = {search.PROJECT_PHASE: self.phase.value, search.ESCALATED: bool(self.late()),
                  search.NEXT_DEADLINE: due}
        updates = []
        for key, value in values.items():
            if self.sa_last.get(key.name, "<unset>") == value:
                continue
            self.sa_last[key.name] = value
            updates.append(key.value_unset() if value is None else key.value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
        workflow.set_current_details(self.details())

    def details(self) -> str:
        due, what = self.next_due()
        lines = [f"**{self.phase.value}** · {self.spec.customer.name} · go-live {self.spec.timeline.go_live}",
                 f"Next: {what} · due {fmt(due)}", ""]
        for t in self.current():
            lines.append(f"- [ ] {t.id} ({t.owner.value}) due {fmt(t.due_at)}" + (" · LATE" if t.escalated else ""))
        if self.ports:
            lines.append("")
            lines.extend(f"- port {p.request_id} ({p.how}): {p.outcome or 'running'}" for p in self.ports.values())
        return "\n".join(lines)

    def view(self) -> ProjectView:
        due, what = self.next_due()
        wid = workflow_id(self.spec.id)
        return ProjectView(
            project_id=self.spec.id, workflow_id=wid, customer_name=self.spec.customer.name,
            language=self.spec.customer.language.value, time_zone=self.spec.time_zone, phase=self.phase, phase_since=self.phase_since,
            tasks=[t.model_copy() for t in self.tasks.values()], ports=[p.model_copy() for p in self.ports.values()],
            phases=list(self.phases), next_what=what, next_due_at=due, escalated=self.late(),
            ipm_email=str(self.spec.ipm.email),
            ui_url=f"{self.inp.ui_url.rstrip('/')}/namespaces/{workflow.info().namespace}/workflows/{wid}",
        )

    def result(self) -> ProjectResult:
        return ProjectResult(project_id=self.spec.id, phase=self.phase,
                             tasks_done=sum(t.done for t in self.tasks.values()), ports=list(self.ports.values()))

    def owner_address(self, owner: Owner) -> tuple[str, str, str]:
        """(audience, address, name) of whom a task's reminder goes to; ops falls back to the IPM."""
        if owner == Owner.CUSTOMER:
            return "customer", str(self.spec.contact.email), self.spec.contact.name
        if owner == Owner.OPS and self.ops_email():
            return "ops", self.ops_email(), "Ops"
        return "pm", str(self.spec.ipm.email), self.spec.ipm.name

    def ops_email(self) -> str:
        return str(self.spec.ops_email or self.inp.ops_email or "")

    def port_ended(self, request_id: str, outcome: str) -> None:
        link = self.ports.get(request_id)
        if link is not None and link.outcome is None and outcome in PORTS_ENDED | {"failed"}:
            link.outcome = outcome
            self.changed = True
