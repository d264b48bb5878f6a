"""Rendering the LOA PDF of one order into the document store, and what the LOA prints
(:class:`core.loa.LoaData`) built from a request's account."""

from __future__ import annotations

from datetime import UTC, date, datetime

from temporalio import activity

from core.loa import LoaData, render_loa as render_pdf
from core.settings import get_settings
from models.request import CarrierAccount, DocumentKind, DocumentRef, PortRequest, Signer
from models.workflow import AccountSpec, RenderLoaInput
from store import documents, vault


def loa_data(
    *,
    request_id: str,
    order_id: str,
    customer_name: str,
    signer: Signer,
    account: CarrierAccount | AccountSpec,
    account_number: str,
    port_date: date,
    generated_at: datetime,
    gaining_provider: str | None = None,
) -> LoaData:
    """What one order's LOA prints. The caller reveals the account number (see core.loa);
    the gaining provider's name defaults to ``settings.gaining_provider``."""
    return LoaData(
        request_id=request_id,
        order_id=order_id,
        customer_name=customer_name,
        signer_name=signer.name,
        signer_title=signer.title,
        signer_email=signer.email,
        carrier=account.carrier,
        account_number=account_number,
        btn=account.btn,
        service_address=account.service_address.one_line(),
        port_type=account.port_type,
        remaining_numbers=account.remaining_numbers,
        new_btn=account.new_btn,
        numbers=account.numbers,
        # a request's account lists its toll-free numbers, a sealed order's says whether it has any
        toll_free=bool(account.toll_free),
        requested_port_date=port_date,
        generated_at=generated_at,
        gaining_provider=gaining_provider or get_settings().gaining_provider,
    )


def loa_data_for_account(
    request: PortRequest,
    index: int,
    *,
    account_number: str,
    generated_at: datetime,
    gaining_provider: str | None = None,
) -> LoaData:
    """The LOA data of account ``index`` of ``request``; the caller reveals the account number."""
    if not 0 <= index < len(request.accounts):
        raise ValueError(f"{request.id} has {len(request.accounts)} account(s); there is no account {index}")
    return loa_data(
        request_id=request.id,
        order_id=request.order_id(index),
        customer_name=request.customer.name,
        signer=request.signer,
        account=request.accounts[index],
        account_number=account_number,
        port_date=request.requested_port_date,
        generated_at=generated_at,
        gaining_provider=gaining_provider,
    )


@activity.defn(name="render_loa")
def render_loa(inp: RenderLoaInput) -> DocumentRef:
    """Render and store the LOA. Deterministic for the same input (same sha256), and the
    store keeps one document per (order, kind, sha256), so a retry stores nothing new."""
    data = loa_data(
        request_id=inp.request_id,
        order_id=inp.order_id,
        customer_name=inp.customer_name,
        signer=inp.signer,
        account=inp.account,
        account_number=vault.reveal(inp.account.account_number),
        port_date=inp.port_date,
        # the day, not the instant: a retry tomorrow is a new LOA, a retry now the same one
        generated_at=datetime.combine(activity.info().scheduled_time.date(), datetime.min.time(), UTC),
    )
    pdf = render_pdf(data)
    return documents.put_bytes(
        pdf, kind=DocumentKind.LOA, file_name=f"LOA-{inp.order_id}.pdf", request_id=inp.request_id, order_id=inp.order_id
    )
