"""Intake: the request and its timeline in the database, its numbers claimed."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.audit import record_changes
from models.workflow import AuditInput, RecordRequestInput, RequestRecorded
from store import inventory, requests
from store.db import session_scope
from store.inventory import NumberInAnotherPort
from store.vault import UnsealedSecret


@activity.defn(name="record_request")
def record_request(inp: RecordRequestInput) -> RequestRecorded:
    """Save the (sealed) request and claim every number for its order, in one transaction.

    A number already in another active port refuses the whole request (the database's
    unique index decides races). Re-running for the same request is a no-op.
    """
    req = inp.request
    try:
        with session_scope() as s:
            requests.save_request(session=s, request=req, pm_email=inp.pm_email)
            for part in req.order_parts():
                inventory.claim_numbers(session=s, request_id=req.id, order_id=part.order_id, tns=part.numbers)
    except NumberInAnotherPort as exc:
        raise ApplicationError(str(exc), type="NumberInAnotherPort", non_retryable=True) from None
    except UnsealedSecret as exc:
        raise ApplicationError(str(exc), type="UnsealedSecret", non_retryable=True) from None
    return RequestRecorded(request_id=req.id, numbers=len(req.all_numbers))


@activity.defn(name="record_status")
def record_status(inp: AuditInput) -> None:
    """Append status changes to the database timeline (idempotent on subject, target, time):
    the changes no activity carried to the store (``workflows.audit``)."""
    record_changes(inp.changes)