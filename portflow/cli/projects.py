"""``starter.py project ...``: implementation projects around the ports (issue 17).

    python starter.py project start examples/project.yaml
    python starter.py project status ACME-2027 [--json]
    python starter.py project list [--phase build] [--running]
    python starter.py project done ACME-2027 kick_off_call --note "held with 6 stakeholders"
    python starter.py project start-port ACME-2027 examples/good-request.yaml
    python starter.py project attach ACME-2027 PR-2026-0042

Exit codes as the port commands: 0 done; 1 refused (the message says what to fix: a project
file with problems, an unknown project or task, a validator's refusal); 2 the server cannot
be reached, or a file cannot be read.

Light at import (``starter.py --help`` loads it): the client, models and store are imported
when a command runs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from portflow.cli.common import By, actor, console, done, fail, limited, run

if TYPE_CHECKING:
    from models.project import ProjectSpec
    from portflow.projects import ProjectPage

app = typer.Typer(help="Implementation projects: phases, milestones, their ports", no_args_is_help=True,
                  add_completion=False)
ProjectId = Annotated[str, typer.Argument(metavar="PROJECT", help="The project's id, e.g. ACME-2027")]


def _run(work: Any) -> Any:
    from portflow import ports, projects

    return run(work, refusals=(projects.ProjectRefused, ports.PortRefused))


def _project_id(text: str) -> str:
    from models.project import PROJECT_ID, project_id_of

    pid = project_id_of(text)
    if not PROJECT_ID.match(pid):
        fail(f"'{text[:40]}' is not a project id: letters, digits, '.', '_' and '-', up to 40 (e.g. ACME-2027)")
    return pid


def _read(path: Path) -> ProjectSpec:
    from portflow.check.yaml_reader import FileProblem
    from portflow.project_file import ProjectFileProblem, read_project_file

    try:
        return read_project_file(path)
    except FileProblem as problem:
        fail(f"cannot read {problem.path}: {problem.message} [{problem.code}]", 2)
    except ProjectFileProblem as problem:
        out = console(stderr=True)
        for p in problem.problems:
            out.print(Text(f"  {p}", style="red"))
        fail(f"not started: {path} has {len(problem.problems)} problem(s) (above); fix them and start again")


def _when(at: Any, tz: str) -> str:
    if at is None:
        return "-"
    from core.calendar import zone

    return at.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M %Z")


# --------------------------------------------------------------------------- commands
def start(file: Annotated[Path, typer.Argument(help="The project file (see examples/project.yaml)")],
          by: By = None) -> None:
    """Start an implementation project from a project file."""
    from portflow import projects

    spec = _read(file)
    who = actor(by)
    _run(lambda c: projects.start_project(c, spec, started_by=who))
    done(f"started project {spec.id}: {spec.customer.name}, {len(spec.task_specs())} milestones, "
         f"go-live {spec.timeline.go_live}")
    console().print(f"follow it: python starter.py project status {spec.id}")


def status(project: ProjectId,
           json_output: Annotated[bool, typer.Option("--json", help="Print the status as JSON for machines")] = False,
           ) -> None:
    """Where a project stands: phase, open tasks with due dates and owners, its ports' stages, the next deadline."""
    from portflow import projects

    pid = _project_id(project)
    page = _run(lambda c: projects.status(c, pid))
    if json_output:
        sys.stdout.write(json.dumps(page.to_json(), indent=2) + "\n")
        return
    show(page)


def show(page: ProjectPage) -> None:
    v, out = page.view, console()
    tz = v.time_zone
    out.print(Text(f"project {v.project_id}", style="bold").append(f" · {v.customer_name} · phase ")
              .append(v.phase.value, style="bold cyan").append(f" since {_when(v.phase_since, tz)}"))
    out.print(f"next: {v.next_what} · due {_when(v.next_due_at, tz)}")
    open_ = v.open_tasks()
    if open_:
        out.print(Text("open tasks:", style="bold"))
        for t in open_:
            line = Text(f"  {t.id:<28} {t.owner.value:<9} due {_when(t.due_at, tz)}  {t.title}")
            if t.escalated:
                line.append("  LATE", style="bold red")
            out.print(line)
    done_ = [t for t in v.tasks if t.done]
    if done_:
        out.print(Text(f"done: {len(done_)} of {len(v.tasks)} tasks", style="bold"))
        for t in done_[-5:]:
            out.print(f"  {t.id:<28} by {t.done_by} at {_when(t.done_at, tz)}" + (f" · {t.note}" if t.note else ""))
    if page.ports:
        out.print(Text("ports:", style="bold"))
        for p in page.ports:
            line = f"  {p.request_id} ({p.how}) {p.stage}"
            if p.next_what:
                line += f" · next: {p.next_what} · due {_when(p.next_due_at, tz)} · waiting on {p.waiting_on}"
            if p.problem:
                line += f" · {p.problem}"
            out.print(line)
    else:
        out.print("ports: none (start one with `python starter.py project start-port "
                  f"{v.project_id} REQUEST_FILE`, or attach a running one)")
    out.print(f"Temporal UI: {v.ui_url}")


