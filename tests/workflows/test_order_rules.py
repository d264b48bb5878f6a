"""PortOrderWorkflow's rules, one order on its own with stand-in activities.

No request workflow, no carrier simulator, no DocuSign: the order runs on the time-skipping
server and every activity it calls by name is a stand-in (``standin_activities``) that
records the call and answers from the test's script. The tests drive the order only through
its public surface (the ``run`` input, the updates, the ``status`` query) and assert on what
it asked the outside world and on what it shows: carrier exceptions (refused submission,
data fixes by SUP3, a new date by SUP2, not-portable numbers, a wrong signer), amend routing,
the FOC guard, duplicate events and the amend validators.

The server's clock stays put unless a test skips it (``env.sleep``), so nothing polls or
reminds behind a test's back; carrier answers arrive as ``carrier_event`` updates or as
the scripted answer to a status poll.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from core.queues import carrier_queue_of
from models.carrier import CarrierEvent, CarrierException, CarrierOrderState, CarrierOrderStatus, SupplementKind
from models.esign import EnvelopeEvent, EnvelopeStatus
from models.events import EventAck
from models.request import Signer
from models.secrets import SecretRef, hint_of
from models.status import PortStatus
from models.workflow import AccountSpec, AmendOrder, Cancel, OrderView, PortOptions, PortOrderInput
from tests.workflows.helpers import PM, sample_request, wait_order
from tests.workflows.standin_activities import CARRIER_ORDER_ID, StandIns, carrier_state, refusal
from activities.audit import AuditInterceptor
from worker import workflow_runner
from workflows.port_order import PortOrderWorkflow

S = PortStatus
C = CarrierOrderStatus
GUARD_HOURS = 48
NEW_SIGNER = Signer(name="Marta Diaz", title="Owner", email="marta@contoso.example")


def sealed(value: str) -> SecretRef:
    """A secret as the workflow carries it: a vault ref (never revealed by the stand-ins)."""
    return SecretRef(ref=f"sec_{uuid.uuid4().hex}", hint=hint_of(value))


@dataclass
class Order:
    """One running PortOrderWorkflow and its stand-in world."""

    env: WorkflowEnvironment
    world: StandIns
    inp: PortOrderInput
    handle: WorkflowHandle

    @property
    def oid(self) -> str:
        return self.inp.order_id

    @property
    def numbers(self) -> list[str]:
        return list(self.inp.account.numbers)

    async def view(self) -> OrderView:
        return await self.handle.query(PortOrderWorkflow.status)

    async def until(self, pred: Callable[[OrderView], bool], what: str, timeout: float = 20) -> OrderView:
        return await wait_order(self.env.client, self.oid, pred, what=what, timeout=timeout)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def update(self, update: Any, arg: Any, *, timeout: float = 10) -> Any:
        """Run an update and wait for its answer, at most ``timeout`` seconds (real time): a
        workflow whose task fails never answers, and the test should fail, not hang."""
        try:
            return await asyncio.wait_for(self.handle.execute_update(update, arg), timeout)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            raise AssertionError(f"{getattr(update, '__name__', update)} got no answer in {timeout} s; "
                                 f"last calls: {self.world.calls[-4:]}") from None

    async def sign(self, envelope_id: str) -> EventAck:
        """The signer signs ``envelope_id`` (an e-signature event, as a webhook delivers it)."""
        return await self.update(PortOrderWorkflow.esign_event, EnvelopeEvent(
            event_id=f"{envelope_id}:completed", order_id=self.oid, envelope_id=envelope_id,
            status=EnvelopeStatus.COMPLETED, at=await self.now(), signer_name=None))

    async def carrier_says(self, state: CarrierOrderState, *, event_id: str | None = None) -> EventAck:
        """The carrier's webhook: ``state`` is what the carrier now says about the order."""
        self.world.carrier_now = state
        return await self.update(PortOrderWorkflow.carrier_event, CarrierEvent(
            event_id=event_id or f"ev-{uuid.uuid4().hex[:8]}", order_id=self.oid, state=state, at=await self.now()))

    async def amend(self, **fields: Any) -> OrderView:
        fields.setdefault("reason", "corrected by the PM")
        return await self.update(PortOrderWorkflow.amend, AmendOrder(actor=PM, order_id=self.oid, **fields))

    async def refused(self, update: Any, arg: Any) -> str:
        """Run ``update``, which must be refused by its validator; the refusal's message."""
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await self.update(update, arg)
        return str(info.value.cause)

    async def loa_out(self) -> OrderView:
        """Wait until the first LOA is out and its mail sent: the order waits for the signer."""
        view = await self.until(lambda o: o.status == S.LOA_SENT, "first LOA sent")
        await self.world.wait_for(lambda w: "loa_sent" in w.templates(), what="the loa_sent mail")
        return view

    async def submitted(self, until: PortStatus = S.CARRIER_PENDING) -> OrderView:
        """Sign the first LOA: the order goes to the carrier (the stand-in answers PENDING unless
        the test scripted otherwise) and settles in ``until``."""
        await self.loa_out()
        await self.sign("env-1")
        view = await self.until(lambda o: o.status == until, f"order submitted, then {until}")
        await self.world.wait_for(lambda w: bool(w.timeline) and w.timeline[-1].to_status == until,
                                  what=f"the move to {until} recorded")
        return view


