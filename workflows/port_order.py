"""PortOrderWorkflow: one losing carrier account, from LOA to verified port.

Stages, each a method: LOA (send, remind, decline/expire and resend), review (optional PM
approval), carrier (submit, exceptions and supplements, FOC, port-day wait), activation,
verification. External systems and people reach it through updates whose validators
refuse bad input before it touches history; the ``status`` query shows where it stands.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.carrier import (
        CarrierEvent,
        CarrierException,
        CarrierOrderState,
        CarrierOrderStatus,
        CarrierSubmission,
        NumberOutcome,
        Supplement,
        SupplementKind,
    )
    from models.esign import EnvelopeEvent, EnvelopeInfo, EnvelopeStatus, LoaEnvelopeRequest, SignedDocuments
    from models.events import EventAck
    from models.notify import Audience
    from models.request import DocumentKind, DocumentRef
    from models.status import CANCELLABLE, TERMINAL, WITH_CARRIER, PortStatus, StatusChange, transition
    from models.workflow import (
        ActivateNow,
        AmendOrder,
        Approve,
        AssignedSignal,
        AuditInput,
        Cancel,
        CarrierCall,
        ConfirmVerification,
        Deadline,
        EnvelopeQuery,
        ExplainInput,
        ExplainResult,
        FetchSigned,
        InventoryChange,
        InventoryResult,
        NumberView,
        OrderView,
        PlanDatesInput,
        PortOrderInput,
        PortPlan,
        Remediation,
        RenderLoaInput,
        SplitRequest,
        SubmitInput,
        SupplementInput,
        Verification,
        VerifyInput,
        VerifyResult,
        WaitingOn,
    )
    from workflows.common import LOCAL, SearchState, act, fmt, notify
    from workflows.guard import guard_problem

S = PortStatus
ESIGN_BAD = {EnvelopeStatus.DECLINED, EnvelopeStatus.EXPIRED, EnvelopeStatus.VOIDED, EnvelopeStatus.BOUNCED}


def _code_of(err: ApplicationError) -> str:
    """A carrier code the adapter put in the error's details, else OTHER (the words are kept)."""
    for d in err.details or ():
        if isinstance(d, dict) and d.get("code"):
            return str(d["code"])
        if isinstance(d, str) and d.isupper() and " " not in d:
            return d
    return "OTHER"


def _refusal(err: ActivityError) -> ApplicationError | None:
    """The business refusal behind a failed activity (non-retryable), or None for anything else."""
    cause = err.cause
    return cause if isinstance(cause, ApplicationError) and cause.non_retryable else None


class _CancelNow(Exception):
    """Raised inside a stage when a cancel was accepted: unwinds to the cancel path."""


