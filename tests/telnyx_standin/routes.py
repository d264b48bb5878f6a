"""The stand-in's routes: Porting Orders v2 (orders, actions) and the rest (portability,
activation jobs, FOC windows, comments, documents), over the state in ``app.TelnyxStandIn``."""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tests.telnyx_standin.wire import (
    E164,
    FIXES,
    NUMBER_CODES,
    PATCHABLE,
    TOLL_FREE,
    err,
    get,
    iso,
    missing,
    parse,
)

if TYPE_CHECKING:
    from tests.telnyx_standin.app import TelnyxStandIn


def orders_router(s: TelnyxStandIn) -> APIRouter:
    router = APIRouter()

    @router.post("/v2/porting_orders")
    async def create(request: Request) -> Any:
        body = await request.json()
        numbers = body.get("phone_numbers") or []
        if not numbers:
            return err(
                422,
                "Missing required parameter",
                "phone_numbers is required",
                "/phone_numbers",
                "10004",
            )
        for i, n in enumerate(numbers):
            if not E164.match(n):
                return err(
                    422,
                    "Phone number must be in +E.164 format",
                    n,
                    f"/phone_numbers/{i}",
                    "10016",
                )
            if n in s.not_portable:
                return err(
                    422,
                    "Not portable",
                    f"{n} is not portable: {s.not_portable[n]}",
                    f"/phone_numbers/{i}",
                )
        groups: dict[tuple[bool, str], list[str]] = {}
        for n in numbers:
            spid = next((p for p in s.spid_prefixes if n.startswith(p)), "")
            groups.setdefault((n.startswith(TOLL_FREE), spid), []).append(n)
        made = []
        with s.lock:
            for (toll_free, _), nums in groups.items():
                oid = str(uuid.uuid4())
                s.orders[oid] = {
                    "id": oid,
                    "record_type": "porting_order",
                    "customer_reference": body.get("customer_reference"),
                    "created_at": iso(s.clock()),
                    "updated_at": iso(s.clock()),
                    "status": {"value": "draft", "details": []},
                    "phone_number_type": "toll_free" if toll_free else "local",
                    "activation_settings": {
                        "fast_port_eligible": s.fast_port and not toll_free,
                        "foc_datetime_requested": None,
                        "foc_datetime_actual": None,
                        "activation_status": None,
                    },
                    "documents": {"loa": None, "invoice": None},
                    "end_user": {
                        "admin": {
                            k: None
                            for k in (
                                "entity_name",
                                "auth_person_name",
                                "billing_phone_number",
                                "account_number",
                                "pin_passcode",
                            )
                        },
                        "location": {
                            k: None
                            for k in (
                                "street_address",
                                "extended_address",
                                "locality",
                                "administrative_area",
                                "postal_code",
                                "country_code",
                            )
                        },
                    },
                    "misc": None,
                    "webhook_url": None,
                    "phone_numbers": [
                        {
                            "phone_number": n,
                            "activation_status": None,
                            "porting_order_status": "draft",
                            "portability_status": "confirmed",
                            "phone_number_type": "toll_free" if toll_free else "local",
                        }
                        for n in nums
                    ],
                }
                made.append(copy.deepcopy(s.orders[oid]))
        return JSONResponse({"data": made}, status_code=201)

    @router.get("/v2/porting_orders")
    async def listing(request: Request) -> Any:
        ref = request.query_params.get("filter[customer_reference]")
        found = [
            copy.deepcopy(o)
            for o in s.orders.values()
            if ref is None or o["customer_reference"] == ref
        ]
        return {
            "data": found,
            "meta": {"total_results": len(found), "page_number": 1, "page_size": 50},
        }

    @router.get("/v2/porting_orders/{oid}")
    async def show(oid: str) -> Any:
        return {"data": copy.deepcopy(s.orders[oid])} if oid in s.orders else missing(oid)

    @router.patch("/v2/porting_orders/{oid}")
    async def update(oid: str, request: Request) -> Any:
        if oid not in s.orders:
            return missing(oid)
        body = await request.json()
        bad = sorted(set(body) - PATCHABLE)
        if bad:
            return err(422, "Invalid parameter", f"{bad[0]} cannot be updated", f"/{bad[0]}")
        o = s.orders[oid]
        if o["status"]["value"] in ("ported", "cancelled", "cancel-pending"):
            return err(
                422, "Invalid state", f"a {o['status']['value']} porting order cannot be edited"
            )
        foc = get(body, "activation_settings.foc_datetime_requested")
        if foc and s.windows and not any(a <= parse(foc) <= b for a, b in s.windows):  # type: ignore[operator]
            return err(
                422,
                "Invalid FOC",
                "foc_datetime_requested is outside the allowed FOC windows",
                "/activation_settings/foc_datetime_requested",
            )
        for path in ("end_user.admin.billing_phone_number", "misc.new_billing_phone_number"):
            value = get(body, path)
            if value and not E164.match(value):
                return err(
                    422,
                    "Phone number must be in +E.164 format",
                    value,
                    "/" + path.replace(".", "/"),
                    "10016",
                )
        with s.lock:
            before = copy.deepcopy(o)
            for key, value in body.items():
                if isinstance(value, dict) and isinstance(o.get(key), dict):
                    for k2, v2 in value.items():
                        if isinstance(v2, dict) and isinstance(o[key].get(k2), dict):
                            o[key][k2].update(v2)
                        else:
                            o[key][k2] = v2
                else:
                    o[key] = value
            o["updated_at"] = iso(s.clock())
            if o["status"]["value"] == "exception":
                left = [
                    d
                    for d in o["status"]["details"]
                    if d["code"] in NUMBER_CODES
                    or not FIXES.get(d["code"])
                    or any(get(before, f) == get(o, f) for f in FIXES[d["code"]])
                ]
                o["status"] = {
                    "value": "submitted" if not left else "exception",
                    "details": left,
                }
        return {"data": copy.deepcopy(o)}

    @router.delete("/v2/porting_orders/{oid}")
    async def delete(oid: str) -> Any:
        if oid not in s.orders:
            return missing(oid)
        if s.orders[oid]["status"]["value"] != "draft":
            return err(422, "Invalid state", "only draft porting orders can be deleted")
        with s.lock:
            del s.orders[oid]
            s.deleted.append(oid)
        return Response(status_code=204)

    @router.post("/v2/porting_orders/{oid}/actions/confirm")
    async def confirm(oid: str) -> Any:
        if oid not in s.orders:
            return missing(oid)
        o = s.orders[oid]
        if o["status"]["value"] != "draft":
            return err(422, "Invalid state", f"porting order is {o['status']['value']}, not draft")
        need = [
            "end_user.admin.entity_name",
            "end_user.admin.auth_person_name",
            "end_user.admin.billing_phone_number",
            "end_user.admin.account_number",
            "end_user.location.street_address",
            "end_user.location.locality",
            "end_user.location.administrative_area",
            "end_user.location.postal_code",
            "end_user.location.country_code",
            "activation_settings.foc_datetime_requested",
            "documents.loa",
            "misc.type",
        ]
        if o["phone_number_type"] != "toll_free":
            need.append("documents.invoice")
        if get(o, "misc.type") == "partial":
            need.append("misc.remaining_numbers_action")
            if get(o, "misc.remaining_numbers_action") == "keep":
                need.append("misc.new_billing_phone_number")
        gaps = [p for p in need if not get(o, p)]
        if gaps:
            return err(
                422,
                "Missing required parameter",
                f"{gaps[0]} is required to submit",
                "/" + gaps[0].replace(".", "/"),
                "10004",
            )
        with s.lock:
            o["status"] = {"value": "in-process", "details": []}
        return {"data": copy.deepcopy(o)}

    @router.post("/v2/porting_orders/{oid}/actions/cancel")
    async def cancel(oid: str) -> Any:
        if oid not in s.orders:
            return missing(oid)
        o = s.orders[oid]
        if o["status"]["value"] in ("ported", "cancelled", "cancel-pending", "draft"):
            return err(
                422,
                "Invalid state",
                f"a {o['status']['value']} porting order cannot be cancelled",
            )
        foc = parse(o["activation_settings"]["foc_datetime_actual"])
        if foc and foc - s.clock() < timedelta(hours=48):
            return err(
                422,
                "Cancel refused",
                "porting orders cannot be cancelled within 48 hours of the FOC",
            )
        with s.lock:
            o["status"] = {"value": "cancel-pending", "details": []}
        return {"data": copy.deepcopy(o)}

    @router.post("/v2/porting_orders/{oid}/actions/activate")
    async def activate(oid: str) -> Any:
        if oid not in s.orders:
            return missing(oid)
        o, jobs = s.orders[oid], s.jobs.get(oid, [])
        if (
            o["status"]["value"] != "foc-date-confirmed"
            or not o["activation_settings"]["fast_port_eligible"]
            or not jobs
        ):
            return err(
                422,
                "Invalid state",
                "only FastPort orders with a confirmed FOC can be activated on demand",
            )
        win = jobs[-1]["activation_windows"][0]
        if not (parse(win["start_at"]) <= s.clock() <= parse(win["end_at"])):  # type: ignore[operator]
            return err(
                422,
                "Outside the activation window",
                f"activate between {win['start_at']} and {win['end_at']}",
            )
        with s.lock:
            jobs[-1]["status"] = "in-process"
            jobs[-1]["activate_at"] = iso(s.clock())
        return JSONResponse({"data": copy.deepcopy(jobs[-1])}, status_code=202)

    return router