@pytest_asyncio.fixture
async def rig(env: WorkflowEnvironment, task_queue: str) -> AsyncIterator[tuple[WorkflowEnvironment, StandIns, str]]:
    """The stand-in world and a worker with only PortOrderWorkflow and the stand-ins (and one
    on the carrier queue, where the workflow sends carrier calls: core/queues.py)."""
    world = StandIns()
    async with Worker(env.client, task_queue=task_queue, workflows=[PortOrderWorkflow], activities=world.activities(),
                      workflow_runner=workflow_runner(), interceptors=[AuditInterceptor(record=world.record)],
                      graceful_shutdown_timeout=timedelta(seconds=5)), \
            Worker(env.client, task_queue=carrier_queue_of(task_queue), activities=world.activities(),
                   interceptors=[AuditInterceptor(record=world.record)], graceful_shutdown_timeout=timedelta(seconds=5)):
        yield env, world, task_queue


async def start_order(rig: tuple[WorkflowEnvironment, StandIns, str], **options: Any) -> Order:
    """A one-account order (Lumen, three numbers, full port) dated 30 days after the server's
    today, built the way the request workflow builds its orders."""
    env, world, task_queue = rig
    port_date = (await env.get_current_time()).date() + timedelta(days=30)
    req = sample_request(accounts=1, port_date=port_date, customer={"name": "Contoso Dental", "language": "en"})
    acc = req.accounts[0]
    spec = AccountSpec(
        carrier=acc.carrier, account_number=sealed("8831-2207-19"), pin=sealed("4417"), btn=acc.btn,
        service_address=acc.service_address, port_type=acc.port_type.value,
        remaining_numbers=acc.remaining_numbers.value if acc.remaining_numbers else None,
        new_btn=acc.new_btn, numbers=list(acc.numbers),
    )
    opts = dict(carrier_poll_seconds=600, carrier_foc_poll_seconds=600, esign_poll_seconds=600,
                carrier_silence_hours=24 * 30, loa_reminder_hours=24 * 30, foc_guard_hours=GUARD_HOURS)
    inp = PortOrderInput(
        request_id=req.id, order_id=req.order_id(0), index=0, customer_name=req.customer.name,
        language=req.customer.language, contact_name=req.contact.name, contact_email=str(req.contact.email),
        signer=req.signer, account=spec, port_date=req.requested_port_date, activation_time=req.activation_time,
        time_zone=req.time_zone, documents=[], options=PortOptions(**(opts | options)),
    )
    handle = await env.client.start_workflow(PortOrderWorkflow.run, inp, id=inp.order_id, task_queue=task_queue)
    return Order(env=env, world=world, inp=inp, handle=handle)


def exception(code: str, message: str, numbers: list[str] | None = None) -> CarrierOrderState:
    return carrier_state(C.EXCEPTION, raw="rejected", exceptions=[CarrierException(code=code, message=message,
                                                                                    numbers=numbers or [])])


def moves(view: OrderView) -> list[tuple[str, str]]:
    return [(str(c.from_status), str(c.to_status)) for c in view.timeline if c.from_status != c.to_status]


# ---------------------------------------------------------------------------- exceptions


async def test_status_moves_reach_the_store_with_other_activities(rig) -> None:
    """Every move is in the store's timeline, in order, though few record_status activities
    ran: the others rode in the headers of the activities the order ran anyway."""
    order = await start_order(rig)
    world = order.world
    view = await order.submitted()
    moves = [(c.from_status, c.to_status) for c in view.timeline if c.from_status != c.to_status]
    stored = [(c.from_status, c.to_status) for c in world.timeline]
    assert stored == moves, (stored, moves)
    flushes = world.of("record_status")
    assert len(moves) >= 4 and len(flushes) < len(moves) / 2, world.names()
    carried = len(moves) - sum(len(f.changes) for f in flushes)
    assert carried > 0


