"""``python -m portflow.demo --project``: a whole implementation project with its port, on
your machine, in about three minutes.

The same machinery as ``make demo`` (``devtools/demo.py``: dev server and UI, API, a
versioned worker, the fast simulated carriers); then a project for the demo's customer
(``examples/project.yaml`` with today's dates) walks every phase: the demo completes each
milestone as the IPM or the customer would, starts the port as the project's child during
the build phase, follows the port to completion (the project marks ``numbers_ported`` done
by itself), opens and resolves a support case after go-live, and closes the project after
acceptance. The port carries a temporary number and a go-live checklist that gates its
activation; the demo passes the gate in the go-live phase. It prints each step and, at the end,
the phases with their times and the mail written to the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import yaml

from devtools.demo import EXAMPLES, PM, Demo

IPM = "irene@provider.example"


def gated_request(request_file: Path, port_date: date, today: date) -> Path:
    """The demo's request with a temporary number (calls forwarded while it is pending) and a
    go-live checklist (seed 004) that gates its activation: the change board's window spans
    today to the day after the port date (the simulated carriers confirm an FOC within
    minutes), the rollback plan is named, and a gate not ready in time escalates (no SUP2)."""
    from datetime import timedelta

    data = yaml.safe_load(request_file.read_text("utf-8"))
    data["temporary_numbers"] = ["(773) 555-0190"]
    data["go_live"] = {
        "on_not_ready": "escalate",
        "change_window": {"start": f"{today} 00:00", "end": f"{port_date + timedelta(days=1)} 23:00",
                          "tz": "America/Chicago", "approved_by": "CAB (CR-DEMO-1)"},
        "rollback_plan": "RB-DEMO: forward the main numbers back to Lumen (wiki/cutover/rollback)",
    }
    out = request_file.with_name("demo-project-request.yaml")
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return out


async def pass_gate(demo: Demo, rid: str) -> None:
    """The PM ticks the go-live checklist's open items (the window and the rollback plan came
    with the request file); the port's activation waits for them."""
    from portflow.cli import actions, gate_actions

    view = await actions.query_request(demo.client, rid)
    assert view.go_live is not None
    for item in view.go_live.open_items():
        await gate_actions.cmd_gate_done(demo.client, rid, item.id, actor=PM, note="checked in the demo")
        demo.say(f"{rid}    go-live gate   done: {item.title} [{PM}]")
    view = await actions.query_request(demo.client, rid)
    assert view.go_live is not None and not view.go_live.open_items()
    demo.say(f"{rid}    go-live gate   ready: change window {view.go_live.change_window.text()}, rollback plan named")


async def support_case(demo: Demo, rid: str) -> str:
    """After go-live the customer reports a problem: a P3 support case about the port (its
    targets on business hours), answered and resolved by the IPM; the case id."""
    from portflow import cases

    case = await cases.open_case(demo.client, customer=None, priority="P3", request_id=rid, opened_by=IPM,
                                 summary="the Oak Park fax line rings busy since the port")
    due = f"{case.first_response_due:%Y-%m-%d %H:%M} UTC" if case.first_response_due else "-"
    demo.say(f"{case.case_id}  {case.priority.value} support case opened for {rid} ({case.state.value}): "
             f"{case.summary}; first response due {due} ({case.target or 'business hours'})")
    case = await cases.act(demo.client, case.case_id, "respond", by=IPM, note="Looking at the fax line's routing now.")
    demo.say(f"{case.case_id}  responded ({case.state.value}) [{IPM}]")
    case = await cases.act(demo.client, case.case_id, "resolve", by=IPM,
                           note="The fax number was assigned to the wrong device; it rings the fax again.")
    until = f" (reopen until {case.reopen_until:%Y-%m-%d %H:%M} UTC)" if case.reopen_until else ""
    demo.say(f"{case.case_id}  {case.state.value}{until} [{IPM}]")
    return case.case_id


def project_file(var: Path, port_date: date, today: date) -> Path:
    """``examples/project.yaml`` for a run: a fresh id, the customer of the demo's port, phases
    due from today to a few business days after the port date."""
    from core.calendar import PortCalendar

    cal = PortCalendar.from_settings()
    data = yaml.safe_load((EXAMPLES / "project.yaml").read_text("utf-8"))
    data["id"] = f"DEMO-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    data["customer"]["name"] = "Northwind Pediatrics"
    data["contact"] = {"name": "Maya Castillo", "email": "maya.castillo@northwindpeds.example"}
    data["ipm"] = {"name": "Irene Park", "email": IPM}
    data["time_zone"] = "America/Chicago"
    data["reminder_days"] = 1
    data["temporary_forwarding"] = False  # the port's temporary number adds that task (below)
    data["timeline"] = {k: d.isoformat() for k, d in (
        ("initiate", today), ("kick_off", today), ("build", today), ("go_live", port_date),
        ("post_go_live", cal.add_business_days(port_date, 2)), ("acceptance", cal.add_business_days(port_date, 4)))}
    out = var / "demo-project.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return out


