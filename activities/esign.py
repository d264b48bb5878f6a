"""E-signature of the LOA through the provider chosen in settings (local or DocuSign)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.settings import get_settings
from models.esign import EnvelopeInfo, LoaEnvelopeRequest, SignedDocuments
from models.workflow import EnvelopePoll, EnvelopeQuery, FetchSigned
from activities.clock import temporal_now
from activities.polling import first_look_after_one_interval, not_yet
from providers.esign import esign_from_settings
from providers.esign.base import ESignError, ESignProvider


def _provider() -> ESignProvider:
    return esign_from_settings(get_settings(), clock=temporal_now)


@contextmanager
def _classified() -> Iterator[None]:
    """E-signature failures become ApplicationErrors, non-retryable when a person must act."""
    try:
        yield
    except ESignError as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=not exc.retryable) from exc


@activity.defn(name="send_loa")
async def send_loa(req: LoaEnvelopeRequest) -> EnvelopeInfo:
    """Idempotent on ``req.idempotency_key``: a retry finds the envelope the first try made."""
    with _classified():
        return await _provider().send_loa(req)


@activity.defn(name="esign_status")
async def esign_status(q: EnvelopeQuery) -> EnvelopeInfo:
    with _classified():
        return await _provider().get_status(q.envelope_id)


@activity.defn(name="esign_poll")
async def esign_poll(p: EnvelopePoll) -> EnvelopeInfo:
    """Ask once; the status the workflow knows is "not yet" (benign, retried by the workflow's
    policy without writing history), a new status returns."""
    first_look_after_one_interval()
    with _classified():
        info = await _provider().get_status(p.envelope_id)
    if info.status == p.known:
        raise not_yet(f"envelope {p.envelope_id}: still {p.known.value}")
    return info


@activity.defn(name="void_envelope")
async def void_envelope(q: EnvelopeQuery) -> EnvelopeInfo:
    """Already voided or completed is not an error (the provider says so)."""
    with _classified():
        return await _provider().void(q.envelope_id, q.reason or "voided by portflow")


@activity.defn(name="fetch_signed")
async def fetch_signed(q: FetchSigned) -> SignedDocuments:
    with _classified():
        return await _provider().download_signed(q.envelope_id, request_id=q.request_id, order_id=q.order_id)
