"""Support cases from the outside (CLI, API, tests): open, act, look, list.

A case is a ``SupportCaseWorkflow`` whose id is its case id: ``case-<year>-<n>`` for a case a
person opens (``store.cases``), ``case-<order id>-<trigger>`` for one a snapback opened. Every
refusal is a :class:`CaseProblem` whose message says what to fix.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings, get_settings
from core.text import shorten
from models.request import Language
from models.support import CASE_ID_PREFIX, CaseAction, CaseCommand, CaseInput, CaseView, Priority
from workflows.support_case import SupportCaseWorkflow

CASE_ID = re.compile(r"^case-[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}$")
# words that never belong in a case summary or note (the mail and the UI show them in clear)
SECRET_WORDS = re.compile(r"\b(pin|passcode|password|account\s*(number|no\.?|#))\b", re.IGNORECASE)
UPDATE_TIMEOUT = timedelta(seconds=20)  # a worker answers a case's update in well under a second
SUMMARY_EXAMPLE = '--summary "calls to the main number drop after 2 rings"'


class CaseProblem(Exception):
    """A case command refused: the message says what to fix. ``kind``: ``input`` (the arguments),
    ``state`` (the case's state refuses it), ``missing`` (no such case), ``unavailable``
    (Temporal or the worker did not answer): the API answers 422, 409, 404 and 503."""

    def __init__(self, message: str, kind: str = "input") -> None:
        super().__init__(message)
        self.kind = kind


def case_id_of(text: str) -> str:
    value = text.strip()
    if value and not value.lower().startswith(CASE_ID_PREFIX):
        value = CASE_ID_PREFIX + value
    if not CASE_ID.match(value):
        raise CaseProblem(f"'{shorten(text, 40)}' is not a case id: write it as case-2026-0001 (see `starter.py case list`)")
    return value


def priority_of(text: str) -> Priority:
    value = text.strip().upper()
    try:
        return Priority(value if value.startswith("P") else f"P{value}")
    except ValueError:
        raise CaseProblem(f"priority '{shorten(text, 20)}' is not one of P1, P2, P3, P4 "
                          "(P1 site down, P2 several users affected, P3 one user down, P4 minor)") from None


def text_of(value: str, option: str, example: str, *, lo: int = 3, hi: int = 2000) -> str:
    clean = " ".join(value.split())
    if len(clean) < lo:
        raise CaseProblem(f"{option} is too short: say what happened, e.g. {example}")
    if len(clean) > hi:
        raise CaseProblem(f"{option} is {len(clean):,} characters long, more than {hi:,}: shorten it")
    if SECRET_WORDS.search(clean):
        raise CaseProblem(f"{option} mentions a PIN, passcode or account number: cases are mailed and shown in "
                          "clear, leave secrets out (the port's vault keeps them)")
    return clean


def email_of(value: str, option: str) -> str:
    clean = value.strip()
    if not EMAIL.match(clean):
        raise CaseProblem(f"{option} '{shorten(value, 40)}' is not an e-mail address, e.g. {option} lee@acme.example")
    return clean


def at_of(value: str) -> datetime:
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CaseProblem(f"--at '{shorten(value, 40)}' is not a date and time: write it as ISO 8601 with its "
                          "offset, e.g. --at 2027-03-19T23:00-06:00") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise CaseProblem(f"--at {value.strip()[:40]} has no offset: add one (-06:00 for Mountain Time, Z for UTC)")
    return at.astimezone(UTC)


def _request_contact(request_id: str) -> tuple[str, str, Language, str] | None:
    """(customer, contact e-mail, language, time zone) of a stored request, or None when the store has none."""
    from store.db import ensure_migrated, session_scope
    from store.requests import load_request

    ensure_migrated()
    with session_scope() as s:
        req = load_request(session=s, request_id=request_id)
        if req is None:
            return None
        return req.customer.name, str(req.contact.email), req.customer.language, req.time_zone


async def open_case(client: Client, *, customer: str | None, priority: str, summary: str, opened_by: str,
                    request_id: str | None = None, contact: str | None = None, language: str | None = None,
                    settings: Settings | None = None, case_id: str | None = None) -> CaseView:
    """Open a case (``case_id`` None: the next ``case-<year>-<n>``) and return its first view."""
    s = settings or get_settings()
    prio = priority_of(priority)
    summary = text_of(summary, "--summary", SUMMARY_EXAMPLE, hi=500)
    known = None
    if request_id is not None:
        request_id = request_id.strip().upper()
        if not re.match(r"^PR-\d{4}-\d{4,}$", request_id):
            raise CaseProblem(f"--request '{shorten(request_id, 30)}' is not a request id such as PR-2026-0042")
        known = _request_contact(request_id)
        if known is None:
            raise CaseProblem(f"no request {request_id} in the database: check the id with `starter.py list`")
    name = (customer or (known[0] if known else "")).strip()
    if not 1 <= len(name) <= 200:
        raise CaseProblem("--customer is the customer's name (1 to 200 characters), e.g. --customer \"Acme Dental\""
                          + ("" if request_id else "; or give --request PR-... to take it from the port"))
    mail = email_of(contact, "--contact") if contact else (known[1] if known else None)
    if mail is None:
        raise CaseProblem("--contact is the customer's e-mail for the case's updates, e.g. --contact lee@acme.example "
                          "(or --request PR-... to take the port's contact)")
    lang = known[2] if known and not language else None
    if language:
        try:
            lang = Language(language.strip().lower())
        except ValueError:
            raise CaseProblem(f"--language '{shorten(language, 10)}' is not one of en, es, pt, fr") from None
    if case_id is None:
        from store.cases import allocate_case_id
        from store.db import ensure_migrated

        ensure_migrated()
        case_id = allocate_case_id()
    try:
        inp = CaseInput(case_id=case_id, customer_name=name, language=lang or Language.EN, contact_email=mail,
                        priority=prio, summary=summary, opened_by=opened_by, request_id=request_id,
                        pm_email=s.pm_email, ops_email=s.ops_email, reopen_days=s.case_reopen_days,
                        support_timezone=s.support_timezone, continue_after_events=s.case_continue_after_events,
                        customer_timezone=known[3] if known else None)
    except ValidationError as exc:
        raise CaseProblem("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    try:
        handle = await client.start_workflow(SupportCaseWorkflow.run, inp, id=case_id, task_queue=s.temporal_task_queue,
                                             id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                                             id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                                             static_summary=f"{prio.value} support case")
        return await handle.execute_update(SupportCaseWorkflow.opened, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowAlreadyStartedError:
        raise CaseProblem(f"case {case_id} exists already: the case id counter is behind the server's; "
                          "point PORTFLOW_DATABASE_URL at the right database", "state") from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise CaseProblem(f"case {case_id} is opened, but no worker answered in time: it goes on once a worker runs "
                          f"(`python worker.py`); see `starter.py case status {case_id}`", "unavailable") from None
    except RPCError as err:
        raise _translate(err, case_id) from None


async def act(client: Client, target: str, action: str | CaseAction, *, by: str, note: str = "",
              priority: str | None = None, at: str | None = None) -> CaseView:
    """One move on a case (respond, update, wait, resolve, reopen, close, priority, plan_change)."""
    cid = case_id_of(target)
    what = CaseAction(action)
    fields: dict[str, Any] = dict(case_id=cid, action=what, by=by)
    if what != CaseAction.PRIORITY or note:
        fields["note"] = text_of(note, "--note", '--note "restarted the SBC; calls route again"')
    if priority is not None:
        fields["priority"] = priority_of(priority)
    if at is not None:
        fields["at"] = at_of(at)
    try:
        cmd = CaseCommand(**fields)
    except ValidationError as exc:
        raise CaseProblem("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
    handle = client.get_workflow_handle(cid)
    try:
        return await handle.execute_update(SupportCaseWorkflow.act, cmd, rpc_timeout=UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise CaseProblem(str(getattr(cause, "message", None) or cause or err), "state") from None
    except RPCError as err:
        raise await _rpc_problem(client, err, cid) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise _translate(err, cid) from None


async def status(client: Client, target: str) -> CaseView:
    cid = case_id_of(target)
    try:
        return await client.get_workflow_handle(cid).query(SupportCaseWorkflow.status, rpc_timeout=UPDATE_TIMEOUT)
    except RPCError as err:
        raise await _rpc_problem(client, err, cid) from None
    except WorkflowQueryFailedError as err:
        raise _translate(err, cid) from None


def _translate(err: BaseException, cid: str) -> Exception:
    """The port commands' one-line messages for the other Temporal errors (no worker, no server)."""
    from portflow.cli.errors import translate

    return CaseProblem(translate(err, cid).message, "unavailable")


async def _rpc_problem(client: Client, err: RPCError, cid: str) -> Exception:
    """A missing case, or a closed one (an update to a closed workflow is NOT_FOUND too)."""
    if err.status != RPCStatusCode.NOT_FOUND:
        return _translate(err, cid)
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

    try:  # raw: a closed case may hold an unset NextDeadline that describe() cannot decode on some servers
        await client.workflow_service.describe_workflow_execution(DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=cid)))
    except RPCError:
        return CaseProblem(f"no case {cid}: see `starter.py case list`", "missing")
    return CaseProblem(f"case {cid} is closed: open a new case that refers to it "
                       f"(`starter.py case open ... --summary \"follow-up of {cid}: ...\"`)", "state")


async def list_cases(client: Client, *, state: str | None = None, priority: str | None = None,
                     limit: int = 100) -> list[dict[str, Any]]:
    """Cases by visibility (search attributes only: id, priority, state, next deadline, escalated)."""
    query = "WorkflowType = 'SupportCaseWorkflow'"
    if state:
        if state.strip() not in {"new", "in_progress", "waiting_on_customer", "resolved", "closed"}:
            raise CaseProblem(f"--state '{shorten(state, 20)}' is not one of new, in_progress, waiting_on_customer, "
                              "resolved, closed")
        query += f" AND PortflowCaseState = '{state.strip()}'"
    if priority:
        query += f" AND PortflowCasePriority = '{priority_of(priority).value}'"
    from workflows import search

    rows = []
    try:
        async for wf in client.list_workflows(query, limit=limit):
            sa = wf.typed_search_attributes
            rows.append({"case_id": wf.id, "priority": sa.get(search.CASE_PRIORITY) or "-",
                         "state": sa.get(search.CASE_STATE) or "-", "next_deadline": sa.get(search.NEXT_DEADLINE),
                         "escalated": bool(sa.get(search.ESCALATED)), "started": wf.start_time})
    except RPCError as err:
        raise _translate(err, "case list") from None
    return rows
