"""A support case's state and its moves: who did what when, the one deadline the workflow
waits for (first response, next update, the customer's answer, the reopen window), and what
ops see (search attributes, the UI's current details, the status view)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.support import (
        MOVES,
        TARGETS,
        CaseAction,
        CaseCarry,
        CaseCommand,
        CaseEvent,
        CaseInput,
        CaseState,
        CaseView,
        PlannedChange,
        Priority,
        move_problem,
    )
    from workflows import search
    from workflows.common import fmt

S = CaseState
A = CaseAction


class Case:
    def __init__(self, inp: CaseInput) -> None:
        self.inp = inp
        self.id = inp.case_id
        self.priority: Priority = inp.priority
        self.state: CaseState = S.NEW
        self.opened_at = workflow.now()
        self.first_response_at: datetime | None = None
        self.last_contact = self.opened_at  # the last response or update: the next update counts from it
        self.resolved_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.first_due: datetime | None = None  # the first-response target (the seed's, not re-escalations)
        self.next_update_due: datetime | None = None  # the update target (the seed's)
        self.due: datetime | None = None  # the one timer: what the state waits for (see deadline_kind)
        self.reopened = 0
        self.updates = 0
        self.overdue = 0  # escalations since the last response or update
        self.escalations: list[str] = []
        self.changes: list[PlannedChange] = []
        self.history: list[CaseEvent] = [CaseEvent(at=self.opened_at, by=inp.opened_by, action="open",
                                                   note=inp.summary, state=S.NEW)]
        self.version = 0  # bumped by every move: wakes the run loop's wait
        self.lock = asyncio.Lock()  # one move at a time (a handler and the timer may both act)
        self.ready = False  # run() computed the first target
        self.runs = 0  # earlier runs of this case (continue-as-new)
        if inp.carry is not None:
            self.restore(inp.carry)

    # ------------------------------------------------------------------ continue-as-new
    _CARRIED = ("priority", "state", "opened_at", "first_response_at", "last_contact", "resolved_at", "closed_at",
                "first_due", "next_update_due", "due", "reopened", "updates", "overdue", "escalations", "changes",
                "history")

    def carry(self) -> CaseCarry:
        return CaseCarry(runs=self.runs + 1, **{name: getattr(self, name) for name in self._CARRIED})

    def restore(self, carry: CaseCarry) -> None:
        for name in self._CARRIED:
            setattr(self, name, getattr(carry, name))
        self.runs, self.ready = carry.runs, True

    # ------------------------------------------------------------------ rules
    def problem(self, cmd: CaseCommand, now: datetime) -> str | None:
        """Why ``cmd`` is refused (the update's validator), or None."""
        if cmd.case_id != self.id:
            return f"this is case {self.id}, not {cmd.case_id}"
        problem = move_problem(self.id, self.state, cmd.action)
        if problem:
            return problem
        if cmd.action == A.REOPEN and self.resolved_at is not None and now >= self.reopen_until():
            return (f"case {self.id} could be reopened until {fmt(self.reopen_until())}: "
                    "open a new case that refers to it")
        if cmd.action == A.PRIORITY:
            if cmd.priority is None:
                return "give the new priority (P1, P2, P3 or P4)"
            if cmd.priority == self.priority:
                return f"case {self.id} is already {self.priority.value}"
        if cmd.action == A.PLAN_CHANGE and cmd.at is None:
            return "give the time the change is planned for (--at 2027-03-19T23:00-06:00)"
        if cmd.action != A.PRIORITY and len(cmd.note) < 3:
            return f"say what was done or said in a note of at least 3 characters (--note) for '{cmd.action.value}'"
        return None

    def reopen_until(self) -> datetime:
        assert self.resolved_at is not None
        return self.resolved_at + timedelta(days=self.inp.reopen_days)

    def deadline_kind(self) -> str:
        return {S.NEW: "first response", S.IN_PROGRESS: "next update", S.WAITING_ON_CUSTOMER: "the customer's answer",
                S.RESOLVED: "end of the reopen window", S.CLOSED: "nothing"}[self.state]

    # ------------------------------------------------------------------ moves
    def record(self, by: str, action: str, note: str, to: CaseState | None = None) -> None:
        if to is not None:
            self.state = to
        self.history.append(CaseEvent(at=workflow.now(), by=by, action=action, note=note, state=self.state))
        self.version += 1

    def move(self, cmd: CaseCommand) -> None:
        """Apply ``cmd``'s state change and counters (deadlines are the workflow's: they may need an activity)."""
        now = workflow.now()
        _, to = MOVES[cmd.action]
        if self.first_response_at is None and cmd.action in (A.RESPOND, A.WAIT, A.RESOLVE):
            self.first_response_at = now  # an agent's first word to the customer, whatever it says
        if cmd.action in (A.RESPOND, A.UPDATE, A.REOPEN):
            self.last_contact, self.overdue = now, 0
        if cmd.action == A.UPDATE:
            self.updates += 1
        if cmd.action == A.RESOLVE:
            self.resolved_at = now
        if cmd.action == A.REOPEN:
            self.reopened += 1
            self.resolved_at = None
        if cmd.action == A.CLOSE:
            self.closed_at, self.due = now, None
        note = cmd.note
        if cmd.action == A.PRIORITY and cmd.priority is not None:
            note = f"{self.priority.value} -> {cmd.priority.value}{': ' + cmd.note if cmd.note else ''}"
            self.priority = cmd.priority
        self.record(cmd.by, cmd.action.value, note, to)

    def close_by_system(self, why: str) -> None:
        self.closed_at, self.due = workflow.now(), None
        self.record("system", A.CLOSE.value, why, S.CLOSED)

    # ------------------------------------------------------------------ what ops see
    def publish(self) -> None:
        workflow.upsert_search_attributes([
            search.CASE_PRIORITY.value_set(self.priority.value),
            search.CASE_STATE.value_set(self.state.value),
            search.ESCALATED.value_set(self.overdue > 0 and self.state in (S.NEW, S.IN_PROGRESS)),
            search.NEXT_DEADLINE.value_set(self.due) if self.due else search.NEXT_DEADLINE.value_unset(),
        ])
        lines = [f"**{self.priority.value} {self.state.value}** · {self.inp.customer_name} · {self.inp.summary}",
                 f"Next: {self.deadline_kind()} due {fmt(self.due)}"]
        if self.inp.order_id:
            lines.append(f"Port order {self.inp.order_id} ({self.inp.trigger or 'linked'})")
        if self.overdue and self.escalations:
            lines.append("**Escalated**: " + self.escalations[-1])
        flagged = [c for c in self.changes if c.in_maintenance_window]
        if flagged:
            lines.append(f"**{len(flagged)} planned change(s) in the maintenance window**")
        workflow.set_current_details("\n\n".join(lines))

    def view(self) -> CaseView:
        t = TARGETS[self.priority]
        return CaseView(
            case_id=self.id, customer_name=self.inp.customer_name, priority=self.priority, state=self.state,
            summary=self.inp.summary, request_id=self.inp.request_id, order_id=self.inp.order_id,
            trigger=self.inp.trigger, opened_at=self.opened_at, opened_by=self.inp.opened_by,
            first_response_due=self.first_due,
            first_response_at=self.first_response_at,
            next_update_due=self.next_update_due if self.state == S.IN_PROGRESS else None,
            resolved_at=self.resolved_at,
            reopen_until=self.reopen_until() if self.state == S.RESOLVED and self.resolved_at else None,
            closed_at=self.closed_at, reopened=self.reopened, updates=self.updates,
            escalations=list(self.escalations), planned_changes=list(self.changes), history=list(self.history),
            target=t.label, runs=self.runs + 1,
        )

