"""SupportCaseWorkflow: one support case after go-live, id ``case-...`` (``models.support``).

``run`` waits on one timer, the case's next target (first response, next update, the
customer's answer, the end of the reopen window), and wakes early for every move people make
through the ``act`` update; a missed target escalates to the PM and ops and the timer moves to
the next period. Business-hours targets (P3/P4) are computed by an activity; UTC only here.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.support import CaseAction, CaseCommand, CaseInput, CaseState, CaseView, MaintenanceAnswer, \
        MaintenanceCheck, PlannedChange
    from workflows.common import LOCAL, act, fmt
    from workflows.support_case import notices, targets
    from workflows.support_case.case import Case

S = CaseState
A = CaseAction
# moves the customer hears about (a priority change or a planned change is internal)
TOLD = frozenset({A.RESPOND, A.UPDATE, A.WAIT, A.RESOLVE, A.REOPEN, A.CLOSE})


# AUTO_UPGRADE as the ports: a case may stay open for weeks; changes go behind workflow.patched().
@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class SupportCaseWorkflow:
    @workflow.init
    def __init__(self, inp: CaseInput) -> None:
        self.c = Case(inp)

    @workflow.run
    async def run(self, inp: CaseInput) -> CaseView:
        c = self.c
        if inp.carry is None:
            async with c.lock:
                c.first_due = await targets.first_response(c.priority, c.opened_at, inp.support_timezone)
                if c.state == S.NEW:  # an update in the first task may have acted already
                    c.due = c.first_due
                c.ready = True
                c.publish()
                await notices.opened(c)
        else:
            c.publish()  # this run's search attributes and details
        while c.state != S.CLOSED:
            if workflow.info().get_current_history_length() >= inp.continue_after_events \
                    or workflow.info().is_continue_as_new_suggested():
                # a case left open for weeks (hourly P1 rounds): a new run with the same state
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(inp.model_copy(update={"carry": c.carry()}))
            seen, due = c.version, c.due
            left = (due - workflow.now()) if due is not None else None
            if left is None or left > timedelta(0):
                try:
                    await workflow.wait_condition(lambda: c.version != seen, timeout=left,
                                                  timeout_summary=f"{c.deadline_kind()} due {fmt(due)}")
                    continue
                except asyncio.TimeoutError:
                    pass
            async with c.lock:
                if c.version == seen and c.due == due:  # no move came in while the lock was taken
                    await self._target_missed()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return c.view()

    async def _target_missed(self) -> None:
        c, due = self.c, self.c.due
        assert due is not None
        tz = c.inp.support_timezone
        if c.state == S.RESOLVED:
            c.close_by_system(f"not reopened within {c.inp.reopen_days} days of the resolution")
            await notices.moved(c)
        elif c.state == S.WAITING_ON_CUSTOMER:
            c.close_by_system(f"closed without response: no answer from the customer in {targets.NO_ANSWER_DAYS} "
                              "business days")
            await notices.moved(c)
        else:
            await notices.escalate(c, "first response" if c.state == S.NEW else "update", due)
            # the next look is one update period later (P1: every hour until someone acts)
            c.due = await targets.next_update(c.priority, due, tz)
        c.publish()

    # ------------------------------------------------------------------ people
    @workflow.update
    async def act(self, cmd: CaseCommand) -> CaseView:
        c = self.c
        async with c.lock:
            await self._apply(cmd)
        return c.view()

    @act.validator
    def _v_act(self, cmd: CaseCommand) -> None:
        problem = self.c.problem(cmd, workflow.now())
        if problem:
            raise ValueError(problem)

    async def _apply(self, cmd: CaseCommand) -> None:
        c, tz = self.c, self.c.inp.support_timezone
        problem = c.problem(cmd, workflow.now())
        if problem:  # another move got in first while this one waited for the lock: the update fails, not the task
            raise ApplicationError(problem, type="CaseMoveRefused", non_retryable=True)
        if cmd.action == A.PLAN_CHANGE:
            assert cmd.at is not None
            answer = await act("case_maintenance_check", MaintenanceCheck(at=cmd.at), MaintenanceAnswer,
                               summary=f"is {fmt(cmd.at)} in the maintenance window", retry=LOCAL)
            c.changes.append(PlannedChange(at=cmd.at, by=cmd.by, note=cmd.note, in_maintenance_window=answer.in_window,
                                           window_start=answer.window_start, window_end=answer.window_end))
            flag = (f"IN THE MAINTENANCE WINDOW {fmt(answer.window_start)} to {fmt(answer.window_end)}"
                    if answer.in_window else "outside the maintenance window")
            c.record(cmd.by, cmd.action.value, f"change planned for {fmt(cmd.at)} ({flag}): {cmd.note}")
            c.publish()
            return
        c.move(cmd)
        if cmd.action == A.PRIORITY and c.state not in (S.NEW, S.IN_PROGRESS):
            pass  # waiting on the customer: the 2 business days to answer do not depend on the priority
        elif c.state == S.NEW:  # a new priority before the first response: its first-response target
            c.first_due = await targets.first_response(c.priority, c.opened_at, tz)
            c.due = c.first_due
        elif c.state == S.IN_PROGRESS:
            c.next_update_due = await targets.next_update(c.priority, c.last_contact, tz)
            c.due = c.next_update_due
        elif c.state == S.WAITING_ON_CUSTOMER:
            c.due = await targets.no_answer(c.history[-1].at, tz)
        elif c.state == S.RESOLVED:
            c.due = c.reopen_until()
        c.version += 1  # the new deadline is in: wake the run loop's timer
        c.publish()
        if cmd.action in TOLD:
            await notices.moved(c)

    @workflow.update
    async def opened(self) -> CaseView:
        """Answers once the case has its first target (P3/P4: after the calendar activity):
        what ``starter.py case open`` shows."""
        await workflow.wait_condition(lambda: self.c.ready)
        return self.c.view()

    @workflow.query
    def status(self) -> CaseView:
        return self.c.view()
