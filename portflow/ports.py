"""Starting and steering ports from the client side (CLI, API, demo, tests).

``start_port`` is the only way a port begins: it refuses what the offline check refuses,
seals the secrets into the vault, stores the documents the file names, and starts the
request workflow with the request id as workflow id, so the same request never runs twice.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.settings import Settings, get_settings
from models.request import DocumentKind, PortRequest
from models.status import PortStatus
from models.workflow import AttachDocument, Expedite, PortOptions, PortRequestInput, RequestView, Verification
from sqlmodel import col, select

from store import documents, vault
from store.tables import InventoryNumber
from store.db import ensure_migrated, session_scope
from workflows.common import initial_search_attributes
from workflows.port_request import PortRequestWorkflow


class PortRefused(ValueError):
    """The port cannot start: the message says why and what to do."""


def sla_hours_by_status(sla_hours: dict[str, int]) -> dict[str, int]:
    """``PORTFLOW_SLA_HOURS`` (status names such as ``LOA_SENT``) as the workflow reads it
    (status values such as ``loa_sent``); refuses a name that is not a port status."""
    unknown = [name for name in sla_hours if name not in PortStatus.__members__]
    if unknown:
        raise PortRefused(f"PORTFLOW_SLA_HOURS: {unknown[0]!r} is not a port status; use e.g. "
                          f'{{"LOA_SENT": 120, "EXCEPTION": 48}} with statuses from: {", ".join(PortStatus.__members__)}')
    return {PortStatus[name].value: hours for name, hours in sla_hours.items()}


def options_from_settings(s: Settings | None = None, **overrides: object) -> PortOptions:
    s = s or get_settings()
    opts = PortOptions(
        lead_time_days=s.lead_time_days,
        document_reminder_days=s.document_reminder_days,
        loa_reminder_hours=s.loa_reminder_hours,
        inventory_deadline_hours=s.inventory_deadline_hours,
        carrier_silence_hours=s.carrier_silence_hours,
        carrier_poll_seconds=s.carrier_poll_seconds,
        carrier_foc_poll_seconds=s.carrier_foc_poll_seconds,
        history_events_limit=s.history_events_limit,
        sla_hours=sla_hours_by_status(s.sla_hours),
        esign_poll_seconds=max(60, s.docusign_poll_minutes * 60) if s.esign_provider == "docusign" else 900,
        foc_guard_hours=s.foc_guard_hours,
        review_before_submit=s.review_before_submit,
        gate_warn_business_days=s.gate_warn_business_days,
        verification=Verification(s.verification),
        pm_email=s.pm_email,
        ops_email=s.ops_email,
        ui_url=s.temporal_ui_url,
        search_customer_name=s.search_customer_name,
    )
    return opts.model_copy(update=overrides)


def request_memo(request: PortRequest, *, pm_email: str, started_by: str) -> dict[str, object]:
    """The request workflow's memo: the facts ops read on its page in the Temporal UI.

    Only what anyone with UI access may see: counts, never the numbers, and nothing of the
    accounts but the carriers' names (no account numbers, PINs or billing telephone numbers).
    """
    return {
        "customer": request.customer.name,
        "losing_carriers": sorted({a.carrier for a in request.accounts}),
        "number_count": len(request.all_numbers),
        "account_count": len(request.accounts),
        "requested_port_date": request.requested_port_date.isoformat(),
        "pm_email": pm_email,
        "started_by": started_by,
    }


def _busy_numbers(request: PortRequest) -> list[str]:
    with session_scope() as s:
        rows = s.exec(select(InventoryNumber).where(col(InventoryNumber.tn).in_(request.all_numbers),
                                                    col(InventoryNumber.released_at).is_(None))).all()
    out = []
    for r in rows:
        if r.request_id == request.id:
            continue
        state = str(r.state.value if hasattr(r.state, "value") else r.state)
        if state == "active":
            out.append(f"{r.tn} was already ported to us by {r.request_id} (it is active in our inventory)")
        else:
            out.append(f"{r.tn} is in {r.request_id} ({state.replace('_', ' ')})")
    return out


async def start_port(
    client: Client,
    request: PortRequest,
    *,
    started_by: str,
    base_dir: Path | None = None,
    expedite: Expedite | None = None,
    options: PortOptions | None = None,
    settings: Settings | None = None,
) -> WorkflowHandle:
    """Start ``request``. Raises :class:`PortRefused` for a duplicate or a number in
    another port; nothing is left half-started (documents are stored content-addressed,
    and the numbers are claimed by the workflow's first step in one transaction)."""
    s = settings or get_settings()
    opts = options or options_from_settings(s)  # first: a bad setting refuses before anything is stored
    ensure_migrated()
    busy = _busy_numbers(request)
    if busy:
        raise PortRefused("numbers already taken: " + "; ".join(busy[:10])
                          + ". Cancel that port first, or remove the numbers from this request.")
    # a request started before is refused by the start itself (REJECT_DUPLICATE, FAIL below):
    # no describe() round trip first
    docs = []
    for d in request.documents:
        path = Path(d.path) if Path(d.path).is_absolute() else (base_dir or Path.cwd()) / d.path
        if not path.exists():
            raise PortRefused(f"document {d.path} ({d.kind.value}) not found: fix the path in the request file")
        order_id = request.order_id(d.account) if d.account is not None else None
        docs.append(documents.put_file(path, kind=d.kind, file_name=path.name, request_id=request.id,
                                       order_id=order_id, uploaded_by=started_by))
    sealed = vault.seal(request)
    port_date = datetime.combine(request.requested_port_date, time(0), UTC)
    try:
        handle = await client.start_workflow(
            PortRequestWorkflow.run,
            PortRequestInput(request=sealed, options=opts, started_by=started_by, expedite=expedite),
            id=request.id,
            task_queue=s.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=initial_search_attributes(
                request_id=request.id, customer=request.customer.name if opts.search_customer_name else None,
                carriers=sorted({a.carrier for a in request.accounts}), port_date=port_date, status="intake",
            ),
            memo=request_memo(request, pm_email=opts.pm_email, started_by=started_by),
            static_summary=f"Port {request.id}: {request.customer.name}, {len(request.all_numbers)} numbers "
                           f"from {', '.join(sorted({a.carrier for a in request.accounts}))}",
            static_details=(f"Requested port date {request.requested_port_date}. Contact {request.contact.name}; "
                            f"signer {request.signer.name} ({request.signer.title}). PM {opts.pm_email}."),
        )
    except WorkflowAlreadyStartedError:
        raise PortRefused(f"{request.id} was already started: see `python starter.py status {request.id}`") from None
    for doc in docs:
        # the worker may be down: the port has started and keeps the document once it is back
        try:
            await asyncio.wait_for(handle.execute_update(PortRequestWorkflow.attach_document,
                                                         AttachDocument(actor=started_by, document=doc)), timeout=60)
        except TimeoutError:
            raise TimeoutError(f"{request.id} started, but attaching {doc.file_name} timed out (is a worker running?): "
                              f"attach it again with `python starter.py attach {request.id} ...`") from None
    return handle


async def attach(client: Client, request_id: str, content: Path | bytes, kind: DocumentKind, *, actor: str,
                 order_id: str | None = None, file_name: str | None = None) -> RequestView:
    """Store a document (a file, or the bytes of an upload named ``file_name``) and hand it to
    the request's workflow, which moves the documents stage on when it was the last one."""
    if isinstance(content, bytes):
        doc = documents.put_bytes(content, kind=kind, file_name=file_name or "", request_id=request_id,
                                  order_id=order_id, uploaded_by=actor)
    else:
        doc = documents.put_file(content, kind=kind, file_name=file_name or content.name, request_id=request_id,
                                 order_id=order_id, uploaded_by=actor)
    handle = client.get_workflow_handle(request_id)
    return await handle.execute_update(PortRequestWorkflow.attach_document, AttachDocument(actor=actor, document=doc))


async def status(client: Client, request_id: str) -> RequestView:
    handle = client.get_workflow_handle(request_id)
    return await handle.query(PortRequestWorkflow.status)
