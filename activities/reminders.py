"""The reminder sweep: find the ports at risk by visibility queries, tell their people once a day.

``plan_reminders`` runs on the sweep's local date (``PORTFLOW_REMINDER_TIME_ZONE``): on a
weekend or a holiday of the porting calendar it looks at nothing. Otherwise it runs one
visibility query per rule on the ports' search attributes (``build_queries``), asks each
port found for its ``status`` (the live answer: visibility lags a little), and writes one
digest per PM and one reminder per customer contact and port. ``send_reminder`` delivers a
message and writes one ledger mark per (date, rule, port, recipient) it told, and the next
plan leaves marked items out: a second sweep the same day sends only what is new.

Time zones are converted here, never in the workflow.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from activities.clock import temporal_now
from core.calendar import PortCalendar, zone
from core.settings import Settings, get_settings
from models.notify import Audience, Notification, Recipient
from models.reminders import (
    CUSTOMER_RULES,
    Finding,
    ReminderMessage,
    ReminderPlan,
    Rule,
    SweepInput,
)
from models.status import PortStatus
from models.workflow import NotifyResult, OrderView, RequestView
from providers.notify.base import NotifyError
from providers.notify.dispatch import dispatch
from workflows import search

log = logging.getLogger("portflow.reminders")

REQUEST_WORKFLOW = "PortRequestWorkflow"
ORDER_WORKFLOW = "PortOrderWorkflow"
NO_FOC_STATUSES = (PortStatus.SUBMITTED, PortStatus.CARRIER_PENDING, PortStatus.SUPPLEMENT)
RULE_ORDER = list(Rule)
QUERY_TIMEOUT = timedelta(seconds=10)
LEDGER_KEY_MAX = 255  # store.ledger.MAX_KEY
# RequestView.missing_documents reads "CSR for Lumen (PR-2026-0042-1)"
_MISSING = re.compile(r"^(?P<kind>[A-Za-z_]+) for (?P<carrier>.+?) \((?P<order>[^()]+)\)$")


# ----------------------------------------------------------------------------- the day


def sweep_instant(inp: SweepInput) -> datetime:
    """The instant the sweep counts from: the schedule's nominal time, or now."""
    return (inp.scheduled_at or temporal_now()).astimezone(UTC)


@dataclass(frozen=True)
class SweepDay:
    at: datetime  # UTC
    tz_name: str
    day: date  # the local date in tz_name
    skipped: str | None  # why not a business day

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.tz_name)


def sweep_day(at: datetime, settings: Settings, cal: PortCalendar) -> SweepDay:
    """The sweep's local date in PORTFLOW_REMINDER_TIME_ZONE, and why it is skipped if it is
    no business day (weekend, federal holiday, PORTFLOW_PORTING_HOLIDAYS)."""
    tz_name = settings.reminder_time_zone
    local = at.astimezone(zone(tz_name))
    day = local.date()
    skipped = None
    if not cal.is_business_day(day):
        why = cal.holiday_name(day) or local.strftime("%A")
        skipped = f"{day.isoformat()} is not a business day in {tz_name} ({why}): no reminders"
    return SweepDay(at=at.astimezone(UTC), tz_name=tz_name, day=day, skipped=skipped)


def _ts(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day_start(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0, 0), tz).astimezone(UTC)


@dataclass(frozen=True)
class Cutoffs:
    """The rules' thresholds on one sweep day."""

    docs_last: date  # documents: port date on or before this day
    loa_before: datetime  # LOA unsigned: sent before this instant
    foc_before: datetime  # no FOC: with the carrier since before this instant
    assign_last: date  # numbers unassigned: port date on or before this day


def cutoffs(sd: SweepDay, settings: Settings, cal: PortCalendar) -> Cutoffs:
    # a stage entered on day S has lasted N business days on day D when the business days
    # after S up to D are N or more: S is before the business day after D minus N business days
    foc_from = cal.next_business_day(
        cal.subtract_business_days(sd.day, settings.reminder_no_foc_business_days), include_today=False
    )
    return Cutoffs(
        docs_last=sd.day + timedelta(days=settings.lead_time_days + settings.reminder_documents_margin_days),
        loa_before=sd.at - timedelta(days=settings.reminder_loa_unsigned_days),
        foc_before=_day_start(foc_from, sd.tz),
        assign_last=cal.add_business_days(sd.day, settings.reminder_unassigned_business_days),
    )


