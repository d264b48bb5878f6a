"""Port day: activation at the carrier, verification by test calls, completion; and the
snapback when activation or verification fails."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from models.carrier import CarrierException, CarrierOrderState, CarrierOrderStatus, NumberOutcome
    from models.status import NumberState, PortStatus
    from models.workflow import (
        ConfirmVerification,
        InventoryChange,
        InventoryResult,
        Verification,
        VerifyInput,
        VerifyResult,
        WaitingOn,
    )
    from workflows.common import LOCAL, act, fmt
    from workflows.port_order import carrier, gate, support
    from workflows.port_order.waits import CarrierWait

if TYPE_CHECKING:
    from workflows.port_order.order import Order

S = PortStatus
DONE = (CarrierOrderStatus.PORTED, CarrierOrderStatus.ACTIVATION_FAILED)
ACTIVATION_ESCALATION = timedelta(hours=2)  # ops are told when the carrier has not confirmed by then


async def activation(o: Order) -> None:
    """ACTIVATION: port-day mail (and a P3 for unassigned numbers), then the carrier activates."""
    await gate.at_activation(o)
    unassigned, foc = o.unassigned(), o.foc() or workflow.now()
    await o.notify("port_day", "port_day", [o.contact(), o.pm()], foc_utc=foc.isoformat(), numbers=o.live_numbers())
    if unassigned:
        await o.escalate("P3", f"port day with {len(unassigned)} numbers unassigned", "unassigned_escalation",
                         unassigned_numbers=unassigned, contact_email=o.inp.contact_email,
                         contact_name=o.inp.contact_name, port_date=fmt(foc))
    if o.st.carrier is not None and o.st.carrier.status == CarrierOrderStatus.PORTED:
        await _activated(o, o.st.carrier, foc)  # the carrier ported before port day began here
        return
    o.set_next("carrier activates the numbers", None, WaitingOn.CARRIER)
    await o.publish()
    try:
        state = await act("carrier_activate", o.call("activate"), CarrierOrderState,
                          summary=f"activate {len(o.live_numbers())} numbers at {o.carrier_name}")
    except ActivityError as err:
        cause = carrier.refusal(err)
        if cause is None:
            raise
        # the carrier will not activate (e.g. the FOC expired): what does it say the order is?
        state = await act("carrier_status", o.call("status"), CarrierOrderState, summary="why the carrier refused to activate")
        if state.status not in DONE:
            if state.status != CarrierOrderStatus.EXCEPTION:
                state = state.model_copy(update={"status": CarrierOrderStatus.EXCEPTION, "exceptions": state.exceptions or [
                    CarrierException(code="OTHER", message=f"activation refused: {cause.message}")]})
            await carrier.apply_carrier(o, state, f"carrier:{o.carrier_name}")
            return
    state = await _until_activated(o, state)
    await _activated(o, state, foc)


async def _until_activated(o: Order, state: CarrierOrderState) -> CarrierOrderState:
    """The carrier's event answers at once, else its poll (every 5 minutes); after 2 h without
    an answer a P2 (the carrier has not confirmed) and a poll every 30 minutes."""
    wait = CarrierWait(o, timedelta(minutes=5))
    escalate_at: datetime | None = workflow.now() + ACTIVATION_ESCALATION
    try:
        while state.status not in DONE:
            got = await wait.answer(f"{o.carrier_name} confirms the activation", state, until=escalate_at,
                                    summary=f"activation in progress: {o.carrier_name} asked every {wait.interval}")
            if got is None:
                escalate_at, wait.interval = None, timedelta(minutes=30)
                await o.escalate("P2", f"{o.carrier_name} has not confirmed the activation 2 h after the FOC",
                                 "escalation", stage=o.status.value, waiting_on="carrier",
                                 next_deadline="confirm with the carrier; record it with starter.py carrier-event")
                continue
            state, who = got
            o.st.activation_actor = who or o.st.activation_actor
    finally:
        wait.stop()
    return state


async def _activated(o: Order, state: CarrierOrderState, foc) -> None:
    o.st.carrier = state
    o.take_outcomes(state)
    failed = [n.tn for n in state.numbers if n.outcome == NumberOutcome.FAILED]
    if state.status == CarrierOrderStatus.PORTED:
        await o.move(S.PORTED, o.st.activation_actor or f"carrier:{o.carrier_name}", f"numbers ported ({state.raw_status})")
        if failed:
            await o.escalate("P2", f"{len(failed)} numbers did not port: {', '.join(failed)}", "escalation",
                             stage=o.status.value, waiting_on="pm", next_deadline="30 minutes (P2)")
        return
    await o.move(S.SNAPBACK, f"carrier:{o.carrier_name}",
                 f"activation failed ({state.raw_status}): numbers stay with the losing carrier")
    await o.escalate("P1", "activation failed: ported numbers not routing", "activation_failed",
                     numbers=o.live_numbers(), error=state.raw_status, foc_utc=foc.isoformat(),
                     carrier_order_id=state.carrier_order_id)
    await support.open_p1(o, support.ACTIVATION_FAILED, f"activation failed at {o.carrier_name} ({state.raw_status})")


def ported_not_routing(o: Order) -> bool:
    """In SNAPBACK after a failed verification: the carrier ported the numbers (no new date helps)."""
    return o.st.carrier is not None and o.st.carrier.status == CarrierOrderStatus.PORTED


async def snapback(o: Order) -> None:
    """SNAPBACK: ported but not routing -> ops fix it and the PM re-tests; activation failed ->
    the PM sets a new date (SUP2) or cancels."""
    if not ported_not_routing(o):
        o.set_next("PM sets a new date (amend --port-date) or cancels", None, WaitingOn.PM)
        await o.publish()
        await o.wait(lambda: bool(o.st.amends), None, "snapback: waiting for the PM")
        await o.apply_amends()
        return
    o.set_next(f"ops fix the routing (P1); PM confirms test calls again (starter.py verify {o.id})", None, WaitingOn.PM)
    await o.publish()
    await o.wait(lambda: o.st.verification is not None or bool(o.st.amends), None,
                 "numbers ported but not routing: waiting for the fix and a new test")
    await o.apply_amends()
    v = o.st.verification
    if v is None:
        return
    if v.ok:
        await o.move(S.VERIFIED, v.actor, f"routing fixed and verified: {v.notes}")
    else:
        o.st.verification = None
        o.note(v.actor, f"test calls still fail: {v.notes}")


async def verification(o: Order) -> None:
    """PORTED: test calls in and out, by the PM or the automatic check."""
    if o.inp.options.verification == Verification.AUTO:
        res = await act("verify_routing", VerifyInput(order_id=o.id, numbers=o.live_numbers()), VerifyResult,
                        summary="test calls in and out")
        o.st.verification = ConfirmVerification(actor="system", order_id=o.id, ok=res.ok,
                                                notes=res.detail or "automatic check")
    else:
        o.set_next("PM confirms test calls in and out (starter.py verify)", None, WaitingOn.PM)
        await o.publish()
        await o.wait(lambda: o.st.verification is not None, None, "waiting for the PM to confirm test calls")
    v = o.st.verification
    assert v is not None
    if v.ok:
        await o.move(S.VERIFIED, v.actor, f"routing verified: {v.notes}")
        return
    o.st.verification = None
    await o.move(S.SNAPBACK, v.actor, f"verification failed: {v.notes}")
    c = o.st.carrier
    await o.escalate("P1", f"ported numbers not routing: {v.notes}", "activation_failed", numbers=o.live_numbers(),
                     error=v.notes, foc_utc=(o.foc() or workflow.now()).isoformat(),
                     carrier_order_id=c.carrier_order_id if c else "")
    await support.open_p1(o, support.VERIFICATION_FAILED, f"test calls failed: {v.notes}")


async def complete(o: Order) -> None:
    """VERIFIED: the numbers are active in the inventory; the order is done."""
    await act("inventory_update", InventoryChange(request_id=o.inp.request_id, order_id=o.id, tns=o.live_numbers(),
                                                  state=NumberState.ACTIVE.value, reason="port verified"),
              InventoryResult, summary="numbers active in the inventory", retry=LOCAL)
    o.mark(o.live_numbers(), NumberState.ACTIVE)
    o.set_next("nothing: done", None, WaitingOn.NOBODY)
    await o.move(S.COMPLETED, "system", "ported and verified")
