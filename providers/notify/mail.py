"""One notification as an RFC 5322 message, the same for the outbox and for SMTP.

The Message-ID is derived from the notification key, so the outbox file, the SMTP message
and a retry of either carry the same id: a receiver (or a person) can see it is the same
message, and our own idempotency checks can be audited against it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from email import policy as email_policy
from email.header import Header
from email.headerregistry import Address, HeaderRegistry, UniqueUnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from core.settings import Settings
from models.notify import Audience, Notification
from providers.notify.base import NotifyError
from providers.notify.render import RenderedMessage

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
CUSTOMER_AUDIENCES = frozenset({Audience.CUSTOMER, Audience.SIGNER})


class AddressError(NotifyError):
    """A recipient or sender address that no mail system would accept: fix the data."""

    retryable = False


class _SubjectHeader(UniqueUnstructuredHeader):
    """The Subject, folded so that every reader shows exactly the rendered text.

    Python's folder has two faults here. It moves a value that does not fit beside the
    header name, but fits on a line of its own, to the next line (``Subject:\r\n Port
    complete for ...``), and readers that keep the folding white space (Python's default
    policy among them) show the subject with a leading space. And folding between two
    encoded words can drop the space between two words (``agoravocê``), because white space
    between encoded words is not part of the text (RFC 2047). So the text starts on the
    first line, and a subject that needs encoding is encoded by ``email.header.Header``,
    which keeps spaces inside the encoded words. The header object keeps this fold whatever
    policy flattens the message (the outbox, aiosmtplib)."""

    def fold(self, *, policy):  # type: ignore[no-untyped-def]
        text = str(self)
        if not text.isascii() and not policy.utf8:
            maxlen = policy.max_line_length or 78
            encoded = Header(text, "utf-8", maxlinelen=maxlen, header_name=self.name).encode(
                linesep=policy.linesep
            )
            return f"{self.name}: {encoded}{policy.linesep}"
        folded = super().fold(policy=policy)
        lead = f"{self.name}:{policy.linesep} "
        return f"{self.name}: {folded[len(lead):]}" if folded.startswith(lead) else folded


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("subject", _SubjectHeader)
MAIL_POLICY = email_policy.SMTP.clone(header_factory=_HEADERS)


def key_hash(key: str) -> str:
    """A short, stable, file-name-safe digest of a notification key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _domain(settings: Settings) -> str:
    _, addr = parseaddr(settings.mail_from)
    return addr.rpartition("@")[2] or "portflow.local"


def message_id(key: str, settings: Settings) -> str:
    """``<sha256(key)[:32]@domain-of-mail_from>``: the same key always gives the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.notify@{_domain(settings)}>"


def _address(addr: str, name: str, what: str) -> Address:
    if not _ADDRESS.match(addr):
        raise AddressError(
            f"{what} address {addr!r} is not an e-mail address such as name@example.com"
        )
    if "\r" in name or "\n" in name:
        raise AddressError(f"{what} name for {addr} contains a line break")
    local, _, domain = addr.partition("@")
    return Address(display_name=name, username=local, domain=domain)


def _sender(settings: Settings) -> Address:
    name, addr = parseaddr(settings.mail_from)
    if not addr:
        raise AddressError(
            f"PORTFLOW_MAIL_FROM {settings.mail_from!r} has no address; use 'portflow <noreply@example.com>'"
        )
    return _address(addr, name, "PORTFLOW_MAIL_FROM")


def build_email(note: Notification, rendered: RenderedMessage, settings: Settings) -> EmailMessage:
    """The message for all of ``note``'s recipients (one message, every recipient in To)."""
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["From"] = _sender(settings)
    msg["To"] = [_address(r.address, r.name, f"recipient ({r.audience.value})") for r in note.to]
    if any(r.audience in CUSTOMER_AUDIENCES for r in note.to):
        # Customers answer to their project manager, never to a no-reply address.
        _, pm = parseaddr(settings.pm_email)
        msg["Reply-To"] = _address(pm, "", "PORTFLOW_PM_EMAIL")
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(note.key, settings)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg["X-Portflow-Request"] = note.request_id
    if note.order_id:
        msg["X-Portflow-Order"] = note.order_id
    msg["X-Portflow-Template"] = note.template
    if note.priority:
        msg["X-Portflow-Priority"] = note.priority
        if note.priority in ("P1", "P2"):
            msg["Importance"] = "high"
            msg["X-Priority"] = "1"
    msg.set_content(rendered.text)
    if rendered.html is not None:
        msg.add_alternative(rendered.html, subtype="html")
    msg["Content-Language"] = rendered.language  # after set_content, which drops Content-* headers
    return msg
