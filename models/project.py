"""The implementation project around a port (issue 17; seeds 000 and 002): its phases, the
milestones of each phase as tasks people complete, and the project file that starts one.

A project runs initiate -> kick_off -> build -> go_live -> post_go_live -> acceptance ->
closed. Each phase has a due date in the project's timeline; its tasks are due that day
(or on their own date) and the phase ends when its required tasks are done. The tasks of
:data:`TEMPLATE` are the seeds' milestones; a project file may skip some or add its own.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from models.request import Customer
from models.status import TERMINAL
from models.workflow import PortRequestInput

PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
TASK_ID = r"^[a-z][a-z0-9_]{0,39}$"
WORKFLOW_PREFIX = "project-"
MAX_TASKS = 60
PORTS_ENDED = frozenset(s.value for s in TERMINAL)
PORTS_TASK = "numbers_ported"  # done by the workflow itself once the project's ports are ported
FORWARDING_TASK = "remove_temporary_forwarding"


def workflow_id(project_id: str) -> str:
    """The project's workflow id: one workflow per project, ever (``project-ACME-2027``)."""
    return f"{WORKFLOW_PREFIX}{project_id}"


def project_id_of(text: str) -> str:
    """A project id from what a person typed (``ACME-2027`` or ``project-ACME-2027``)."""
    text = text.strip()
    return text[len(WORKFLOW_PREFIX):] if text.startswith(WORKFLOW_PREFIX) else text


class Phase(StrEnum):
    INITIATE = "initiate"
    KICK_OFF = "kick_off"
    BUILD = "build"
    GO_LIVE = "go_live"
    POST_GO_LIVE = "post_go_live"
    ACCEPTANCE = "acceptance"
    CLOSED = "closed"


PHASES: tuple[Phase, ...] = tuple(Phase)
WORK_PHASES: tuple[Phase, ...] = PHASES[:-1]


class Owner(StrEnum):
    """Who does a task, and so who is reminded of it."""

    IPM = "ipm"  # the implementation project manager
    CUSTOMER = "customer"  # the customer's main point of contact (MPOC)
    OPS = "ops"


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=TASK_ID, description="short name, e.g. network_ready")
    phase: Phase
    title: str = Field(min_length=1, max_length=200)
    owner: Owner = Owner.IPM
    required: bool = Field(default=True, description="the phase ends only when it is done")
    due: date | None = Field(default=None, description="default: the phase's date in the timeline")

    @field_validator("phase")
    @classmethod
    def _not_closed(cls, v: Phase) -> Phase:
        if v == Phase.CLOSED:
            raise ValueError("closed has no tasks: put the task in acceptance or an earlier phase")
        return v


def _t(task_id: str, phase: Phase, title: str, owner: Owner = Owner.IPM) -> TaskSpec:
    return TaskSpec(id=task_id, phase=phase, title=title, owner=owner)