class ProjectDemo:
    def __init__(self, demo: Demo, project_id: str) -> None:
        self.demo, self.client, self.pid = demo, demo.client, project_id

    async def view(self) -> Any:
        from portflow import projects

        return await projects.project_view(self.client, self.pid)

    async def finish(self, phase: str, *, skip: tuple[str, ...] = ()) -> None:
        """Complete the phase's open tasks as their owners would."""
        from portflow import projects

        v = await self.view()
        for t in [t for t in v.tasks if t.phase.value == phase and not t.done and t.id not in skip]:
            who = "maya.castillo@northwindpeds.example" if t.owner.value == "customer" else IPM
            await projects.complete_task(self.client, self.pid, t.id, by=who, note="done in the demo")
            self.demo.say(f"{self.pid}  {phase:<13} done: {t.title} [{who}]")

    async def phase(self, phase: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            v = await self.view()
            if v.phase.value == phase:
                self.demo.say(f"{self.pid}  phase {phase}" + (f": {len(v.open_tasks())} milestone(s) open"
                                                              if v.open_tasks() else ""))
                return v
            if time.monotonic() > deadline:
                raise SystemExit(f"project {self.pid} did not reach {phase} within {timeout:.0f} s (it is in "
                                 f"{v.phase.value}): see {v.ui_url}")
            await asyncio.sleep(0.5)


async def scenario(demo: Demo, settings: Any, request_file: Path, args: argparse.Namespace) -> int:
    from models.project import ProjectResult, workflow_id
    from portflow import projects
    from portflow.project_file import read_project_file

    today = datetime.now(UTC).date()
    port_date = date.fromisoformat(str(yaml.safe_load(request_file.read_text())["requested_port_date"]))
    spec = read_project_file(project_file(settings.var_dir, port_date, today))
    await projects.start_project(demo.client, spec, started_by=IPM)
    p = ProjectDemo(demo, spec.id)
    v = await p.phase("initiate")
    demo.say(f"started project {spec.id} for {spec.customer.name}: {len(v.tasks)} milestones, go-live {port_date}")
    demo.say(f"Temporal UI: {v.ui_url}")
    for phase, nxt in (("initiate", "kick_off"), ("kick_off", "build")):
        await p.finish(phase)
        await p.phase(nxt)
    rid = await demo.start(gated_request(request_file, port_date, today), launch=projects.launcher(spec.id, PM))
    demo.say(f"{spec.id}  port {rid} started as the project's child, with a temporary number and a go-live gate")
    forwarding = next((t for t in (await p.view()).tasks if t.id == "remove_temporary_forwarding"), None)
    if forwarding is not None:
        demo.say(f"{spec.id}  acceptance    task added: {forwarding.title} ({forwarding.note})")
    await p.finish("build")
    await p.phase("go_live")
    await pass_gate(demo, rid)  # the pre-go-live checklist is the port's gate
    await p.finish("go_live", skip=("numbers_ported",))
    page = await demo.follow(rid, timeout=args.timeout)
    if not page.finished or page.request.status.value != "completed":
        demo.say(f"port {rid} did not complete within {args.timeout:.0f} s: see {page.request.ui_url}")
        return 1
    v = await p.phase("post_go_live")
    ported = next(t for t in v.tasks if t.id == "numbers_ported")
    demo.say(f"{spec.id}  go_live       done: {ported.title} [{ported.done_by}: {ported.note}]")
    case_id = await support_case(demo, rid)
    from portflow import projects as prj

    await prj.complete_task(demo.client, spec.id, "issues_reviewed", by=IPM,
                            note=f"support case {case_id} (the Oak Park fax) resolved with the customer")
    demo.say(f"{spec.id}  post_go_live  done: Open issues and challenges reviewed: {case_id} [{IPM}]")
    await p.finish("post_go_live")
    await p.phase("acceptance")
    await p.finish("acceptance")
    result = await demo.client.get_workflow_handle(workflow_id(spec.id), result_type=ProjectResult).result()
    final = await projects.status(demo.client, spec.id)
    summary(demo, final, result, settings.outbox_dir)
    if args.keep:
        print("\n--keep: everything stays up; try `python starter.py project status "
              f"{spec.id}`; Ctrl-C stops it all", flush=True)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            print("\nCtrl-C: stopping", flush=True)
    return 0 if result.phase.value == "closed" else 1


def summary(demo: Demo, page: Any, result: Any, outbox: Path) -> None:
    v = page.view
    took = int(time.monotonic() - demo.t0)
    print(f"\nproject {v.project_id} {result.phase.value} in {took // 60} min {took % 60:02d} s: {v.customer_name}, "
          f"{result.tasks_done} milestones done", flush=True)
    for c in v.phases:
        print(f"  {c.at:%H:%M:%S} UTC  {c.phase.value:<13} {c.reason}")
    for port in page.ports:
        print(f"  port {port.request_id} ({port.how}): {port.stage}")
    mails = sorted(p for p in outbox.glob("*.eml") if p.stat().st_mtime >= demo.started_at.timestamp() - 1)
    print(f"  {len(mails)} message(s) written to {outbox}:")
    for path in mails:
        with open(path, "rb") as fh:
            msg = BytesParser(policy=policy.default).parse(fh, headersonly=True)
        print(f"      {path.name}: to {msg['To']}: {msg['Subject']}")
    print(f"  Temporal UI: {v.ui_url}", flush=True)


def main(argv: list[str] | None = None) -> int:
    from devtools import demo

    parser = argparse.ArgumentParser(prog="python -m portflow.demo --project", description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", action="store_true", help="Run the implementation project demo (this one)")
    return demo.main(argv, scenario=scenario, parser=parser)