async def test_refused_submission_becomes_an_exception_and_the_amend_submits_again(rig) -> None:
    order = await start_order(rig)
    world = order.world
    world.submit_answers = [refusal("BTN_ATN_MISMATCH", "BTN does not match the account")]
    view = await order.submitted(until=S.EXCEPTION)
    await world.wait_for(lambda w: "exception" in w.templates(), what="the exception mail")

    assert view.status == S.EXCEPTION
    assert len(view.remediation) == 1 and view.remediation[0].startswith("BTN_ATN_MISMATCH: ")
    assert "BTN does not match the account" in view.remediation[0] and "fix btn" in view.remediation[0]
    assert view.next.waiting_on == "customer" and "fix the carrier exception" in view.next.what
    assert view.carrier_order_id is None
    mail = [n for n in world.of("notify") if n.template == "exception"]
    assert len(mail) == 1, world.templates()
    assert mail[0].context["exception_code"] == "BTN_ATN_MISMATCH" and mail[0].context["fields"] == ["btn"]
    assert {r.address for r in mail[0].to} == {order.inp.contact_email, order.inp.options.pm_email}

    view = await order.amend(btn=order.numbers[1], reason="BTN from the latest bill")

    subs = [c.submission for c in world.of("carrier_submit")]
    assert len(subs) == 2
    assert subs[0].idempotency_key != subs[1].idempotency_key
    assert subs[0].btn == order.inp.account.btn and subs[1].btn == order.numbers[1]
    assert len(world.of("send_loa")) == 1, "a corrected BTN needs no new LOA"
    assert world.supplements() == []
    assert view.status == S.CARRIER_PENDING and view.remediation == []
    assert view.carrier_order_id == CARRIER_ORDER_ID
    assert (S.EXCEPTION, S.SUBMITTED) in moves(view)


async def test_a_resubmission_refused_again_is_a_new_exception_for_the_pm(rig) -> None:
    """Found by this file: the order tried EXCEPTION -> EXCEPTION, which the table refuses, and
    its workflow task failed forever. Now the order stays in EXCEPTION, explained anew."""
    order = await start_order(rig)
    world = order.world
    world.submit_answers = [refusal("BTN_ATN_MISMATCH", "BTN does not match the account"),
                            refusal("LOCATION_MISMATCH", "service address does not match the account")]
    await order.submitted(until=S.EXCEPTION)
    await world.wait_for(lambda w: "exception" in w.templates(), what="the first exception mail")

    # an amend answers once applied (well under a second here): 5 s is plenty
    view = await order.update(PortOrderWorkflow.amend, AmendOrder(
        actor=PM, order_id=order.oid, reason="BTN from the latest bill", btn=order.numbers[1]), timeout=5)

    assert len(world.of("carrier_submit")) == 2
    assert view.status == S.EXCEPTION
    assert [r.split(":")[0] for r in view.remediation] == ["LOCATION_MISMATCH"]
    await world.wait_for(lambda w: w.templates().count("exception") == 2, what="the second exception mail", timeout=5)
    assert view.next.waiting_on == "customer"


async def test_a_second_refusal_after_a_new_loa_mails_the_pm_again(rig) -> None:
    """Found by this file: the exception mail was keyed on the supplements sent, so a second
    refusal with the same code repeated the key and the PM was never told."""
    order = await start_order(rig)
    world = order.world
    world.submit_answers = [refusal("AUTH_PERSON_MISMATCH", "signer is not authorized on the account"),
                            refusal("AUTH_PERSON_MISMATCH", "new signer is not authorized either")]
    await order.submitted(until=S.EXCEPTION)
    await world.wait_for(lambda w: "exception" in w.templates(), what="the first exception mail")

    view = await order.amend(signer=NEW_SIGNER, reason="the owner signs")
    assert view.status == S.LOA_SENT and len(world.of("send_loa")) == 2
    await order.sign("env-2")
    await world.wait_for(lambda w: w.templates().count("exception") == 2, what="the second exception notify call")

    assert [c.submission.auth_person_name for c in world.of("carrier_submit")] == [order.inp.signer.name, NEW_SIGNER.name]
    assert (await order.view()).status == S.EXCEPTION
    keys = [n.key for n in world.of("notify") if n.template == "exception"]
    # the notify activity delivers a key once (its ledger): a repeated key is a mail nobody gets
    assert len(set(keys)) == 2, keys


