"""Ops and PM alerts in chat: Microsoft Teams and Slack incoming webhooks (httpx).

Only for notes addressed to PMs and ops alone: a customer's mail never lands in a team
channel. Teams gets an Adaptive Card in the message envelope that Teams Workflows
("When a Teams webhook request is received") and the older connectors accept; Slack gets
``{"text", "blocks"}``. A 408/429/5xx answer or a network error is retryable; any other
4xx means the URL or payload is wrong and retrying cannot help. Webhook URLs embed their
credentials, so logs and deliveries show only the scheme and host.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.settings import Settings, get_settings
from models.notify import Delivery, Notification
from providers.notify.base import Channel, NotifyError
from providers.notify.mail import key_hash
from providers.notify.render import STAFF_AUDIENCES, RenderedMessage, render, ui_url

log = logging.getLogger("portflow.notify.webhooks")

SLACK_SECTION_LIMIT = 3000
SLACK_HEADER_LIMIT = 150


class WebhookError(NotifyError):
    def __init__(self, message: str, *, retryable: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


def redact(url: str) -> str:
    """``https://hooks.slack.com/services/T/B/secret`` -> ``https://hooks.slack.com/...``"""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/..." if parts.netloc else "(webhook URL)"


def _blocks_of(text: str) -> list[str]:
    return [b.strip("\n") for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]


def teams_payload(note: Notification, msg: RenderedMessage, link: str) -> dict[str, Any]:
    urgent = note.priority in ("P1", "P2")
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": msg.subject,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            **({"color": "Attention"} if urgent else {}),
        }
    ]
    body += [{"type": "TextBlock", "text": block, "wrap": True} for block in _blocks_of(msg.text)]
    facts = [{"title": "Request", "value": note.request_id}]
    if note.order_id:
        facts.append({"title": "Order", "value": note.order_id})
    if note.priority:
        facts.append({"title": "Priority", "value": note.priority})
    body.append({"type": "FactSet", "facts": facts})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if link.startswith(("http://", "https://")):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Temporal UI", "url": link}]
    return {
        "type": "message",
        "summary": msg.subject,
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _chunks(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, boundaries so no section exceeds Slack's limit."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            out.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            out.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        out.append(current)
    return [c for c in out if c.strip()]


def slack_payload(note: Notification, msg: RenderedMessage, link: str) -> dict[str, Any]:
    subject = (
        msg.subject
        if len(msg.subject) <= SLACK_HEADER_LIMIT
        else msg.subject[: SLACK_HEADER_LIMIT - 1] + "…"
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject}}
    ]
    for chunk in _chunks(_slack_escape(msg.text.strip()), SLACK_SECTION_LIMIT):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    facts = (
        [note.request_id]
        + ([note.order_id] if note.order_id else [])
        + ([note.priority] if note.priority else [])
    )
    context = " · ".join(_slack_escape(f) for f in facts)
    if link.startswith(("http://", "https://")):
        context += f" · <{link}|Temporal UI>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    prefix = f"[{note.priority}] " if note.priority else ""
    return {"text": _slack_escape(prefix + msg.subject), "blocks": blocks}


class _Webhook(Channel):
    setting: str

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.url: str = getattr(self.settings, self.setting)
        env = f"PORTFLOW_{self.setting.upper()}"
        if not self.url:
            raise WebhookError(
                f"channel {self.name} is configured but {env} is empty", retryable=False
            )
        if urlsplit(self.url).scheme not in ("http", "https") or not urlsplit(self.url).netloc:
            raise WebhookError(f"{env} is not an http(s) URL", retryable=False)

    def payload(self, note: Notification, msg: RenderedMessage, link: str) -> dict[str, Any]:
        raise NotImplementedError

    async def deliver(self, note: Notification) -> Delivery:
        outsiders = [r.address for r in note.to if r.audience not in STAFF_AUDIENCES]
        if outsiders:
            raise WebhookError(
                f"{self.name} posts only notes for PMs and ops; {note.key!r} is also for {', '.join(outsiders)}",
                retryable=False,
            )
        msg = render(note, self.settings)
        body = self.payload(note, msg, ui_url(note, self.settings))
        where = redact(self.url)
        try:
            async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_seconds) as client:
                response = await client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise WebhookError(
                f"{self.name} webhook {where} unreachable: {type(exc).__name__}", retryable=True
            ) from None
        status = response.status_code
        if status >= 300:
            retryable = status in (408, 429) or status >= 500
            hint = response.text[:200].strip()
            after = response.headers.get("Retry-After")
            raise WebhookError(
                f"{self.name} webhook {where} answered {status}"
                + (f" ({hint})" if hint else "")
                + (f"; retry after {after} s" if after else "")
                + (
                    "" if retryable else ": check the webhook URL and that its channel still exists"
                ),
                retryable=retryable,
                status=status,
            )
        return Delivery(
            key=note.key,
            channel=self.name,
            message_id=f"{self.name}-{key_hash(note.key)}",
            location=where,
        )


class TeamsChannel(_Webhook):
    name = "teams"
    setting = "teams_webhook_url"

    def payload(self, note: Notification, msg: RenderedMessage, link: str) -> dict[str, Any]:
        return teams_payload(note, msg, link)


class SlackChannel(_Webhook):
    name = "slack"
    setting = "slack_webhook_url"

    def payload(self, note: Notification, msg: RenderedMessage, link: str) -> dict[str, Any]:
        return slack_payload(note, msg, link)
