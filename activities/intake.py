"""Intake: the request and its timeline in the database, its numbers claimed."""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

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
    """Append a status change to the database timeline (idempotent on subject, target, time)."""
    with session_scope() as s:
        try:
            requests.set_status(session=s, subject=inp.change.subject, change=inp.change)
        except requests.StatusConflict as exc:
            # The workflow is the source of truth: a stale row must not stop the port.
            activity.logger.warning("timeline conflict for %s: %s", inp.change.subject, exc)
        except requests.UnknownSubject:
            # a request refused at intake was never saved (its numbers were taken): its FAILED
            # end lives in the workflow's history only; retrying would never succeed
            activity.logger.warning("no saved request or order %s: status %s kept in the workflow only",
                                    inp.change.subject, inp.change.to_status)