async def test_carrier_exception_on_the_account_number_is_corrected_by_one_sup3(rig) -> None:
    order = await start_order(rig)
    world = order.world
    await order.submitted()

    await order.carrier_says(exception("ACCOUNT_NUMBER_MISMATCH", "account number does not match CSR"))
    view = await order.until(lambda o: o.status == S.EXCEPTION, "the carrier's exception")
    assert view.remediation and view.remediation[0].startswith("ACCOUNT_NUMBER_MISMATCH: ")
    assert "fix account_number" in view.remediation[0]
    await world.wait_for(lambda w: "exception" in w.templates(), what="the exception mail")

    fixed = sealed("8831-2207-91")
    view = await order.amend(account_number=fixed, reason="account number from the CSR")

    sups = world.supplements()
    assert len(sups) == 1, world.calls
    assert sups[0].kind == SupplementKind.SUP3
    assert sups[0].corrections == {"account_number": fixed.ref}
    assert sups[0].new_foc_date is None
    assert world.of("carrier_supplement")[0].carrier_order_id == CARRIER_ORDER_ID
    assert len(world.of("carrier_submit")) == 1 and len(world.of("send_loa")) == 1
    assert view.status == S.CARRIER_PENDING and view.remediation == []
    assert moves(view)[-2:] == [(S.EXCEPTION, S.SUPPLEMENT), (S.SUPPLEMENT, S.CARRIER_PENDING)]


async def test_port_date_amend_after_the_foc_outside_the_guard_sends_a_sup2(rig) -> None:
    order = await start_order(rig)
    world = order.world
    await order.submitted()
    foc = await order.now() + timedelta(days=10)
    await order.carrier_says(carrier_state(C.FOC_CONFIRMED, raw="foc", foc_at=foc))
    await order.until(lambda o: o.status == S.FOC_CONFIRMED, "FOC confirmed")

    new_date = order.inp.port_date + timedelta(days=7)
    world.supplement_answers = [carrier_state(C.PENDING, raw="SUP2 in process")]
    view = await order.amend(port_date=new_date, reason="the customer moves a week later")

    sups = world.supplements()
    assert len(sups) == 1, world.calls
    assert sups[0].kind == SupplementKind.SUP2
    assert sups[0].new_foc_date == new_date and sups[0].corrections == {}
    assert view.port_date == new_date
    assert moves(view)[-2:] == [(S.FOC_CONFIRMED, S.SUPPLEMENT), (S.SUPPLEMENT, S.CARRIER_PENDING)]


async def test_not_portable_number_leaves_by_sup3_without_the_pm_and_the_rest_go_on(rig) -> None:
    # the carrier's answer arrives by a status poll: skip the server's clock past the poll
    order = await start_order(rig, carrier_poll_seconds=60)
    world = order.world
    await order.submitted()
    gone, *rest = order.numbers[1:2] + order.numbers[:1] + order.numbers[2:]
    world.status_answers = [exception("PHONE_NUMBER_NOT_PORTABLE", f"{gone} is not portable", [gone])]
    await order.env.sleep(timedelta(seconds=90))
    await world.wait_for(lambda w: bool(w.of("carrier_supplement")), what="the SUP3 removing the number")
    view = await order.until(lambda o: o.status == S.CARRIER_PENDING, "carrier pending again")

    assert world.of("carrier_status"), "the exception came by a poll"
    assert [i.tns for i in world.of("inventory_update") if i.state == "not_portable"] == [[gone]]
    sups = world.supplements()
    assert len(sups) == 1 and sups[0].kind == SupplementKind.SUP3
    assert sups[0].corrections == {"remove_numbers": gone}
    assert "exception" not in world.templates(), "nobody waits on the PM for a not-portable number"
    states = {n.tn: n.state for n in view.numbers}
    assert states[gone] == "not_portable" and all(states[tn] == "porting" for tn in rest)
    assert (S.EXCEPTION, S.SUPPLEMENT) in moves(view)

    # the other numbers go on: the FOC puts only them into the inventory
    await order.carrier_says(carrier_state(C.FOC_CONFIRMED, raw="foc", foc_at=await order.now() + timedelta(days=10)))
    await world.wait_for(lambda w: any(i.state == "awaiting_assignment" for i in w.of("inventory_update")),
                         what="numbers into the inventory")
    ready = [i.tns for i in world.of("inventory_update") if i.state == "awaiting_assignment"]
    assert ready == [rest]


