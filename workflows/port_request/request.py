"""The request a stage works on: its input, documents, orders and the port date; and what
ops and the PM see of it (its own status until orders run, then the least advanced order)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.notify import Audience
    from models.request import DocumentKind, DocumentRef
    from models.status import REQUEST_TRANSITIONS, STAGE_ORDER, TERMINAL, PortStatus
    from models.workflow import (
        AmendOrder,
        Deadline,
        ExpediteRequest,
        MissingDocument,
        OrderView,
        PlanDatesInput,
        PortPlan,
        PortRequestInput,
        PortResult,
        RequestView,
        SplitRequest,
    )
    from workflows.common import fmt
    from workflows.lifecycle import Lifecycle, Recipient

S = PortStatus


def at_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=UTC)


class Request(Lifecycle):
    def __init__(self, inp: PortRequestInput) -> None:
        req = inp.request
        super().__init__(req.id, S.INTAKE, REQUEST_TRANSITIONS, inp.options.pm_email)
        self.inp = inp
        self.documents: list[DocumentRef] = []
        self.orders: dict[str, OrderView] = {}  # each order's last view (signalled by the order)
        self.children: dict[str, workflow.ChildWorkflowHandle] = {}
        self.results: dict[str, OrderView | BaseException] = {}
        self.background: list[asyncio.Task[None]] = []
        self.plan: PortPlan | None = None
        self.expedite = ExpediteRequest(**inp.expedite.model_dump()) if inp.expedite else None
        self.port_date = self.expedite.port_date if self.expedite and self.expedite.port_date else req.requested_port_date
        self.escalations: list[str] = []
        self.assignments: dict[str, str] = {}
        self.pre_amends: list[AmendOrder] = []  # amendments before the orders start
        self.split_q: list[SplitRequest] = []
        self.stage: tuple[PortStatus, datetime] | None = None  # the shown stage and since when
        # which documents each account needs, worked out once (not inside wait conditions)
        self.required: list[tuple[str, DocumentKind]] = []
        for i, acc in enumerate(req.accounts):
            oid = req.order_id(i)
            if len(acc.toll_free) < len(acc.numbers):
                self.required.append((oid, DocumentKind.CSR))  # RespOrg changes need no CSR
            self.required.append((oid, DocumentKind.BILL))
        self.parts = req.order_parts()
        self.part_numbers = {p.order_id: set(p.numbers) for p in self.parts}
        self.doc_base: dict[str, str] = {}  # order id -> the account order whose documents it uses
        # the go-live checklist that gates activation (gate.py), and the temporary numbers
        self.gate = req.go_live.checklist(
            toll_free=any(a.toll_free for a in req.accounts), warn_default=inp.options.gate_warn_business_days,
            by=inp.started_by, at=workflow.now()) if req.go_live is not None else None
        self.temp_numbers: list[str] = list(req.temporary_numbers)

    # ------------------------------------------------------------------ documents
    def missing_docs(self) -> list[MissingDocument]:
        have = {(d.order_id, d.kind) for d in self.documents}
        return [MissingDocument(kind=kind, order_id=oid, carrier=self.inp.request.accounts[int(oid.rsplit("-", 1)[1]) - 1].carrier)
                for oid, kind in self.required if (oid, kind) not in have and (None, kind) not in have]

    def missing(self) -> list[str]:
        return [f"{m.kind.value.upper()} for {m.carrier} ({m.order_id})" for m in self.missing_docs()]

    def order_ids(self) -> list[str]:
        return [self.inp.request.order_id(i) for i in range(len(self.inp.request.accounts))]

    # ------------------------------------------------------------------ calendar and mail
    async def replan(self, documents_complete_at: datetime | None = None) -> None:
        req = self.inp.request
        self.plan = await self.plan_dates(PlanDatesInput(
            requested_port_date=self.port_date, activation_time=req.activation_time, time_zone=req.time_zone,
            now=workflow.now(), lead_time_days=self.inp.options.lead_time_days,
            documents_complete_at=documents_complete_at), summary="port-date calendar: documents due date")

    def contact(self) -> Recipient:
        c = self.inp.request.contact
        return (Audience.CUSTOMER, str(c.email), c.name)

    def mail_context(self) -> dict[str, Any]:
        req = self.inp.request
        return dict(request_id=req.id, language=req.customer.language, customer_name=req.customer.name,
                    time_zone=req.time_zone)

    # ------------------------------------------------------------------ what ops see
    def aggregate(self) -> PortStatus:
        """The request's stage for ops: its own status until orders run, then the least advanced order."""
        live = [o.status for o in self.orders.values() if o.status not in TERMINAL]
        if self.status in TERMINAL or not live:
            return self.status
        return min(live, key=STAGE_ORDER.index)

    def waiting(self) -> Deadline:
        """The next step: the request's own, or the order whose next deadline comes first."""
        if not self.orders or self.status in TERMINAL:
            return self.next
        live = [o for o in self.orders.values() if o.status not in TERMINAL]
        dated = sorted((o for o in live if o.next.due_at), key=lambda o: o.next.due_at)
        pick = dated[0] if dated else (live[0] if live else None)
        return pick.next.model_copy(update={"what": f"{pick.order_id}: {pick.next.what}"}) if pick else self.next

    async def publish(self) -> None:
        nxt, agg = self.waiting(), self.aggregate()
        if self.stage is None or self.stage[0] != agg:
            self.stage = (agg, workflow.now())
        self.sa.update(status=agg.value, waiting_on=nxt.waiting_on, next_deadline=nxt.due_at or self.sa.clear(),
                       escalated=bool(self.escalations) or any(o.escalated for o in self.orders.values()),
                       stage_since=self.stage[1])
        workflow.set_current_details(self.details(nxt))

    def details(self, nxt: Deadline) -> str:
        lines = [f"**{self.aggregate().value}** · port date {self.port_date}" + (" · expedited" if self.expedite else ""),
                 f"Next: {nxt.what} · waiting on {nxt.waiting_on.value} · due {fmt(nxt.due_at)}", ""]
        for o in self.orders.values():
            lines.append(f"- {o.order_id} {o.carrier}: {o.status.value}"
                         + (f" (carrier: {o.carrier_raw_status})" if o.carrier_raw_status else "")
                         + (f" · FOC {fmt(o.foc_at)}" if o.foc_at else ""))
            lines.extend(f"  - exception {r}" for r in o.remediation)
        if self.gate is not None and self.status not in TERMINAL:
            held = {oid: o.gate_problems for oid, o in self.orders.items() if o.gate_problems}
            lines.append(f"Go-live gate: {self.gate.summary()} · on not ready: {self.gate.on_not_ready.value}"
                         + "".join(f"\n  - {oid} held: {'; '.join(p)}" for oid, p in held.items()))
        esc = self.escalations + [e for o in self.orders.values() for e in o.escalations]
        if esc:
            lines.append("Escalations: " + "; ".join(esc))
        return "\n".join(lines)

    def view(self) -> RequestView:
        req = self.inp.request
        return RequestView(
            request_id=req.id, customer_name=req.customer.name, status=self.aggregate(),
            requested_port_date=req.requested_port_date, port_date=self.port_date, expedited=self.expedite is not None,
            documents=self.documents, missing_documents=self.missing(), missing=self.missing_docs(),
            orders=list(self.orders.values()), next=self.waiting(), timeline=list(self.timeline),
            escalations=list(self.escalations),
            ui_url=f"{self.inp.options.ui_url}/namespaces/{workflow.info().namespace}/workflows/{req.id}",
            contact_name=req.contact.name, contact_email=str(req.contact.email), pm_email=self.inp.options.pm_email,
            language=req.customer.language.value, stage_since=self.stage[1] if self.stage else None,
            go_live=self.gate, temporary_numbers=list(self.temp_numbers),
        )

    def result(self) -> PortResult:
        """Its size does not grow with the number count: counts, not the numbers."""
        tally: Counter[str] = Counter()
        for o in self.orders.values():
            tally.update(o.number_states)
        return PortResult(request_id=self.inp.request.id, status=self.status, number_states=dict(sorted(tally.items())),
                          orders=[o.model_copy(update={"numbers": [], "timeline": []}) for o in self.orders.values()])