def build_queries(cut: Cutoffs) -> dict[Rule, str]:
    """One visibility query per rule.

    PortDate holds the port date at 00:00 UTC, so "port date on or before D" is
    ``PortDate < 'D+1T00:00:00Z'``. StageSince is the instant the port entered its stage.
    """
    running = "ExecutionStatus = 'Running'"
    requests = f"WorkflowType = '{REQUEST_WORKFLOW}' AND {running}"
    orders = f"WorkflowType = '{ORDER_WORKFLOW}' AND {running}"
    statuses = ", ".join(f"'{s.value}'" for s in NO_FOC_STATUSES)
    return {
        Rule.DOCUMENTS_MISSING: f"{requests} AND {search.PORT_STATUS.name} = '{PortStatus.DOCUMENTS.value}' "
        f"AND {search.PORT_DATE.name} < '{cut.docs_last + timedelta(days=1)}T00:00:00Z'",
        Rule.LOA_UNSIGNED: f"{orders} AND {search.PORT_STATUS.name} = '{PortStatus.LOA_SENT.value}' "
        f"AND {search.STAGE_SINCE.name} < '{_ts(cut.loa_before)}'",
        Rule.NO_FOC: f"{orders} AND {search.PORT_STATUS.name} IN ({statuses}) "
        f"AND {search.STAGE_SINCE.name} < '{_ts(cut.foc_before)}'",
        Rule.NUMBERS_UNASSIGNED: f"{orders} AND {search.NUMBERS_UNASSIGNED.name} > 0 "
        f"AND {search.PORT_DATE.name} < '{cut.assign_last + timedelta(days=1)}T00:00:00Z'",
    }


# ----------------------------------------------------------------------------- the ports


@dataclass
class People:
    pm_email: str
    contact_email: str | None
    contact_name: str
    language: str
    time_zone: str
    signer_name: str | None


def _stored_request(request_id: str) -> Any:
    """The saved request (customer, contact, signer, time zone), or None."""
    from store.db import session_scope
    from store.requests import get_request, load_request

    with session_scope() as s:
        row = get_request(session=s, request_id=request_id)
        if row is None:
            return None
        return row.pm_email, row.contact_email, load_request(session=s, request_id=request_id)


