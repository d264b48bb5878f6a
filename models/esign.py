"""E-signature of the LOA: what the workflow asks and what it hears back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, EmailStr, Field

from models.request import DocumentRef, Language


class EnvelopeStatus(StrEnum):
    CREATED = "created"  # draft, not sent yet
    SENT = "sent"
    DELIVERED = "delivered"  # the signer opened it
    COMPLETED = "completed"  # signed
    DECLINED = "declined"
    VOIDED = "voided"  # voided by us (cancel, corrected signer)
    EXPIRED = "expired"  # DocuSign reports it as voided with "Envelope has expired."
    BOUNCED = "bounced"  # the signer's e-mail bounced: fix the address


class LoaEnvelopeRequest(BaseModel):
    """Send one LOA for signature. ``idempotency_key`` is workflow id + activity id + attempt-independent
    suffix: sending twice with the same key returns the same envelope."""

    idempotency_key: str = Field(min_length=1)
    request_id: str
    order_id: str
    signer_name: str
    signer_title: str
    signer_email: EmailStr
    language: Language = Language.EN
    subject: str
    loa: DocumentRef


class EnvelopeInfo(BaseModel):
    envelope_id: str
    provider: str
    status: EnvelopeStatus
    status_at: datetime | None = None
    signer_name: str | None = None
    signer_email: str | None = None
    signed_at: datetime | None = None
    reason: str | None = Field(default=None, description="decline or void reason, bounce details")
    sign_url: str | None = Field(default=None, description="local provider: how to sign")


class EnvelopeEvent(BaseModel):
    """An e-signature event for an order's workflow (webhook, poll, or the local CLI)."""

    event_id: str = Field(min_length=1, description="dedupe key: a repeated event changes nothing")
    order_id: str
    envelope_id: str
    status: EnvelopeStatus
    at: datetime
    signer_name: str | None = None
    reason: str | None = None
    source: str = "provider"


class SignedDocuments(BaseModel):
    signed_loa: DocumentRef
    certificate: DocumentRef | None = None
