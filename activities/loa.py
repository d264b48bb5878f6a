"""Rendering the LOA PDF of one order into the document store."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from models.request import DocumentKind, DocumentRef
from models.workflow import RenderLoaInput
from core.loa import LoaData, render_loa as render_pdf
from core.settings import get_settings
from store import documents, vault


@activity.defn(name="render_loa")
def render_loa(inp: RenderLoaInput) -> DocumentRef:
    """Render and store the LOA. Deterministic for the same input (same sha256), and the
    store keeps one document per (order, kind, sha256), so a retry stores nothing new."""
    acc = inp.account
    data = LoaData(
        request_id=inp.request_id,
        order_id=inp.order_id,
        customer_name=inp.customer_name,
        signer_name=inp.signer.name,
        signer_title=inp.signer.title,
        signer_email=inp.signer.email,
        carrier=acc.carrier,
        account_number=vault.reveal(acc.account_number),
        btn=acc.btn,
        service_address=acc.service_address,
        port_type=acc.port_type,
        remaining_numbers=acc.remaining_numbers,
        new_btn=acc.new_btn,
        numbers=acc.numbers,
        toll_free=acc.toll_free,
        requested_port_date=inp.port_date,
        # the day, not the instant: a retry tomorrow is a new LOA, a retry now the same one
        generated_at=datetime.combine(activity.info().scheduled_time.date(), datetime.min.time(), UTC),
        gaining_provider=get_settings().gaining_provider,
    )
    pdf = render_pdf(data)
    return documents.put_bytes(
        pdf, kind=DocumentKind.LOA, file_name=f"LOA-{inp.order_id}.pdf", request_id=inp.request_id, order_id=inp.order_id
    )
