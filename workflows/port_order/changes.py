"""Changes a PM asks for once the order runs: amendments (routed by ``models.amend``'s table)
and the cancel (void the LOA out, SUP1 at the carrier, release the numbers)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from models.amend import AmendAction, route
    from models.carrier import CarrierOrderState, CarrierOrderStatus, SupplementKind
    from models.esign import EnvelopeStatus
    from models.status import BEFORE_SUBMISSION, WITH_CARRIER, NumberState, PortStatus
    from models.workflow import AmendOrder, InventoryChange, InventoryResult, WaitingOn
    from workflows.common import LOCAL, act
    from workflows.port_order import carrier, loa
    from workflows.port_order.waits import CarrierWait

if TYPE_CHECKING:
    from workflows.port_order.order import Order

S = PortStatus
CANCEL_CHECKS = 48  # poll intervals to wait for the cancel's confirmation before the PM is asked to check
ENVELOPE_OVER = frozenset({EnvelopeStatus.VOIDED, EnvelopeStatus.EXPIRED, EnvelopeStatus.COMPLETED, EnvelopeStatus.DECLINED})


# ---------------------------------------------------------------------- amend
async def apply_amends(o: Order) -> None:
    """Apply each queued amendment: the data changes in the order, then ``models.amend``
    says what it costs where the order stands (a new LOA, a resubmission, a SUP2 or SUP3)."""
    while o.st.amends:
        a = o.st.amends.pop(0)
        action = route(o.status, o.st.carrier is not None, a)
        _apply_data(o, a)
        o.note(a.actor, f"amended {', '.join(a.changed_fields())}: {a.reason}")
        if a.remove_numbers and o.st.carrier is None and o.status in BEFORE_SUBMISSION | {S.EXCEPTION}:
            await _release_before_submission(o, a)
        await _do(o, a, action)
        o.st.amends_applied += 1


def _apply_data(o: Order, a: AmendOrder) -> None:
    updates = a.account_updates()
    if updates:
        o.inp.account = o.inp.account.model_copy(update=updates)
    if a.entity_name is not None:
        o.inp.entity_name = a.entity_name
    if a.signer is not None:
        o.inp.signer = a.signer
    if a.port_date is not None:
        o.inp.port_date = a.port_date


async def _release_before_submission(o: Order, a: AmendOrder) -> None:
    """Numbers the PM removes before the carrier has the order simply leave it."""
    o.mark(a.remove_numbers, NumberState.RELEASED)
    o.inp.account = o.inp.account.model_copy(update={"numbers": o.live_numbers()})
    await act("inventory_update", InventoryChange(request_id=o.inp.request_id, order_id=o.id, tns=a.remove_numbers,
                                                  state=NumberState.RELEASED.value, reason=a.reason),
              InventoryResult, summary=f"release {len(a.remove_numbers)} numbers removed by the PM", retry=LOCAL)


async def _do(o: Order, a: AmendOrder, action: AmendAction | None) -> None:
    what = f"corrected {', '.join(a.changed_fields())}: {a.reason}"
    if action in (None, AmendAction.CARRY):
        return
    if action == AmendAction.NEW_LOA:
        o.st.remediation = []
        if o.st.envelope is not None and o.status == S.LOA_SENT:
            await loa.void(o, "signer corrected", "void the LOA sent to the old signer")
            await o.move(S.LOA_DECLINED, a.actor, "LOA data corrected: old LOA voided")
        await loa.send_loa(o, what)
    elif action == AmendAction.NEW_LOA_THEN_SUP3:
        await loa.send_loa(o, what)  # once signed, carrier.submit_stage sends it to the open order
    elif action == AmendAction.RESUBMIT:
        o.st.remediation = []
        await carrier.submit(o, what)
    else:
        corrections = {k: (v.ref if hasattr(v, "ref") else v.model_dump_json() if hasattr(v, "model_dump_json") else str(v))
                       for k, v in a.account_updates().items()}
        if a.signer is not None:
            corrections["auth_person_name"] = a.signer.name
        if a.entity_name is not None:
            corrections["entity_name"] = a.entity_name
        kind = SupplementKind.SUP2 if action == AmendAction.SUP2 else SupplementKind.SUP3
        await carrier.supplement(o, kind, a.reason, remove=a.remove_numbers, corrections=corrections,
                                 actor=a.actor, new_date=a.port_date)


# ---------------------------------------------------------------------- cancel
async def cancel(o: Order) -> None:
    """The accepted cancel: void the LOA that is out, withdraw the carrier order (SUP1) and
    wait for the carrier to confirm, release the numbers."""
    c = o.cancel_req
    assert c is not None
    if o.st.envelope is not None and o.st.envelope.status not in ENVELOPE_OVER:
        await loa.void(o, f"port cancelled: {c.reason}", "void the LOA envelope")
        await o.notify("loa_voided", "loa_voided", [o.signer()], signer_name=o.inp.signer.name, reason=c.reason)
    open_order = o.st.carrier is not None and o.st.carrier.status not in (CarrierOrderStatus.CANCELLED,
                                                                          CarrierOrderStatus.PORTED)
    if open_order and o.status in WITH_CARRIER | BEFORE_SUBMISSION | {S.SNAPBACK}:
        await _withdraw(o)
    await act("inventory_update", InventoryChange(request_id=o.inp.request_id, order_id=o.id,
                                                  state=NumberState.RELEASED.value, reason=f"cancelled: {c.reason}"),
              InventoryResult, summary="release the numbers", retry=LOCAL)
    o.mark([tn for tn, v in o.st.numbers.items() if v.state != NumberState.SPLIT], NumberState.RELEASED)
    o.set_next("nothing: cancelled", None, WaitingOn.NOBODY)
    await o.move(S.CANCELLED, c.actor, c.reason)


async def _withdraw(o: Order) -> None:
    """SUP1 at the carrier; its event confirms at once, else a poll every carrier poll interval."""
    c = o.cancel_req
    assert c is not None
    if o.status != S.SNAPBACK:
        await o.move(S.CANCEL_REQUESTED, c.actor, f"SUP1 cancel sent: {c.reason}")
    try:
        state = await act("carrier_cancel", o.call("cancel", reason=c.reason), CarrierOrderState,
                          summary=f"SUP1: cancel at {o.carrier_name}")
    except ActivityError as err:
        o.st.escalations.append(f"carrier refused the cancel: {err.cause}")
        return
    wait = CarrierWait(o, timedelta(seconds=o.inp.options.carrier_poll_seconds))
    give_up_at = workflow.now() + wait.interval * CANCEL_CHECKS
    try:
        while state.status != CarrierOrderStatus.CANCELLED:
            got = await wait.answer(f"{o.carrier_name} confirms the cancel", state, until=give_up_at,
                                    interruptible=False, summary="waiting for the carrier to confirm the cancel")
            if got is None:
                break
            state = got[0]
    finally:
        wait.stop()
    o.st.carrier = state
    if state.status != CarrierOrderStatus.CANCELLED:
        await o.escalate("P3", f"{o.carrier_name} never confirmed the cancel ({state.raw_status}): "
                         "check with the carrier that the numbers stay put", "escalation",
                         stage=o.status.value, waiting_on="pm", next_deadline="confirm with the carrier")