async def test_wrong_signer_gets_a_new_loa_that_goes_to_the_carrier_as_sup3(rig) -> None:
    order = await start_order(rig)
    world = order.world
    await order.submitted()
    await order.carrier_says(exception("AUTH_PERSON_MISMATCH", "signer is not authorized on the account"))
    view = await order.until(lambda o: o.status == S.EXCEPTION, "the carrier's exception")
    assert view.remediation[0].startswith("AUTH_PERSON_MISMATCH: ")
    await world.wait_for(lambda w: "exception" in w.templates(), what="the exception mail")

    view = await order.amend(signer=NEW_SIGNER, reason="the owner signs")
    assert view.status == S.LOA_SENT and view.envelope_id == "env-2"
    loas = world.of("send_loa")
    assert len(loas) == 2 and loas[0].idempotency_key != loas[1].idempotency_key
    assert loas[1].signer_email == NEW_SIGNER.email and loas[1].signer_name == NEW_SIGNER.name
    assert world.supplements() == []

    await order.sign("env-2")
    view = await order.until(lambda o: o.status == S.CARRIER_PENDING, "the new LOA with the carrier")
    assert len(world.of("carrier_submit")) == 1, "the open carrier order gets the new LOA, not a new submission"
    sups = world.supplements()
    assert len(sups) == 1 and sups[0].kind == SupplementKind.SUP3
    assert sups[0].corrections["auth_person_name"] == NEW_SIGNER.name
    signed = world.of("fetch_signed")
    assert [f.envelope_id for f in signed] == ["env-1", "env-2"]
    assert "signed-env-2.pdf" in sups[0].corrections["loa"]
    assert moves(view)[-4:] == [(S.EXCEPTION, S.LOA_SENT), (S.LOA_SENT, S.LOA_SIGNED),
                                (S.LOA_SIGNED, S.SUPPLEMENT), (S.SUPPLEMENT, S.CARRIER_PENDING)]


async def test_new_signer_while_the_loa_is_out_voids_the_old_envelope_and_sends_a_new_one(rig) -> None:
    order = await start_order(rig)
    world = order.world
    await order.loa_out()

    view = await order.amend(signer=NEW_SIGNER, reason="the owner signs, not the CFO")

    assert [v.envelope_id for v in world.of("void_envelope")] == ["env-1"]
    loas = world.of("send_loa")
    assert len(loas) == 2 and loas[0].idempotency_key != loas[1].idempotency_key
    assert loas[1].signer_email == NEW_SIGNER.email
    assert view.status == S.LOA_SENT and view.envelope_id == "env-2"
    assert moves(view)[-2:] == [(S.LOA_SENT, S.LOA_DECLINED), (S.LOA_DECLINED, S.LOA_SENT)]

    # the old envelope signed late changes nothing; the new one goes to the carrier
    await order.sign("env-1")
    await order.sign("env-2")
    view = await order.until(lambda o: o.status == S.CARRIER_PENDING, "submitted with the new LOA")
    assert [f.envelope_id for f in world.of("fetch_signed")] == ["env-2"]
    sub = world.of("carrier_submit")[0].submission
    assert sub.auth_person_name == NEW_SIGNER.name
    assert [d.file_name for d in sub.documents] == ["signed-env-2.pdf"]


# ---------------------------------------------------------------------------- FOC guard


async def test_inside_the_foc_guard_cancel_and_a_new_date_are_refused(rig) -> None:
    order = await start_order(rig)
    world = order.world
    await order.submitted()
    await order.carrier_says(carrier_state(C.FOC_CONFIRMED, raw="foc", foc_at=await order.now() + timedelta(hours=20)))
    await order.until(lambda o: o.status == S.FOC_CONFIRMED, "FOC confirmed")
    await world.wait_for(lambda w: "numbers_ready" in w.templates(), what="numbers in the inventory")
    before, view_before = len(world.calls), await order.view()

    said = await order.refused(PortOrderWorkflow.cancel, Cancel(actor=PM, reason="customer changed their mind"))
    assert "cannot cancel now" in said and f"within {GUARD_HOURS} hours of the FOC" in said
    said = await order.refused(PortOrderWorkflow.amend, AmendOrder(
        actor=PM, order_id=order.oid, reason="a later date", port_date=order.inp.port_date + timedelta(days=7)))
    assert "cannot change now" in said and f"within {GUARD_HOURS} hours of the FOC" in said

    view = await order.view()
    assert world.calls[before:] == []
    assert view.status == S.FOC_CONFIRMED and view.timeline == view_before.timeline
    assert view.port_date == order.inp.port_date