def list_projects(
    phase: Annotated[str | None, typer.Option("--phase", help="initiate, kick_off, build, go_live, post_go_live, "
                                                              "acceptance or closed")] = None,
    running: Annotated[bool, typer.Option("--running", help="Only projects still running")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
) -> None:
    """Projects, by their search attributes (as the Temporal UI filters them)."""
    from models.project import Phase
    from portflow import projects

    if phase is not None and phase.strip().lower() not in [p.value for p in Phase]:
        fail(f"--phase '{phase[:40]}' is not one of: {', '.join(p.value for p in Phase)}")
    rows = _run(lambda c: projects.list_projects(c, phase=phase.strip().lower() if phase else None,
                                                 running=running, limit=limit))
    out = console()
    if not rows:
        out.print("no projects" + (f" in {phase}" if phase else ""))
        return
    for r in rows:
        nxt = r.next_deadline.strftime("%Y-%m-%d %H:%M UTC") if r.next_deadline else "-"
        out.print(f"{r.project_id:<24} {r.phase:<13} next {nxt:<21} {'ESCALATED ' if r.escalated else ''}{r.execution}")


def done_task(project: ProjectId,
              task: Annotated[str, typer.Argument(help="The task's id, as `project status` lists it")],
              note: Annotated[str, typer.Option("--note", help="What was done (for the timeline)")] = "",
              by: By = None) -> None:
    """Mark a project's task done (who, when and a note are recorded)."""
    from portflow import projects

    import re

    from models.project import TASK_ID

    pid, who = _project_id(project), actor(by)
    note = limited(note, "--note") or ""
    task = task.strip()
    if not re.match(TASK_ID, task):
        fail(f"'{task[:40]}' is not a task id: lower-case letters, digits and '_', as `project status {pid}` lists them")
    ack = _run(lambda c: projects.complete_task(c, pid, task, by=who, note=note))
    done(f"{task} done in {pid} by {who}")
    console().print(f"phase {ack.phase.value}: " + (f"open {', '.join(ack.open_tasks)}" if ack.open_tasks else
                                                    "every task done, the next phase starts"))


def start_port(project: ProjectId,
               request_file: Annotated[Path, typer.Argument(help="The port request (what `start` takes)")],
               expedite: Annotated[str | None, typer.Option("--expedite", metavar="REASON",
                                                               help="Waive the 3-week lead time, saying why")] = None,
               by: By = None,
               allow_unknown_fields: Annotated[bool, typer.Option("--allow-unknown-fields")] = False) -> None:
    """Start a port request as the project's child: the same check and start as `starter.py start`."""
    from portflow import projects
    from portflow.check import FileProblem
    from portflow.cli import actions
    from portflow.cli.check import render as render_check
    from portflow.cli.files import StartRefused, plan_start
    from portflow.cli.starting import StartUnconfirmed, report

    pid, who = _project_id(project), actor(by)
    try:
        plan = plan_start(request_file, expedite=expedite, allow_unknown_fields=allow_unknown_fields)
    except FileProblem as problem:
        fail(f"cannot read {problem.path}: {problem.message} [{problem.code}]", 2)
    except StartRefused as refused:
        render_check(refused.report, console())
        fail(f"not started: {request_file} does not pass the check (fix the errors above)")

    async def work(client):  # noqa: ANN001, ANN202
        await projects.require_running(client, pid)
        req = plan.request
        if not plan.has_own_id:
            req = req.model_copy(update={"id": await actions.fresh_request_id(client)})
        try:
            return req, await actions.cmd_start(client, req, base_dir=plan.base_dir, actor=who, expedite=expedite,
                                                launch=projects.launcher(pid, who))
        except StartUnconfirmed as unconfirmed:
            return req, unconfirmed

    request, view = _run(work)
    if isinstance(view, StartUnconfirmed):
        report(request, view)
        return
    done(f"started {request.id} in project {pid}: {request.customer.name}, {len(request.all_numbers)} numbers; "
         f"stage {view.status.value}")
    console().print(f"follow it: python starter.py status {request.id}   ·   python starter.py project status {pid}")


def attach(project: ProjectId,
           request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="A running port, e.g. PR-2026-0042")],
           by: By = None) -> None:
    """Make a port that already runs part of the project (followed by its id)."""
    from portflow import projects
    from portflow.cli.errors import CliError, parse_id

    pid, who = _project_id(project), actor(by)
    try:
        rid, order = parse_id(request_id)
    except CliError as err:
        fail(err.message)
    if order is not None:
        fail(f"{order} is an order: attach its request, {rid}")
    _run(lambda c: projects.attach_port(c, pid, rid, by=who))
    done(f"{rid} is part of project {pid}")


for _name, _fn in (("start", start), ("status", status), ("list", list_projects), ("done", done_task),
                   ("start-port", start_port), ("attach", attach)):
    app.command(_name)(_fn)


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="project")
    if main.registered_callback is None:  # keep subcommands even if this were the only group
        main.callback()(_group)


def _group() -> None:
    """portflow: number-porting workflows on Temporal."""