@workflow.defn
class PortOrderWorkflow:
    @workflow.init
    def __init__(self, inp: PortOrderInput) -> None:
        # set before any update handler runs: an update in the first task sees the input
        self.inp: PortOrderInput | None = inp
        self.status = S.VALIDATED
        self.timeline: list[StatusChange] = []
        self.next = Deadline(what="starting")
        self.escalations: list[str] = []
        self.envelope: EnvelopeInfo | None = None
        self.loa_version = 0
        self.signed: SignedDocuments | None = None
        self.carrier: CarrierOrderState | None = None
        self.remediation: list[Remediation] = []
        self.numbers: dict[str, NumberView] = {}
        self.plan: PortPlan | None = None
        self.seen: set[str] = set()
        self.esign_q: list[EnvelopeEvent] = []
        self.carrier_q: list[tuple[CarrierOrderState, str]] = []
        self.amends: list[AmendOrder] = []
        self.approval: Approve | None = None
        self.verification: ConfirmVerification | None = None
        self.cancel_req: Cancel | None = None
        self.cancelling = False
        self.sup_count = 0
        self.inventory_task: asyncio.Task[None] | None = None
        self.loa_sent_at = datetime.min.replace(tzinfo=None)
        self.last_carrier_at: datetime | None = None
        self.foc_received_at: datetime | None = None
        self.sa = SearchState()
        self.stage_since: datetime | None = None
        self.sent_parent: str | None = None
        self.submissions = 0
        self.loa_for_carrier = False  # a new LOA that goes to the open carrier order (SUP3)
        self.sla_task: asyncio.Task[None] | None = None
        self.activate_req: ActivateNow | None = None
        self.window_noted = False
        self.amends_received = 0
        self.amends_applied = 0
        self.activation_actor: str | None = None  # who reported the activation's outcome (a PM for manual carriers)
        self.escalated_since: datetime | None = None  # the stage (by its start) an open escalation is about

    # ------------------------------------------------------------------ run
    @workflow.run
    async def run(self, inp: PortOrderInput) -> OrderView:
        # histories recorded before this patch upsert, signal and poll on every wake
        self.sa.lean = workflow.patched("lean-history-v2")
        self.inp = inp
        self.numbers = {tn: NumberView(tn=tn) for tn in inp.account.numbers}
        self.status = S.INTAKE
        await self._move(S.VALIDATED, "system",
                         f"order for {inp.account.carrier} account with {len(inp.account.numbers)} numbers")
        await self._replan()
        if self.sa.lean:
            self.sla_task = asyncio.create_task(self._sla_watch())
        stages = {
            S.VALIDATED: self._loa_stage,
            S.LOA_SENT: self._loa_stage,
            S.LOA_DECLINED: self._loa_stage,
            S.LOA_SIGNED: self._submit_stage,
            S.ACTIVATION: self._activation_stage,
            S.SNAPBACK: self._snapback_stage,
            S.PORTED: self._verification_stage,
            S.VERIFIED: self._complete,
        }
        try:
            while self.status not in TERMINAL:
                if self.cancel_req is not None:
                    raise _CancelNow()
                stage = stages.get(self.status, self._carrier_stage)
                await stage()
        except _CancelNow:
            await self._cancel_flow()
        await self._publish()
        return self.view()

    # ------------------------------------------------------------------ LOA
    async def _loa_stage(self) -> None:
        assert self.inp is not None
        if self.status == S.VALIDATED:
            await self._send_loa("first LOA")
        opts = self.inp.options
        next_reminder = workflow.now() + timedelta(hours=opts.loa_reminder_hours)
        next_poll = workflow.now() + timedelta(seconds=opts.esign_poll_seconds)
        reminders = 0
        polls = 0
        timed_for = self.loa_version
        while self.status in (S.LOA_SENT, S.LOA_DECLINED):
            if self.sa.lean and self.loa_version != timed_for:
                # a new LOA went out (signer corrected): its own reminders and polls from now
                timed_for, polls = self.loa_version, 0
                next_reminder = workflow.now() + timedelta(hours=opts.loa_reminder_hours)
                next_poll = workflow.now() + timedelta(seconds=opts.esign_poll_seconds)
            if self.status == S.LOA_SENT:
                self._set_next(f"{self.inp.signer.name} signs the LOA", next_reminder, WaitingOn.SIGNER)
                wake: datetime | None = min(next_reminder, next_poll)
                summary = f"LOA v{self.loa_version} awaits signature; reminder {fmt(next_reminder)}"
            else:
                self._set_next("PM corrects the signer and resends the LOA", None, WaitingOn.PM)
                wake, summary = None, "LOA declined/expired: waiting for a corrected signer"
            await self._publish()
            got = await self._wait(lambda: bool(self.esign_q or self.amends), wake, summary)
            while self.esign_q:
                await self._apply_esign(self.esign_q.pop(0))
            if self.amends:
                await self._apply_amends()
            if got or self.status != S.LOA_SENT:
                continue
            now = workflow.now()
            if now >= next_poll and self.envelope is not None:
                polls += 1
                # back off while the signer takes their time: 15 min, 30 min, ... up to 6 h
                factor = min(2 ** polls, 24) if self.sa.lean else 1
                next_poll = now + timedelta(seconds=min(opts.esign_poll_seconds * factor, max(opts.esign_poll_seconds, 6 * 3600)))
                info = await act(
                    "esign_status", EnvelopeQuery(envelope_id=self.envelope.envelope_id), EnvelopeInfo,
                    summary=f"poll LOA envelope {self.envelope.envelope_id}",
                )
                if info.status != self.envelope.status:
                    await self._apply_esign(self._event_from(info, "poll"))
            if now >= next_reminder and self.status == S.LOA_SENT:
                reminders += 1
                next_reminder = now + timedelta(hours=opts.loa_reminder_hours)
                await self._notify(
                    f"loa_reminder:{self.loa_version}:{reminders}", "loa_reminder",
                    [self._signer(), self._contact()], signer_name=self.inp.signer.name,
                    sent_date=self.loa_sent_at.date().isoformat(), sign_by=self._sign_by(),
                    sign_hint=self.envelope.sign_url if self.envelope else "", reminder=reminders,
                )

    async def _send_loa(self, why: str) -> None:
        assert self.inp is not None
        self.loa_version += 1
        acc = self.inp.account
        doc = await act(
            "render_loa",
            RenderLoaInput(
                request_id=self.inp.request_id, order_id=self.inp.order_id, customer_name=self.inp.customer_name,
                signer=self.inp.signer, account=acc, port_date=self.inp.port_date,
            ),
            DocumentRef,
            summary=f"render LOA v{self.loa_version}: {acc.carrier}, {len(acc.numbers)} numbers",
        )
        self.envelope = await act(
            "send_loa",
            LoaEnvelopeRequest(
                idempotency_key=f"{self.inp.order_id}:loa:{self.loa_version}",
                request_id=self.inp.request_id, order_id=self.inp.order_id,
                signer_name=self.inp.signer.name, signer_title=self.inp.signer.title,
                signer_email=self.inp.signer.email, language=self.inp.language,
                subject=f"Letter of Authorization: port {len(acc.numbers)} numbers from {acc.carrier}",
                loa=doc,
            ),
            EnvelopeInfo,
            summary=f"send LOA v{self.loa_version} to {self.inp.signer.name}",
        )
        self.loa_sent_at = workflow.now()
        self._set_next(f"{self.inp.signer.name} signs the LOA", None, WaitingOn.SIGNER)
        await self._move(S.LOA_SENT, "system", f"LOA v{self.loa_version} sent to {self.inp.signer.name} ({why})")
        await self._notify(
            f"loa_sent:{self.loa_version}", "loa_sent", [self._signer(), self._contact()],
            signer_name=self.inp.signer.name, sign_hint=self.envelope.sign_url or "",
            number_count=len(acc.numbers), sign_by=self._sign_by(),
        )
        if self.envelope.status == EnvelopeStatus.COMPLETED:  # signed at once (local auto-sign)
            await self._apply_esign(self._event_from(self.envelope, "send"))

    def _event_from(self, info: EnvelopeInfo, source: str) -> EnvelopeEvent:
        assert self.inp is not None
        return EnvelopeEvent(
            event_id=f"{info.envelope_id}:{info.status.value}", order_id=self.inp.order_id,
            envelope_id=info.envelope_id, status=info.status, at=info.status_at or workflow.now(),
            signer_name=info.signer_name, reason=info.reason, source=source,
        )

    async def _apply_esign(self, ev: EnvelopeEvent) -> None:
        assert self.inp is not None
        if self.envelope is None or ev.envelope_id != self.envelope.envelope_id:
            return  # an old envelope we already replaced
        self.envelope = self.envelope.model_copy(update={"status": ev.status, "reason": ev.reason})
        if self.status != S.LOA_SENT:
            return
        if ev.status == EnvelopeStatus.COMPLETED:
            self.signed = await act(
                "fetch_signed",
                FetchSigned(envelope_id=ev.envelope_id, request_id=self.inp.request_id, order_id=self.inp.order_id),
                SignedDocuments, summary="store the signed LOA and certificate",
            )
            who = ev.signer_name or self.inp.signer.name
            if self.inp.options.review_before_submit and self.approval is None:
                self._set_next("PM reviews the order and approves submission", None, WaitingOn.PM)
            else:
                self._set_next(f"submission to {self.inp.account.carrier}", None, WaitingOn.NOBODY)
            await self._move(S.LOA_SIGNED, f"signer:{who}", f"LOA v{self.loa_version} signed by {who}")
            await self._notify(f"loa_signed:{self.loa_version}", "loa_signed", [self._contact(), self._pm()],
                               signer_name=who, signed_at=fmt(ev.at))
        elif ev.status in ESIGN_BAD:
            why = {
                EnvelopeStatus.DECLINED: f"signer declined: {ev.reason or 'no reason given'}",
                EnvelopeStatus.EXPIRED: "the LOA expired unsigned",
                EnvelopeStatus.BOUNCED: f"the signer's e-mail bounced: {ev.reason or self.inp.signer.email}",
                EnvelopeStatus.VOIDED: f"the envelope was voided: {ev.reason or 'outside portflow'}",
            }[ev.status]
            await self._move(S.LOA_DECLINED, "esign", why)
            template = "loa_expired" if ev.status == EnvelopeStatus.EXPIRED else "loa_declined"
            await self._notify(f"{template}:{self.loa_version}", template, [self._pm()], reason=why, decline_reason=why,
                               signer_name=self.inp.signer.name, signer_email=str(self.inp.signer.email),
                               sent_date=self.loa_sent_at.date().isoformat(),
                               fix=f"python starter.py amend {self.inp.order_id} --signer-name ... --signer-email ...")

    # ------------------------------------------------------------------ review + submit
    async def _submit_stage(self) -> None:
        assert self.inp is not None
        while self.inp.options.review_before_submit and self.approval is None:
            self._set_next("PM reviews the order and approves submission", None, WaitingOn.PM)
            await self._publish()
            await self._wait(lambda: self.approval is not None or bool(self.amends), None, "waiting for PM approval to submit")
            await self._apply_amends()
            if self.status != S.LOA_SIGNED:
                return  # an amend sent a new LOA
        if self.loa_for_carrier and self.carrier is not None:
            # a corrected signer signed a new LOA for the open carrier order: SUP3 with it
            self.loa_for_carrier = False
            corrections = {"auth_person_name": self.inp.signer.name}
            if self.signed is not None:
                corrections["loa"] = self.signed.signed_loa.model_dump_json()
            await self._supplement(SupplementKind.SUP3, f"new LOA signed by {self.inp.signer.name}",
                                   corrections=corrections, actor=self._pm_actor())
            return
        await self._submit("")

    async def _submit(self, why: str) -> None:
        """Create and submit the carrier order; a refusal becomes an exception the PM can fix."""
        assert self.inp is not None
        acc = self.inp.account
        docs = [d for d in self.inp.documents if d.order_id in (None, self.inp.order_id)]
        if self.signed is not None:
            docs.append(self.signed.signed_loa)
        self.submissions += 1
        key = f"{self.inp.order_id}:submit" + (f":{self.submissions}" if self.submissions > 1 else "")
        sub = CarrierSubmission(
            idempotency_key=key,
            request_id=self.inp.request_id, order_id=self.inp.order_id, carrier=acc.carrier,
            entity_name=self.inp.entity_name or self.inp.customer_name, auth_person_name=self.inp.signer.name,
            account_number_ref=acc.account_number.ref, pin_ref=acc.pin.ref if acc.pin else None,
            btn=acc.btn, service_address=acc.service_address, port_type=acc.port_type,
            remaining_numbers=acc.remaining_numbers, new_btn=acc.new_btn, numbers=self._live_numbers(),
            toll_free=acc.toll_free, requested_foc_date=self.inp.port_date,
            activation_time=self.inp.activation_time, time_zone=self.inp.time_zone, documents=docs,
        )
        how = "RespOrg change" if acc.toll_free else "port order"
        try:
            state = await act("carrier_submit", SubmitInput(submission=sub), CarrierOrderState,
                              summary=f"submit to {acc.carrier} for {self.inp.port_date}")
        except ActivityError as err:
            cause = _refusal(err)
            if cause is None:
                raise
            # the carrier (or our own pre-flight check) refused the order as it stands
            said = cause.message
            self.remediation = (await act(
                "explain_exceptions",
                ExplainInput(exceptions=[CarrierException(code=_code_of(cause), message=said)]),
                ExplainResult, summary=f"explain the refusal: {said[:80]}", retry=LOCAL)).items
            self._set_exception_next()
            await self._move(S.EXCEPTION, f"carrier:{acc.carrier}", f"{how} refused at submission: {said}")
            await self._on_exception()
            return
        await self._move(S.SUBMITTED, self._pm_actor(),
                         f"{how} {'re' if why else ''}submitted to {acc.carrier} as {state.carrier_order_id}"
                         + (f" ({why})" if why else ""))
        await self._apply_carrier(state, f"carrier:{acc.carrier}")

    # ------------------------------------------------------------------ carrier
    async def _carrier_stage(self) -> None:
        assert self.inp is not None
        opts = self.inp.options
        now = workflow.now()
        next_poll = now + timedelta(seconds=opts.carrier_poll_seconds)
        silence_at = now + timedelta(hours=opts.carrier_silence_hours)
        reminded: set[datetime] = set()
        while self.status in (S.SUBMITTED, S.CARRIER_PENDING, S.EXCEPTION, S.SUPPLEMENT, S.FOC_CONFIRMED):
            now = workflow.now()
            foc = self.carrier.foc_at if self.carrier else None
            if self.status == S.FOC_CONFIRMED and self.activate_req is not None:
                r = self.activate_req
                await self._move(S.ACTIVATION, r.actor, f"on-demand activation inside the carrier's window: {r.reason}")
                return
            window = self._on_demand_window()
            if self.status == S.FOC_CONFIRMED and window is not None and now >= window[0] and not self.window_noted:
                self.window_noted = True
                await self._record_note(f"carrier:{self.inp.account.carrier}",
                                        f"activation window open until {fmt(window[1])}: activate on demand, "
                                        f"else portflow activates at {fmt(window[2])}")
            if self.status == S.FOC_CONFIRMED and window is not None and now >= window[2]:
                await self._move(S.ACTIVATION, "system", f"activation window ends {fmt(window[1])}: activating")
                return
            if self.status == S.FOC_CONFIRMED and foc is not None and window is None and now >= foc:
                await self._move(S.ACTIVATION, "system", f"port day: FOC {fmt(foc)} reached")
                return
            wakes = [next_poll]
            if self.status == S.EXCEPTION:
                self._set_exception_next()
            elif self.status == S.FOC_CONFIRMED and window is not None:
                wakes.extend(t for t in window if t > now)
                wakes.extend([t for t in (self.plan.assign_reminders_at if self.plan else []) if t > now and t not in reminded][:1])
                self._set_next(f"PM activates on demand (starter.py activate) inside the window {fmt(window[0])} to "
                               f"{fmt(window[1])}, else portflow activates at {fmt(window[2])}", window[2], WaitingOn.PM)
            elif self.status == S.FOC_CONFIRMED and foc is not None:
                wakes.append(foc)
                upcoming = [t for t in (self.plan.assign_reminders_at if self.plan else []) if t > now and t not in reminded]
                wakes.extend(upcoming[:1])
                unassigned = self._unassigned()
                self._set_next(
                    f"port day {fmt(foc)}" + (f"; {len(unassigned)} numbers to assign" if unassigned else ""),
                    foc, WaitingOn.CUSTOMER if unassigned else WaitingOn.NOBODY,
                )
            elif (self.carrier is not None and self.carrier.provider == "manual"
                  and self.status in (S.SUBMITTED, S.SUPPLEMENT) and self.sa.lean):
                # the manual adapter: the PM enters the order in the carrier's portal and records its answer
                wakes.append(silence_at)
                what = "the order" if self.status == S.SUBMITTED else "the supplement"
                self._set_next(f"PM enters {what} in {self.inp.account.carrier}'s portal and records the answer "
                               f"(starter.py carrier-event {self.inp.order_id})", silence_at, WaitingOn.PM)
            else:
                wakes.append(silence_at)
                self._set_next(f"{self.inp.account.carrier} answers (FOC or exception)", silence_at, WaitingOn.CARRIER)
            await self._publish()
            wake = min(wakes)
            got = await self._wait(lambda: bool(self.carrier_q or self.amends) or self.activate_req is not None, wake,
                                   f"{self.next.what} (until {fmt(wake)})")
            while self.carrier_q:
                state, actor = self.carrier_q.pop(0)
                await self._apply_carrier(state, actor)
                silence_at = workflow.now() + timedelta(hours=opts.carrier_silence_hours)
            if self.amends:
                await self._apply_amends()
            if got:
                continue
            now = workflow.now()
            if now >= next_poll and self.carrier is not None:
                every = opts.carrier_poll_seconds
                if self.sa.lean and self.status == S.FOC_CONFIRMED:  # the answer is in: watch for FOC moves
                    every = max(every, opts.carrier_foc_poll_seconds)
                next_poll = now + timedelta(seconds=every)
                before = self.carrier.model_dump(exclude={"updated_at"})
                state = await act("carrier_status", self._call("status"), CarrierOrderState,
                                  summary=f"poll {self.inp.account.carrier} order {self.carrier.carrier_order_id}")
                if state.model_dump(exclude={"updated_at"}) != before:
                    silence_at = now + timedelta(hours=opts.carrier_silence_hours)
                    await self._apply_carrier(state, f"carrier:{self.inp.account.carrier}")
            if now >= silence_at and self.status in (S.SUBMITTED, S.CARRIER_PENDING, S.SUPPLEMENT):
                silence_at = now + timedelta(hours=opts.carrier_silence_hours)
                await self._notify(f"carrier_silent:{int(now.timestamp())}", "carrier_silent", [self._pm()],
                                   silent_hours=opts.carrier_silence_hours, silent_since=fmt(self.last_carrier_at),
                                   last_status=self.carrier.raw_status if self.carrier else "none",
                                   carrier_order_id=self.carrier.carrier_order_id if self.carrier else "")
            for t in [t for t in (self.plan.assign_reminders_at if self.plan else []) if t <= now and t not in reminded]:
                reminded.add(t)
                unassigned = self._unassigned()
                if unassigned and self.status == S.FOC_CONFIRMED:
                    left = 3 if t == (self.plan.assign_reminders_at[0] if self.plan else t) else 1
                    await self._notify(f"assign_reminder:{t.isoformat()}", "assign_reminder",
                                       [self._contact(), self._pm()], unassigned_numbers=unassigned,
                                       port_date=fmt(foc), business_days_left=left)

    async def _apply_carrier(self, state: CarrierOrderState, actor: str) -> None:
        assert self.inp is not None
        old_foc = self.carrier.foc_at if self.carrier else None
        self.carrier = state
        self.last_carrier_at = workflow.now()
        for ns in state.numbers:
            if ns.tn in self.numbers:
                self.numbers[ns.tn] = self.numbers[ns.tn].model_copy(update={"carrier_outcome": ns.outcome.value, "reason": ns.reason})
        st = state.status
        words = f"{state.raw_status}"
        if st == CarrierOrderStatus.PENDING and self.status in (S.SUBMITTED, S.SUPPLEMENT):
            self.remediation = []  # the carrier took the (corrected) order: nothing left to fix
            await self._move(S.CARRIER_PENDING, actor, f"carrier accepted for processing ({words})")
        elif st == CarrierOrderStatus.EXCEPTION and self.status != S.EXCEPTION and self.status in (
            S.SUBMITTED, S.CARRIER_PENDING, S.SUPPLEMENT, S.FOC_CONFIRMED, S.ACTIVATION):
            codes = ", ".join(e.code for e in state.exceptions) or "no code"
            if workflow.patched("exception-explained-first"):
                # explained before the move, so the status never shows an exception without its fix
                self.remediation = (await act("explain_exceptions", ExplainInput(exceptions=state.exceptions),
                                              ExplainResult, summary=f"explain {codes}", retry=LOCAL)).items
                self._set_exception_next()
                await self._move(S.EXCEPTION, actor, f"carrier exception {codes} ({words})")
            else:
                await self._move(S.EXCEPTION, actor, f"carrier exception {codes} ({words})")
                self.remediation = (await act("explain_exceptions", ExplainInput(exceptions=state.exceptions),
                                              ExplainResult, summary=f"explain {codes}", retry=LOCAL)).items
            await self._on_exception()
        elif st == CarrierOrderStatus.FOC_CONFIRMED and state.foc_at is not None:
            if self.status == S.FOC_CONFIRMED and old_foc is not None and old_foc != state.foc_at:
                await self._replan()
                await self._record_note(actor, f"FOC moved from {fmt(old_foc)} to {fmt(state.foc_at)}")
                await self._notify(f"foc_changed:{state.foc_at.isoformat()}", "foc_changed", [self._contact(), self._pm()],
                                   old_foc_utc=old_foc.isoformat(), foc_utc=state.foc_at.isoformat(),
                                   numbers=self._live_numbers(), reason=f"the carrier moved the FOC ({words})")
            elif self.status in (S.SUBMITTED, S.CARRIER_PENDING, S.SUPPLEMENT, S.EXCEPTION):
                self.remediation = []
                self.foc_received_at = workflow.now()
                await self._move(S.FOC_CONFIRMED, actor, f"FOC confirmed for {fmt(state.foc_at)} ({words})")
                await self._replan()
                await self._notify(f"foc_confirmed:{state.foc_at.isoformat()}", "foc_confirmed",
                                   [self._contact(), self._pm()], foc_utc=state.foc_at.isoformat(),
                                   numbers=self._live_numbers())
                if self.inventory_task is None:
                    self.inventory_task = asyncio.create_task(self._publish_inventory())
        elif st == CarrierOrderStatus.PORTED and self.status in (S.FOC_CONFIRMED, S.ACTIVATION):
            await self._move(S.PORTED, actor, f"carrier reports the numbers ported ({words})")
        elif st == CarrierOrderStatus.CANCELLED and self.status not in (S.CANCEL_REQUESTED, *TERMINAL):
            if self.cancel_req is None:
                self.cancel_req = Cancel(actor=actor, reason=f"cancelled by the carrier ({words})")

    async def _on_exception(self) -> None:
        """Numbers the carrier calls not portable leave the order; the rest go on."""
        assert self.inp is not None
        # only numbers the carrier cannot port leave by themselves; others (PHONE_NUMBER_MISMATCH:
        # on another account) are the PM's call
        not_portable = ("PHONE_NUMBER_NOT_PORTABLE", "RATE_CENTER_NOT_PORTABLE")
        drop = sorted({n for r in self.remediation if r.action == "remove_numbers"
                       and (r.code in not_portable or not self.sa.lean) for n in r.numbers})
        split = sorted({n for r in self.remediation if r.action == "split" for n in r.numbers} & set(self._live_numbers()))
        others = [r for r in self.remediation if r.action not in ("remove_numbers", "split")
                  or (r.action == "remove_numbers" and self.sa.lean and r.code not in not_portable)]
        parent = workflow.info().parent
        if (self.sa.lean and split and not drop and not others and self.carrier is not None and parent is not None
                and len(split) < len(self._live_numbers())):
            # the carrier takes these numbers only in an order of their own: the request starts
            # one for them (own LOA and submission) and this order goes on without them (SUP3)
            why = "; ".join(r.message for r in self.remediation)
            for tn in split:
                self.numbers[tn] = self.numbers[tn].model_copy(update={"state": "split", "reason": "moved to a new order: the carrier required a split"})
            self.inp.account = self.inp.account.model_copy(update={"numbers": self._live_numbers()})
            await workflow.get_external_workflow_handle(parent.workflow_id).signal("split_requested", SplitRequest(
                from_order=self.inp.order_id, numbers=split,
                account=self.inp.account.model_copy(update={"numbers": split}), signer=self.inp.signer,
                entity_name=self.inp.entity_name, port_date=self.inp.port_date, reason=why))
            await self._supplement(SupplementKind.SUP3, f"split required: {', '.join(split)} go on in a new order",
                                   remove=split, actor="system", moved=True)
            return
        if drop and not others and len(drop) < len(self._live_numbers()):
            if self.carrier is None:  # refused at submission: submit again without them
                for tn in drop:
                    if tn in self.numbers:
                        self.numbers[tn] = self.numbers[tn].model_copy(update={"state": "not_portable", "carrier_outcome": NumberOutcome.NOT_PORTABLE.value})
                await act("inventory_update", InventoryChange(request_id=self.inp.request_id, order_id=self.inp.order_id,
                                                               tns=drop, state="not_portable", reason="not portable"),
                          InventoryResult, summary=f"{len(drop)} numbers not portable", retry=LOCAL)
                self.remediation = []
                await self._submit(f"without not-portable numbers {', '.join(drop)}")
                return
            await self._supplement(
                SupplementKind.SUP3, f"removed not-portable numbers {', '.join(drop)}", remove=drop, actor="system",
            )
            return
        await self._notify(
            f"exception:{self.sup_count}:{','.join(r.code for r in self.remediation)}", "exception",
            [self._contact(), self._pm()],
            exception_code=", ".join(r.code for r in self.remediation),
            what_is_wrong=" ".join(r.message for r in self.remediation),
            fields=sorted({f for r in self.remediation for f in r.fields}),
            who_acts=", ".join(sorted({r.who_acts.value for r in self.remediation})),
            numbers=sorted({n for r in self.remediation for n in r.numbers}) or self._live_numbers(),
            respond_by=fmt(workflow.now() + timedelta(days=2)),
            fix=f"python starter.py amend {self.inp.order_id} ...",
        )

    async def _supplement(self, kind: SupplementKind, reason: str, *, remove: list[str] | None = None,
                          corrections: dict[str, str] | None = None, actor: str, new_date=None,
                          moved: bool = False) -> None:
        """``moved``: the removed numbers go on in another order (split), not out of the port."""
        assert self.inp is not None and self.carrier is not None
        self.sup_count += 1
        corrections = dict(corrections or {})
        for tn in [] if moved else remove or []:
            if tn in self.numbers:
                self.numbers[tn] = self.numbers[tn].model_copy(update={"state": "not_portable", "carrier_outcome": NumberOutcome.NOT_PORTABLE.value})
        if remove:
            corrections["remove_numbers"] = ",".join(remove)
        if remove and not moved:
            await act("inventory_update", InventoryChange(request_id=self.inp.request_id, order_id=self.inp.order_id,
                                                           tns=remove, state="not_portable", reason=reason),
                      InventoryResult, summary=f"{len(remove)} numbers not portable", retry=LOCAL)
        sup = Supplement(kind=kind, idempotency_key=f"{self.inp.order_id}:sup:{self.sup_count}",
                         new_foc_date=new_date, corrections=corrections, reason=reason)
        state = await act("carrier_supplement", SupplementInput(order_id=self.inp.order_id, carrier=self.inp.account.carrier,
                                                                  carrier_order_id=self.carrier.carrier_order_id, supplement=sup),
                          CarrierOrderState, summary=f"{kind.value} to {self.inp.account.carrier}: {reason}")
        await self._move(S.SUPPLEMENT, actor, f"{kind.value}: {reason}")
        await self._apply_carrier(state, f"carrier:{self.inp.account.carrier}")

    async def _publish_inventory(self) -> None:
        """Numbers into the inventory within the deadline after FOC; alert ops when late."""
        assert self.inp is not None
        hours = self.inp.options.inventory_deadline_hours
        job = asyncio.ensure_future(act(
            "inventory_update", InventoryChange(request_id=self.inp.request_id, order_id=self.inp.order_id,
                                                tns=self._live_numbers(), state="awaiting_assignment", reason="FOC confirmed"),
            InventoryResult, summary="numbers into the inventory, ready to assign", retry=LOCAL))
        try:
            await workflow.wait_condition(job.done, timeout=timedelta(hours=hours),
                                          timeout_summary=f"inventory deadline: {hours} h after FOC")
        except asyncio.TimeoutError:
            foc = self.carrier.foc_at if self.carrier else workflow.now()
            await self._escalate("P2", f"numbers not in the inventory {hours} h after FOC", "inventory_late",
                                 numbers=self._live_numbers(), foc_utc=foc.isoformat(), hours_since_foc=hours,
                                 foc_received_at=fmt(self.foc_received_at))
        result = await job
        for nv in result.numbers:
            if nv.tn in self.numbers:
                self.numbers[nv.tn] = self.numbers[nv.tn].model_copy(update={"state": nv.state, "assigned_to": nv.assigned_to})
        foc = self.carrier.foc_at if self.carrier else None
        await self._notify("numbers_ready", "numbers_ready", [self._contact(), self._pm()],
                           numbers=self._unassigned() or self._live_numbers(), foc_utc=foc.isoformat() if foc else None,
                           assign_by=fmt(self.plan.assign_reminders_at[-1]) if self.plan else "before the port date",
                           fix=f"python starter.py assign {self.inp.request_id} --tn +1... --to user@...")
        await self._publish()

    # ------------------------------------------------------------------ port day
    async def _activation_stage(self) -> None:
        assert self.inp is not None
        unassigned = self._unassigned()
        foc = self.carrier.foc_at if self.carrier else workflow.now()
        await self._notify("port_day", "port_day", [self._contact(), self._pm()], foc_utc=foc.isoformat(),
                           numbers=self._live_numbers())
        if unassigned:
            await self._escalate("P3", f"port day with {len(unassigned)} numbers unassigned", "unassigned_escalation",
                                 unassigned_numbers=unassigned, contact_email=self.inp.contact_email,
                                 contact_name=self.inp.contact_name, port_date=fmt(foc))
        self._set_next("carrier activates the numbers", None, WaitingOn.CARRIER)
        await self._publish()
        try:
            state = await act("carrier_activate", self._call("activate"), CarrierOrderState,
                              summary=f"activate {len(self._live_numbers())} numbers at {self.inp.account.carrier}")
        except ActivityError as err:
            cause = _refusal(err)
            if not self.sa.lean or cause is None:
                raise
            # the carrier will not activate (e.g. the FOC expired): what does it say the order is?
            state = await act("carrier_status", self._call("status"), CarrierOrderState,
                              summary="why the carrier refused to activate")
            if state.status not in (CarrierOrderStatus.PORTED, CarrierOrderStatus.ACTIVATION_FAILED):
                if state.status != CarrierOrderStatus.EXCEPTION:
                    state = state.model_copy(update={"status": CarrierOrderStatus.EXCEPTION, "exceptions": state.exceptions or [
                        CarrierException(code="OTHER", message=f"activation refused: {cause.message}")]})
                await self._apply_carrier(state, f"carrier:{self.inp.account.carrier}")
                return
        tries = 0
        done = (CarrierOrderStatus.PORTED, CarrierOrderStatus.ACTIVATION_FAILED)
        while state.status not in done and (self.sa.lean or tries < 24):
            tries += 1
            if not self.sa.lean:
                await workflow.sleep(timedelta(minutes=5), summary="activation in progress: check again in 5 minutes")
                state = await act("carrier_status", self._call("status"), CarrierOrderState, summary="activation status")
                continue
            # every 5 minutes for 2 hours, then every 30: a carrier event (webhook, or the PM's
            # carrier-event for a manual carrier) answers at once
            every = timedelta(minutes=5 if tries <= 24 else 30)
            state, who = await self._await_carrier(
                f"{self.inp.account.carrier} confirms the activation", every, show_due=True,
                summary=f"activation in progress: check again in {int(every.total_seconds() // 60)} minutes",
                poll_summary="activation status")
            self.activation_actor = who or self.activation_actor
            if tries == 24 and state.status not in done:
                await self._escalate("P2", f"{self.inp.account.carrier} has not confirmed the activation 2 h after the FOC",
                                     "escalation", stage=self.status.value, waiting_on="carrier",
                                     next_deadline="confirm with the carrier; record it with starter.py carrier-event")
        self.carrier = state
        for ns in state.numbers:
            if ns.tn in self.numbers:
                self.numbers[ns.tn] = self.numbers[ns.tn].model_copy(update={"carrier_outcome": ns.outcome.value, "reason": ns.reason})
        failed = [n.tn for n in state.numbers if n.outcome == NumberOutcome.FAILED]
        if state.status == CarrierOrderStatus.PORTED:
            await self._move(S.PORTED, self.activation_actor or f"carrier:{self.inp.account.carrier}",
                             f"numbers ported ({state.raw_status})")
            if failed:
                await self._escalate("P2", f"{len(failed)} numbers did not port: {', '.join(failed)}", "escalation",
                                     stage=self.status.value, waiting_on="pm", next_deadline="30 minutes (P2)")
        else:
            await self._move(S.SNAPBACK, f"carrier:{self.inp.account.carrier}", f"activation failed ({state.raw_status}): numbers stay with the losing carrier")
            await self._escalate("P1", "activation failed: ported numbers not routing", "activation_failed",
                                 numbers=self._live_numbers(), error=state.raw_status, foc_utc=foc.isoformat(),
                                 carrier_order_id=state.carrier_order_id)

    async def _snapback_stage(self) -> None:
        assert self.inp is not None
        if self._ported_not_routing():
            # the carrier ported the numbers; they do not route here: ops fix it, the PM re-tests
            self._set_next(f"ops fix the routing (P1); PM confirms test calls again (starter.py verify {self.inp.order_id})",
                           None, WaitingOn.PM)
            await self._publish()
            await self._wait(lambda: self.verification is not None or bool(self.amends), None,
                             "numbers ported but not routing: waiting for the fix and a new test")
            await self._apply_amends()
            v = self.verification
            if v is None:
                return
            if v.ok:
                await self._move(S.VERIFIED, v.actor, f"routing fixed and verified: {v.notes}")
            else:
                self.verification = None
                await self._record_note(v.actor, f"test calls still fail: {v.notes}")
            return
        self._set_next("PM sets a new date (amend --port-date) or cancels", None, WaitingOn.PM)
        await self._publish()
        await self._wait(lambda: bool(self.amends), None, "snapback: waiting for the PM")
        await self._apply_amends()

    def _ported_not_routing(self) -> bool:
        """In SNAPBACK after a failed verification: the carrier ported the numbers (no new date helps)."""
        return self.sa.lean and self.carrier is not None and self.carrier.status == CarrierOrderStatus.PORTED

    async def _verification_stage(self) -> None:
        assert self.inp is not None
        if self.inp.options.verification == Verification.AUTO:
            res = await act("verify_routing", VerifyInput(order_id=self.inp.order_id, numbers=self._live_numbers()),
                            VerifyResult, summary="test calls in and out")
            self.verification = ConfirmVerification(actor="system", order_id=self.inp.order_id, ok=res.ok, notes=res.detail or "automatic check")
        else:
            self._set_next("PM confirms test calls in and out (starter.py verify)", None, WaitingOn.PM)
            await self._publish()
            await self._wait(lambda: self.verification is not None, None, "waiting for the PM to confirm test calls")
        v = self.verification
        assert v is not None
        if v.ok:
            await self._move(S.VERIFIED, v.actor, f"routing verified: {v.notes}")
        else:
            self.verification = None
            await self._move(S.SNAPBACK, v.actor, f"verification failed: {v.notes}")
            foc = self.carrier.foc_at if self.carrier else workflow.now()
            await self._escalate("P1", f"ported numbers not routing: {v.notes}", "activation_failed", numbers=self._live_numbers(),
                                 error=v.notes, foc_utc=foc.isoformat(),
                                 carrier_order_id=self.carrier.carrier_order_id if self.carrier else "")

    async def _complete(self) -> None:
        assert self.inp is not None
        await act("inventory_update", InventoryChange(request_id=self.inp.request_id, order_id=self.inp.order_id,
                                                       tns=self._live_numbers(), state="active", reason="port verified"),
                  InventoryResult, summary="numbers active in the inventory", retry=LOCAL)
        for tn in self._live_numbers():
            self.numbers[tn] = self.numbers[tn].model_copy(update={"state": "active"})
        await self._move(S.COMPLETED, "system", "ported and verified")
        self._set_next("nothing: done", None, WaitingOn.NOBODY)

    # ------------------------------------------------------------------ cancel
    async def _cancel_flow(self) -> None:
        assert self.inp is not None and self.cancel_req is not None
        self.cancelling = True
        c = self.cancel_req
        if self.envelope is not None and self.envelope.status not in (EnvelopeStatus.VOIDED, EnvelopeStatus.EXPIRED, EnvelopeStatus.COMPLETED, EnvelopeStatus.DECLINED):
            self.envelope = await act("void_envelope", EnvelopeQuery(envelope_id=self.envelope.envelope_id, reason=f"port cancelled: {c.reason}"),
                                      EnvelopeInfo, summary="void the LOA envelope")
        open_order = self.carrier is not None and self.carrier.status not in (CarrierOrderStatus.CANCELLED, CarrierOrderStatus.PORTED)
        if open_order and self.status in WITH_CARRIER | {S.SNAPBACK, S.LOA_SENT, S.LOA_DECLINED, S.LOA_SIGNED}:
            if self.status != S.SNAPBACK:
                await self._move(S.CANCEL_REQUESTED, c.actor, f"SUP1 cancel sent: {c.reason}")
            try:
                state = await act("carrier_cancel", self._call("cancel", reason=c.reason), CarrierOrderState,
                                  summary=f"SUP1: cancel at {self.inp.account.carrier}")
                polls = 0
                while state.status != CarrierOrderStatus.CANCELLED and polls < 48:
                    polls += 1
                    if self.sa.lean:  # a carrier event (webhook, the PM's carrier-event) confirms at once
                        state, _who = await self._await_carrier(
                            f"{self.inp.account.carrier} confirms the cancel",
                            timedelta(seconds=self.inp.options.carrier_poll_seconds), show_due=False,
                            summary="waiting for the carrier to confirm the cancel", poll_summary="cancel status")
                        continue
                    await workflow.sleep(timedelta(seconds=self.inp.options.carrier_poll_seconds), summary="waiting for the carrier to confirm the cancel")
                    state = await act("carrier_status", self._call("status"), CarrierOrderState, summary="cancel status")
                self.carrier = state
                if state.status != CarrierOrderStatus.CANCELLED and self.sa.lean:
                    await self._escalate("P3", f"{self.inp.account.carrier} never confirmed the cancel ({state.raw_status}): "
                                         "check with the carrier that the numbers stay put", "escalation",
                                         stage=self.status.value, waiting_on="pm", next_deadline="confirm with the carrier")
            except ActivityError as err:
                self.escalations.append(f"carrier refused the cancel: {err.cause}")
        await act("inventory_update", InventoryChange(request_id=self.inp.request_id, order_id=self.inp.order_id,
                                                       state="released", reason=f"cancelled: {c.reason}"),
                  InventoryResult, summary="release the numbers", retry=LOCAL)
        for tn in self.numbers:
            if self.numbers[tn].state != "split":  # those go on in their own order
                self.numbers[tn] = self.numbers[tn].model_copy(update={"state": "released"})
        await self._move(S.CANCELLED, c.actor, c.reason)
        self._set_next("nothing: cancelled", None, WaitingOn.NOBODY)

    # ------------------------------------------------------------------ amend
    async def _apply_amends(self) -> None:
        assert self.inp is not None
        while self.amends:
            a = self.amends.pop(0)
            updates = a.account_updates()
            if updates:
                self.inp.account = self.inp.account.model_copy(update=updates)
            if a.entity_name is not None:
                self.inp.entity_name = a.entity_name
            if a.signer is not None:
                self.inp.signer = a.signer
            if a.port_date is not None:
                self.inp.port_date = a.port_date
            await self._record_note(a.actor, f"amended {', '.join(a.changed_fields())}: {a.reason}")
            what = f"corrected {', '.join(a.changed_fields())}: {a.reason}"
            loa_content = a.signer is not None or bool(updates) or bool(a.remove_numbers) or a.new_loa \
                or a.entity_name is not None
            if a.remove_numbers and self.status in (S.LOA_SENT, S.LOA_DECLINED, S.LOA_SIGNED, S.EXCEPTION) \
                    and self.carrier is None:
                for tn in a.remove_numbers:
                    self.numbers[tn] = self.numbers[tn].model_copy(update={"state": "released"})
                self.inp.account = self.inp.account.model_copy(update={"numbers": self._live_numbers()})
                await act("inventory_update", InventoryChange(request_id=self.inp.request_id, order_id=self.inp.order_id,
                                                               tns=a.remove_numbers, state="released", reason=a.reason),
                          InventoryResult, summary=f"release {len(a.remove_numbers)} numbers removed by the PM", retry=LOCAL)
            if self.status in (S.LOA_SENT, S.LOA_DECLINED, S.LOA_SIGNED) and loa_content:
                if self.envelope is not None and self.status == S.LOA_SENT:
                    self.envelope = await act("void_envelope", EnvelopeQuery(envelope_id=self.envelope.envelope_id, reason="signer corrected"),
                                              EnvelopeInfo, summary="void the LOA sent to the old signer")
                    await self._move(S.LOA_DECLINED, a.actor, "LOA data corrected: old LOA voided")
                await self._send_loa(what)
            elif self.status == S.EXCEPTION and self.carrier is None:
                # the carrier refused the submission itself: the corrected order goes in afresh,
                # after a new LOA when the LOA's content changed the signer
                self.remediation = []
                if a.signer is not None or a.new_loa:
                    await self._send_loa(what)
                else:
                    await self._submit(what)
            elif self.status == S.EXCEPTION and (a.signer is not None or a.new_loa):
                # AUTH_PERSON_MISMATCH and the like: the new signer signs a new LOA, which then
                # goes to the open carrier order as a SUP3 (see _submit_stage)
                self.loa_for_carrier = True
                await self._send_loa(what)
            elif self.status in (S.EXCEPTION, S.FOC_CONFIRMED, S.CARRIER_PENDING, S.SNAPBACK) and self.carrier is not None:
                corrections = {k: (v.ref if hasattr(v, "ref") else (v.model_dump_json() if hasattr(v, "model_dump_json") else str(v)))
                               for k, v in updates.items()}
                if a.signer is not None:
                    corrections["auth_person_name"] = a.signer.name
                if a.entity_name is not None:
                    corrections["entity_name"] = a.entity_name
                kind = SupplementKind.SUP2 if a.port_date is not None and not corrections and not a.remove_numbers else SupplementKind.SUP3
                await self._supplement(kind, a.reason, remove=a.remove_numbers, corrections=corrections,
                                       actor=a.actor, new_date=a.port_date)
            self.amends_applied += 1

    # ------------------------------------------------------------------ updates
    @workflow.update
    async def esign_event(self, ev: EnvelopeEvent) -> EventAck:
        if ev.event_id in self.seen:
            return EventAck(duplicate=True, status=self.status.value)
        self.seen.add(ev.event_id)
        self.esign_q.append(ev)
        return EventAck(status=self.status.value)

    @esign_event.validator
    def _v_esign(self, ev: EnvelopeEvent) -> None:
        self._v_order(ev.order_id)

    @workflow.update
    async def carrier_event(self, ev: CarrierEvent) -> EventAck:
        if ev.event_id in self.seen:
            return EventAck(duplicate=True, status=self.status.value)
        self.seen.add(ev.event_id)
        self.carrier_q.append((ev.state, ev.actor))
        return EventAck(status=self.status.value)

    @carrier_event.validator
    def _v_carrier(self, ev: CarrierEvent) -> None:
        self._v_order(ev.order_id)
        if self.status in TERMINAL:
            raise ValueError(f"order {ev.order_id} is {self.status}: carrier events no longer apply")
        if self.carrier is None and self.status not in (S.SUBMITTED,):
            raise ValueError(f"order {ev.order_id} is {self.status}: it has not been submitted to the carrier yet")

    @workflow.update
    async def amend(self, a: AmendOrder) -> OrderView:
        self.amends.append(a)
        self.amends_received += 1
        mine = self.amends_received
        if workflow.patched("amend-answers-when-applied"):
            # answer once it is applied (the new LOA out, the supplement sent), not when dequeued
            await workflow.wait_condition(lambda: self.amends_applied >= mine or self.status in TERMINAL)
        else:
            await workflow.wait_condition(lambda: a not in self.amends)
        return self.view()

    @amend.validator
    def _v_amend(self, a: AmendOrder) -> None:
        self._v_order(a.order_id)
        if not a.changed_fields():
            raise ValueError("nothing to amend: give at least one field to change")
        if self.status in TERMINAL or self.cancelling:
            raise ValueError(f"order {a.order_id} is {self.status}: it can no longer be amended")
        if self.status in (S.SUBMITTED, S.SUPPLEMENT, S.ACTIVATION, S.PORTED, S.VERIFIED, S.CANCEL_REQUESTED):
            raise ValueError(f"order {a.order_id} is {self.status}: wait for the carrier's answer before amending")
        if self.status in (S.LOA_SENT, S.LOA_DECLINED) and a.signer is None and a.port_date is None and not a.remove_numbers:
            pass  # data fixed before submission: carried into the submission
        foc = self.carrier.foc_at if self.carrier else None
        if self.status == S.FOC_CONFIRMED:
            problem = guard_problem(foc, workflow.now(), self.inp.options.foc_guard_hours if self.inp else 48, "change")
            if problem:
                raise ValueError(problem)
        unknown = [n for n in a.remove_numbers if n not in self.numbers]
        if unknown:
            raise ValueError(f"not numbers of order {a.order_id}: {', '.join(unknown)}")
        if a.remove_numbers and len(set(a.remove_numbers)) >= len(self._live_numbers()):
            raise ValueError("that would remove every number: cancel the order instead")
        if a.port_date is not None and a.port_date < workflow.now().date():
            raise ValueError(f"port date {a.port_date} is in the past")
        if self.status == S.SNAPBACK and self._ported_not_routing():
            raise ValueError(f"order {a.order_id}: the carrier has ported the numbers to us, so a new date changes nothing; "
                             f"ops fix the routing (P1), then confirm test calls with `starter.py verify {a.order_id}`")

    @workflow.update
    async def approve(self, a: Approve) -> OrderView:
        self.approval = a
        await self._record_note(a.actor, f"submission approved{': ' + a.note if a.note else ''}")
        return self.view()

    @approve.validator
    def _v_approve(self, a: Approve) -> None:
        self._v_order(a.order_id)
        if self.inp is not None and not self.inp.options.review_before_submit:
            raise ValueError("review before submission is off: orders go to the carrier once the LOA is signed")
        if self.approval is not None:
            raise ValueError(f"already approved by {self.approval.actor}")
        if self.status in TERMINAL:
            raise ValueError(f"order is {self.status}")

    @workflow.update
    async def activate_now(self, a: ActivateNow) -> OrderView:
        self.activate_req = a
        await workflow.wait_condition(lambda: self.status not in (S.FOC_CONFIRMED, S.ACTIVATION))
        return self.view()

    @activate_now.validator
    def _v_activate(self, a: ActivateNow) -> None:
        self._v_order(a.order_id)
        if self.status != S.FOC_CONFIRMED or self.carrier is None:
            raise ValueError(f"order {a.order_id} is {self.status}: on-demand activation needs a confirmed FOC")
        if self.activate_req is not None:
            raise ValueError(f"activation already asked for by {self.activate_req.actor}")
        if not self.carrier.fast_port_eligible or self.carrier.activation_window is None:
            raise ValueError(f"{self.carrier.provider} did not make order {a.order_id} eligible for on-demand activation: "
                             f"it activates at the FOC ({fmt(self.carrier.foc_at)})")
        start, end = self.carrier.activation_window
        now = workflow.now()
        if not start <= now <= end:
            raise ValueError(f"outside the carrier's activation window {fmt(start)} to {fmt(end)}: "
                             + ("wait for it to open" if now < start else "the carrier activates it at the window's end"))

    @workflow.update
    async def verify(self, v: ConfirmVerification) -> OrderView:
        self.verification = v
        before = self.status
        await workflow.wait_condition(lambda: self.status != before or self.verification is not v)
        return self.view()

    @verify.validator
    def _v_verify(self, v: ConfirmVerification) -> None:
        self._v_order(v.order_id)
        if self.status == S.SNAPBACK and self._ported_not_routing():
            return  # re-testing after ops fixed the routing
        if self.status != S.PORTED:
            raise ValueError(f"order is {self.status}: test calls are confirmed once the numbers are ported")

    @workflow.update
    async def cancel(self, c: Cancel) -> OrderView:
        self.cancel_req = c
        await workflow.wait_condition(lambda: self.status in TERMINAL)
        return self.view()

    @cancel.validator
    def _v_cancel(self, c: Cancel) -> None:
        problem = self.cancel_problem()
        if problem:
            raise ValueError(problem)

    @workflow.signal
    async def cancel_order(self, c: Cancel) -> None:
        """From the request workflow (its validator already checked every order)."""
        if self.cancel_req is None and self.status in CANCELLABLE:
            self.cancel_req = c

    @workflow.signal
    async def numbers_assigned(self, view: AssignedSignal) -> None:
        for tn, who in view.assignments.items():
            if tn in self.numbers:
                self.numbers[tn] = self.numbers[tn].model_copy(update={"state": "assigned", "assigned_to": who})
        if self.sa.lean and self.status not in TERMINAL:
            if self.status == S.FOC_CONFIRMED and not self._unassigned() and self.next.waiting_on == WaitingOn.CUSTOMER:
                self.next = self.next.model_copy(update={"waiting_on": WaitingOn.NOBODY,
                                                         "what": self.next.what.split(";")[0]})
            await self._publish()

    @workflow.query
    def status(self) -> OrderView:
        return self.view()

    # ------------------------------------------------------------------ helpers
    def cancel_problem(self) -> str | None:
        if self.status not in CANCELLABLE or self.cancel_req is not None:
            return f"order {self.inp.order_id if self.inp else ''} is {self.status}: it can no longer be cancelled"
        foc = self.carrier.foc_at if self.carrier else None
        if self.status in WITH_CARRIER and self.inp is not None:
            return guard_problem(foc, workflow.now(), self.inp.options.foc_guard_hours, "cancel")
        return None

    def _v_order(self, order_id: str) -> None:
        if self.inp is not None and order_id != self.inp.order_id:
            raise ValueError(f"this is order {self.inp.order_id}, not {order_id}")

    async def _wait(self, cond, until: datetime | None, summary: str) -> bool:
        """Wait for ``cond`` or until ``until``; a cancel interrupts every wait."""
        timeout = None
        if until is not None:
            timeout = until - workflow.now()
            if timeout <= timedelta(0):
                return bool(cond())
        try:
            await workflow.wait_condition(lambda: cond() or (self.cancel_req is not None and not self.cancelling),
                                          timeout=timeout, timeout_summary=summary[:200])
        except asyncio.TimeoutError:
            return False
        if self.cancel_req is not None and not self.cancelling:
            raise _CancelNow()
        return True

    async def _move(self, to: PortStatus, actor: str, reason: str) -> None:
        assert self.inp is not None
        change = transition(self.status, to, subject=self.inp.order_id, actor=actor, reason=reason, at=workflow.now())
        self.status = to
        self.stage_since = change.at
        self.timeline.append(change)
        await act("record_status", AuditInput(change=change), type(None), summary=f"{change.from_status} -> {to}", retry=LOCAL)
        await self._publish()

    async def _record_note(self, actor: str, reason: str) -> None:
        """A timeline entry that does not change the status (amends, approvals, FOC moves)."""
        assert self.inp is not None
        self.timeline.append(StatusChange(subject=self.inp.order_id, from_status=self.status, to_status=self.status,
                                          actor=actor, reason=reason, at=workflow.now()))

    async def _sla_watch(self) -> None:
        """Alert ops when an order sits in a status longer than its SLA (options.sla_hours);
        in SNAPBACK the P1 alert repeats every SLA period (hourly updates) until it is resolved."""
        assert self.inp is not None
        while self.status not in TERMINAL:
            status, since = self.status, self.stage_since
            hours = self.inp.options.sla_hours.get(status.value)
            moved = lambda: self.status != status or self.stage_since != since  # noqa: E731
            if not hours or since is None:
                await workflow.wait_condition(moved)
                continue
            rounds = 0
            while not moved():
                rounds += 1
                due = since + timedelta(hours=hours * rounds)
                left = due - workflow.now()
                if left > timedelta(0):
                    try:
                        await workflow.wait_condition(moved, timeout=left, timeout_summary=f"SLA: {status.value} within {hours} h")
                        break
                    except asyncio.TimeoutError:
                        pass
                if moved():
                    break
                if status == S.SNAPBACK:
                    await self._escalate("P1", f"update {rounds}: numbers still not routing, {hours * rounds} h after snapback",
                                         "escalation", stage=status.value, waiting_on=self.next.waiting_on.value,
                                         next_deadline=f"next update in {hours} h")
                    continue
                await self._escalate("P2" if status in (S.EXCEPTION, S.SUBMITTED, S.CARRIER_PENDING, S.SUPPLEMENT) else "P3",
                                     f"SLA: {status.value} for more than {hours} h ({self.next.what})", "escalation",
                                     stage=status.value, waiting_on=self.next.waiting_on.value,
                                     next_deadline=fmt(self.next.due_at) if self.next.due_at else self.next.what)
                await workflow.wait_condition(moved)

    async def _escalate(self, priority: str, why: str, template: str, **ctx) -> None:
        assert self.inp is not None
        self.escalations.append(f"{priority}: {why}")
        self.escalated_since = self.stage_since
        self.sa.update(escalated=True)
        await self._notify(f"{template}:{len(self.escalations)}", template, [self._pm(), self._ops()],
                           priority=priority, reason=why, **ctx)

    async def _replan(self) -> None:
        assert self.inp is not None
        foc = self.carrier.foc_at if self.carrier else None
        self.plan = await act("plan_dates", PlanDatesInput(
            requested_port_date=self.inp.port_date, activation_time=self.inp.activation_time, time_zone=self.inp.time_zone,
            now=workflow.now(), lead_time_days=self.inp.options.lead_time_days, foc_at=foc), PortPlan,
            summary="port-day calendar: activation time and assignment reminders", retry=LOCAL)

    async def _publish(self) -> None:
        """Keep ops' view current: search attributes, current details, the parent's copy."""
        assert self.inp is not None
        self.sa.update(status=self.status.value, waiting_on=self.next.waiting_on, escalated=self._escalated(),
                       next_deadline=self.next.due_at or self.sa.clear(), stage_since=self.stage_since,
                       numbers_unassigned=len(self._unassigned()) if self.status not in TERMINAL else 0)
        workflow.set_current_details(self._details())
        parent = workflow.info().parent
        if parent is not None:
            view = self.view(brief=True)
            if self.sa.lean:  # tell the request only what changed
                key = view.model_dump_json(exclude={"stage_since"})
                if key == self.sent_parent:
                    return
                self.sent_parent = key
            await workflow.get_external_workflow_handle(parent.workflow_id).signal("order_progress", view)

    async def _await_carrier(self, what: str, every: timedelta, *, show_due: bool, summary: str,
                             poll_summary: str) -> tuple[CarrierOrderState, str | None]:
        """Wait on the carrier: its event (a webhook, or the PM's carrier-event for a manual
        carrier) answers at once, else a status poll after ``every``. Returns the state and who
        reported it (None for a poll)."""
        self._set_next(what, workflow.now() + every if show_due else None, WaitingOn.CARRIER)
        await self._publish()
        await self._wait(lambda: bool(self.carrier_q), workflow.now() + every, summary)
        if self.carrier_q:
            return self.carrier_q.pop(0)
        return await act("carrier_status", self._call("status"), CarrierOrderState, summary=poll_summary), None

    def _set_exception_next(self) -> None:
        who = self.remediation[0].who_acts if self.remediation else WaitingOn.PM
        self._set_next("fix the carrier exception: " + "; ".join(r.message for r in self.remediation), None, who)

    def _on_demand_window(self) -> tuple[datetime, datetime, datetime] | None:
        """(opens, closes, when portflow activates by itself) for a fast-port order whose carrier
        offers on-demand activation; None for an order that activates at its FOC."""
        if not self.sa.lean or self.carrier is None or not self.carrier.fast_port_eligible or not self.carrier.activation_window:
            return None
        start, end = self.carrier.activation_window
        return start, end, max(start, end - timedelta(minutes=10))

    def _escalated(self) -> bool:
        """An escalation is open while the order is still in the stage it was raised in."""
        if not self.sa.lean:
            return bool(self.escalations)
        return self.escalated_since is not None and self.escalated_since == self.stage_since and self.status not in TERMINAL

    def _details(self) -> str:
        lines = [f"**{self.status.value}** · {self.inp.account.carrier if self.inp else ''}",
                 f"Next: {self.next.what} · waiting on {self.next.waiting_on.value} · due {fmt(self.next.due_at)}"]
        if self.carrier:
            lines.append(f"Carrier: {self.carrier.carrier_order_id} raw status '{self.carrier.raw_status}'")
        if self.remediation:
            lines.append("Open exceptions: " + "; ".join(f"{r.code}: {r.message}" for r in self.remediation))
        if self._escalated():
            lines.append("**Escalated**: " + self.escalations[-1])
        elif self.escalations:
            lines.append("Earlier escalations: " + "; ".join(self.escalations[-3:]))
        return "\n\n".join(lines)

    def _set_next(self, what: str, due: datetime | None, who: WaitingOn) -> None:
        self.next = Deadline(what=what, due_at=due, waiting_on=who)

    def _live_numbers(self) -> list[str]:
        return [tn for tn, v in self.numbers.items() if v.state not in ("not_portable", "released", "split")]

    def _unassigned(self) -> list[str]:
        return [tn for tn in self._live_numbers() if self.numbers[tn].assigned_to is None]

    def _call(self, op: str, reason: str = "") -> CarrierCall:
        assert self.inp is not None and self.carrier is not None
        return CarrierCall(order_id=self.inp.order_id, carrier=self.inp.account.carrier,
                           carrier_order_id=self.carrier.carrier_order_id,
                           idempotency_key=f"{self.inp.order_id}:{op}", reason=reason)

    def _pm_actor(self) -> str:
        return self.approval.actor if self.approval else "system"

    def _contact(self) -> tuple[Audience, str, str]:
        assert self.inp is not None
        return (Audience.CUSTOMER, self.inp.contact_email, self.inp.contact_name)

    def _signer(self) -> tuple[Audience, str, str]:
        assert self.inp is not None
        return (Audience.SIGNER, self.inp.signer.email, self.inp.signer.name)

    def _pm(self) -> tuple[Audience, str, str]:
        assert self.inp is not None
        return (Audience.PM, self.inp.options.pm_email, "PM")

    def _ops(self) -> tuple[Audience, str, str]:
        assert self.inp is not None
        return (Audience.OPS, self.inp.options.ops_email, "Ops")

    async def _notify(self, key: str, template: str, to: list[tuple[Audience, str, str]], **ctx) -> None:
        assert self.inp is not None
        await notify(f"{self.inp.order_id}:{key}", template, to, request_id=self.inp.request_id,
                     order_id=self.inp.order_id, language=self.inp.language, customer_name=self.inp.customer_name,
                     losing_carrier=self.inp.account.carrier, time_zone=self.inp.time_zone, **ctx)

    def _sign_by(self) -> str:
        return (workflow.now() + timedelta(days=3)).date().isoformat()

    def view(self, brief: bool = False) -> OrderView:
        assert self.inp is not None
        return OrderView(
            order_id=self.inp.order_id, carrier=self.inp.account.carrier, status=self.status,
            port_date=self.inp.port_date, foc_at=self.carrier.foc_at if self.carrier else None,
            toll_free=self.inp.account.toll_free,
            envelope_id=self.envelope.envelope_id if self.envelope else None,
            carrier_order_id=self.carrier.carrier_order_id if self.carrier else None,
            carrier_raw_status=self.carrier.raw_status if self.carrier else None,
            carrier_exceptions=self.carrier.exceptions if self.carrier else [],
            remediation=[f"{r.code}: {r.message} (fix {', '.join(r.fields) or r.action}; {r.who_acts.value})" for r in self.remediation],
            numbers=list(self.numbers.values()), next=self.next,
            timeline=[] if brief else list(self.timeline), escalations=list(self.escalations),
            request_id=self.inp.request_id, stage_since=self.stage_since, escalated=self._escalated(),
        )

