"""Carrier submission through the adapter chosen in settings (simulator, manual, Telnyx).

Secrets travel as vault refs; they are revealed here, for the one call that needs them,
and never returned. Business refusals (invalid data, the FOC guard) fail the activity for
good; network trouble and carrier outages are retried by the workflow's policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.settings import get_settings
from models.carrier import CarrierOrderState, CarrierSubmission, fingerprint
from models.workflow import CarrierCall, CarrierPoll, ExplainInput, ExplainResult, Remediation, SubmitInput, SupplementInput, WaitingOn
from activities.clock import temporal_now
from activities.polling import first_look_after_one_interval, not_yet
from providers.carrier import carrier_from_settings
from providers.carrier.base import CarrierError, CarrierProvider
from providers.carrier.exceptions import remediation_for
from store import vault


def _provider() -> CarrierProvider:
    return carrier_from_settings(get_settings(), clock=temporal_now)


@contextmanager
def _classified() -> Iterator[None]:
    """Carrier failures become ApplicationErrors, non-retryable when time cannot fix them."""
    try:
        yield
    except CarrierError as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=not exc.retryable) from exc


def _secrets(*refs: str | None) -> dict[str, str]:
    return {r: vault.reveal(r) for r in refs if r and r.startswith("sec_")}


def _refs_of(sub: CarrierSubmission) -> dict[str, str]:
    return _secrets(sub.account_number_ref, sub.pin_ref)


@activity.defn(name="carrier_submit")
async def carrier_submit(inp: SubmitInput) -> CarrierOrderState:
    """Create and submit the order; idempotent on the submission's idempotency key."""
    with _classified():
        return await _provider().submit(inp.submission, _refs_of(inp.submission))


@activity.defn(name="carrier_supplement")
async def carrier_supplement(inp: SupplementInput) -> CarrierOrderState:
    with _classified():
        secrets = _secrets(*inp.supplement.corrections.values())
        return await _provider().supplement(inp.carrier_order_id, inp.supplement, secrets)


@activity.defn(name="carrier_cancel")
async def carrier_cancel(call: CarrierCall) -> CarrierOrderState:
    assert call.carrier_order_id
    with _classified():
        return await _provider().cancel(call.carrier_order_id, call.reason)


@activity.defn(name="carrier_status")
async def carrier_status(call: CarrierCall) -> CarrierOrderState:
    assert call.carrier_order_id
    with _classified():
        return await _provider().status(call.carrier_order_id)


@activity.defn(name="carrier_poll")
async def carrier_poll(p: CarrierPoll) -> CarrierOrderState:
    """Ask once. The state the workflow already knows is "not yet": a benign, retryable
    failure that the workflow's retry policy repeats at the poll interval, so a poll that
    finds nothing new writes nothing to the history (Temporal's pattern for infrequent
    polling). A change returns the new state."""
    first_look_after_one_interval()
    assert p.call.carrier_order_id
    with _classified():
        state = await _provider().status(p.call.carrier_order_id)
    if fingerprint(state) == p.known:
        raise not_yet(f"order {p.call.carrier_order_id}: no change at the carrier yet")
    return state


@activity.defn(name="carrier_activate")
async def carrier_activate(call: CarrierCall) -> CarrierOrderState:
    assert call.carrier_order_id
    with _classified():
        return await _provider().activate(call.carrier_order_id)


@activity.defn(name="explain_exceptions")
def explain_exceptions(inp: ExplainInput) -> ExplainResult:
    """What each carrier exception means, who must act and which fields to amend."""
    items = []
    for exc in inp.exceptions:
        r = remediation_for(exc.code, exc.message, exc.numbers)
        who = {"customer": WaitingOn.CUSTOMER, "pm": WaitingOn.PM, "carrier": WaitingOn.CARRIER}.get(
            str(r.who_acts), WaitingOn.PM
        )
        # an unknown code already quotes the carrier's words; a known one gets them appended
        message = r.message if not exc.message or r.code == "OTHER" else f"{r.message} (carrier: {exc.message})"
        items.append(
            Remediation(code=exc.code, message=message, who_acts=who, fields=list(r.fields_to_amend),
                        action=str(r.action), numbers=list(exc.numbers))
        )
    return ExplainResult(items=items)
