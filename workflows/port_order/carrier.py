"""The carrier's side of an order: submission, the carrier's answers, exceptions and
supplements (SUP2 a new date, SUP3 corrections or numbers removed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.carrier import (
        CarrierException,
        CarrierOrderState,
        CarrierOrderStatus,
        CarrierSubmission,
        NumberOutcome,
        Supplement,
        SupplementKind,
    )
    from models.status import EXCEPTION_CAN_ARRIVE, FOC_CAN_ARRIVE, TERMINAL, NumberState, PortStatus
    from models.workflow import (
        Cancel,
        ExplainInput,
        ExplainResult,
        InventoryChange,
        InventoryResult,
        SplitRequest,
        SubmitInput,
        SupplementInput,
        WaitingOn,
    )
    from workflows.common import LOCAL, act, fmt
    from workflows.port_order import numbers

if TYPE_CHECKING:
    from workflows.port_order.order import Order

S = PortStatus
NOT_PORTABLE_CODES = ("PHONE_NUMBER_NOT_PORTABLE", "RATE_CENTER_NOT_PORTABLE")
_RESPOND_WITHIN = timedelta(days=2)  # what the exception mail asks of the PM or customer


def code_of(err: ApplicationError) -> str:
    """A carrier code the adapter put in the error's details, else OTHER (the words are kept)."""
    for d in err.details or ():
        if isinstance(d, dict) and d.get("code"):
            return str(d["code"])
        if isinstance(d, str) and d.isupper() and " " not in d:
            return d
    return "OTHER"


def refusal(err: ActivityError) -> ApplicationError | None:
    """The business refusal behind a failed activity (non-retryable), or None for anything else."""
    cause = err.cause
    return cause if isinstance(cause, ApplicationError) and cause.non_retryable else None


# ---------------------------------------------------------------------- submission
async def submit_stage(o: Order) -> None:
    """LOA_SIGNED: after the PM's review (if asked for), submit; or, when the carrier already
    holds the order (a new signer's LOA after AUTH_PERSON_MISMATCH), send it there by SUP3."""
    while o.inp.options.review_before_submit and o.st.approval is None:
        o.set_next("PM reviews the order and approves submission", None, WaitingOn.PM)
        await o.publish()
        await o.wait(lambda: o.st.approval is not None or bool(o.st.amends), None, "waiting for PM approval to submit")
        await o.apply_amends()
        if o.status != S.LOA_SIGNED:
            return  # an amend sent a new LOA
    if o.st.carrier is not None:
        corrections = {"auth_person_name": o.inp.signer.name}
        if o.st.signed is not None:
            corrections["loa"] = o.st.signed.signed_loa.model_dump_json()
        await supplement(o, SupplementKind.SUP3, f"new LOA signed by {o.inp.signer.name}",
                         corrections=corrections, actor=o.pm_actor())
        return
    await submit(o, "")


async def submit(o: Order, why: str) -> None:
    """Create and submit the carrier order; a refusal becomes an exception the PM can fix."""
    acc, st = o.inp.account, o.st
    docs = [d for d in o.inp.documents if d.order_id in (None, o.id)]
    if st.signed is not None:
        docs.append(st.signed.signed_loa)
    st.submissions += 1
    sub = CarrierSubmission(
        idempotency_key=f"{o.id}:submit" + (f":{st.submissions}" if st.submissions > 1 else ""),
        request_id=o.inp.request_id, order_id=o.id, carrier=acc.carrier,
        entity_name=o.inp.entity_name or o.inp.customer_name, auth_person_name=o.inp.signer.name,
        account_number_ref=acc.account_number.ref, pin_ref=acc.pin.ref if acc.pin else None,
        btn=acc.btn, service_address=acc.service_address, port_type=acc.port_type,
        remaining_numbers=acc.remaining_numbers, new_btn=acc.new_btn, numbers=o.live_numbers(),
        toll_free=acc.toll_free, requested_foc_date=o.inp.port_date,
        activation_time=o.inp.activation_time, time_zone=o.inp.time_zone, documents=docs,
    )
    how = "RespOrg change" if acc.toll_free else "port order"
    try:
        state = await act("carrier_submit", SubmitInput(submission=sub), CarrierOrderState,
                          summary=f"submit to {acc.carrier} for {o.inp.port_date}")
    except ActivityError as err:
        cause = refusal(err)
        if cause is None:
            raise
        # the carrier (or our own pre-flight check) refused the order as it stands
        said = cause.message
        await explain(o, [CarrierException(code=code_of(cause), message=said)], f"the refusal: {said[:80]}")
        if o.status == S.EXCEPTION:  # a corrected order refused again: still an exception, newly explained
            o.note(f"carrier:{acc.carrier}", f"{how} refused again at submission: {said}")
            await o.publish()
        else:
            await o.move(S.EXCEPTION, f"carrier:{acc.carrier}", f"{how} refused at submission: {said}")
        await on_exception(o)
        return
    await o.move(S.SUBMITTED, o.pm_actor(), f"{how} {'re' if why else ''}submitted to {acc.carrier} as "
                                            f"{state.carrier_order_id}" + (f" ({why})" if why else ""))
    await apply_carrier(o, state, f"carrier:{acc.carrier}")