P, O = Phase, Owner
# The seeds' milestones (000 and 002), phase by phase.
TEMPLATE: tuple[TaskSpec, ...] = (
    _t("ipm_assigned", P.INITIATE, "Implementation project manager assigned"),
    _t("project_plan", P.INITIATE, "Implementation project plan written"),
    _t("scope_of_work", P.INITIATE, "Scope of work (SOW) written"),
    _t("timeline", P.INITIATE, "Implementation timeline set"),
    _t("introduction_email", P.INITIATE, "Introduction e-mail sent to schedule the kick-off call"),
    _t("kick_off_call", P.KICK_OFF, "Kick-off call held: stakeholders, roles and responsibilities introduced"),
    _t("sow_agreed", P.KICK_OFF, "Scope of work, project plan and timeline agreed", O.CUSTOMER),
    _t("licences_ordered", P.BUILD, "Licences, features and services ordered and set up"),
    _t("users_call_flows_built", P.BUILD, "Users, call flows and designs built"),
    _t("early_testing", P.BUILD, "Early testing and readiness check with the customer"),
    _t("customer_training", P.BUILD, "Customer's users trained", O.CUSTOMER),
    _t("network_ready", P.BUILD, "Customer's network ready for the solution", O.CUSTOMER),
    _t("pre_go_live_checklist", P.GO_LIVE, "Pre-go-live checklist complete"),
    _t(PORTS_TASK, P.GO_LIVE, "Numbers ported on go-live day"),
    _t("go_live_testing", P.GO_LIVE, "On-site go-live testing and verification", O.CUSTOMER),
    _t("services_live", P.GO_LIVE, "Services live and available as designed"),
    _t("issues_reviewed", P.POST_GO_LIVE, "Open issues and challenges reviewed with the main point of contact"),
    _t("adoption_follow_up", P.POST_GO_LIVE, "User adoption and follow-up training addressed"),
    _t("fine_tuning", P.POST_GO_LIVE, "Performance and access fine-tuning done"),
    _t("acceptance_call", P.ACCEPTANCE, "Acceptance and project close call held"),
    _t("support_handover", P.ACCEPTANCE, "Account handed over to Service & Support (processes, portal, KB, "
                                         "escalation path)"),
    _t(FORWARDING_TASK, P.ACCEPTANCE, "Temporary call forwarding removed", O.CUSTOMER),
    _t("customer_acceptance", P.ACCEPTANCE, "Customer accepted the implemented services and gave feedback",
       O.CUSTOMER),
)
TEMPLATE_IDS = frozenset(t.id for t in TEMPLATE)
del P, O


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr


class Timeline(BaseModel):
    """The date each phase's tasks are due (the implementation timeline of the initiate phase)."""

    model_config = ConfigDict(extra="forbid")

    initiate: date
    kick_off: date
    build: date
    go_live: date
    post_go_live: date
    acceptance: date

    @model_validator(mode="after")
    def _in_order(self) -> Timeline:
        dates = [(p, getattr(self, p.value)) for p in WORK_PHASES]
        for (a, da), (b, db) in zip(dates, dates[1:], strict=False):
            if db < da:
                raise ValueError(f"{b.value} ({db}) is before {a.value} ({da}): the phases' dates must not go back")
        return self

    def due(self, phase: Phase) -> date:
        return getattr(self, phase.value)


