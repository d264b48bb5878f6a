"""The order-level commands: the LOA signature, approval, carrier events, amendments,
verification. Each works on one port order's workflow (its id is the order id,
``PR-2026-0042-1``); see ``portflow.cli.actions`` for the request-level ones.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from core.settings import Settings, get_settings
from core.text import shorten
from models.carrier import (
    CarrierEvent,
    CarrierException,
    CarrierOrderState,
    CarrierOrderStatus,
    NumberOutcome,
)
from models.events import EventAck
from models.status import TERMINAL
from models.workflow import ActivateNow, AmendOrder, Approve, ConfirmVerification, OrderView, RequestView
from portflow.cli.actions import check_text, query_order, query_request, running_state, send_update
from portflow.cli.errors import CliError, order_id_of, parse_id
from workflows.port_order import PortOrderWorkflow
from workflows.port_request import PortRequestWorkflow


async def cmd_sign(client: Client, target: str, *, name: str | None = None, decline: str | None = None,
                   force: bool = False, settings: Settings | None = None) -> tuple[Any, EventAck]:
    """Sign (or decline) an order's LOA with the local e-signature, then tell the order's
    workflow. Signing an envelope that is already signed re-delivers its event, so a
    delivery that failed half-way is finished by running the command again."""
    from models.esign import EnvelopeStatus
    from providers.esign.base import ESignError
    from providers.esign.local import EnvelopeClosed, LocalESign

    order_id = order_id_of(target)
    s = settings or get_settings()
    if s.esign_provider != "local":
        raise CliError(f"`sign` is the local e-signature; with PORTFLOW_ESIGN_PROVIDER={s.esign_provider} the "
                       "signer signs in DocuSign and its webhook tells portflow")
    if (name is None) == (decline is None):
        raise CliError('give either --name "Signer Name" to sign or --decline REASON to refuse')
    if await running_state(client, order_id) is None:
        raise await order_not_running(client, order_id, "its LOA goes out")
    esign = LocalESign(s)
    try:
        event = await (esign.sign(order_id, name, force=force) if name is not None else esign.decline(order_id, decline or ""))
    except EnvelopeClosed as exc:
        info = await esign.find_by_order(order_id)
        wanted = EnvelopeStatus.COMPLETED if name is not None else EnvelopeStatus.DECLINED
        if info is None or info.status != wanted:
            raise CliError(str(exc)) from None
        event = [e for e in await esign.events(order_id) if e.status == wanted][-1]
    except ESignError as exc:
        raise CliError(str(exc)) from None
    ack = await send_update(client, order_id, PortOrderWorkflow.esign_event, event)
    return event, ack


async def order_not_running(client: Client, order_id: str, then: str) -> CliError:
    """Why ``order_id`` has no workflow: no such request, no such order in it, a request that
    ended before its orders, or one still collecting documents (``then`` happens after)."""
    request_id = order_id.rsplit("-", 1)[0]
    if await running_state(client, request_id) is None:
        return CliError(f"no port {order_id}: there is no request {request_id} (check the id with `python starter.py list`)")
    view = await query_request(client, request_id)
    known = sorted({o.order_id for o in view.orders} | {m.order_id for m in view.missing}
                   | {d.order_id for d in view.documents if d.order_id}, key=lambda o: int(o.rsplit("-", 1)[1]))
    see = f"see `python starter.py status {request_id}`"
    if known and int(order_id.rsplit("-", 1)[1]) > int(known[-1].rsplit("-", 1)[1]):
        return CliError(f"{request_id} has no order {order_id}: its orders are {', '.join(known)} ({see})")
    if view.status in TERMINAL:
        return CliError(f"{order_id} never started: its request {request_id} is {view.status.value} ({see})")
    return CliError(f"{order_id} has not started yet: {then} once {request_id}'s documents are complete "
                    f"(missing: {', '.join(view.missing_documents) or 'none'}; {see})")


# --------------------------------------------------------------------------- order steps
async def cmd_approve(client: Client, target: str, *, actor: str, note: str = "") -> OrderView:
    order_id = order_id_of(target)
    return await send_update(client, order_id, PortOrderWorkflow.approve, Approve(actor=actor, order_id=order_id, note=note))


async def cmd_activate(client: Client, target: str, *, actor: str, reason: str) -> OrderView | None:
    order_id = order_id_of(target)
    reason = check_text(reason, "--reason", "customer ready at 08:30")
    arg = ActivateNow(actor=actor, order_id=order_id, reason=reason)
    return await send_update(client, order_id, PortOrderWorkflow.activate_now, arg, wait=20)


async def cmd_verify(client: Client, target: str, *, actor: str, ok: bool, notes: str) -> OrderView | None:
    order_id = order_id_of(target)
    notes = check_text(notes, "--notes", "test calls in and out from 3 numbers")
    arg = ConfirmVerification(actor=actor, order_id=order_id, ok=ok, notes=notes)
    return await send_update(client, order_id, PortOrderWorkflow.verify, arg, wait=20)


def check_carrier_answer(*, carrier_order_id: str | None, foc: str | None, reject_code: str | None,
                         reject_text: str, completed: bool, cancelled: bool = False,
                         activation_failed: bool = False) -> datetime | None:
    """Refuse a carrier-event that says nothing, or two things at once; the FOC in UTC."""
    for option, value, limit in (("--carrier-order-id", carrier_order_id, 100), ("--reject", reject_code, 100),
                                 ("--text", reject_text, 2000)):
        if value and len(value.strip()) > limit:
            raise CliError(f"{option} is {len(value.strip()):,} characters long, more than {limit:,}: shorten it")
    if reject_text and not reject_code:
        raise CliError('--text goes with --reject CODE (e.g. --reject BTN_ATN_MISMATCH --text "BTN does not match")')
    given = [k for k, v in (("--foc", foc), ("--reject", reject_code), ("--completed", completed),
                            ("--cancelled", cancelled), ("--activation-failed", activation_failed)) if v]
    if len(given) > 1:
        raise CliError(f"record one carrier answer at a time, not {' and '.join(given)}")
    if not given and not carrier_order_id:
        raise CliError("say what the carrier said: --foc DATETIME, --reject CODE --text TEXT, --completed, "
                       "--cancelled, --activation-failed, or just its order id with --carrier-order-id")
    return parse_foc(foc) if foc else None


def parse_foc(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(f"--foc '{shorten(text, 40)}' is not a date and time: write it like "
                       "2026-12-21T09:00-05:00") from None
    if at.tzinfo is None:
        raise CliError(f"--foc '{text}' needs its UTC offset, as the carrier sent it: e.g. {text.strip()}-05:00")
    return at.astimezone(UTC)


def manual_state(view: OrderView, *, carrier_order_id: str | None, foc_at: datetime | None, reject_code: str | None,
                 reject_text: str, completed: bool, actor: str, now: datetime, cancelled: bool = False,
                 activation_failed: bool = False) -> CarrierOrderState:
    """The carrier state a PM typed, for an order whose carrier adapter is not ``manual``
    (the manual adapter keeps its own records: ``ManualCarrier.record_event``)."""
    from providers.carrier.exceptions import normalize_code, remediation_for

    order_ref = carrier_order_id or view.carrier_order_id
    if not order_ref:
        raise CliError(f"{view.order_id} has no carrier order id yet: give the carrier's with --carrier-order-id")
    live = [n.tn for n in view.numbers if n.state not in ("released", "not_portable")]
    ref = f" (carrier order {order_ref})"
    base: dict[str, Any] = {"carrier_order_id": order_ref, "provider": "manual", "updated_at": now,
                            "foc_at": view.foc_at}
    if foc_at is not None:
        return CarrierOrderState(**{**base, "foc_at": foc_at}, status=CarrierOrderStatus.FOC_CONFIRMED,
                                 raw_status=f"manual: FOC {foc_at:%Y-%m-%d %H:%M} UTC recorded by {actor}{ref}")
    if reject_code:
        rem = remediation_for(reject_code, reject_text)
        exc = CarrierException(code=normalize_code(reject_code), raw_code=reject_code.strip(),
                               message=reject_text or rem.what_is_wrong)
        return CarrierOrderState(**base, status=CarrierOrderStatus.EXCEPTION, exceptions=[exc],
                                 raw_status=f"manual: rejected {reject_code.strip()} recorded by {actor}{ref}")
    if completed:
        from models.carrier import CarrierNumber

        return CarrierOrderState(**base, status=CarrierOrderStatus.PORTED,
                                 numbers=[CarrierNumber(tn=n, outcome=NumberOutcome.PORTED) for n in live],
                                 raw_status=f"manual: completion recorded by {actor}{ref}")
    if cancelled:
        return CarrierOrderState(**base, status=CarrierOrderStatus.CANCELLED,
                                 raw_status=f"manual: cancel confirmed, recorded by {actor}{ref}")
    if activation_failed:
        from models.carrier import CarrierNumber

        return CarrierOrderState(**base, status=CarrierOrderStatus.ACTIVATION_FAILED,
                                 numbers=[CarrierNumber(tn=n, outcome=NumberOutcome.FAILED) for n in live],
                                 raw_status=f"manual: activation failed, recorded by {actor}{ref}")
    return CarrierOrderState(**base, status=CarrierOrderStatus.PENDING,
                             raw_status=f"manual: carrier order id{ref} recorded by {actor}")


async def cmd_carrier_event(client: Client, target: str, *, actor: str, carrier_order_id: str | None = None,
                            foc: str | None = None, reject_code: str | None = None, reject_text: str = "",
                            completed: bool = False, note: str = "", settings: Settings | None = None,
                            now: datetime | None = None, cancelled: bool = False,
                            activation_failed: bool = False) -> tuple[CarrierEvent, EventAck]:
    """Record what the carrier told the PM and deliver it to the order's workflow."""
    order_id = order_id_of(target)
    foc_at = check_carrier_answer(carrier_order_id=carrier_order_id, foc=foc, reject_code=reject_code,
                                  reject_text=reject_text, completed=completed, cancelled=cancelled,
                                  activation_failed=activation_failed)
    s = settings or get_settings()
    if await running_state(client, order_id) is None:
        raise await order_not_running(client, order_id, "nothing reaches the carrier before its LOA, which goes out")
    view = await query_order(client, order_id)
    if view.carrier_order_id is None and view.status.value != "submitted" and view.status not in TERMINAL:
        # the workflow's validator refuses any carrier answer now: say so before asking for anything
        raise CliError(f"{order_id} is {view.status.value}: it has not been submitted to the carrier yet, so there "
                       "is no carrier answer to record; it goes to the carrier once its LOA is signed "
                       f"(see `python starter.py status {order_id}`)")
    at = now or datetime.now(UTC)
    if s.carrier_provider == "manual":
        from providers.carrier.manual import ManualCarrier, ManualEventError, build_event

        try:
            state = ManualCarrier(s).record_event(order_id, carrier_order_id=carrier_order_id, foc_at=foc_at,
                                                  reject_code=reject_code, reject_text=reject_text or None,
                                                  completed=completed, cancelled=cancelled,
                                                  activation_failed=activation_failed, actor=actor, note=note)
        except ManualEventError as exc:
            raise CliError(f"{order_id}: {exc}") from None
        event = build_event(order_id, state, actor=actor, note=note)
    else:
        state = manual_state(view, carrier_order_id=carrier_order_id, foc_at=foc_at, reject_code=reject_code,
                             reject_text=reject_text, completed=completed, actor=actor, now=at,
                             cancelled=cancelled, activation_failed=activation_failed)
        digest = hashlib.sha256(f"{order_id}|{state.model_dump_json(exclude={'updated_at'})}".encode()).hexdigest()
        event = CarrierEvent(event_id=f"manual:{digest[:20]}", order_id=order_id, state=state, at=at, actor=actor,
                             note=note)
    ack = await send_update(client, order_id, PortOrderWorkflow.carrier_event, event)
    return event, ack


