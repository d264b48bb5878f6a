"""The side-effect ledger: a side effect that must never happen twice is written down once.

An activity that sends an envelope, submits an order or mails a customer first asks
:func:`seen` with its idempotency key (e.g. ``"PR-2026-0042-1:submit:1"``); after the
effect it calls :func:`record` with what came back (the envelope id...). ``record`` is an
insert on a unique key, so when two attempts race only the first value is kept and the
second learns it lost (``False``) and should use ``seen(key)``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from store.db import session_scope
from store.tables import LedgerEntry

MAX_KEY = 255


def _key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise ValueError(
            "ledger key is empty: use a stable idempotency key such as 'PR-2026-0042-1:submit'"
        )
    if len(key) > MAX_KEY:
        raise ValueError(
            f"ledger key is {len(key)} characters, over {MAX_KEY}: shorten it (hash the long part)"
        )
    return key


def _value(value: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"ledger value must be a dict, not {type(value).__name__}")
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"ledger value is not JSON ({exc}): store strings, numbers, lists and dicts"
        ) from None


def seen(key: str, *, session: Session | None = None) -> dict[str, Any] | None:
    """The value recorded under ``key``, or ``None`` if the side effect has not happened."""
    key = _key(key)
    if session is not None:
        row = session.get(LedgerEntry, key)
        return dict(row.value) if row is not None else None
    with session_scope() as s:
        row = s.get(LedgerEntry, key)
        return dict(row.value) if row is not None else None


def record(key: str, value: dict[str, Any], *, session: Session | None = None) -> bool:
    """Write ``value`` under ``key``. ``False`` (and the first value kept) if the key exists."""
    key, value = _key(key), _value(value)

    def insert(s: Session) -> bool:
        if s.get(LedgerEntry, key) is not None:
            return False
        try:
            with s.begin_nested():
                s.add(LedgerEntry(key=key, value=value))
        except IntegrityError:
            return False
        return True

    if session is not None:
        return insert(session)
    try:
        with session_scope() as s:
            return insert(s)
    except IntegrityError:  # lost the race at commit time
        return False