# ---------------------------------------------------------------------- the carrier's answers
async def apply_carrier(o: Order, state: CarrierOrderState, actor: str) -> None:
    """What the carrier says (an event, a poll, a call's answer) moves the order."""
    st = o.st
    old_foc = o.foc()
    st.carrier = state
    st.last_carrier_at = workflow.now()
    o.take_outcomes(state)
    status, words = state.status, state.raw_status
    if status == CarrierOrderStatus.PENDING and o.status in (S.SUBMITTED, S.SUPPLEMENT):
        st.remediation = []  # the carrier took the (corrected) order: nothing left to fix
        await o.move(S.CARRIER_PENDING, actor, f"carrier accepted for processing ({words})")
    elif status == CarrierOrderStatus.EXCEPTION and o.status in EXCEPTION_CAN_ARRIVE:
        codes = ", ".join(e.code for e in state.exceptions) or "no code"
        await explain(o, state.exceptions, codes)  # before the move: never an exception without its fix
        await o.move(S.EXCEPTION, actor, f"carrier exception {codes} ({words})")
        await on_exception(o)
    elif status == CarrierOrderStatus.FOC_CONFIRMED and state.foc_at is not None:
        if o.status == S.FOC_CONFIRMED and old_foc is not None and old_foc != state.foc_at:
            await o.replan()
            o.note(actor, f"FOC moved from {fmt(old_foc)} to {fmt(state.foc_at)}")
            await o.notify(f"foc_changed:{state.foc_at.isoformat()}", "foc_changed", [o.contact(), o.pm()],
                           old_foc_utc=old_foc.isoformat(), foc_utc=state.foc_at.isoformat(),
                           numbers=o.live_numbers(), reason=f"the carrier moved the FOC ({words})")
        elif o.status in FOC_CAN_ARRIVE:
            await _foc_confirmed(o, state.foc_at, actor, words)
    elif status == CarrierOrderStatus.PORTED and o.status == S.ACTIVATION:
        await o.move(S.PORTED, actor, f"carrier reports the numbers ported ({words})")
    elif status == CarrierOrderStatus.PORTED and o.status in FOC_CAN_ARRIVE | {S.FOC_CONFIRMED}:
        # ported before port day began here (early, or the FOC, even its confirmation, passed
        # while nobody looked: an outage, a late poll): the FOC's and port day's duties still
        # run, once (mails, the numbers into the inventory, the unassigned check); port day
        # sees the carrier is done
        if o.status != S.FOC_CONFIRMED:
            await _foc_confirmed(o, state.foc_at or workflow.now(), actor, words)
        await numbers.inventory_done(o)  # in the inventory before they go active
        await o.move(S.ACTIVATION, actor, f"port day: the carrier reports the numbers ported ({words})")
    elif status == CarrierOrderStatus.CANCELLED and o.status not in TERMINAL | {S.CANCEL_REQUESTED}:
        if o.cancel_req is None:
            o.cancel_req = Cancel(actor=actor, reason=f"cancelled by the carrier ({words})")


async def _foc_confirmed(o: Order, foc: datetime, actor: str, words: str) -> None:
    o.st.remediation = []
    o.st.foc_received_at = workflow.now()
    await o.replan()
    await o.move(S.FOC_CONFIRMED, actor, f"FOC confirmed for {fmt(foc)} ({words})")
    await o.notify(f"foc_confirmed:{foc.isoformat()}", "foc_confirmed", [o.contact(), o.pm()],
                   foc_utc=foc.isoformat(), numbers=o.live_numbers())
    numbers.start_inventory(o)


async def explain(o: Order, exceptions: list[CarrierException], what: str) -> None:
    """What to fix and who acts, for each exception (the carrier's catalogue); shown at once."""
    o.st.remediation = (await act("explain_exceptions", ExplainInput(exceptions=exceptions), ExplainResult,
                                  summary=f"explain {what}", retry=LOCAL)).items
    set_exception_next(o)


def set_exception_next(o: Order) -> None:
    rem = o.st.remediation
    o.set_next("fix the carrier exception: " + "; ".join(r.message for r in rem), None,
               rem[0].who_acts if rem else WaitingOn.PM)


