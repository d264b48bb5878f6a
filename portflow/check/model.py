"""The request model's own errors, and keys it would ignore, as readable problems.

:class:`models.request.PortRequest` is the last word on a request; what it refuses that the
check's own rules did not already report (customer, contact, signer, address fields...) is
translated here from pydantic's locations (``('accounts', 1, 'account_number',
'lax-or-strict[...]')``) into field paths (``accounts[1].account_number``).
"""

from __future__ import annotations

import difflib
import re
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from models.request import PortRequest
from portflow.check.yaml_reader import shorten

# Fields the check reads that the model does not (yet) carry.
CHECK_ONLY_FIELDS = {"": {"documents_complete_on"}}
_HINTS = {
    "postal_code": "the ZIP or postal code as on the CSR, e.g. 60601",
    "state": "the two-letter state or province, e.g. IL",
    "country": "one of US, CA, PR, VI, GU, AS, MP",
    "language": "one of en, es, pt, fr",
    "email": "an e-mail address such as dana@example.com",
    "pm_email": "an e-mail address such as pm@example.com",
    "id": "an id like PR-2026-0042, or leave it out to get one",
    "port_type": "full or partial",
    "remaining_numbers": "keep or disconnect",
    "kind": "one of csr, bill, loa, signed_loa, certificate, other",
}


def typed_secrets(data: dict[str, Any]) -> list[str]:
    """The account numbers and PINs as typed, so no message can echo them."""
    found: list[str] = []
    accounts = data.get("accounts")
    for account in accounts if isinstance(accounts, list) else []:  # `accounts: true` was a TypeError
        if isinstance(account, dict):
            for key in ("account_number", "pin"):
                value = account.get(key)
                if (
                    isinstance(value, (str, int))
                    and not isinstance(value, bool)
                    and str(value).strip()
                ):
                    found.append(str(value).strip())
    return found


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``X | None`` or ``list[X]``, if any."""
    origin = get_origin(annotation)
    if origin in (list, Union, types.UnionType):
        for arg in get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def readable_path(loc: tuple[int | str, ...], model: type[BaseModel] = PortRequest) -> str:
    """``('accounts', 1, 'account_number', 'lax-or-strict[...]')`` -> ``accounts[1].account_number``."""
    path, current = "", model
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif current is not None and part in current.model_fields:
            path = f"{path}.{part}" if path else part
            current = _model_of(current.model_fields[part].annotation)
        else:
            break  # a union member's tag, not a field
    return path


def _related(a: str, b: str) -> bool:
    return a == b or any(y == "" or x.startswith((y + ".", y + "[")) for x, y in ((a, b), (b, a)))


def _masker(secrets: list[str]) -> Any:
    values = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not values:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(v) for v in values))
    return lambda text: pattern.sub("****", text)


def model_problems(
    exc: ValidationError,
    already: list[str],
    secrets: list[str] = (),  # type: ignore[assignment]
) -> list[tuple[str, str, str]]:
    """(code, where, message) for each model error not already reported at or around the same place.

    The model's messages are not ours: any text equal to one of ``secrets`` is masked.
    """
    mask = _masker(list(secrets))
    out: list[tuple[str, str, str]] = []
    done: set[str] = set()
    for err in exc.errors(include_input=False, include_url=False):
        where = readable_path(tuple(err["loc"]))
        if where in done or any(_related(where, other) for other in already):
            continue
        done.add(where)
        msg = mask(re.sub(r"^(Value error|Assertion failed), ", "", err["msg"]))
        name = where.rsplit(".", 1)[-1] if where else "request"
        hint = (
            None
            if err["type"] in ("enum", "literal_error")
            else _HINTS.get(re.sub(r"\[\d+\]$", "", name))
        )
        if err["type"] == "missing":
            out.append(
                (
                    "missing_field",
                    where,
                    f"{where} is missing: add it" + (f" ({hint})" if hint else ""),
                )
            )
        else:
            out.append(
                (
                    "invalid_field",
                    where,
                    f"{where or 'request'}: {msg}" + (f" (expected {hint})" if hint else ""),
                )
            )
    return out


def unknown_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, message) for keys no model field matches: usually a typo that would be ignored."""
    out: list[tuple[str, str]] = []

    def walk(value: Any, model: type[BaseModel], path: str) -> None:
        if isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, model, f"{path}[{i}]")
            return
        if not isinstance(value, dict):
            return
        known = set(model.model_fields) | CHECK_ONLY_FIELDS.get(path, set())
        for key, child in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key in known:
                sub = (
                    _model_of(model.model_fields[key].annotation)
                    if key in model.model_fields
                    else None
                )
                if sub is not None:
                    walk(child, sub, where)
                continue
            close = difflib.get_close_matches(str(key)[:100], sorted(known), n=1)
            out.append(
                (
                    shorten(where, 80),
                    f"'{shorten(key, 40)}' is not a field here"
                    + (f": did you mean '{close[0]}'?" if close else ""),
                )
            )

    walk(data, PortRequest, "")
    return out