class _Ports:
    """Status queries and stored facts for the ports of one sweep, each asked once."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._requests: dict[str, RequestView | None] = {}
        self._people: dict[str, People] = {}

    async def status(self, workflow_id: str, kind: type[RequestView] | type[OrderView]) -> Any:
        try:
            return await self.client.get_workflow_handle(workflow_id).query(
                "status", result_type=kind, rpc_timeout=QUERY_TIMEOUT
            )
        except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError) as exc:
            # finished since the visibility query saw it running, or not answering: the
            # next sweep looks again
            log.warning("reminder sweep: no status from %s (%s): left out today", workflow_id, exc)
            return None

    async def request(self, request_id: str) -> RequestView | None:
        if request_id not in self._requests:
            self._requests[request_id] = await self.status(request_id, RequestView)
        return self._requests[request_id]

    async def people(self, request_id: str, view: RequestView | None) -> People:
        """Who hears of the port: the request's view first, the stored request for what the
        view does not carry (signer, time zone), PORTFLOW_PM_EMAIL when nothing names a PM."""
        if request_id in self._people:
            return self._people[request_id]
        stored = await asyncio.to_thread(_stored_request, request_id)
        pm, contact, req = stored if stored is not None else (None, None, None)
        people = People(
            pm_email=(view.pm_email if view else "") or pm or self.settings.pm_email,
            contact_email=(view.contact_email if view else "") or contact or None,
            contact_name=(view.contact_name if view else "") or (req.contact.name if req else ""),
            language=(view.language if view else "") or (req.customer.language.value if req else "en"),
            time_zone=req.time_zone if req else self.settings.reminder_time_zone,
            signer_name=req.signer.name if req else None,
        )
        self._people[request_id] = people
        return people

    def ui_url(self, workflow_id: str) -> str:
        s = self.settings
        return f"{s.temporal_ui_url.rstrip('/')}/namespaces/{quote(s.temporal_namespace, safe='')}/workflows/{quote(workflow_id, safe='')}"


def _local_date(at: datetime | None, tz: ZoneInfo) -> date | None:
    return at.astimezone(tz).date() if at is not None else None


def _unassigned(view: OrderView) -> list[str]:
    return [n.tn for n in view.numbers if n.assigned_to is None and n.state not in ("released", "not_portable")]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


async def _find(
    rule: Rule, wf: WorkflowExecution, ports: _Ports, sd: SweepDay, cut: Cutoffs, cal: PortCalendar
) -> Finding | None:
    """The finding for one port a query returned, after checking the rule again on its live
    status (the query saw its search attributes, which lag a little behind the workflow)."""
    if wf.status not in (None, WorkflowExecutionStatus.RUNNING):
        return None
    sa = wf.typed_search_attributes
    if rule is Rule.DOCUMENTS_MISSING:
        view = await ports.request(wf.id)
        if (view is None or view.status != PortStatus.DOCUMENTS or not view.missing_documents
                or view.port_date > cut.docs_last):
            return None
        people = await ports.people(view.request_id, view)
        kinds, carriers = [], []
        if view.missing:  # structured since the view carried it
            kinds = [m.kind.value for m in view.missing]
            carriers = [m.carrier for m in view.missing]
        for text in [] if view.missing else view.missing_documents:  # views of older workers
            m = _MISSING.match(text)
            kinds.append(m["kind"].lower() if m else text)
            carriers.append(m["carrier"] if m else "")
        due = cal.documents_due(view.port_date)  # the last day, as the port workflow plans it
        days_left = (due - sd.day).days
        when = "overdue" if days_left < 0 else "due today" if days_left == 0 else f"due in {_plural(days_left, 'day')}"
        line = (
            f"{view.request_id} {view.customer_name}: documents missing ({', '.join(view.missing_documents)}), "
            f"{when} ({due}); port date {view.port_date} - {view.ui_url or ports.ui_url(view.request_id)}"
        )
        return Finding(
            rule=rule, port_id=view.request_id, request_id=view.request_id, customer_name=view.customer_name,
            pm_email=people.pm_email, contact_email=people.contact_email, contact_name=people.contact_name,
            language=people.language, port_date=view.port_date, since=_local_date(view.stage_since, sd.tz),
            missing_documents=kinds, missing_from=carriers, documents_due=due, line=line,
        )

    order = await ports.status(wf.id, OrderView)
    if order is None:
        return None
    request_id = order.request_id or sa.get(search.REQUEST_ID) or wf.id.rsplit("-", 1)[0]
    request = await ports.request(request_id)
    people = await ports.people(request_id, request)
    customer = request.customer_name if request else (sa.get(search.CUSTOMER_NAME) or request_id)
    since_at = order.stage_since or sa.get(search.STAGE_SINCE)
    since = _local_date(since_at, sd.tz)
    contact_since = _local_date(since_at, zone(people.time_zone))
    head = f"{order.order_id} {customer} ({order.carrier})"
    link = ports.ui_url(order.order_id)
    common: dict[str, Any] = dict(
        rule=rule, port_id=order.order_id, request_id=request_id, customer_name=customer, carrier=order.carrier,
        pm_email=people.pm_email, contact_email=people.contact_email, contact_name=people.contact_name,
        language=people.language, port_date=order.port_date, since=since, contact_since=contact_since,
    )
    if rule is Rule.LOA_UNSIGNED:
        if order.status != PortStatus.LOA_SENT or since_at is None or since_at >= cut.loa_before:
            return None
        assert since is not None
        signer = f"; signer {people.signer_name}" if people.signer_name else ""
        line = (f"{head}: LOA unsigned since {since} ({_plural((sd.day - since).days, 'day')}){signer}; "
                f"port date {order.port_date} - {link}")
        return Finding(**common, signer_name=people.signer_name, line=line)
    if rule is Rule.NO_FOC:
        if (order.status not in NO_FOC_STATUSES or order.foc_at is not None or since_at is None
                or since_at >= cut.foc_before):
            return None
        assert since is not None
        waited = cal.business_days_between(since, sd.day)
        said = f", carrier says '{order.carrier_raw_status}'" if order.carrier_raw_status else ""
        line = (f"{head}: no FOC {_plural(waited, 'business day')} after submission on {since} "
                f"(stage {order.status.value}{said}); port date {order.port_date} - {link}")
        return Finding(**common, line=line)
    numbers = _unassigned(order)
    if not numbers or order.port_date > cut.assign_last:
        return None
    left = cal.business_days_between(sd.day, order.port_date)
    when = f"{_plural(left, 'business day')} left" if left > 0 else "today" if left == 0 else "passed"
    line = f"{head}: {_plural(len(numbers), 'number')} not assigned; port date {order.port_date} ({when}) - {link}"
    return Finding(**common, unassigned_numbers=numbers, business_days_left=left if left >= 0 else None, line=line)


# ----------------------------------------------------------------------------- the messages


def mark_key(day: date, rule: Rule, port_id: str, address: str) -> str:
    """The ledger key saying ``address`` was told about ``port_id`` under ``rule`` on ``day``."""
    key = f"reminder:{day.isoformat()}:{rule.value}:{port_id}:{address.lower()}"
    if len(key) <= LEDGER_KEY_MAX:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[: LEDGER_KEY_MAX - len(digest) - 1]}#{digest}"


def _short_hash(items: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(items)).encode("utf-8")).hexdigest()[:12]


def _fresh(findings: list[Finding], day: date, address_of) -> tuple[list[tuple[Finding, str]], int]:
    """(finding, mark) pairs whose recipient was not told today yet, and how many were."""
    from store import ledger

    fresh, told = [], 0
    for f in findings:
        mark = mark_key(day, f.rule, f.port_id, address_of(f))
        if ledger.seen(mark) is None:
            fresh.append((f, mark))
        else:
            told += 1
    return fresh, told


def _sort_key(f: Finding) -> tuple[int, str]:
    return RULE_ORDER.index(f.rule), f.port_id


def compose(findings: list[Finding], day: date, sweep_id: str) -> tuple[list[ReminderMessage], int]:
    """One digest per PM, one reminder per contact and port, each with only what its
    recipient has not been told today; returns the messages and how many items were left
    out as told already."""
    messages: list[ReminderMessage] = []
    told = 0
    by_pm: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_pm[f.pm_email.lower()].append(f)
    for pm, items in sorted(by_pm.items()):
        fresh, n = _fresh(sorted(items, key=_sort_key), day, lambda f: f.pm_email)
        told += n
        if not fresh:
            continue
        marks = [m for _, m in fresh]
        note = Notification(
            key=f"reminders:{day}:digest:{pm}:{_short_hash(marks)}",
            template="digest",
            to=[Recipient(audience=Audience.PM, address=pm, name="PM")],
            request_id=sweep_id,
            context={"digest_date": day.isoformat(), "ports": [f.line for f, _ in fresh]},
        )
        messages.append(ReminderMessage(
            note=note, marks=marks, summary=f"digest to {pm}: {_plural(len(fresh), 'port')} at risk"))

    by_contact: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.rule not in CUSTOMER_RULES:
            continue
        if not f.contact_email:
            log.warning("reminder sweep: %s has no contact e-mail on record: only its PM hears of it", f.port_id)
            continue
        by_contact[(f.request_id, f.contact_email.lower())].append(f)
    for (request_id, contact), items in sorted(by_contact.items()):
        fresh, n = _fresh(sorted(items, key=_sort_key), day, lambda f: f.contact_email or "")
        told += n
        if not fresh:
            continue
        messages.append(_customer_reminder([f for f, _ in fresh], [m for _, m in fresh], day, request_id, contact))
    return messages, told


def _customer_reminder(items: list[Finding], marks: list[str], day: date, request_id: str, contact: str) -> ReminderMessage:
    first = items[0]
    docs = [f for f in items if f.rule is Rule.DOCUMENTS_MISSING]
    loas = [f for f in items if f.rule is Rule.LOA_UNSIGNED]
    assign = [f for f in items if f.rule is Rule.NUMBERS_UNASSIGNED]
    dated = [f for f in assign if f.unassigned_numbers]
    soonest = min(dated, key=lambda f: f.port_date) if dated else None
    context: dict[str, Any] = {
        "customer_name": first.customer_name,
        "port_date": min(f.port_date for f in items).isoformat(),
        "missing_documents": [k for f in docs for k in f.missing_documents],
        "missing_from": [c for f in docs for c in f.missing_from],
        "documents_due": min(f.documents_due for f in docs if f.documents_due).isoformat()
        if any(f.documents_due for f in docs) else None,
        "loa_carriers": sorted({f.carrier or "" for f in loas} - {""}),
        "loa_sent_date": min(f.contact_since for f in loas if f.contact_since).isoformat()
        if any(f.contact_since for f in loas) else None,
        "signer_name": next((f.signer_name for f in loas if f.signer_name), None),
        "unassigned_numbers": sorted({n for f in assign for n in f.unassigned_numbers}),
        "assign_by": soonest.port_date.isoformat() if soonest else None,
        "business_days_left": soonest.business_days_left if soonest else None,
    }
    what = ", ".join(dict.fromkeys(f.rule.value.replace("_", " ") for f in items))
    note = Notification(
        key=f"reminders:{day}:reminder:{request_id}:{contact}:{_short_hash(marks)}",
        template="port_reminder",
        to=[Recipient(audience=Audience.CUSTOMER, address=first.contact_email or contact, name=first.contact_name)],
        language=first.language,
        request_id=request_id,
        context=context,
    )
    return ReminderMessage(note=note, marks=marks, summary=f"reminder to {contact} for {request_id}: {what}")


# ----------------------------------------------------------------------------- activities


@activity.defn(name="plan_reminders")
async def plan_reminders(inp: SweepInput) -> ReminderPlan:
    """Find the ports at risk today and write the messages (sends nothing)."""
    settings = get_settings()
    cal = PortCalendar.from_settings(settings)
    sd = sweep_day(sweep_instant(inp), settings, cal)
    if sd.skipped:
        log.info("reminder sweep: %s", sd.skipped)
        return ReminderPlan(local_date=sd.day, time_zone=sd.tz_name, skipped=sd.skipped)
    cut = cutoffs(sd, settings, cal)
    queries = build_queries(cut)
    client = activity.client()
    ports = _Ports(client, settings)
    findings: list[Finding] = []
    for rule, query in queries.items():
        async for wf in client.list_workflows(query):
            found = await _find(rule, wf, ports, sd, cut, cal)
            if found is not None:
                findings.append(found)
    sweep_id = activity.info().workflow_id or f"reminders-{sd.day}"
    messages, told = await asyncio.to_thread(compose, findings, sd.day, sweep_id)
    log.info("reminder sweep %s: %d port(s) at risk, %d message(s) to send, %d item(s) told already today",
             sd.day, len(findings), len(messages), told)
    return ReminderPlan(
        local_date=sd.day, time_zone=sd.tz_name, queries={r.value: q for r, q in queries.items()},
        findings=findings, messages=messages, already_told=told,
    )


@activity.defn(name="send_reminder")
async def send_reminder(msg: ReminderMessage) -> NotifyResult:
    """Deliver one message of the sweep (once per key: a retry sends only what is missing),
    then mark each item it tells, so no later sweep of the day tells it again."""
    from store import ledger

    try:
        deliveries = await dispatch(msg.note)
    except NotifyError as exc:
        raise ApplicationError(str(exc), type=type(exc).__name__, non_retryable=not exc.retryable) from exc
    value = {"key": msg.note.key, "channels": [d.channel for d in deliveries]}
    for mark in msg.marks:
        await asyncio.to_thread(ledger.record, mark, value)
    return NotifyResult(channels=[d.channel for d in deliveries], duplicates=sum(d.duplicate for d in deliveries))
