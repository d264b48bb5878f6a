"""Notifications: one message to people, by template, sent once."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from models.request import Language


class Audience(StrEnum):
    CUSTOMER = "customer"  # the main point of contact
    SIGNER = "signer"
    PM = "pm"
    OPS = "ops"


class Recipient(BaseModel):
    audience: Audience
    address: str = Field(description="e-mail address (channels for ops decide themselves)")
    name: str = ""


class NumberList(StrEnum):
    """A list of the request's numbers that the notify activity reads from the store."""

    ACTIVE = "active"  # ported and live
    NOT_ACTIVE = "not_active"  # still live in the store but not active (refused, not portable...)
    ALL = "all"  # every number the request held, released ones included


class Notification(BaseModel):
    """A message for people. ``key`` makes it idempotent: the same key is delivered once."""

    key: str = Field(min_length=1, description="dedupe key, e.g. workflow id + event")
    template: str = Field(description="template name: request_received, loa_sent, foc_confirmed, ...")
    to: list[Recipient] = Field(min_length=1)
    language: Language = Language.EN
    request_id: str
    order_id: str | None = None
    priority: str | None = Field(default=None, description="P1..P4 for ops alerts")
    context: dict[str, str | int | list[str] | None] = Field(
        default_factory=dict, description="template variables: never secrets"
    )
    lists: dict[str, NumberList] = Field(
        default_factory=dict,
        description="context keys the notify activity fills with the request's numbers from the store: "
        "a workflow carries no list of 10,000 numbers into its history",
    )


class Delivery(BaseModel):
    key: str
    channel: str
    message_id: str
    location: str | None = Field(default=None, description="outbox file, SMTP id, webhook URL")
    duplicate: bool = Field(default=False, description="already delivered before: nothing sent")
