"""PortRequestWorkflow: one customer's port request, start to finish.

Intake (record the request, claim its numbers), documents under the lead time (reminders;
the date slips when they are late, unless a PM expedites), then one child
``PortOrderWorkflow`` per losing carrier account; it keeps number assignment and completes
when every order is ported and verified, or cancelled. Its workflow id is the request id,
so the same request cannot run twice.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.notify import Audience
    from models.numbers import NumberProblem, parse_tn
    from models.request import DocumentKind, DocumentRef
    from models.status import STAGE_ORDER, TERMINAL, PortStatus, StatusChange, transition
    from models.workflow import (
        AccountSpec,
        AmendOrder,
        AssignedSignal,
        AssignInput,
        AssignNumbers,
        AttachDocument,
        AuditInput,
        Cancel,
        Deadline,
        ExpediteRequest,
        InventoryResult,
        MissingDocument,
        OrderView,
        PlanDatesInput,
        PortOrderInput,
        PortPlan,
        PortRequestInput,
        PortResult,
        RecordRequestInput,
        RequestRecorded,
        RequestView,
        SplitInput,
        SplitRequest,
        WaitingOn,
    )
    from workflows.common import LOCAL, SearchState, act, fmt, initial_search_attributes, notify
    from workflows.port_order import PortOrderWorkflow

S = PortStatus


def _at_midnight(d) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=UTC)


@workflow.defn
class PortRequestWorkflow:
    @workflow.init
    def __init__(self, inp: PortRequestInput) -> None:
        # set before any update handler runs: an update in the first task sees the input
        self.inp: PortRequestInput | None = inp
        self.status = S.INTAKE
        self.timeline: list[StatusChange] = []
        self.documents: list[DocumentRef] = []
        self.orders: dict[str, OrderView] = {}
        self.children: dict[str, workflow.ChildWorkflowHandle] = {}
        self.plan: PortPlan | None = None
        # set here, not in run(): an update in the first task (an attach right after the
        # start) renders the view, which needs them
        self.port_date = inp.request.requested_port_date
        self.expedite: ExpediteRequest | None = ExpediteRequest(**inp.expedite.model_dump()) if inp.expedite else None
        if self.expedite and self.expedite.port_date:
            self.port_date = self.expedite.port_date
        self.next = Deadline(what="intake")
        self.cancel_req: Cancel | None = None
        self.escalations: list[str] = []
        self.assignments: dict[str, str] = {}
        self.pre_amends: list[AmendOrder] = []
        self.sa = SearchState()
        self.stage: tuple[PortStatus, datetime] | None = None
        # which documents each account needs, worked out once (not inside wait conditions)
        self.required: list[tuple[str, DocumentKind]] = []
        for i, acc in enumerate(inp.request.accounts):
            oid = inp.request.order_id(i)
            if len(acc.toll_free) < len(acc.numbers):
                self.required.append((oid, DocumentKind.CSR))  # RespOrg changes need no CSR
            self.required.append((oid, DocumentKind.BILL))
        self.parts = inp.request.order_parts()
        self.part_numbers = {p.order_id: set(p.numbers) for p in self.parts}
        self.results: dict[str, OrderView | BaseException] = {}
        self.split_q: list[SplitRequest] = []
        self.doc_base: dict[str, str] = {}

    @workflow.run
    async def run(self, inp: PortRequestInput) -> PortResult:
        # histories recorded before this patch upsert and signal on every wake: replay them so
        self.sa.lean = workflow.patched("lean-history-v2")
        self.inp = inp
        req = inp.request
        self.timeline.append(StatusChange(subject=req.id, from_status=None, to_status=S.INTAKE, actor=inp.started_by,
                                          reason=f"request for {req.customer.name}: {len(req.all_numbers)} numbers, "
                                                 f"{len(req.accounts)} carrier accounts", at=workflow.now()))
        try:
            await act("record_request", RecordRequestInput(request=req, pm_email=inp.options.pm_email), RequestRecorded,
                      summary=f"record {req.id} and claim its {len(req.all_numbers)} numbers", retry=LOCAL)
        except ActivityError as err:
            why = str(err.cause.message if isinstance(err.cause, ApplicationError) else err.cause)
            await self._move(S.FAILED, "system", f"intake refused: {why}")
            await self._notify("intake_failed", "escalation", [self._pm()], priority="P3", reason=f"intake refused: {why}",
                               stage="failed", waiting_on="pm", next_deadline="fix the request and start it again")
            return self._result()
        await act("record_status", AuditInput(change=self.timeline[0]), type(None), summary="timeline starts", retry=LOCAL)
        await self._replan()
        assert self.plan is not None
        await self._notify("received", "request_received", [self._contact(), self._pm()],
                           requested_date=str(self.port_date), number_count=len(req.all_numbers),
                           documents_due=fmt(self.plan.documents_due_at), missing_documents=self._missing())
        try:
            await self._documents_stage()
            await self._orders_stage()
        except _Cancelled:
            c = self.cancel_req
            assert c is not None
            await act("inventory_update", _release(req.id, c.reason), InventoryResult, summary="release the numbers", retry=LOCAL)
            await self._move(S.CANCELLED, c.actor, c.reason)
        await self._finish()
        return self._result()

    # ------------------------------------------------------------------ documents
    async def _documents_stage(self) -> None:
        assert self.inp is not None
        opts = self.inp.options
        await self._replan()
        slipped = False
        sent: set[str] = set()
        while self._missing():
            if self.status == S.INTAKE:
                await self._move(S.DOCUMENTS, "system", "waiting for " + ", ".join(self._missing()))
            assert self.plan is not None
            now = workflow.now()
            due = self.plan.documents_due_at
            reminders = [due - timedelta(days=d) for d in opts.document_reminder_days]
            pending = sorted(t for t in reminders if t > now and t.isoformat() not in sent)
            if slipped:  # after a slip: remind every two days until they come
                pending = [now + timedelta(days=2)]
            wake = min([*pending[:1], due] if due > now and not slipped else pending[:1] or [now + timedelta(days=2)])
            self._set_next("customer sends " + ", ".join(self._missing()), due, WaitingOn.CUSTOMER)
            self._publish()
            amends_seen = len(self.pre_amends)
            got = await self._wait(lambda: not self._missing() or len(self.pre_amends) > amends_seen, wake,
                                   f"documents due {fmt(due)}: " + ", ".join(self._missing()))
            if got:
                continue
            now = workflow.now()
            if now >= due and not slipped and self.expedite is None:
                old = self.port_date
                await self._replan(documents_complete_at=now)
                assert self.plan is not None
                self.port_date = self.plan.earliest_port_date
                slipped = True
                if workflow.patched("replan-after-slip"):
                    await self._replan()  # the due date of the new port date, for the status and reminders
                reason = f"documents late: port date moved from {old} to {self.port_date} (3-week lead time)"
                await self._record_note("system", reason)
                self.sa.update(port_date=_at_midnight(self.port_date))
                await self._notify(f"slip:{self.port_date}", "date_slipped", [self._contact(), self._pm()],
                                   old_date=str(old), new_date=str(self.port_date), missing_documents=self._missing())
            else:
                key = f"docs_missing:{wake.isoformat()}"
                sent.add(wake.isoformat())
                await self._notify(key, "documents_missing", [self._contact()], missing_documents=self._missing(),
                                   due_date=fmt(due), requested_date=str(self.port_date),
                                   days_left=max(0, (due - workflow.now()).days))
        # documents complete: keep the lead time from this moment unless expedited
        if self.expedite is None:
            await self._replan(documents_complete_at=workflow.now())
            assert self.plan is not None
            if self.plan.earliest_port_date > self.port_date:
                old, self.port_date = self.port_date, self.plan.earliest_port_date
                await self._record_note("system", f"documents completed late: port date moved from {old} to {self.port_date}")
                self.sa.update(port_date=_at_midnight(self.port_date))
                await self._notify(f"slip:{self.port_date}", "date_slipped", [self._contact(), self._pm()],
                                   old_date=str(old), new_date=str(self.port_date), missing_documents=[])
        why = "documents complete" + (f"; expedited by {self.expedite.actor}: {self.expedite.reason}" if self.expedite else "")
        await self._move(S.VALIDATED, "system", why)

    def _required(self) -> list[tuple[str, DocumentKind]]:
        return self.required

    def _missing(self) -> list[str]:
        return [f"{m.kind.value.upper()} for {m.carrier} ({m.order_id})" for m in self._missing_docs()]

    def _missing_docs(self) -> list[MissingDocument]:
        assert self.inp is not None
        have = {(d.order_id, d.kind) for d in self.documents}
        out = []
        for oid, kind in self._required():
            if (oid, kind) not in have and (None, kind) not in have:
                carrier = self.inp.request.accounts[int(oid.rsplit("-", 1)[1]) - 1].carrier
                out.append(MissingDocument(kind=kind, order_id=oid, carrier=carrier))
        return out

    # ------------------------------------------------------------------ orders
    async def _orders_stage(self) -> None:
        assert self.inp is not None
        req = self.inp.request
        for part in self.parts:
            acc = req.accounts[part.account_index]
            oid, base = part.order_id, req.order_id(part.account_index)
            spec = AccountSpec(
                carrier=acc.carrier, account_number=acc.account_number, pin=acc.pin, btn=acc.btn,
                service_address=acc.service_address, port_type=acc.port_type.value,
                remaining_numbers=acc.remaining_numbers.value if acc.remaining_numbers else None,
                new_btn=acc.new_btn, numbers=part.numbers, toll_free=part.toll_free,
            )
            amends = [a for a in self.pre_amends if a.order_id in (oid, base)]
            for a in amends:
                spec = spec.model_copy(update=a.account_updates())
            entity = next((a.entity_name for a in reversed(amends) if a.entity_name), None)
            signer = next((a.signer for a in reversed(amends) if a.signer), None) or req.signer
            await self._start_order(oid, base, spec, signer, entity, self.port_date,
                                    f"Order {len(self.children) + 1} of {len(self.parts)} of request {req.id}.")
        self._publish()
        while True:
            await workflow.wait_condition(lambda: bool(self.split_q) or len(self.results) == len(self.children))
            if not self.split_q:
                break
            await self._split(self.split_q.pop(0))
        for oid, res in self.results.items():
            if isinstance(res, OrderView):
                self.orders[oid] = res
            else:
                self.escalations.append(f"{oid} ended with an error: {res}")

    async def _start_order(self, oid: str, base: str, spec: AccountSpec, signer, entity: str | None, port_date,
                           details: str) -> None:
        """Start one child PortOrderWorkflow; its result lands in ``self.results``."""
        assert self.inp is not None
        req = self.inp.request
        self.doc_base[oid] = base
        # the account's documents serve each of its orders (a toll-free share, a split)
        docs = [d if d.order_id is None or d.order_id == oid else d.model_copy(update={"order_id": oid})
                for d in self.documents if d.order_id in (None, oid, base)]
        child_inp = PortOrderInput(
            request_id=req.id, order_id=oid, index=len(self.children), customer_name=req.customer.name,
            entity_name=entity,
            language=req.customer.language, contact_name=req.contact.name, contact_email=str(req.contact.email),
            signer=signer, account=spec, port_date=port_date, activation_time=req.activation_time,
            time_zone=req.time_zone, documents=docs, options=self.inp.options, expedited=self.expedite is not None,
        )
        self.orders[oid] = OrderView(order_id=oid, carrier=spec.carrier, status=S.VALIDATED, port_date=port_date,
                                     toll_free=spec.toll_free)
        kind = "RespOrg change" if spec.toll_free else f"{spec.port_type} port"
        handle = await workflow.start_child_workflow(
            PortOrderWorkflow.run, child_inp, id=oid,
            static_summary=f"{req.customer.name}: {spec.carrier} {kind}, {len(spec.numbers)} numbers",
            static_details=f"{details} Port date {port_date}.",
            search_attributes=initial_search_attributes(
                request_id=req.id, customer=req.customer.name, carriers=[spec.carrier],
                port_date=_at_midnight(port_date), status=S.VALIDATED.value, since=workflow.now(),
                unassigned=len([n for n in spec.numbers if n not in self.assignments]),
            ),
            memo={"request_id": req.id, "customer": req.customer.name, "carrier": spec.carrier,
                  "kind": kind, "number_count": len(spec.numbers), "pm_email": self.inp.options.pm_email},
        )
        self.children[oid] = handle

        async def done() -> None:
            try:
                self.results[oid] = await handle
            except Exception as err:  # noqa: BLE001 - kept as the order's outcome
                self.results[oid] = err

        asyncio.create_task(done())

    async def _split(self, r: SplitRequest) -> None:
        """The carrier required some numbers apart: they go on in a new order of their own."""
        assert self.inp is not None
        req = self.inp.request
        oid = f"{req.id}-{len(self.children) + 1}"
        await act("split_order", SplitInput(request_id=req.id, from_order=r.from_order, to_order=oid, tns=r.numbers),
                  InventoryResult, summary=f"move {len(r.numbers)} numbers from {r.from_order} to {oid}", retry=LOCAL)
        self.part_numbers[oid] = set(r.numbers)
        self.part_numbers[r.from_order] = self.part_numbers.get(r.from_order, set()) - set(r.numbers)
        await self._record_note("system", f"{r.from_order}: the carrier required a split; "
                                          f"{len(r.numbers)} numbers go on in {oid}: {r.reason}")
        await self._start_order(oid, self.doc_base.get(r.from_order, r.from_order),
                                r.account.model_copy(update={"numbers": r.numbers}), r.signer, r.entity_name,
                                r.port_date, f"Split from {r.from_order} of request {req.id} (the carrier required it).")
        self._publish()

    @workflow.signal
    def split_requested(self, r: SplitRequest) -> None:
        self.split_q.append(r)

    async def _finish(self) -> None:
        assert self.inp is not None
        statuses = [o.status for o in self.orders.values()]
        if self.status in TERMINAL:
            pass
        elif statuses and all(s == S.COMPLETED for s in statuses):
            await self._derive(S.COMPLETED, "every order ported and verified")
        elif statuses and all(s in (S.COMPLETED, S.CANCELLED) for s in statuses) and S.COMPLETED in statuses:
            await self._derive(S.COMPLETED, "ported orders verified; the others cancelled")
        elif statuses and all(s == S.CANCELLED for s in statuses):
            await self._derive(S.CANCELLED, self.cancel_req.reason if self.cancel_req else "every order cancelled")
        else:
            await self._derive(S.FAILED, "an order failed: " + "; ".join(self.escalations or [str(statuses)]))
        if self.status == S.COMPLETED:
            ported = [n.tn for o in self.orders.values() for n in o.numbers if n.state == "active"]
            not_ported = [n.tn for o in self.orders.values() for n in o.numbers if n.state not in ("active", "split")]
            kept = [a.new_btn for a in self.inp.request.accounts if a.new_btn]
            await self._notify("complete", "port_complete", [self._contact(), self._pm()], numbers=ported,
                               not_ported=not_ported, kept_numbers=kept, completed_at=fmt(workflow.now()),
                               first_invoice_date=(workflow.now() + timedelta(days=30)).date().replace(day=1).isoformat(),
                               losing_carrier=", ".join(sorted({o.carrier for o in self.orders.values()})))
        elif self.status == S.CANCELLED:
            await self._notify("cancelled", "cancelled", [self._contact(), self._pm()],
                               reason=self.cancel_req.reason if self.cancel_req else "cancelled",
                               numbers=self.inp.request.all_numbers,
                               losing_carrier=", ".join(sorted({a.carrier for a in self.inp.request.accounts})))
        self._set_next("nothing: finished", None, WaitingOn.NOBODY)
        self._publish()

    # ------------------------------------------------------------------ updates
    @workflow.update
    async def attach_document(self, a: AttachDocument) -> RequestView:
        doc = a.document.model_copy(update={"uploaded_by": a.actor})
        self.documents.append(doc)
        await self._record_note(a.actor, f"{doc.kind.value.upper()} attached: {doc.file_name}")
        return self.view()

    @attach_document.validator
    def _v_attach(self, a: AttachDocument) -> None:
        assert self.inp is not None
        if self.status in TERMINAL:
            raise ValueError(f"request is {self.status}: documents can no longer be attached")
        if a.document.kind not in (DocumentKind.CSR, DocumentKind.BILL, DocumentKind.OTHER):
            raise ValueError(f"attach a csr, bill or other document, not {a.document.kind.value}")
        ids = [self.inp.request.order_id(i) for i in range(len(self.inp.request.accounts))]
        if a.document.order_id is not None and a.document.order_id not in ids:
            raise ValueError(f"order {a.document.order_id} is not part of {self.inp.request.id}; its orders: {', '.join(ids)}")
        if any(d.sha256 == a.document.sha256 and d.order_id == a.document.order_id and d.kind == a.document.kind for d in self.documents):
            raise ValueError(f"this {a.document.kind.value} ({a.document.file_name}) is already attached")

    @workflow.update
    async def amend(self, a: AmendOrder) -> RequestView:
        self.pre_amends.append(a)
        if a.port_date is not None:
            self.port_date = a.port_date
            self.sa.update(port_date=_at_midnight(a.port_date))
        await self._record_note(a.actor, f"{a.order_id}: amended {', '.join(a.changed_fields())}: {a.reason}")
        return self.view()

    @amend.validator
    def _v_amend(self, a: AmendOrder) -> None:
        assert self.inp is not None
        if self.children:
            raise ValueError(f"orders are running: send the amendment to the order itself ({a.order_id})")
        if self.status in TERMINAL:
            raise ValueError(f"request is {self.status}")
        ids = [self.inp.request.order_id(i) for i in range(len(self.inp.request.accounts))]
        if a.order_id not in ids:
            raise ValueError(f"unknown order {a.order_id}; this request's orders: {', '.join(ids)}")
        if not a.changed_fields():
            raise ValueError("nothing to amend: give at least one field to change")
        if a.remove_numbers:
            raise ValueError("numbers can be removed once the order runs (amend the order)")

    @workflow.update
    async def expedite_port(self, e: ExpediteRequest) -> RequestView:
        self.expedite = e
        if e.port_date:
            self.port_date = e.port_date
            self.sa.update(port_date=_at_midnight(e.port_date))
        await self._record_note(e.actor, f"expedite: {e.reason}" + (f"; port date {e.port_date}" if e.port_date else ""))
        return self.view()

    @expedite_port.validator
    def _v_expedite(self, e: ExpediteRequest) -> None:
        if self.status not in (S.INTAKE, S.DOCUMENTS):
            raise ValueError(f"request is {self.status}: an expedite waives the documents lead time, which has passed; "
                             "change an order's date with amend --port-date (SUP2)")
        if e.port_date is not None and e.port_date < workflow.now().date():
            raise ValueError(f"port date {e.port_date} is in the past")

    @workflow.update
    async def assign(self, a: AssignNumbers) -> RequestView:
        assert self.inp is not None
        norm = {parse_tn(k): v for k, v in a.assignments.items()}
        res = await act("assign_numbers", AssignInput(request_id=self.inp.request.id, assignments=norm, kind=a.kind),
                        InventoryResult, summary=f"assign {len(norm)} numbers", retry=LOCAL)
        self.assignments.update(norm)
        await self._record_note(a.actor, f"assigned {len(norm)} numbers")
        for oid, handle in self.children.items():
            mine = {tn: who for tn, who in norm.items() if tn in self._order_numbers(oid)}
            if mine:
                await handle.signal("numbers_assigned", AssignedSignal(assignments=mine))
        del res
        return self.view()

    @assign.validator
    def _v_assign(self, a: AssignNumbers) -> None:
        assert self.inp is not None
        if self.status in TERMINAL:
            raise ValueError(f"request is {self.status}: numbers can no longer be assigned here")
        mine = set(self.inp.request.all_numbers)
        problems = []
        for tn, who in a.assignments.items():
            try:
                e164 = parse_tn(tn)
            except NumberProblem as exc:
                problems.append(str(exc))
                continue
            if e164 not in mine:
                problems.append(f"{tn} is not a number of {self.inp.request.id}")
            if not who.strip():
                problems.append(f"{tn}: say who gets it (a user's e-mail or a resource account)")
        if problems:
            raise ValueError("; ".join(problems))

    @workflow.update
    async def cancel(self, c: Cancel) -> RequestView:
        self.cancel_req = c
        for handle in self.children.values():
            await handle.signal("cancel_order", c)
        await workflow.wait_condition(lambda: self.status in TERMINAL)
        return self.view()

    @cancel.validator
    def _v_cancel(self, c: Cancel) -> None:
        if self.status in TERMINAL or self.cancel_req is not None:
            raise ValueError(f"request is {self.status}: nothing to cancel")
        assert self.inp is not None
        hours = self.inp.options.foc_guard_hours
        for o in self.orders.values():
            if o.status not in TERMINAL and o.status in (S.ACTIVATION, S.PORTED, S.VERIFIED):
                raise ValueError(f"order {o.order_id} is {o.status}: too late to cancel, the numbers have switched")
            if o.foc_at is not None and o.status == S.FOC_CONFIRMED:
                left = o.foc_at - workflow.now()
                if left < timedelta(hours=hours):
                    raise ValueError(f"order {o.order_id}: FOC {fmt(o.foc_at)} is {left.total_seconds() / 3600:.0f} h away, inside "
                                     f"the {hours} h guard: carriers refuse cancels this close; call the carrier or let it port and port back")

    @workflow.signal
    async def order_progress(self, view: OrderView) -> None:
        old = self.orders.get(view.order_id)
        self.orders[view.order_id] = view.model_copy(update={"timeline": old.timeline if old else []})
        self._publish()

    @workflow.query
    def status(self) -> RequestView:
        return self.view()

    # ------------------------------------------------------------------ helpers
    def _order_numbers(self, oid: str) -> set[str]:
        return self.part_numbers.get(oid, set())

    def aggregate(self) -> PortStatus:
        """The request's stage for ops: its own status until orders run, then the least advanced order."""
        live = [o.status for o in self.orders.values() if o.status not in TERMINAL]
        if self.status in TERMINAL or not self.orders or not live:
            return self.status
        return min(live, key=STAGE_ORDER.index)

    def _waiting(self) -> Deadline:
        if not self.orders or self.status in TERMINAL:
            return self.next
        live = [o for o in self.orders.values() if o.status not in TERMINAL]
        dated = sorted((o for o in live if o.next.due_at), key=lambda o: o.next.due_at)
        pick = dated[0] if dated else (live[0] if live else None)
        return pick.next.model_copy(update={"what": f"{pick.order_id}: {pick.next.what}"}) if pick else self.next

    async def _wait(self, cond, until: datetime | None, summary: str) -> bool:
        timeout = None
        if until is not None:
            timeout = until - workflow.now()
            if timeout <= timedelta(0):
                return bool(cond())
        try:
            await workflow.wait_condition(lambda: cond() or self.cancel_req is not None, timeout=timeout,
                                          timeout_summary=summary[:200])
        except asyncio.TimeoutError:
            return False
        if self.cancel_req is not None:
            raise _Cancelled()
        return True

    async def _move(self, to: PortStatus, actor: str, reason: str) -> None:
        assert self.inp is not None
        change = transition(self.status, to, subject=self.inp.request.id, actor=actor, reason=reason, at=workflow.now())
        await self._record(change)

    async def _derive(self, to: PortStatus, reason: str) -> None:
        """The request's end follows its orders: recorded, not checked against the table."""
        assert self.inp is not None
        change = StatusChange(subject=self.inp.request.id, from_status=self.status, to_status=to, actor="system",
                              reason=reason, at=workflow.now())
        await self._record(change)

    async def _record(self, change: StatusChange) -> None:
        self.status = change.to_status
        self.timeline.append(change)
        await act("record_status", AuditInput(change=change), type(None), summary=f"{change.from_status} -> {change.to_status}",
                  retry=LOCAL)
        self._publish()

    async def _record_note(self, actor: str, reason: str) -> None:
        assert self.inp is not None
        self.timeline.append(StatusChange(subject=self.inp.request.id, from_status=self.status, to_status=self.status,
                                          actor=actor, reason=reason, at=workflow.now()))

    async def _replan(self, documents_complete_at: datetime | None = None) -> None:
        assert self.inp is not None
        req = self.inp.request
        self.plan = await act("plan_dates", PlanDatesInput(
            requested_port_date=self.port_date, activation_time=req.activation_time, time_zone=req.time_zone,
            now=workflow.now(), lead_time_days=self.inp.options.lead_time_days, documents_complete_at=documents_complete_at),
            PortPlan, summary="port-date calendar: documents due date", retry=LOCAL)

    def _publish(self) -> None:
        nxt = self._waiting()
        agg = self.aggregate()
        if self.stage is None or self.stage[0] != agg:
            self.stage = (agg, workflow.now())
        self.sa.update(status=agg.value, waiting_on=nxt.waiting_on,
                       next_deadline=nxt.due_at or self.sa.clear(),
                       escalated=bool(self.escalations) or any(
                           (o.escalated if self.sa.lean else bool(o.escalations)) for o in self.orders.values()),
                       stage_since=self.stage[1])
        workflow.set_current_details(self._details(nxt))

    def _details(self, nxt: Deadline) -> str:
        lines = [f"**{self.aggregate().value}** · port date {self.port_date}" + (" · expedited" if self.expedite else ""),
                 f"Next: {nxt.what} · waiting on {nxt.waiting_on.value} · due {fmt(nxt.due_at)}", ""]
        for o in self.orders.values():
            lines.append(f"- {o.order_id} {o.carrier}: {o.status.value}" + (f" (carrier: {o.carrier_raw_status})" if o.carrier_raw_status else "")
                         + (f" · FOC {fmt(o.foc_at)}" if o.foc_at else ""))
            lines.extend(f"  - exception {r}" for r in o.remediation)
        esc = self.escalations + [e for o in self.orders.values() for e in o.escalations]
        if esc:
            lines.append("Escalations: " + "; ".join(esc))
        return "\n".join(lines)

    def _set_next(self, what: str, due: datetime | None, who: WaitingOn) -> None:
        self.next = Deadline(what=what, due_at=due, waiting_on=who)

    def _contact(self):
        assert self.inp is not None
        c = self.inp.request.contact
        return (Audience.CUSTOMER, str(c.email), c.name)

    def _pm(self):
        assert self.inp is not None
        return (Audience.PM, self.inp.options.pm_email, "PM")

    async def _notify(self, key: str, template: str, to, **ctx) -> None:
        assert self.inp is not None
        req = self.inp.request
        await notify(f"{req.id}:{key}", template, to, request_id=req.id, language=req.customer.language,
                     customer_name=req.customer.name, time_zone=req.time_zone, **ctx)

    def view(self) -> RequestView:
        assert self.inp is not None
        req = self.inp.request
        return RequestView(
            request_id=req.id, customer_name=req.customer.name, status=self.aggregate(),
            requested_port_date=req.requested_port_date, port_date=self.port_date, expedited=self.expedite is not None,
            documents=self.documents, missing_documents=self._missing(), missing=self._missing_docs(), orders=list(self.orders.values()),
            next=self._waiting(), timeline=list(self.timeline), escalations=list(self.escalations),
            ui_url=f"{self.inp.options.ui_url}/namespaces/{workflow.info().namespace}/workflows/{req.id}",
            contact_name=req.contact.name, contact_email=str(req.contact.email), pm_email=self.inp.options.pm_email,
            language=req.customer.language.value, stage_since=self.stage[1] if self.stage else None,
        )

    def _result(self) -> PortResult:
        assert self.inp is not None
        return PortResult(request_id=self.inp.request.id, status=self.status, orders=list(self.orders.values()))


class _Cancelled(Exception):
    pass


def _release(request_id: str, reason: str):
    from models.workflow import InventoryChange

    return InventoryChange(request_id=request_id, state="released", reason=f"cancelled: {reason}")
