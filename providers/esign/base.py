"""The e-signature interface the LOA step uses."""

from __future__ import annotations

import abc

from models.esign import EnvelopeInfo, LoaEnvelopeRequest, SignedDocuments


class ESignError(Exception):
    """Base for e-signature failures. ``retryable`` says whether trying again can help."""

    retryable = True


class ESignConfigError(ESignError):
    """Misconfiguration or missing consent: a person must act; retrying cannot help."""

    retryable = False


class ESignRejected(ESignError):
    """The provider refused the request as invalid (bad e-mail, bad document)."""

    retryable = False


class ESignProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    async def send_loa(self, req: LoaEnvelopeRequest) -> EnvelopeInfo:
        """Send the LOA for signature. Idempotent on ``req.idempotency_key``: a second call
        (after a crash or a timeout) finds and returns the first envelope, never a new one."""

    @abc.abstractmethod
    async def get_status(self, envelope_id: str) -> EnvelopeInfo:
        """The envelope's current status (for polling)."""

    @abc.abstractmethod
    async def void(self, envelope_id: str, reason: str) -> EnvelopeInfo:
        """Withdraw an envelope. Already voided or completed is not an error."""

    @abc.abstractmethod
    async def download_signed(self, envelope_id: str, *, request_id: str, order_id: str) -> SignedDocuments:
        """Put the signed LOA (and certificate, when the provider has one) in the document store."""
