"""What the LOA prints must be in its fonts (:mod:`core.fonts`): a character none of them has
would print as a box, and the customer would sign a wrong document."""

from __future__ import annotations

from typing import Any

# The request's fields the LOA prints (core/loa.py), per part of the request.
_PRINTED = (("customer", ("name",)), ("signer", ("name", "title", "email")))
_ACCOUNT = ("carrier", "account_number")


def printed_fields(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field path, value) of every field the LOA prints."""
    fields: list[tuple[str, Any]] = []
    for part, keys in _PRINTED:
        section = data.get(part)
        if isinstance(section, dict):
            fields += [(f"{part}.{k}", section.get(k)) for k in keys]
    accounts = data.get("accounts")
    for i, account in enumerate(accounts if isinstance(accounts, list) else []):
        if not isinstance(account, dict):
            continue
        fields += [(f"accounts[{i}].{k}", account.get(k)) for k in _ACCOUNT]
        address = account.get("service_address")
        if isinstance(address, dict):
            fields += [(f"accounts[{i}].service_address.{k}", v) for k, v in address.items()]
    return fields


def unprintable_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, message) for each printed field holding a character no LOA font has. Fonts
    are loaded only when a field has a character outside printable ASCII."""
    out: list[tuple[str, str]] = []
    for where, value in printed_fields(data):
        if not isinstance(value, str) or (value.isascii() and value.isprintable()):
            continue
        from core.fonts import describe, font_chain, unprintable

        chars = unprintable(value)
        if not chars:
            continue
        # never a secret's characters
        what = "characters" if where.endswith("account_number") else describe(chars)
        out.append(
            (
                where,
                f"{where}: the LOA cannot print {what} with the fonts it has "
                f"({', '.join(font_chain().sources)}): write it as on the carrier's bill in "
                "letters these fonts have, or install a font that has them (Chinese, Japanese, "
                "Korean: Debian's fonts-wqy-zenhei)",
            )
        )
    return out
