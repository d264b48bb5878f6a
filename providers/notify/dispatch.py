"""Send one notification on every configured channel that fits its audience, once.

A Temporal activity may run again after a timeout or a worker crash, even when the first
attempt got the message out. So each channel's delivery is written to the side-effect
ledger (``notify:<channel>:<key>``) after it succeeds, and looked up before sending: a
retry sends only what is still missing and reports the rest as duplicates. The remaining
gap (sent, then the process died before the ledger write) is closed by the outbox finding
its file by key, and narrowed for SMTP by the key-derived Message-ID receivers dedupe on.

Channels by audience: customers and signers get mail (outbox, smtp); a note addressed to
PMs and ops only also goes to the chat webhooks (teams, slack).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from core.settings import Settings, get_settings
from models.notify import Delivery, Notification
from providers.notify.base import Channel, NotifyError
from providers.notify.render import STAFF_AUDIENCES, check

log = logging.getLogger("portflow.notify")

LEDGER_KEY_MAX = 255  # store.ledger.MAX_KEY
MAIL_CHANNELS = ("outbox", "smtp")
CHAT_CHANNELS = ("teams", "slack")


class DispatchError(NotifyError):
    """Some channels failed. Retryable when any failure is; ``deliveries`` are the channels
    that did deliver (a retry will report them as duplicates, not send them again)."""

    def __init__(
        self, note: Notification, failures: dict[str, NotifyError], deliveries: list[Delivery]
    ) -> None:
        self.failures = failures
        self.deliveries = deliveries
        self.retryable = any(e.retryable for e in failures.values())
        done = ", ".join(d.channel for d in deliveries) or "none"
        detail = "; ".join(
            f"{name}: {err} ({'retryable' if err.retryable else 'permanent'})"
            for name, err in failures.items()
        )
        super().__init__(
            f"notification {note.key!r} ({note.template}): {detail}. Delivered on: {done}"
        )


def ledger_key(channel: str, key: str) -> str:
    """``notify:<channel>:<key>``; a key too long for the ledger keeps its head and a digest."""
    full = f"notify:{channel}:{key}"
    if len(full) <= LEDGER_KEY_MAX:
        return full
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{full[: LEDGER_KEY_MAX - len(digest) - 1]}#{digest}"


def channel_names(note: Notification, settings: Settings) -> list[str]:
    """The configured channels that fit ``note``'s recipients, in configuration order."""
    staff_only = all(r.audience in STAFF_AUDIENCES for r in note.to)
    fits = MAIL_CHANNELS + (CHAT_CHANNELS if staff_only else ())
    return [name for name in settings.notify_channels if name in fits]


def build_channel(name: str, settings: Settings) -> Channel:
    """One channel from settings; configuration mistakes raise a non-retryable NotifyError."""
    if name == "outbox":
        from providers.notify.outbox import OutboxChannel

        return OutboxChannel(settings)
    if name == "smtp":
        from providers.notify.smtp import SmtpChannel

        return SmtpChannel(settings)
    if name == "teams":
        from providers.notify.webhooks import TeamsChannel

        return TeamsChannel(settings)
    if name == "slack":
        from providers.notify.webhooks import SlackChannel

        return SlackChannel(settings)
    err = NotifyError(f"unknown notification channel {name!r}: use outbox, smtp, teams or slack")
    err.retryable = False
    raise err


def _recipients(note: Notification) -> str:
    return ", ".join(f"{r.audience.value}:{r.address}" for r in note.to)


async def dispatch(note: Notification, settings: Settings | None = None) -> list[Delivery]:
    """Deliver ``note`` on each fitting channel unless the ledger says it already was.

    Returns one Delivery per channel (``duplicate=True`` when nothing was sent this time).
    Raises a non-retryable NotifyError for a note that cannot be rendered or has no fitting
    channel, and DispatchError when a channel fails (after trying every other channel).
    """
    from store import ledger  # the database only when something is actually sent

    settings = settings or get_settings()
    check(note)  # a broken note fails before any channel sends anything
    names = channel_names(note, settings)
    if not names:
        err = NotifyError(
            f"notification {note.key!r} ({note.template}) for {_recipients(note)}: none of the configured "
            f"channels ({', '.join(settings.notify_channels)}) reaches these recipients; customers need "
            "outbox or smtp in PORTFLOW_NOTIFY_CHANNELS"
        )
        err.retryable = False
        raise err
    deliveries: list[Delivery] = []
    failures: dict[str, NotifyError] = {}
    for name in names:
        lkey = ledger_key(name, note.key)
        prior = await asyncio.to_thread(ledger.seen, lkey)
        if prior is not None:
            delivery = Delivery.model_validate({**prior, "duplicate": True})
            log.info(
                "notification %s (%s, request %s) already delivered on %s (%s): not sent again",
                note.key,
                note.template,
                note.request_id,
                name,
                delivery.location,
            )
            deliveries.append(delivery)
            continue
        try:
            delivery = await build_channel(name, settings).deliver(note)
        except NotifyError as exc:
            log.warning(
                "notification %s (%s, request %s) failed on %s (%s): %s",
                note.key,
                note.template,
                note.request_id,
                name,
                "retryable" if exc.retryable else "permanent",
                exc,
            )
            failures[name] = exc
            continue
        first = await asyncio.to_thread(
            ledger.record, lkey, delivery.model_dump(mode="json", exclude={"duplicate"})
        )
        if not first:
            log.warning("notification %s on %s: another attempt recorded it first", note.key, name)
        log.info(
            "notification %s (%s, request %s%s) %s on %s to %s: %s",
            note.key,
            note.template,
            note.request_id,
            f", order {note.order_id}" if note.order_id else "",
            "found already written" if delivery.duplicate else "delivered",
            name,
            _recipients(note),
            delivery.location,
        )
        deliveries.append(delivery)
    if failures:
        raise DispatchError(note, failures, deliveries)
    return deliveries