async def on_exception(o: Order) -> None:
    """Numbers the carrier cannot port leave the order and a required split moves numbers to a
    new order, by themselves; anything else is the PM's (or the customer's) to fix."""
    rem, live = o.st.remediation, o.live_numbers()
    drop = sorted({n for r in rem if r.action == "remove_numbers" and r.code in NOT_PORTABLE_CODES for n in r.numbers})
    split = sorted({n for r in rem if r.action == "split" for n in r.numbers} & set(live))
    others = [r for r in rem if r.action != "split"
              and not (r.action == "remove_numbers" and r.code in NOT_PORTABLE_CODES)]
    parent = workflow.info().parent
    if split and not drop and not others and o.st.carrier is not None and parent is not None and len(split) < len(live):
        await _split(o, split, parent.workflow_id)
        return
    if drop and not others and len(drop) < len(live):
        if o.st.carrier is None:  # refused at submission: submit again without them
            await _not_portable(o, drop, "not portable")
            o.st.remediation = []
            await submit(o, f"without not-portable numbers {', '.join(drop)}")
            return
        await supplement(o, SupplementKind.SUP3, f"removed not-portable numbers {', '.join(drop)}",
                         remove=drop, actor="system")
        return
    o.st.exceptions_told += 1  # each exception is told once, a repeated code too
    await o.notify(
        f"exception:{o.st.exceptions_told}:{','.join(r.code for r in rem)}", "exception", [o.contact(), o.pm()],
        exception_code=", ".join(r.code for r in rem), what_is_wrong=" ".join(r.message for r in rem),
        fields=sorted({f for r in rem for f in r.fields}), who_acts=", ".join(sorted({r.who_acts.value for r in rem})),
        numbers=sorted({n for r in rem for n in r.numbers}) or live,
        respond_by=fmt(workflow.now() + _RESPOND_WITHIN), fix=f"python starter.py amend {o.id} ...",
    )


async def _split(o: Order, split: list[str], parent_id: str) -> None:
    """The carrier takes these numbers only in an order of their own: the request starts one
    (own LOA and submission) and this order goes on without them (SUP3)."""
    why = "; ".join(r.message for r in o.st.remediation)
    o.mark(split, NumberState.SPLIT, reason="moved to a new order: the carrier required a split")
    o.inp.account = o.inp.account.model_copy(update={"numbers": o.live_numbers()})
    await workflow.get_external_workflow_handle(parent_id).signal("split_requested", SplitRequest(
        from_order=o.id, numbers=split, account=o.inp.account.model_copy(update={"numbers": split}),
        signer=o.inp.signer, entity_name=o.inp.entity_name, port_date=o.inp.port_date, reason=why))
    await supplement(o, SupplementKind.SUP3, f"split required: {', '.join(split)} go on in a new order",
                     remove=split, actor="system", moved=True)


async def _not_portable(o: Order, tns: list[str], reason: str) -> None:
    o.mark(tns, NumberState.NOT_PORTABLE, carrier_outcome=NumberOutcome.NOT_PORTABLE.value)
    await act("inventory_update", InventoryChange(request_id=o.inp.request_id, order_id=o.id, tns=tns,
                                                  state=NumberState.NOT_PORTABLE.value, reason=reason),
              InventoryResult, summary=f"{len(tns)} numbers not portable", retry=LOCAL)


async def supplement(o: Order, kind: SupplementKind, reason: str, *, remove: list[str] | None = None,
                     corrections: dict[str, str] | None = None, actor: str, new_date=None,
                     moved: bool = False) -> None:
    """Send a supplement to the open carrier order. ``moved``: the removed numbers go on in
    another order (split), not out of the port."""
    assert o.st.carrier is not None
    o.st.supplements += 1
    corrections = dict(corrections or {})
    if remove:
        corrections["remove_numbers"] = ",".join(remove)
        if not moved:
            await _not_portable(o, remove, reason)
    sup = Supplement(kind=kind, idempotency_key=f"{o.id}:sup:{o.st.supplements}", new_foc_date=new_date,
                     corrections=corrections, reason=reason)
    state = await act("carrier_supplement", SupplementInput(order_id=o.id, carrier=o.carrier_name,
                                                            carrier_order_id=o.st.carrier.carrier_order_id,
                                                            supplement=sup),
                      CarrierOrderState, summary=f"{kind.value} to {o.carrier_name}: {reason}")
    await o.move(S.SUPPLEMENT, actor, f"{kind.value}: {reason}")
    await apply_carrier(o, state, f"carrier:{o.carrier_name}")

