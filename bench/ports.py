"""Driving real ports for the benchmarks: requests with numbers of their own, the
customer's and PM's steps (documents, assignment, signature), and reading histories.

Only public client APIs (``portflow.ports``, the workflows' updates, the local e-signature)
are used: the benchmarks measure what the production code does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

# Area codes whose exchanges 200-999 phonenumbers accepts: a benchmark never collides with
# itself (each port or account gets its own exchange block).
AREA_CODES = ["212", "312", "415", "617", "303", "206", "404", "512", "713", "602", "305", "612"]

# Instant providers: auto-signing local e-signature, a simulated carrier answering at once
# with an FOC a second after the submission, automatic verification.
INSTANT_PROFILE = """carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 0
    foc_in_seconds: 1
"""
# Row 2's clean order: the carrier confirms the FOC (for the requested date) 5 days after submission.
FIVE_DAY_FOC_PROFILE = """carriers:
  "*":
    behaviour: accept
    answer_after_seconds: 432000
"""


_seq = 0
_block = 0


def next_blocks(n: int) -> int:
    """The first of ``n`` number blocks never used before in this process."""
    global _block
    _block += n
    if _block > len(AREA_CODES) * 800:
        raise RuntimeError("out of number blocks: run fewer ports per process")
    return _block - n


def next_seq() -> int:
    """A request number never used before in this process (ids and number blocks follow it)."""
    global _seq
    _seq += 1
    return _seq


def instant_settings(var: Path, task_queue: str) -> dict[str, object]:
    profile = var / "instant-simulator.yaml"
    profile.write_text(INSTANT_PROFILE)
    return {"TEMPORAL_TASK_QUEUE": task_queue, "ESIGN_PROVIDER": "local", "AUTO_SIGN": "true",
            "CARRIER_PROVIDER": "simulator", "SIMULATOR_PROFILE": profile, "VERIFICATION": "auto",
            "NOTIFY_CHANNELS": '["outbox"]'}


def number_block(index: int, count: int) -> list[str]:
    """``count`` (<= 1000) valid NANP numbers of block ``index`` (one area code + exchange)."""
    area = AREA_CODES[index % len(AREA_CODES)]
    exchange = 200 + (index // len(AREA_CODES)) % 800
    return [f"+1{area}{exchange}{n:04d}" for n in range(count)]


def port_date_ahead(days: int, today: date) -> date:
    from core.calendar import PortCalendar

    return PortCalendar.from_settings().next_business_day(today + timedelta(days=days))


def account(index: int, numbers: int, carrier: str = "Lumen") -> dict[str, Any]:
    tns = number_block(index, numbers)
    return {"carrier": carrier, "account_number": f"8831-{index:04d}-19", "pin": "4417", "btn": tns[0],
            "service_address": {"street": "350 Fifth Ave", "city": "New York", "state": "NY", "postal_code": "10118"},
            "numbers": tns}


def request(seq: int, *, port_date: date, accounts: int = 1, numbers: int = 3, block: int | None = None) -> Any:
    """A valid request ``PR-2099-<seq>`` with ``accounts`` accounts of ``numbers`` numbers each."""
    from models.request import PortRequest

    first = next_blocks(accounts) if block is None else block
    return PortRequest.model_validate({
        "id": f"PR-2099-{seq:05d}",
        "customer": {"name": "Contoso Dental", "language": "en"},
        "contact": {"name": "Ana Ruiz", "email": "ana@contoso.example", "phone": "+12125550199"},
        "signer": {"name": "Luis Ortega", "title": "CFO", "email": "luis@contoso.example"},
        "requested_port_date": port_date.isoformat(),
        "accounts": [account(first + i, numbers) for i in range(accounts)],
    })


async def start(client: Client, req: Any) -> WorkflowHandle:
    from portflow.ports import start_port

    return await start_port(client, req, started_by="pm@provider.example")


async def attach_documents(client: Client, req: Any, tmp: Path) -> None:
    """The customer's CSR and bill for every account (2 updates per account)."""
    from models.request import DocumentKind
    from portflow import ports

    for i, _ in enumerate(req.accounts):
        for kind in (DocumentKind.CSR, DocumentKind.BILL):
            f = tmp / f"{req.id}-{kind.value}-{i}.pdf"
            f.write_bytes(f"%PDF-1.4 {kind.value} of account {i} of {req.id}".encode())
            await ports.attach(client, req.id, f, kind, actor="pm@provider.example", order_id=req.order_id(i))


async def assign_all(handle: WorkflowHandle, numbers: list[str]) -> None:
    await handle.execute_update("assign", {"actor": "pm@provider.example", "assignments": {
        tn: f"user{i}@contoso.example" for i, tn in enumerate(numbers)}})


async def sign_all(client: Client, req: Any, now: datetime | None = None) -> None:
    """The signer signs each order's LOA locally, delivered as ``starter.py sign`` does."""
    from providers.esign.local import LocalESign
    from workflows.port_order import PortOrderWorkflow

    esign = LocalESign(clock=(lambda: now) if now is not None else None)
    for i, _ in enumerate(req.accounts):
        ev = await esign.sign(req.order_id(i), req.signer.name)
        await client.get_workflow_handle(req.order_id(i)).execute_update(PortOrderWorkflow.esign_event, ev)


# --------------------------------------------------------------------------- histories
@dataclass
class HistoryStats:
    workflow_id: str
    events: int
    size: int  # bytes: the sum of the events' serialized sizes
    by_type: Counter[str]
    largest_event: int
    largest_event_type: str
    activities: Counter[str]  # activity type -> times scheduled


def event_name(e: Any) -> str:
    return EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")


async def history_stats(client: Client, workflow_id: str) -> HistoryStats:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    sizes = [(e.ByteSize(), event_name(e)) for e in history.events]
    big = max(sizes)
    acts = Counter(e.activity_task_scheduled_event_attributes.activity_type.name for e in history.events
                   if e.HasField("activity_task_scheduled_event_attributes"))
    return HistoryStats(workflow_id, len(sizes), sum(s for s, _ in sizes), Counter(n for _, n in sizes), big[0], big[1],
                        acts)


def shape_of(events: list[Any]) -> dict[str, int]:
    """What a workflow's history does, as counts the no-op baseline repeats: activities,
    timers, child workflows, search-attribute and memo upserts, signals and updates received
    from clients, signals sent to other workflows."""
    c: Counter[str] = Counter()
    for e in events:
        n = event_name(e)
        if n == "WORKFLOW_EXECUTION_SIGNALED":
            by_workflow = e.workflow_execution_signaled_event_attributes.external_workflow_execution.workflow_id
            c["workflow_signals" if by_workflow else "client_signals"] += 1
            continue
        key = {"ACTIVITY_TASK_SCHEDULED": "activities", "TIMER_STARTED": "timers", "TIMER_FIRED": "timers_fired",
               "START_CHILD_WORKFLOW_EXECUTION_INITIATED": "children",
               "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES": "upserts", "WORKFLOW_PROPERTIES_MODIFIED": "memo_upserts",
               "WORKFLOW_EXECUTION_UPDATE_ACCEPTED": "updates",
               "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED": "signals_sent"}.get(n)
        if key:
            c[key] += 1
    return dict(c)
