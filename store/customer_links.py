"""Customer links as the store keeps them: the signing key, each request's link generation
(revocation), and the upload attempts the per-link rate limit counts.

The token itself is ``core.customer_links`` (pure); this module adds what needs the settings,
the vault and the database. Links are never stored: a link is valid when its signature is
ours, it has not expired and its generation is the request's current one, so issuing a
fresh link (a mail, ``starter.py link show``) writes nothing, and ``revoke`` voids every
link issued so far with one row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, func, select

from core import customer_links as token
from core.customer_links import BadLink, LinkClaims, LinkProblem  # noqa: F401 - re-exported for callers
from core.settings import get_settings
from models.request import REQUEST_ID
from store.customer_link_tables import CustomerLinkRow, CustomerUpload
from store.db import session_scope

PATH_PREFIX = "/c/"  # the page's route: api/customer.py


def signing_key() -> bytes:
    """PORTFLOW_CUSTOMER_LINK_SECRET, else a key derived from the vault key (shared by every
    process that opens the vault, so the worker's mails and the API agree)."""
    configured = get_settings().customer_link_secret.get_secret_value().strip()
    if configured:
        if len(configured) < 32:
            raise ValueError("PORTFLOW_CUSTOMER_LINK_SECRET is shorter than 32 characters: use a random "
                             "string, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return configured.encode()
    from store.vault import derived_key

    return derived_key("customer-links")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _check_id(request_id: str) -> str:
    if not REQUEST_ID.match(request_id or ""):
        raise ValueError(f"{request_id!r} is not a request id: use one like PR-2026-0042")
    return request_id


def current_generation(request_id: str, *, session: Session | None = None) -> int:
    def read(s: Session) -> int:
        row = s.get(CustomerLinkRow, request_id)
        return row.generation if row is not None else 1

    if session is not None:
        return read(session)
    with session_scope() as s:
        return read(s)


def issue(request_id: str, *, now: datetime | None = None) -> str:
    """A fresh token for ``request_id``'s customer page, valid PORTFLOW_CUSTOMER_LINK_DAYS."""
    _check_id(request_id)
    return token.sign(signing_key(), request_id, current_generation(request_id), now=_now(now),
                      days=get_settings().customer_link_days)


def url_of(tok: str) -> str:
    return f"{get_settings().customer_base_url}{PATH_PREFIX}{tok}"


def link(request_id: str, *, now: datetime | None = None) -> str:
    """The URL of a fresh link to ``request_id``'s customer page."""
    return url_of(issue(request_id, now=now))


def expires_at(request_id: str, *, now: datetime | None = None) -> datetime:
    """When a link issued ``now`` expires (what ``starter.py link show`` prints)."""
    return _now(now) + timedelta(days=get_settings().customer_link_days)


def revoke(request_id: str, *, actor: str, now: datetime | None = None) -> int:
    """Void every link of ``request_id`` issued so far; returns the new generation (links
    issued from now on carry it)."""
    _check_id(request_id)
    with session_scope() as s:
        row = s.get(CustomerLinkRow, request_id, with_for_update=True)
        if row is None:
            row = CustomerLinkRow(request_id=request_id, generation=1)
        row.generation += 1
        row.revoked_at = row.updated_at = _now(now)
        row.revoked_by = (actor or "pm").strip()[:320]
        s.add(row)
        s.flush()
        return row.generation


def verify(tok: object, *, now: datetime | None = None) -> LinkClaims:
    """The claims of a link that opens its page now; :class:`BadLink` (why) otherwise."""
    key = signing_key()
    claims = token.parse(tok, key)
    return token.check(tok, key, now=_now(now), current_generation=current_generation(claims.request_id))


# --- upload rate limit ------------------------------------------------------------------


def upload_allowed(request_id: str, *, now: datetime | None = None) -> bool:
    """Whether one more upload through ``request_id``'s links fits in the window."""
    s_ = get_settings()
    since = _now(now) - timedelta(minutes=s_.customer_upload_window_minutes)
    with session_scope() as s:
        count = s.exec(select(func.count()).select_from(CustomerUpload).where(
            CustomerUpload.request_id == request_id, col(CustomerUpload.at) > since)).one()
    return count < s_.customer_uploads_per_window


def record_upload(request_id: str, outcome: str, *, now: datetime | None = None) -> None:
    """Count one upload attempt (accepted or refused) against the link's rate limit."""
    with session_scope() as s:
        s.add(CustomerUpload(request_id=request_id, at=_now(now), outcome=outcome[:24]))