async def test_outside_the_foc_guard_a_cancel_goes_to_the_carrier_as_sup1(rig) -> None:
    order = await start_order(rig)
    world = order.world
    await order.submitted()
    await order.carrier_says(carrier_state(C.FOC_CONFIRMED, raw="foc", foc_at=await order.now() + timedelta(days=10)))
    await order.until(lambda o: o.status == S.FOC_CONFIRMED, "FOC confirmed")

    view = await order.update(PortOrderWorkflow.cancel, Cancel(actor=PM, reason="customer stays"))

    assert view.status == S.CANCELLED
    cancels = world.of("carrier_cancel")
    assert len(cancels) == 1 and cancels[0].carrier_order_id == CARRIER_ORDER_ID
    assert cancels[0].reason == "customer stays"
    assert world.supplements() == [] and world.of("void_envelope") == []
    assert [i.state for i in world.of("inventory_update")][-1] == "released"
    assert moves(view)[-2:] == [(S.FOC_CONFIRMED, S.CANCEL_REQUESTED), (S.CANCEL_REQUESTED, S.CANCELLED)]
    assert (await asyncio.wait_for(order.handle.result(), 10)).status == S.CANCELLED


# ---------------------------------------------------------------------------- events


async def test_a_duplicate_carrier_event_is_acknowledged_and_applied_once(rig) -> None:
    order = await start_order(rig)
    world = order.world
    await order.submitted()
    reject = exception("ACCOUNT_NUMBER_MISMATCH", "account number does not match CSR")

    first = await order.carrier_says(reject, event_id="carrier-ev-1")
    again = await order.carrier_says(reject, event_id="carrier-ev-1")
    assert not first.duplicate and again.duplicate
    await order.until(lambda o: o.status == S.EXCEPTION, "the carrier's exception")
    await order.amend(account_number=sealed("8831-2207-91"), reason="account number from the CSR")

    # delivered once more after the fix: still a duplicate, the order stays where it is
    late = await order.carrier_says(reject, event_id="carrier-ev-1")
    assert late.duplicate and late.status == S.CARRIER_PENDING
    view = await order.view()
    assert view.status == S.CARRIER_PENDING
    assert [m for m in moves(view) if m[1] == S.EXCEPTION] == [(S.CARRIER_PENDING, S.EXCEPTION)]
    assert len(world.of("explain_exceptions")) == 1
    assert world.templates().count("exception") == 1


# ---------------------------------------------------------------------------- validators


async def test_an_amend_that_changes_nothing_is_refused(rig) -> None:
    order = await start_order(rig)
    view_before = await order.loa_out()
    before = len(order.world.calls)

    said = await order.refused(PortOrderWorkflow.amend, AmendOrder(actor=PM, order_id=order.oid, reason="nothing"))

    assert "nothing to amend" in said
    assert order.world.calls[before:] == []
    assert (await order.view()).timeline == view_before.timeline


async def test_an_amend_removing_every_number_is_refused(rig) -> None:
    order = await start_order(rig)
    view_before = await order.loa_out()
    before = len(order.world.calls)

    said = await order.refused(PortOrderWorkflow.amend, AmendOrder(
        actor=PM, order_id=order.oid, reason="drop them all", remove_numbers=order.numbers))

    assert "would remove every number" in said and "cancel the order instead" in said
    assert order.world.calls[before:] == []
    view = await order.view()
    assert view.timeline == view_before.timeline
    assert all(n.state == "porting" for n in view.numbers)


async def test_an_amend_while_submitted_is_refused(rig) -> None:
    order = await start_order(rig)
    order.world.submit_answers = [carrier_state(C.SUBMITTED, raw="received")]
    view_before = await order.submitted(until=S.SUBMITTED)
    before = len(order.world.calls)

    said = await order.refused(PortOrderWorkflow.amend, AmendOrder(
        actor=PM, order_id=order.oid, reason="a new BTN", btn=order.numbers[1]))

    assert "is submitted" in said and "wait for the carrier's answer" in said
    assert order.world.calls[before:] == []
    assert (await order.view()).timeline == view_before.timeline