def extras_router(s: TelnyxStandIn) -> APIRouter:
    router = APIRouter()

    @router.post("/v2/portability_checks")
    async def portability(request: Request) -> Any:
        numbers = (await request.json()).get("phone_numbers") or []
        return {
            "data": [
                {
                    "record_type": "portability_check_result",
                    "phone_number": n,
                    "portable": n not in s.not_portable,
                    "fast_portable": s.fast_port and n not in s.not_portable,
                    "not_portable_reason": s.not_portable.get(n),
                    "phone_number_type": "toll_free" if n.startswith(TOLL_FREE) else "local",
                }
                for n in numbers
            ]
        }

    @router.get("/v2/porting_orders/{oid}/activation_jobs")
    async def activation_jobs(oid: str) -> Any:
        return {"data": copy.deepcopy(s.jobs.get(oid, []))} if oid in s.orders else missing(oid)

    @router.get("/v2/porting_orders/{oid}/allowed_foc_windows")
    async def windows(oid: str) -> Any:
        if oid not in s.orders:
            return missing(oid)
        return {
            "data": [
                {
                    "record_type": "allowed_foc_window",
                    "started_at": iso(a),
                    "ended_at": iso(b),
                }
                for a, b in s.windows
            ]
        }

    @router.get("/v2/porting_orders/{oid}/comments")
    async def comments(oid: str) -> Any:
        return {"data": list(s.comments.get(oid, []))} if oid in s.orders else missing(oid)

    @router.post("/v2/porting_orders/{oid}/comments")
    async def comment(oid: str, request: Request) -> Any:
        if oid not in s.orders:
            return missing(oid)
        text = (await request.json()).get("body") or ""
        item = {
            "id": str(uuid.uuid4()),
            "body": text,
            "user_type": "user",
            "porting_order_id": oid,
            "created_at": iso(s.clock()),
            "record_type": "porting_comment",
        }
        with s.lock:
            s.comments.setdefault(oid, []).append(item)
            o = s.orders[oid]
            if text.startswith("Please remove") and o["status"]["value"] == "exception":
                gone = set(re.findall(r"\+1\d{10}", text))
                o["phone_numbers"] = [
                    n for n in o["phone_numbers"] if n["phone_number"] not in gone
                ]
                left = [
                    d
                    for d in o["status"]["details"]
                    if d["code"] not in NUMBER_CODES
                    or set(re.findall(r"\+1\d{10}", d["description"])) - gone
                ]
                o["status"] = {
                    "value": "submitted" if not left else "exception",
                    "details": left,
                }
        return JSONResponse({"data": item}, status_code=201)

    @router.post("/v2/documents")
    async def upload(request: Request) -> Any:
        body = await request.json()
        try:
            data = base64.b64decode(body.get("file") or "", validate=True)
        except ValueError:
            return err(422, "Invalid file", "file must be base64", "/file")
        if not data:
            return err(
                422, "Missing required parameter", "file or url is required", "/file", "10004"
            )
        doc = {
            "id": str(uuid.uuid4()),
            "record_type": "document",
            "filename": body.get("filename"),
            "customer_reference": body.get("customer_reference"),
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": {"unit": "bytes", "amount": len(data)},
            "status": "pending",
        }
        with s.lock:
            s.documents[doc["id"]] = doc
        return {"data": doc}

    @router.get("/v2/documents")
    async def documents(request: Request) -> Any:
        ref = request.query_params.get("filter[customer_reference][eq]")
        return {
            "data": [
                d for d in s.documents.values() if ref is None or d["customer_reference"] == ref
            ]
        }

    return router