class ProjectSpec(BaseModel):
    """A project file (examples/project.yaml), as read and checked."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=PROJECT_ID.pattern, description="e.g. ACME-2027; the workflow is project-<id>")
    customer: Customer
    contact: Person = Field(description="the customer's main point of contact (MPOC)")
    ipm: Person = Field(description="the implementation project manager")
    ops_email: EmailStr | None = Field(default=None, description="who is told of late milestones besides the IPM")
    time_zone: str = Field(default="America/New_York", max_length=64,
                           pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+){0,2}$|^UTC$")
    timeline: Timeline
    reminder_days: int = Field(default=2, ge=0, le=20, description="business days before a due date to remind")
    temporary_forwarding: bool = Field(default=False, description="calls are forwarded to temporary numbers while "
                                                                  "the port is pending: removing it is a task")
    skip_tasks: list[str] = Field(default_factory=list, max_length=len(TEMPLATE))
    tasks: list[TaskSpec] = Field(default_factory=list, max_length=MAX_TASKS)
    notes: str = Field(default="", max_length=2000)

    @field_validator("skip_tasks")
    @classmethod
    def _known_skips(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in TEMPLATE_IDS]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a task of the template; its tasks: {', '.join(sorted(TEMPLATE_IDS))}")
        if PORTS_TASK in v:
            raise ValueError(f"{PORTS_TASK} cannot be skipped: a project without ports passes it by itself")
        return v

    @model_validator(mode="after")
    def _unique_tasks(self) -> ProjectSpec:
        seen = set(TEMPLATE_IDS)
        for t in self.tasks:
            if t.id in seen:
                raise ValueError(f"task {t.id!r} is defined twice (the template has: {', '.join(sorted(TEMPLATE_IDS))})")
            seen.add(t.id)
        return self

    def task_specs(self) -> list[TaskSpec]:
        """The project's tasks: the template less what it skips (and the forwarding task when
        no temporary forwarding is used), then its own, with each due date filled in."""
        skip = set(self.skip_tasks) | (set() if self.temporary_forwarding else {FORWARDING_TASK})
        out = [t for t in TEMPLATE if t.id not in skip] + list(self.tasks)
        return [t if t.due else t.model_copy(update={"due": self.timeline.due(t.phase)}) for t in out]

    def dormant_specs(self) -> list[TaskSpec]:
        """Tasks that join the project only when something calls for them: removing the
        temporary forwarding once one of its ports recorded temporary numbers."""
        if self.temporary_forwarding or FORWARDING_TASK in self.skip_tasks:
            return []
        t = next(t for t in TEMPLATE if t.id == FORWARDING_TASK)
        return [t.model_copy(update={"due": self.timeline.due(t.phase)})]


# --- workflow payloads --------------------------------------------------------------------


class ProjectInput(BaseModel):
    spec: ProjectSpec
    started_by: str
    ops_email: str = ""
    ui_url: str = "http://localhost:8233"


class ProjectTask(BaseModel):
    id: str
    phase: Phase
    title: str
    owner: Owner
    required: bool = True
    due: date
    due_at: datetime | None = None
    remind_at: datetime | None = None
    done_by: str | None = None
    done_at: datetime | None = None
    note: str = ""
    reminded: bool = False
    escalated: bool = False

    @property
    def done(self) -> bool:
        return self.done_at is not None


class PortLink(BaseModel):
    """A port request of the project: started from it (its child) or attached (followed by id)."""

    request_id: str
    how: str = Field(description="started | attached")
    by: str
    at: datetime
    outcome: str | None = Field(default=None, description="the port's final status once it ended")


class CompleteTask(BaseModel):
    task: str = Field(min_length=1, max_length=40)
    by: str = Field(min_length=1, max_length=254)
    note: str = Field(default="", max_length=2000)
    port_outcomes: dict[str, str] = Field(default_factory=dict, max_length=200,
                                          description="attached ports' final statuses, read by the client")
    with_temporary_numbers: list[str] = Field(default_factory=list, max_length=200,
                                              description="ports that recorded temporary numbers, read by the client")


class TaskAck(BaseModel):
    """What ``complete_task`` answers: small, so a project's history does not carry its whole
    view once per task (the status query gives the view)."""

    task: str
    done_by: str
    done_at: datetime
    phase: Phase
    open_tasks: list[str]


class AttachPort(BaseModel):
    request_id: str = Field(min_length=1, max_length=40)
    by: str = Field(min_length=1, max_length=254)
    temporary_numbers: int = Field(default=0, ge=0, le=1000,
                                   description="how many temporary numbers the port recorded (read by the client)")


class PortLaunch(BaseModel):
    """A port request the project starts as its child, prepared exactly as ``portflow.ports.start_port``
    prepares a port (checks, documents, vault) and started with the same id and attributes."""

    input: PortRequestInput = Field(description="sealed by the vault: no secret in clear")
    request_id: str
    task_queue: str
    customer: str | None
    carriers: list[str]
    port_date: datetime
    memo: dict
    static_summary: str
    static_details: str
    by: str


class PhaseChange(BaseModel):
    phase: Phase
    at: datetime
    reason: str


class ProjectView(BaseModel):
    project_id: str
    workflow_id: str
    customer_name: str
    language: str
    time_zone: str = "UTC"
    phase: Phase
    phase_since: datetime | None = None
    tasks: list[ProjectTask]
    ports: list[PortLink]
    phases: list[PhaseChange]
    next_what: str = ""
    next_due_at: datetime | None = None
    escalated: list[str] = Field(default_factory=list, description="ids of open tasks that are late")
    ipm_email: str = ""
    ui_url: str = ""

    def open_tasks(self) -> list[ProjectTask]:
        return [t for t in self.tasks if not t.done and t.phase == self.phase]


class ProjectResult(BaseModel):
    project_id: str
    phase: Phase
    tasks_done: int
    ports: list[PortLink]


class PlanProjectInput(BaseModel):
    time_zone: str
    reminder_days: int
    dues: dict[str, date]


class ProjectPlan(BaseModel):
    due_at: dict[str, datetime]
    remind_at: dict[str, datetime | None]