async def cmd_amend(client: Client, amend: AmendOrder) -> OrderView | RequestView | None:
    """To the order's workflow when it runs; before that, to the request (kept for the order)."""
    order_id = order_id_of(amend.order_id)
    amend = amend.model_copy(update={"order_id": order_id})
    running = await running_state(client, order_id)
    if running is None:
        request_id = parse_id(order_id)[0]
        return await send_update(client, request_id, PortRequestWorkflow.amend, amend)
    return await send_update(client, order_id, PortOrderWorkflow.amend, amend, wait=30)




# --------------------------------------------------------------------------- amend: the rules
CLI_LABELS = {"reason": "--reason", "btn": "--btn", "new_btn": "--new-btn", "remove_numbers": "--remove",
              "entity_name": "--entity-name", "port_type": "--port-type", "remaining_numbers": "--remaining",
              "signer.name": "--signer-name", "signer.title": "--signer-title", "signer.email": "--signer-email",
              "service_address.street": "--street", "service_address.line2": "--line2",
              "service_address.city": "--city", "service_address.state": "--state",
              "service_address.postal_code": "--postal-code"}


def build_amend(*, actor: str, order_id: str, reason: str, signer: Any = None, service_address: Any = None,
                btn: str | None = None, new_btn: str | None = None, account_number: str | None = None,
                pin: str | None = None, port_date: Any = None, remove_numbers: list[str] | None = None,
                entity_name: str | None = None, port_type: str | None = None, remaining_numbers: str | None = None,
                new_loa: bool = False, label: Any = None) -> AmendOrder:
    """An order's corrections checked as ``amend`` and the API both check them (``label``
    names a field as the caller's user knows it: ``--entity-name`` or ``entity_name``).
    The new account number and PIN are sealed into the vault only once all else passed."""
    from pydantic import ValidationError

    from core.fonts import describe, unprintable
    from portflow.cli.actions import normalize_tn

    def name(path: str) -> str:
        return label(path) if label else path

    order_id = order_id_of(order_id)
    reason = check_text(reason, name("reason"), "BTN corrected from the CSR")
    fields: dict[str, Any] = {}
    if signer is not None:
        fields["signer"] = signer
    if service_address is not None:
        fields["service_address"] = service_address
    if btn:
        fields["btn"] = normalize_tn(btn)
    if new_btn:
        fields["new_btn"] = normalize_tn(new_btn)
    fields["remove_numbers"] = [normalize_tn(n) for n in remove_numbers or []]
    if port_date is not None:
        fields["port_date"] = port_date
    if entity_name is not None:
        if len(entity_name.strip()) > 200:
            raise CliError(f"{name('entity_name')} is {len(entity_name.strip()):,} characters long, more than 200: "
                           "shorten it")
        fields["entity_name"] = entity_name.strip()
    for key, allowed in (("port_type", ("full", "partial")), ("remaining_numbers", ("keep", "disconnect"))):
        value = {"port_type": port_type, "remaining_numbers": remaining_numbers}[key]
        if value is not None:
            if value.strip().lower() not in allowed:
                raise CliError(f"{name(key)} '{shorten(value, 20)}': give {' or '.join(allowed)}")
            fields[key] = value.strip().lower()
    if new_loa:
        fields["new_loa"] = True
    printed = {"entity_name": entity_name}
    for part, obj in (("signer", signer), ("service_address", service_address)):
        for key, value in (obj.model_dump() if obj is not None else {}).items():
            printed[f"{part}.{key}"] = value if isinstance(value, str) else None
    for path, value in printed.items():
        if value and not (value.isascii() and value.isprintable()) and (chars := unprintable(value)):
            raise CliError(f"{name(path)}: the LOA cannot print {describe(chars)}: write it in letters its fonts have")
    try:
        change = AmendOrder(actor=actor, order_id=order_id, reason=reason, **fields)
    except ValidationError as exc:
        raise CliError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())) from None
    secrets = {k: v.strip() for k, v in (("account_number", account_number), ("pin", pin)) if v and v.strip()}
    if not change.changed_fields() and not secrets:
        raise CliError("nothing to amend: give at least one field to change (see --help)")
    if secrets:
        from store import vault

        change = change.model_copy(update={k: vault.put_secret(v) for k, v in secrets.items()})
    return change
