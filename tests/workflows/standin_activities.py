"""Stand-in activities for running PortOrderWorkflow alone, without the carrier simulator,
DocuSign, the database or the outbox.

Each stand-in is registered under the name the workflow calls (``act("carrier_submit", ...)``)
and takes and returns the same models as the real activity. It records every call in
``StandIns.calls`` (name and the input model) and answers from a script the test sets up:
what the carrier says to a submission, a supplement, a status poll or a cancel, and whether
the LOA envelope is sent or already signed. Only ``explain_exceptions`` runs the real code:
it is pure, and its catalogue (which code drops numbers, which needs a new LOA) is what the
workflow's routing depends on.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.carrier import explain_exceptions as real_explain_exceptions
from models.carrier import CarrierException, CarrierNumber, CarrierOrderState, CarrierOrderStatus, NumberOutcome, fingerprint
from models.esign import EnvelopeInfo, EnvelopeStatus, LoaEnvelopeRequest, SignedDocuments
from models.notify import Notification
from models.request import DocumentKind, DocumentRef
from models.status import StatusChange
from models.workflow import (
    AuditInput,
    CarrierCall,
    CarrierPoll,
    EnvelopePoll,
    EnvelopeQuery,
    ExplainInput,
    ExplainResult,
    FetchSigned,
    InventoryChange,
    InventoryResult,
    NotifyResult,
    NumberView,
    PlanDatesInput,
    PortPlan,
    RenderLoaInput,
    SubmitInput,
    SupplementInput,
    VerifyInput,
    VerifyResult,
)

CARRIER_ORDER_ID = "CO-7001"


def carrier_state(status: CarrierOrderStatus, *, raw: str | None = None, foc_at: datetime | None = None,
                  exceptions: list[CarrierException] | None = None, numbers: dict[str, NumberOutcome] | None = None,
                  carrier_order_id: str = CARRIER_ORDER_ID) -> CarrierOrderState:
    """What the carrier says about the order (``provider`` "standin")."""
    return CarrierOrderState(
        carrier_order_id=carrier_order_id, provider="standin", status=status, raw_status=raw or status.value,
        foc_at=foc_at, exceptions=exceptions or [],
        numbers=[CarrierNumber(tn=tn, outcome=o) for tn, o in (numbers or {}).items()],
    )


def refusal(code: str, message: str) -> ApplicationError:
    """A business refusal as a carrier adapter raises it: non-retryable, the carrier's code in
    the details."""
    return ApplicationError(message, {"code": code}, type="CarrierRejected", non_retryable=True)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Call:
    name: str
    inp: Any

    def __repr__(self) -> str:  # short, for assertion messages
        return f"{self.name}({_brief(self.name, self.inp)})"


def _brief(name: str, inp: Any) -> str:
    if isinstance(inp, SubmitInput):
        return inp.submission.idempotency_key
    if isinstance(inp, SupplementInput):
        s = inp.supplement
        return f"{s.kind.value} {s.idempotency_key} {s.corrections} {s.new_foc_date}"
    if isinstance(inp, LoaEnvelopeRequest):
        return f"{inp.idempotency_key} {inp.signer_email}"
    if isinstance(inp, Notification):
        return f"{inp.template} {inp.key}"
    if isinstance(inp, InventoryChange):
        return f"{inp.state} {inp.tns}"
    if isinstance(inp, AuditInput):
        return ", ".join(f"{c.from_status} -> {c.to_status}" for c in inp.changes)
    if isinstance(inp, (CarrierCall, EnvelopeQuery, FetchSigned)):
        return ", ".join(f"{k}={v}" for k, v in inp.model_dump().items() if v)
    return type(inp).__name__


@dataclass
class StandIns:
    """The scripted outside world of one order, and the record of what the workflow asked."""

    calls: list[Call] = field(default_factory=list)
    # carrier: answers are taken in order; when a list is empty the default answer is used
    submit_answers: list[CarrierOrderState | ApplicationError] = field(default_factory=list)
    supplement_answers: list[CarrierOrderState | ApplicationError] = field(default_factory=list)
    status_answers: list[CarrierOrderState] = field(default_factory=list)
    cancel_answer: CarrierOrderState | None = None
    # e-signature: the status a freshly sent envelope has (COMPLETED: signed at once)
    envelope_status: EnvelopeStatus = EnvelopeStatus.SENT
    # the carrier's current view of the order: what a status poll returns by default
    carrier_now: CarrierOrderState | None = None
    envelopes: dict[str, EnvelopeInfo] = field(default_factory=dict)
    # the store's timeline: changes flushed by record_status or carried by other activities
    timeline: list[StatusChange] = field(default_factory=list)

    def record(self, changes: list[StatusChange]) -> None:
        """What the audit interceptor (or record_status) writes: each change once, in order."""
        seen = {(c.subject, c.to_status, c.at) for c in self.timeline}
        self.timeline.extend(c for c in changes if (c.subject, c.to_status, c.at) not in seen)

    # ---------------------------------------------------------------- for assertions
    def of(self, name: str) -> list[Any]:
        """The inputs of every call to ``name``, oldest first."""
        return [c.inp for c in self.calls if c.name == name]

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def templates(self) -> list[str]:
        return [n.template for n in self.of("notify")]

    def supplements(self) -> list[Any]:
        return [s.supplement for s in self.of("carrier_supplement")]

    async def wait_for(self, pred: Callable[[StandIns], bool], *, what: str, timeout: float = 20.0) -> None:
        """Wait (real time) until the recorded calls satisfy ``pred``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not pred(self):
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}; calls: {self.calls}")
            await asyncio.sleep(0.05)

    # ---------------------------------------------------------------- the activities
    def activities(self) -> list[Callable[..., Any]]:
        s = self

        def _carrier(answer: CarrierOrderState | ApplicationError) -> CarrierOrderState:
            if isinstance(answer, ApplicationError):
                raise answer
            s.carrier_now = answer
            return answer

        @activity.defn(name="plan_dates")
        async def plan_dates(inp: PlanDatesInput) -> PortPlan:
            s.calls.append(Call("plan_dates", inp))
            at = inp.foc_at or datetime.combine(inp.requested_port_date, datetime.min.time(), UTC) + timedelta(hours=14)
            # like the real plan: assignment reminders 3 and 1 days before port day (never empty)
            return PortPlan(port_date=at.date(), port_date_ok=True, earliest_port_date=at.date(),
                            documents_due_at=at - timedelta(days=21), activation_at=at,
                            assign_reminders_at=[at - timedelta(days=3), at - timedelta(days=1)])

        @activity.defn(name="record_status")
        async def record_status(inp: AuditInput) -> None:
            s.calls.append(Call("record_status", inp))
            s.record(inp.changes)

        @activity.defn(name="render_loa")
        async def render_loa(inp: RenderLoaInput) -> DocumentRef:
            s.calls.append(Call("render_loa", inp))
            return DocumentRef(kind=DocumentKind.LOA, file_name=f"loa-{inp.order_id}.pdf", size=1000,
                               sha256=_sha(f"loa {inp.order_id} {inp.signer.name}"), order_id=inp.order_id)

        @activity.defn(name="send_loa")
        async def send_loa(inp: LoaEnvelopeRequest) -> EnvelopeInfo:
            s.calls.append(Call("send_loa", inp))
            eid = f"env-{len(s.of('send_loa'))}"
            info = EnvelopeInfo(envelope_id=eid, provider="standin", status=s.envelope_status,
                                status_at=activity.info().current_attempt_scheduled_time,
                                signer_name=inp.signer_name, signer_email=str(inp.signer_email),
                                sign_url=f"standin://sign/{eid}")
            s.envelopes[eid] = info
            return info

        @activity.defn(name="esign_status")
        async def esign_status(inp: EnvelopeQuery) -> EnvelopeInfo:
            s.calls.append(Call("esign_status", inp))
            return s.envelopes[inp.envelope_id]

        @activity.defn(name="esign_poll")
        async def esign_poll(inp: EnvelopePoll) -> EnvelopeInfo:
            """As the real one: the first look one interval after it is scheduled; the status the
            workflow knows is a retryable "not yet"."""
            info = s.envelopes[inp.envelope_id]
            if activity.info().attempt == 1 or info.status == inp.known:
                raise ApplicationError("still the same", type="NotYet")
            s.calls.append(Call("esign_status", EnvelopeQuery(envelope_id=inp.envelope_id)))
            return info

        @activity.defn(name="void_envelope")
        async def void_envelope(inp: EnvelopeQuery) -> EnvelopeInfo:
            s.calls.append(Call("void_envelope", inp))
            info = s.envelopes[inp.envelope_id].model_copy(update={"status": EnvelopeStatus.VOIDED, "reason": inp.reason})
            s.envelopes[inp.envelope_id] = info
            return info

        @activity.defn(name="fetch_signed")
        async def fetch_signed(inp: FetchSigned) -> SignedDocuments:
            s.calls.append(Call("fetch_signed", inp))
            return SignedDocuments(signed_loa=DocumentRef(
                kind=DocumentKind.SIGNED_LOA, file_name=f"signed-{inp.envelope_id}.pdf", size=2000,
                sha256=_sha(f"signed {inp.envelope_id}"), order_id=inp.order_id))

        @activity.defn(name="notify")
        async def notify(inp: Notification) -> NotifyResult:
            s.calls.append(Call("notify", inp))
            return NotifyResult(channels=["email"])

        @activity.defn(name="inventory_update")
        async def inventory_update(inp: InventoryChange) -> InventoryResult:
            s.calls.append(Call("inventory_update", inp))
            return InventoryResult(numbers=[NumberView(tn=tn, state=inp.state) for tn in inp.tns])

        @activity.defn(name="explain_exceptions")
        async def explain_exceptions(inp: ExplainInput) -> ExplainResult:
            s.calls.append(Call("explain_exceptions", inp))
            return real_explain_exceptions(inp)

        @activity.defn(name="carrier_submit")
        async def carrier_submit(inp: SubmitInput) -> CarrierOrderState:
            s.calls.append(Call("carrier_submit", inp))
            if s.submit_answers:
                return _carrier(s.submit_answers.pop(0))
            return _carrier(carrier_state(CarrierOrderStatus.PENDING, raw="in process"))

        @activity.defn(name="carrier_supplement")
        async def carrier_supplement(inp: SupplementInput) -> CarrierOrderState:
            s.calls.append(Call("carrier_supplement", inp))
            if s.supplement_answers:
                return _carrier(s.supplement_answers.pop(0))
            return _carrier(carrier_state(CarrierOrderStatus.PENDING, raw="supplement in process",
                                          carrier_order_id=inp.carrier_order_id))

        @activity.defn(name="carrier_status")
        async def carrier_status(inp: CarrierCall) -> CarrierOrderState:
            s.calls.append(Call("carrier_status", inp))
            if s.status_answers:
                return _carrier(s.status_answers.pop(0))
            assert s.carrier_now is not None, "carrier_status before the carrier knew the order"
            return s.carrier_now

        @activity.defn(name="carrier_poll")
        async def carrier_poll(inp: CarrierPoll) -> CarrierOrderState:
            """As the real one: the first look one interval after it is scheduled, then the next
            scripted status or what the carrier holds now; the state the workflow already knows
            is a retryable "not yet" (recorded only on a change)."""
            answer = s.status_answers[0] if s.status_answers else s.carrier_now
            if activity.info().attempt == 1 or answer is None or (isinstance(answer, CarrierOrderState) and fingerprint(answer) == inp.known):
                raise ApplicationError("no change yet", type="NotYet")
            if s.status_answers:
                s.status_answers.pop(0)
            s.calls.append(Call("carrier_status", inp.call))
            return _carrier(answer)

        @activity.defn(name="carrier_cancel")
        async def carrier_cancel(inp: CarrierCall) -> CarrierOrderState:
            s.calls.append(Call("carrier_cancel", inp))
            return _carrier(s.cancel_answer or carrier_state(CarrierOrderStatus.CANCELLED, raw="cancelled",
                                                             carrier_order_id=inp.carrier_order_id or CARRIER_ORDER_ID))

        @activity.defn(name="carrier_activate")
        async def carrier_activate(inp: CarrierCall) -> CarrierOrderState:
            s.calls.append(Call("carrier_activate", inp))
            return _carrier(carrier_state(CarrierOrderStatus.PORTED, raw="ported",
                                          carrier_order_id=inp.carrier_order_id or CARRIER_ORDER_ID))

        @activity.defn(name="verify_routing")
        async def verify_routing(inp: VerifyInput) -> VerifyResult:
            s.calls.append(Call("verify_routing", inp))
            return VerifyResult(ok=True, detail="stand-in: calls in and out")

        return [plan_dates, record_status, render_loa, send_loa, esign_status, esign_poll, void_envelope, fetch_signed,
                notify, inventory_update, explain_exceptions, carrier_submit, carrier_supplement, carrier_status, carrier_poll,
                carrier_cancel, carrier_activate, verify_routing]

