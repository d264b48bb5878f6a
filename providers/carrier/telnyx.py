"""TelnyxCarrier: port orders through Telnyx Porting Orders v2 (httpx, Bearer key).

How a submission runs (every step safe to repeat, so an activity retry never doubles it):

1. ``POST /portability_checks`` ``{phone_numbers}``: numbers with ``portable: false``
   never enter the order (Telnyx refuses them); they come back NOT_PORTABLE with
   ``not_portable_reason``.
2. ``GET /porting_orders?filter[customer_reference]=...&include_phone_numbers=true``: the
   order this submission already made, if any; else ``POST /porting_orders``
   ``{phone_numbers, customer_reference}``. ``customer_reference`` is
   ``portflow:<order id>:<hash of the idempotency key>`` (``telnyx_map``), which is how
   the webhook finds our order. Telnyx may split the numbers into several orders (country,
   number type, SPID, FastPort): we keep the one with the BTN, delete the other drafts and
   report PORTING_ORDER_SPLIT_REQUIRED for their numbers, holding the kept draft until the
   workflow's SUP3 ``remove_numbers`` says they went to a new order.
3. ``GET /porting_orders/{id}/allowed_foc_windows``: the requested FOC (port date at the
   activation time, customer's zone) or the first allowed instant after it.
4. Documents: ``POST /documents`` ``{file (base64), filename, customer_reference}`` for the
   signed LOA and the bill, after ``GET /documents?filter[customer_reference][eq]=...``.
5. ``PATCH /porting_orders/{id}``: ``end_user.admin`` (entity_name, auth_person_name,
   billing_phone_number, account_number, pin_passcode: never for toll-free),
   ``end_user.location`` (street_address, extended_address, locality,
   administrative_area, postal_code, country_code), ``misc`` (type full|partial,
   remaining_numbers_action, new_billing_phone_number), ``activation_settings.
   foc_datetime_requested``, ``documents`` (loa, invoice), ``webhook_url`` when
   ``settings.public_url`` is set.
6. ``POST /porting_orders/{id}/actions/confirm``.

Status: ``GET /porting_orders/{id}?include_phone_numbers=true`` (status.value verbatim as
raw_status, status.details[] codes as exceptions, ``activation_settings.
foc_datetime_actual`` as the FOC, per-number ``activation_status``) and, for FastPort
orders with an FOC, ``GET /porting_orders/{id}/activation_jobs`` (activation windows, job
status). Supplements: Telnyx has no supplement resource; a SUP2/SUP3 PATCHes the fields
and leaves a comment (``POST /porting_orders/{id}/comments`` ``{body}``) for porting ops,
who move the order back to ``submitted``; numbers already on an order can only be dropped
by them, so the comment asks for it. Cancel: ``POST .../actions/cancel`` (refused by Telnyx
within 48 h of the FOC: we refuse first); a draft is ``DELETE``d. On-demand activation:
``POST .../actions/activate`` (202, an activation job) for FastPort-eligible US orders
once ``foc-date-confirmed``, inside the activation window (US 06:00-20:00 CT); otherwise
the numbers port at the FOC or at the window's end by themselves.

Toll-free orders (``toll_free=True``) are RespOrg changes: Telnyx keeps toll-free numbers
in their own orders; no PIN is sent; the bill is optional; the LOA must be recent.

Errors: network failures, timeouts, 429 (``retry_after`` from Retry-After) and 5xx raise a
retryable :class:`CarrierError`; 401/403/404/422 raise :class:`CarrierRejected` with
Telnyx's ``errors[].title/detail``. Request bodies (secrets) are never logged.

Verified with the search tool (docs and SDK source, 2026): developers.telnyx.com
api-reference "Create a porting order", "Submit a porting order", "List allowed FOC
dates", "Delete a porting order", "Activate every number in a porting order
asynchronously", "Upload a document" (JSON body file/filename/customer_reference),
docs/numbers/porting (getting-started, on-demand-activations, cancel-port-order,
port-in-notifications); team-telnyx/telnyx-python src/telnyx/resources/porting_orders/
{porting_orders,actions}.py, types porting_order*.py (end_user admin/location, misc,
documents, activation settings, status.details codes, list filters), documents.py,
porting_phone_number_list_response.py, porting_orders_activation_job.py,
activation_jobs list path; error shape {"errors":[{code,title,detail,source}]}.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.settings import Settings, get_settings
from models.carrier import (
    CarrierOrderState,
    CarrierOrderStatus,
    CarrierSubmission,
    Supplement,
    SupplementKind,
)
from models.request import DocumentRef
from providers.carrier.base import CarrierError, CarrierProvider, CarrierRejected
from providers.carrier.guard import check_change_allowed
from providers.carrier.submission import (
    JsonStore,
    config_error,
    parse_corrections,
    requested_foc_at,
    validate_submission,
)
from providers.carrier.telnyx_http import TelnyxHttp, one_session
from providers.carrier.telnyx_map import (
    admin_payload,
    corrections_payload,
    customer_reference,
    iso_z,
    location_payload,
    misc_payload,
    order_numbers,
    pick_documents,
    pick_foc,
    state_from_order,
)
from store import documents

St = CarrierOrderStatus
TELNYX_GUARD_HOURS = 48
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def _value(order: dict[str, Any]) -> str:
    return str((order.get("status") or {}).get("value") or "")


class TelnyxCarrier(CarrierProvider):
    name = "telnyx"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        secret = self.settings.telnyx_api_key
        key = api_key or (secret.get_secret_value() if secret else "")
        if not key:
            raise config_error(
                "PORTFLOW_TELNYX_API_KEY is not set: the Telnyx carrier needs an API key "
                "(Mission Control > API Keys)"
            )
        self.http = TelnyxHttp(
            key,
            base_url or self.settings.telnyx_base_url,
            timeout if timeout is not None else self.settings.telnyx_timeout_seconds,
        )
        self.clock = clock or (lambda: datetime.now(UTC))
        self.cache = JsonStore(self.settings.var_dir / "carrier-telnyx")

    def __repr__(self) -> str:
        return f"TelnyxCarrier(base_url={self.http.base_url!r})"

    async def _req(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        return await self.http.request(method, path, **kw)

    async def _order(self, porting_order_id: str) -> dict[str, Any]:
        body = await self._req(
            "GET", f"/porting_orders/{porting_order_id}", params={"include_phone_numbers": "true"}
        )
        return body.get("data") or {}

    @one_session
    async def order_and_state(
        self, porting_order_id: str
    ) -> tuple[dict[str, Any], CarrierOrderState]:
        """The porting order as Telnyx sends it and our view of it (the webhook uses both)."""
        order = await self._order(porting_order_id)
        jobs: list[dict[str, Any]] = []
        fast = (order.get("activation_settings") or {}).get("fast_port_eligible")
        if _value(order) == "foc-date-confirmed" and fast:
            path = f"/porting_orders/{porting_order_id}/activation_jobs"
            jobs = (await self._req("GET", path)).get("data") or []
        cached = self.cache.get(porting_order_id) or {}
        state = state_from_order(
            order,
            jobs=jobs,
            not_portable=cached.get("not_portable"),
            split_moved=cached.get("split_moved"),
            now=self.clock(),
        )
        return order, state

    # ------------------------------------------------------------------ submit
    @one_session
    async def submit(self, sub: CarrierSubmission, secrets: dict[str, str]) -> CarrierOrderState:
        validate_submission(sub, secrets, self.clock())
        loa, bill = pick_documents(sub.documents, sub.toll_free)
        ref = customer_reference(sub.order_id, sub.idempotency_key)
        checks = await self._req("POST", "/portability_checks", json={"phone_numbers": sub.numbers})
        not_portable = {
            c[
                "phone_number"
            ]: f"not portable to Telnyx: {c.get('not_portable_reason') or 'no reason given'}"
            for c in checks.get("data") or []
            if c.get("portable") is False and c.get("phone_number") in sub.numbers
        }
        portable = [n for n in sub.numbers if n not in not_portable]
        if not portable:
            raise CarrierRejected(
                f"Telnyx cannot port any number of order {sub.order_id}: "
                + "; ".join(f"{n} {why}" for n, why in not_portable.items())
            )
        params = {
            "filter[customer_reference]": ref,
            "include_phone_numbers": "true",
            "page[size]": "50",
        }
        orders = (await self._req("GET", "/porting_orders", params=params)).get("data") or []
        if not orders:  # look up before creating: a retry finds what the lost attempt made
            body = {"phone_numbers": portable, "customer_reference": ref}
            created = (await self._req("POST", "/porting_orders", json=body)).get("data") or []
            orders = [created] if isinstance(created, dict) else created
        if not orders:
            raise CarrierError(f"Telnyx created no porting order for {sub.order_id}; will retry")
        kept = await self._keep_one(orders, sub)
        kept_id = str(kept["id"])
        numbers = order_numbers(kept) or order_numbers(await self._order(kept_id))
        moved = [n for n in portable if n not in numbers]
        self.cache.put(
            kept_id,
            {
                "reference": ref,
                "order_id": sub.order_id,
                "not_portable": not_portable,
                "split_moved": moved,
            },
        )
        if _value(kept) == "draft":
            requested = requested_foc_at(sub.requested_foc_date, sub.activation_time, sub.time_zone)
            foc = pick_foc(requested, await self._windows(kept_id))
            docs = kept.get("documents") or {}
            invoice = docs.get("invoice") or (
                await self._upload(bill, ref, "invoice") if bill else None
            )
            body = {
                "end_user": {
                    "admin": admin_payload(sub, secrets),
                    "location": location_payload(sub.service_address),
                },
                "misc": misc_payload(sub.port_type, sub.remaining_numbers, sub.new_btn),
                "activation_settings": {"foc_datetime_requested": iso_z(foc)},
                "documents": {
                    "loa": docs.get("loa") or await self._upload(loa, ref, "loa"),
                    "invoice": invoice,
                },
            }
            if self.settings.public_url:
                body["webhook_url"] = f"{self.settings.public_url.rstrip('/')}/webhooks/telnyx"
            await self._req("PATCH", f"/porting_orders/{kept_id}", json=body)
            if not moved:
                await self._req("POST", f"/porting_orders/{kept_id}/actions/confirm")
        return (await self.order_and_state(kept_id))[1]

    async def _keep_one(
        self, orders: list[dict[str, Any]], sub: CarrierSubmission
    ) -> dict[str, Any]:
        """Telnyx may split one submission into several orders: keep the one with the BTN
        (else the oldest) and delete the other drafts; their numbers go to a new order."""
        live = [o for o in orders if _value(o) not in ("cancelled", "cancel-pending")]
        if not live:
            return max(orders, key=lambda o: str(o.get("created_at") or ""))
        with_btn = [o for o in live if sub.btn in order_numbers(o)]
        kept = (with_btn or sorted(live, key=lambda o: str(o.get("created_at") or "")))[0]
        for other in live:
            if other is not kept and _value(other) == "draft":
                await self._req("DELETE", f"/porting_orders/{other['id']}")
        return kept

    async def _windows(self, porting_order_id: str) -> list[dict[str, Any]]:
        return (
            await self._req("GET", f"/porting_orders/{porting_order_id}/allowed_foc_windows")
        ).get("data") or []

    async def _upload(self, doc: DocumentRef, ref: str, kind: str) -> str:
        """Upload a document once: its customer_reference is looked up first."""
        tag = f"{ref}:{kind}:{doc.sha256[:12]}"
        found = await self._req("GET", "/documents", params={"filter[customer_reference][eq]": tag})
        for d in found.get("data") or []:
            if d.get("id"):
                return str(d["id"])
        try:
            data = documents.read_bytes(doc)
        except (FileNotFoundError, documents.DocumentCorrupt) as exc:
            raise config_error(str(exc)) from None
        if len(data) > MAX_DOCUMENT_BYTES:
            raise CarrierRejected(
                f"{doc.file_name} is {len(data) // 1048576} MB: Telnyx takes documents up to 20 MB"
            )
        body = {
            "file": base64.b64encode(data).decode(),
            "filename": doc.file_name,
            "customer_reference": tag,
        }
        created = await self._req("POST", "/documents", json=body)
        return str((created.get("data") or {})["id"])

    # ------------------------------------------------------------------ changes
    @one_session
    async def supplement(
        self, carrier_order_id: str, sup: Supplement, secrets: dict[str, str]
    ) -> CarrierOrderState:
        if sup.kind is SupplementKind.SUP1:
            return await self.cancel(carrier_order_id, sup.reason or "SUP1")
        order, state = await self.order_and_state(carrier_order_id)
        if state.status in (St.PORTED, St.CANCELLED, St.CANCEL_PENDING, St.ACTIVATING):
            raise CarrierRejected(
                f"Telnyx order {carrier_order_id} is {state.raw_status}: no supplement possible now"
            )
        if state.status is St.FOC_CONFIRMED:
            action = "new_date" if sup.kind is SupplementKind.SUP2 else "supplement"
            check_change_allowed(state.foc_at, self.clock(), self.settings.foc_guard_hours, action)
        c = parse_corrections(sup, secrets)
        if sup.kind is SupplementKind.SUP2 and c.port_date is None:
            raise CarrierRejected("a SUP2 changes the due date: give new_foc_date")
        marker = f"[portflow {sup.idempotency_key}]"
        comments = (await self._req("GET", f"/porting_orders/{carrier_order_id}/comments")).get(
            "data"
        ) or []
        if any(marker in str(cm.get("body") or "") for cm in comments):
            return state  # this supplement was applied already
        cached = self.cache.get(carrier_order_id) or {}
        ref = cached.get("reference") or order.get("customer_reference") or carrier_order_id
        body, wanted = corrections_payload(order, c, secrets, self.settings.default_time_zone)
        if wanted is not None:
            body["activation_settings"] = {
                "foc_datetime_requested": iso_z(
                    pick_foc(wanted, await self._windows(carrier_order_id))
                )
            }
        docs = {}
        if c.loa is not None:
            docs["loa"] = await self._upload(c.loa, ref, "loa")
        if c.bill is not None:
            docs["invoice"] = await self._upload(c.bill, ref, "invoice")
        if docs:
            body["documents"] = docs
        if body:
            await self._req("PATCH", f"/porting_orders/{carrier_order_id}", json=body)
        on_order = [n for n in c.remove_numbers if n in order_numbers(order)]
        if on_order:  # only porting ops can drop numbers from an order: ask them
            await self._comment(
                carrier_order_id,
                f"Please remove {', '.join(on_order)} from this porting order: {sup.reason}",
            )
        if cached.get("split_moved"):
            cached["split_moved"] = [n for n in cached["split_moved"] if n not in c.remove_numbers]
            self.cache.put(carrier_order_id, cached)
        if _value(order) == "draft" and not cached.get("split_moved"):
            await self._req("POST", f"/porting_orders/{carrier_order_id}/actions/confirm")
        fixed = ", ".join(c.fields()) or "resubmit"
        await self._comment(carrier_order_id, f"{marker} {sup.kind.value}: {fixed}: {sup.reason}")
        return (await self.order_and_state(carrier_order_id))[1]

    async def _comment(self, porting_order_id: str, text: str) -> None:
        await self._req("POST", f"/porting_orders/{porting_order_id}/comments", json={"body": text})

    @one_session
    async def cancel(self, carrier_order_id: str, reason: str) -> CarrierOrderState:
        _, state = await self.order_and_state(carrier_order_id)
        if state.status in (St.CANCELLED, St.CANCEL_PENDING):
            return state
        if state.status in (St.PORTED, St.ACTIVATING):
            raise CarrierRejected(
                f"Telnyx order {carrier_order_id} is {state.raw_status}: too late to cancel; arrange a snapback"
            )
        if state.raw_status == "draft":
            await self._req("DELETE", f"/porting_orders/{carrier_order_id}")
            return state.model_copy(
                update={
                    "status": St.CANCELLED,
                    "raw_status": "draft deleted",
                    "updated_at": self.clock(),
                }
            )
        if state.status is St.FOC_CONFIRMED:
            guard = max(TELNYX_GUARD_HOURS, self.settings.foc_guard_hours)
            check_change_allowed(state.foc_at, self.clock(), guard, "cancel")
        await self._comment(carrier_order_id, f"[portflow cancel] {reason}")
        await self._req("POST", f"/porting_orders/{carrier_order_id}/actions/cancel")
        return (await self.order_and_state(carrier_order_id))[1]

    @one_session
    async def status(self, carrier_order_id: str) -> CarrierOrderState:
        return (await self.order_and_state(carrier_order_id))[1]

    @one_session
    async def activate(self, carrier_order_id: str) -> CarrierOrderState:
        _, state = await self.order_and_state(carrier_order_id)
        if state.status in (St.PORTED, St.ACTIVATING, St.ACTIVATION_FAILED):
            return state
        if state.status is not St.FOC_CONFIRMED:
            raise CarrierRejected(
                f"cannot activate Telnyx order {carrier_order_id}: it is {state.raw_status}; "
                "activation needs foc-date-confirmed"
            )
        if not state.fast_port_eligible or state.activation_window is None:
            return state  # scheduled: Telnyx ports at the FOC by itself
        start, end = state.activation_window
        now = self.clock()
        if now < start:
            raise CarrierRejected(
                f"on-demand activation window opens {start:%Y-%m-%d %H:%M} UTC (until {end:%H:%M} UTC); "
                "otherwise the numbers port at its end"
            )
        if now > end:
            return state  # Telnyx ports at the end of the window by itself
        await self._req("POST", f"/porting_orders/{carrier_order_id}/actions/activate")
        return (await self.order_and_state(carrier_order_id))[1]
