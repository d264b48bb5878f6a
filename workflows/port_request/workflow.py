"""PortRequestWorkflow: one customer's port request, start to finish.

Intake (record the request, claim its numbers), documents under the lead time, then one
child ``PortOrderWorkflow`` per losing carrier account; it keeps number assignment and
completes when every order is ported and verified, or cancelled. Its workflow id is the
request id, so the same request cannot run twice.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from models.numbers import NumberProblem, parse_tn
    from models.request import DocumentKind
    from models.status import TERMINAL, PortStatus, StatusChange, cancel_problem
    from models.workflow import (
        AmendOrder,
        AssignedSignal,
        AssignInput,
        AssignNumbers,
        AttachDocument,
        Cancel,
        ExpediteRequest,
        InventoryResult,
        OrderView,
        PortRequestInput,
        PortResult,
        RequestView,
        SplitRequest,
    )
    from workflows.common import LOCAL, act
    from workflows.audit import AuditTrail
    from workflows.lifecycle import CancelNow
    from models.golive import GateDone, GateRollback, GateWindow, TempNumbers
    from workflows.port_request import documents, gate, orders
    from workflows.port_request.request import Request, at_midnight

S = PortStatus


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# AUTO_UPGRADE: a request lives three weeks or more (months when a carrier keeps refusing),
# far longer than we keep an old build's workers, so it moves to each new current build at
# its next workflow task; a change that does not replay goes behind workflow.patched() and
# `starter.py replay` checks the ports in flight before a deploy (docs/upgrades.md).
@workflow.defn(versioning_behavior=VersioningBehavior.AUTO_UPGRADE)
class PortRequestWorkflow:
    @workflow.init
    def __init__(self, inp: PortRequestInput) -> None:
        # built here, not in run(): an update in the first task (an attach right after the
        # start) renders the view
        self.r = Request(inp)

    @property
    def audit_trail(self) -> AuditTrail:
        """The status changes the store has yet to confirm (``workflows.audit``)."""
        return self.r.audit

    @workflow.run
    async def run(self, inp: PortRequestInput) -> PortResult:
        r, req = self.r, inp.request
        r.timeline.append(StatusChange(subject=req.id, from_status=None, to_status=S.INTAKE, actor=inp.started_by,
                                       reason=f"request for {req.customer.name}: {len(req.all_numbers)} numbers, "
                                              f"{len(req.accounts)} carrier accounts", at=workflow.now()))
        if await documents.intake(r):
            try:
                await documents.stage(r)
                await orders.run_orders(r)
            except CancelNow:
                await orders.cancelled(r)
            await orders.finish(r)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await r.flush_audit()
        return r.result()

    # ------------------------------------------------------------------ documents
    @workflow.update
    async def attach_document(self, a: AttachDocument) -> RequestView:
        doc = a.document.model_copy(update={"uploaded_by": a.actor})
        self.r.documents.append(doc)
        self.r.note(a.actor, f"{doc.kind.value.upper()} attached: {doc.file_name}")
        return self.r.view()

    @attach_document.validator
    def _v_attach(self, a: AttachDocument) -> None:
        r = self.r
        if r.status in TERMINAL:
            raise ValueError(f"request is {r.status}: documents can no longer be attached")
        if a.document.kind not in (DocumentKind.CSR, DocumentKind.BILL, DocumentKind.OTHER):
            raise ValueError(f"attach a csr, bill or other document, not {a.document.kind.value}")
        ids = r.order_ids()
        if a.document.order_id is not None and a.document.order_id not in ids:
            raise ValueError(f"order {a.document.order_id} is not part of {r.subject}; its orders: {', '.join(ids)}")
        if any(d.sha256 == a.document.sha256 and d.order_id == a.document.order_id and d.kind == a.document.kind
               for d in r.documents):
            raise ValueError(f"this {a.document.kind.value} ({a.document.file_name}) is already attached")

    # ------------------------------------------------------------------ before the orders run
    @workflow.update
    async def amend(self, a: AmendOrder) -> RequestView:
        self.r.pre_amends.append(a)
        if a.port_date is not None:
            self.r.port_date = a.port_date
            self.r.sa.update(port_date=at_midnight(a.port_date))
        self.r.note(a.actor, f"{a.order_id}: amended {', '.join(a.changed_fields())}: {a.reason}")
        return self.r.view()

    @amend.validator
    def _v_amend(self, a: AmendOrder) -> None:
        r = self.r
        if r.children:
            raise ValueError(f"orders are running: send the amendment to the order itself ({a.order_id})")
        if r.status in TERMINAL:
            raise ValueError(f"request is {r.status}")
        if a.order_id not in r.order_ids():
            raise ValueError(f"unknown order {a.order_id}; this request's orders: {', '.join(r.order_ids())}")
        if not a.changed_fields():
            raise ValueError("nothing to amend: give at least one field to change")
        if a.remove_numbers:
            raise ValueError("numbers can be removed once the order runs (amend the order)")

    @workflow.update
    async def expedite_port(self, e: ExpediteRequest) -> RequestView:
        self.r.expedite = e
        if e.port_date:
            self.r.port_date = e.port_date
            self.r.sa.update(port_date=at_midnight(e.port_date))
        self.r.note(e.actor, f"expedite: {e.reason}" + (f"; port date {e.port_date}" if e.port_date else ""))
        return self.r.view()

    @expedite_port.validator
    def _v_expedite(self, e: ExpediteRequest) -> None:
        if self.r.status not in (S.INTAKE, S.DOCUMENTS):
            raise ValueError(f"request is {self.r.status}: an expedite waives the documents lead time, which has passed; "
                             "change an order's date with amend --port-date (SUP2)")
        if e.port_date is not None and e.port_date < workflow.now().date():
            raise ValueError(f"port date {e.port_date} is in the past")

    # ------------------------------------------------------------------ numbers
    @workflow.update
    async def assign(self, a: AssignNumbers) -> RequestView:
        r = self.r
        norm = {parse_tn(k): v for k, v in a.assignments.items()}
        await act("assign_numbers", AssignInput(request_id=r.subject, assignments=norm, kind=a.kind),
                  InventoryResult, summary=f"assign {_plural(len(norm), 'number')}", retry=LOCAL)
        r.assignments.update(norm)
        r.note(a.actor, f"assigned {_plural(len(norm), 'number')}")
        for oid, handle in r.children.items():
            mine = {tn: who for tn, who in norm.items() if tn in r.part_numbers.get(oid, set())}
            if mine:
                await handle.signal("numbers_assigned", AssignedSignal(assignments=mine))
        return r.view()

    @assign.validator
    def _v_assign(self, a: AssignNumbers) -> None:
        r = self.r
        if r.status in TERMINAL:
            raise ValueError(f"request is {r.status}: numbers can no longer be assigned here")
        mine = set(r.inp.request.all_numbers)
        problems = []
        for tn, who in a.assignments.items():
            try:
                e164 = parse_tn(tn)
            except NumberProblem as exc:
                problems.append(str(exc))
                continue
            if e164 not in mine:
                problems.append(f"{tn} is not a number of {r.subject}")
            if not who.strip():
                problems.append(f"{tn}: say who gets it (a user's e-mail or a resource account)")
        if problems:
            raise ValueError("; ".join(problems))

    # ------------------------------------------------------------------ cancel
    @workflow.update
    async def cancel(self, c: Cancel) -> RequestView:
        self.r.cancel_req = c
        for handle in self.r.children.values():
            await handle.signal("cancel_order", c)
        await workflow.wait_condition(lambda: self.r.status in TERMINAL)
        return self.r.view()

    @cancel.validator
    def _v_cancel(self, c: Cancel) -> None:
        r = self.r
        if r.status in TERMINAL or r.cancel_req is not None:
            raise ValueError(f"request is {r.status}: nothing to cancel")
        for o in r.orders.values():
            if o.status in TERMINAL:
                continue
            problem = cancel_problem(o.status, o.foc_at, workflow.now(), r.inp.options.foc_guard_hours, o.order_id)
            if problem:
                raise ValueError(problem if problem.startswith("order ") else f"order {o.order_id}: {problem}")

    # ------------------------------------------------------------------ go-live gate, temporary numbers
    @workflow.update
    async def gate_done(self, d: GateDone) -> RequestView:
        await gate.done(self.r, d)
        return self.r.view()

    @gate_done.validator
    def _v_gate_done(self, d: GateDone) -> None:
        gate.v_done(self.r, d)

    @workflow.update
    async def gate_change_window(self, w: GateWindow) -> RequestView:
        await gate.window(self.r, w)
        return self.r.view()

    @gate_change_window.validator
    def _v_gate_window(self, w: GateWindow) -> None:
        gate.v_window(self.r, w)

    @workflow.update
    async def gate_rollback(self, rb: GateRollback) -> RequestView:
        await gate.rollback(self.r, rb)
        return self.r.view()

    @gate_rollback.validator
    def _v_gate_rollback(self, rb: GateRollback) -> None:
        gate.v_rollback(self.r, rb)

    @workflow.update
    async def add_temp_numbers(self, t: TempNumbers) -> RequestView:
        await gate.temp_numbers(self.r, t, gate.v_temp_numbers(self.r, t))
        return self.r.view()

    @add_temp_numbers.validator
    def _v_temp_numbers(self, t: TempNumbers) -> None:
        gate.v_temp_numbers(self.r, t)

    # ------------------------------------------------------------------ from the orders
    @workflow.signal
    async def order_progress(self, view: OrderView) -> None:
        """An order's new view: its counts, not its numbers (the CLI asks each order for those)."""
        old = self.r.orders.get(view.order_id)
        self.r.orders[view.order_id] = view.model_copy(update={"timeline": old.timeline if old else []})
        await self.r.publish()

    @workflow.signal
    def split_requested(self, s: SplitRequest) -> None:
        self.r.split_q.append(s)

    @workflow.query
    def status(self) -> RequestView:
        return self.r.view()
