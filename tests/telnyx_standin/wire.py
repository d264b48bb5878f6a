"""What the stand-in's routes share: Telnyx's error shape, time format, field rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse

E164 = re.compile(r"^\+1\d{10}$")
TOLL_FREE = ("+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888")
FIXES = {  # exception code -> order fields a correction must change (what porting ops check)
    "ACCOUNT_NUMBER_MISMATCH": ["end_user.admin.account_number"],
    "AUTH_PERSON_MISMATCH": ["end_user.admin.auth_person_name", "documents.loa"],
    "BTN_ATN_MISMATCH": ["end_user.admin.billing_phone_number"],
    "ENTITY_NAME_MISMATCH": ["end_user.admin.entity_name"],
    "LOCATION_MISMATCH": ["end_user.location"],
    "POSTAL_CODE_MISMATCH": ["end_user.location"],
    "PASSCODE_PIN_INVALID": ["end_user.admin.pin_passcode"],
    "FOC_EXPIRED": ["activation_settings.foc_datetime_requested"],
    "FOC_REJECTED": ["activation_settings.foc_datetime_requested"],
    "MAIN_BTN_PORTING": ["misc.new_billing_phone_number"],
    "PORT_TYPE_INCORRECT": ["misc.type"],
}
NUMBER_CODES = {
    "PHONE_NUMBER_NOT_PORTABLE",
    "RATE_CENTER_NOT_PORTABLE",
    "PHONE_NUMBER_MISMATCH",
    "PORTING_ORDER_SPLIT_REQUIRED",
}
PATCHABLE = {
    "activation_settings",
    "customer_reference",
    "documents",
    "end_user",
    "misc",
    "webhook_url",
}


def err(
    status: int,
    title: str,
    detail: str,
    pointer: str | None = None,
    code: str = "10015",
    headers=None,
) -> JSONResponse:
    e: dict[str, Any] = {"code": code, "title": title, "detail": detail}
    if pointer:
        e["source"] = {"pointer": pointer}
    return JSONResponse({"errors": [e]}, status_code=status, headers=headers)


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def get(d: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        d = (d or {}).get(part)  # type: ignore[assignment]
    return d


def missing(order_id: str) -> JSONResponse:
    return err(404, "Resource not found", f"porting order {order_id} not found", code="10005")
