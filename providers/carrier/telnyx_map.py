"""Telnyx Porting Orders v2 <-> portflow: statuses, exceptions, numbers, references, FOC,
and the request bodies.

Pure functions over the JSON Telnyx sends and takes (no HTTP), shared by the adapter
(``providers.carrier.telnyx``) and the webhook receiver (``api.telnyx``). See the adapter's
docstring for where each field was checked.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from models.carrier import (
    CarrierException,
    CarrierOrderState,
    CarrierOrderStatus,
    CarrierSubmission,
    NumberOutcome,
    CarrierNumber,
)
from models.request import Address, DocumentKind, DocumentRef, PortType, RemainingNumbers
from providers.carrier.base import CarrierRejected
from providers.carrier.exceptions import NOT_PORTABLE_CODES, normalize_code
from providers.carrier.submission import Corrections, requested_foc_at, reveal

St = CarrierOrderStatus

# status.value -> our status. "in-process": Telnyx is preparing the order; "submitted": it
# is with the losing carrier, no FOC yet.
STATUS_MAP: dict[str, CarrierOrderStatus] = {
    "draft": St.DRAFT,
    "in-process": St.SUBMITTED,
    "submitted": St.PENDING,
    "exception": St.EXCEPTION,
    "foc-date-confirmed": St.FOC_CONFIRMED,
    "cancel-pending": St.CANCEL_PENDING,
    "cancelled": St.CANCELLED,
    "ported": St.PORTED,
}
FAILED_ACTIVATION = {"Failed", "Conflict"}
REFERENCE_PREFIX = "portflow"
_REFERENCE = re.compile(
    rf"^{REFERENCE_PREFIX}:(?P<order>[A-Za-z0-9][A-Za-z0-9_.\-]*):(?P<key>[0-9a-f]{{10}})$"
)
_TN = re.compile(r"\+1\d{10}")


def customer_reference(order_id: str, idempotency_key: str) -> str:
    """``portflow:<order id>:<key hash>``: unique per submission (Telnyx is searched by it
    before creating, so a retry finds the order) and the webhook reads our order id from it."""
    return (
        f"{REFERENCE_PREFIX}:{order_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:10]}"
    )


def order_id_from_reference(reference: str | None) -> str | None:
    """Our order id (the order workflow's id) from a customer_reference we wrote; None otherwise."""
    m = _REFERENCE.match((reference or "").strip())
    return m.group("order") if m else None


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def order_numbers(order: dict[str, Any]) -> list[str]:
    """The E.164 numbers of an order (``phone_numbers`` is objects, or plain strings in a create)."""
    out = []
    for item in order.get("phone_numbers") or []:
        tn = item.get("phone_number") if isinstance(item, dict) else item
        if isinstance(tn, str):
            out.append(tn)
    return out


def exceptions_from_details(details: list[dict[str, Any]] | None) -> list[CarrierException]:
    """``status.details[]`` -> exceptions, the raw code kept and numbers found in the text."""
    out = []
    for d in details or []:
        raw = str(d.get("code") or "OTHER")
        text = str(d.get("description") or "")
        out.append(
            CarrierException(
                code=normalize_code(raw),
                raw_code=raw,
                message=text,
                numbers=sorted(set(_TN.findall(text))),
            )
        )
    return out


def _latest_job(jobs: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(jobs, key=lambda j: str(j.get("created_at") or ""), default=None)


def state_from_order(
    order: dict[str, Any],
    *,
    jobs: list[dict[str, Any]] | None = None,
    not_portable: dict[str, str] | None = None,
    split_moved: list[str] | None = None,
    now: datetime | None = None,
) -> CarrierOrderState:
    """Our view of a Telnyx porting order: normalized status beside ``status.value`` verbatim."""
    status = order.get("status") or {}
    raw = str(status.get("value") or "unknown")
    ours = STATUS_MAP.get(raw, St.PENDING)
    settings = order.get("activation_settings") or {}
    exceptions = exceptions_from_details(status.get("details"))
    job = _latest_job(jobs or [])
    window = None
    if job is not None:
        wins = [
            (parse_time(w.get("start_at")), parse_time(w.get("end_at")))
            for w in job.get("activation_windows") or []
        ]
        wins = [(a, b) for a, b in wins if a and b]
        if wins:
            window = min(wins)
        if ours is St.FOC_CONFIRMED and job.get("status") in ("in-process", "completed"):
            ours = St.ACTIVATING
        elif ours is St.FOC_CONFIRMED and job.get("status") == "failed":
            ours = St.ACTIVATION_FAILED
    if split_moved and raw == "draft":
        ours = St.EXCEPTION
        exceptions.append(
            CarrierException(
                code="PORTING_ORDER_SPLIT_REQUIRED",
                raw_code="PORTING_ORDER_SPLIT_REQUIRED",
                numbers=sorted(split_moved),
                message="Telnyx split the numbers into separate porting orders (by losing carrier, number type or "
                "FastPort eligibility): these numbers need an order of their own",
            )
        )
    not_portable_now = {
        n: e.message for e in exceptions if e.code in NOT_PORTABLE_CODES for n in e.numbers
    }
    numbers: list[CarrierNumber] = []
    for item in order.get("phone_numbers") or []:
        if not isinstance(item, dict) or not item.get("phone_number"):
            continue
        tn, act = item["phone_number"], item.get("activation_status")
        if tn in not_portable_now:
            numbers.append(
                CarrierNumber(tn=tn, outcome=NumberOutcome.NOT_PORTABLE, reason=not_portable_now[tn])
            )
        elif act in FAILED_ACTIVATION:
            numbers.append(
                CarrierNumber(tn=tn, outcome=NumberOutcome.FAILED, reason=f"activation {act}")
            )
        elif raw == "ported" or act == "Active":
            numbers.append(CarrierNumber(tn=tn, outcome=NumberOutcome.PORTED))
        else:
            numbers.append(CarrierNumber(tn=tn))
    numbers += [
        CarrierNumber(tn=tn, outcome=NumberOutcome.NOT_PORTABLE, reason=why)
        for tn, why in sorted((not_portable or {}).items())
    ]
    return CarrierOrderState(
        carrier_order_id=str(order.get("id")),
        provider="telnyx",
        status=ours,
        raw_status=raw,
        foc_at=parse_time(settings.get("foc_datetime_actual")),
        exceptions=exceptions,
        numbers=numbers,
        fast_port_eligible=bool(settings.get("fast_port_eligible")),
        activation_window=window,
        updated_at=now or parse_time(order.get("updated_at")) or datetime.now(UTC),
    )


def pick_foc(requested: datetime, windows: list[dict[str, Any]]) -> datetime:
    """The requested FOC if an allowed window holds it, else the start of the first window after
    it; a request past every window is refused with the windows, so the PM can choose."""
    spans = []
    for w in windows:
        start = parse_time(w.get("started_at") or w.get("start_time"))
        end = parse_time(w.get("ended_at") or w.get("end_time"))
        if start and end:
            spans.append((start, end))
    if not spans:
        return requested
    spans.sort()
    for start, end in spans:
        if start <= requested <= end:
            return requested
        if start > requested:
            return start
    first, last = spans[0][0], spans[-1][1]
    raise CarrierRejected(
        f"requested FOC {requested:%Y-%m-%d %H:%M} UTC is after every date the losing carrier allows "
        f"({first:%Y-%m-%d} to {last:%Y-%m-%d}): choose a port date in that range"
    )


# ---------------------------------------------------------------------- request bodies
def admin_payload(sub: CarrierSubmission, secrets: dict[str, str]) -> dict[str, Any]:
    """``end_user.admin``; no PIN on a toll-free (RespOrg) order."""
    admin = {
        "entity_name": sub.entity_name,
        "auth_person_name": sub.auth_person_name,
        "billing_phone_number": sub.btn,
        "account_number": reveal(secrets, sub.account_number_ref, "account number"),
    }
    if sub.pin_ref and not sub.toll_free:
        admin["pin_passcode"] = reveal(secrets, sub.pin_ref, "PIN")
    return admin


def location_payload(a: Address) -> dict[str, Any]:
    """``end_user.location`` from the service address on the CSR."""
    return {
        "street_address": a.street,
        "extended_address": a.line2 or None,
        "locality": a.city,
        "administrative_area": a.state,
        "postal_code": a.postal_code,
        "country_code": a.country,
    }


def misc_payload(
    port_type: PortType, remaining: RemainingNumbers | None, new_btn: str | None
) -> dict[str, Any]:
    """``misc``: full, or partial with what happens to the numbers that stay (and the new BTN)."""
    if port_type is PortType.FULL:
        return {"type": "full"}
    misc: dict[str, Any] = {
        "type": "partial",
        "remaining_numbers_action": remaining.value if remaining else None,
    }
    if remaining is RemainingNumbers.KEEP:
        misc["new_billing_phone_number"] = new_btn
    return misc


def pick_documents(
    docs: list[DocumentRef], toll_free: bool
) -> tuple[DocumentRef, DocumentRef | None]:
    """The newest signed LOA (required) and bill (required except for a RespOrg change)."""

    def newest(kind: DocumentKind) -> DocumentRef | None:
        found = [d for d in docs if d.kind is kind]
        return (
            max(found, key=lambda d: d.uploaded_at or datetime.min.replace(tzinfo=UTC))
            if found
            else None
        )

    loa, bill = newest(DocumentKind.SIGNED_LOA), newest(DocumentKind.BILL)
    if loa is None:
        raise CarrierRejected(
            "no signed LOA on the order: Telnyx needs it (documents.loa); have the LOA signed first"
        )
    if bill is None and not toll_free:
        raise CarrierRejected(
            "no bill on the order: Telnyx needs a recent invoice of the losing carrier "
            "(documents.invoice); attach it with `starter.py attach --kind bill`"
        )
    return loa, bill


def corrections_payload(
    order: dict[str, Any], c: Corrections, secrets: dict[str, str], default_tz: str
) -> tuple[dict[str, Any], datetime | None]:
    """The PATCH body for a supplement's corrections (documents aside), and the FOC it asks
    for (the old requested time of day on the new date), to be fitted into the allowed windows."""
    admin: dict[str, Any] = {}
    for ours, theirs in (
        ("auth_person_name", "auth_person_name"),
        ("entity_name", "entity_name"),
        ("btn", "billing_phone_number"),
    ):
        if getattr(c, ours) is not None:
            admin[theirs] = getattr(c, ours)
    if c.account_number_ref:
        admin["account_number"] = reveal(secrets, c.account_number_ref, "account number")
    if c.pin_ref:
        admin["pin_passcode"] = reveal(secrets, c.pin_ref, "PIN")
    body: dict[str, Any] = {}
    end_user: dict[str, Any] = {}
    if admin:
        end_user["admin"] = admin
    if c.service_address is not None:
        end_user["location"] = location_payload(c.service_address)
    if end_user:
        body["end_user"] = end_user
    if c.port_type is not None:
        body["misc"] = misc_payload(c.port_type, c.remaining_numbers, c.new_btn)
    elif c.new_btn is not None or c.remaining_numbers is not None:
        body["misc"] = {
            k: v
            for k, v in (
                ("new_billing_phone_number", c.new_btn),
                (
                    "remaining_numbers_action",
                    c.remaining_numbers.value if c.remaining_numbers else None,
                ),
            )
            if v
        }
    wanted = None
    if c.port_date is not None:
        old = parse_time((order.get("activation_settings") or {}).get("foc_datetime_requested"))
        wanted = (
            old + timedelta(days=(c.port_date - old.date()).days)
            if old
            else requested_foc_at(c.port_date, None, default_tz)
        )
    return body, wanted


def iso_z(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
