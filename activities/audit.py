"""The worker's half of ``workflows.audit``: status changes an activity carries in its
``portflow-audit`` header are written to the store before the activity runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from temporalio import activity, workflow
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from models.status import StatusChange
from models.workflow import AuditInput
from store import requests, webhooks
from store.db import session_scope
from workflows import audit

log = logging.getLogger(__name__)

Recorder = Callable[[list[StatusChange]], None]


def record_changes(changes: list[StatusChange]) -> None:
    """Append status changes to the database timeline, in order, in one transaction; a change
    already there is kept once. The workflow is the truth: a stale row is logged, not fatal.
    The outgoing webhooks' deliveries of the changes are queued in the same transaction
    (``store.webhooks.enqueue``, once per subscription and change)."""
    with session_scope() as s:
        recorded: list[StatusChange] = []
        for change in changes:
            try:
                requests.set_status(session=s, subject=change.subject, change=change)
                recorded.append(change)
            except requests.StatusConflict as exc:
                log.warning("timeline conflict for %s: %s", change.subject, exc)
            except requests.UnknownSubject:
                # a request refused at intake was never saved (its numbers were taken): its
                # FAILED end lives in the workflow's history only
                log.warning("no saved request or order %s: status %s kept in the workflow only",
                            change.subject, change.to_status)
        webhooks.enqueue(session=s, changes=recorded)


class _Activity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, record: Recorder) -> None:
        super().__init__(next)
        self.record = record

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        carried = input.headers.get(audit.HEADER)
        if carried is not None:
            batch = activity.payload_converter().from_payload(carried, AuditInput)
            await asyncio.get_running_loop().run_in_executor(input.executor, self.record, batch.changes)
        return await super().execute_activity(input)


class _Outbound(WorkflowOutboundInterceptor):
    """In the workflow: every activity it starts carries the changes not yet confirmed."""

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        trail = audit.trail_of(workflow.instance())
        if trail is None or input.activity == audit.FLUSH_ACTIVITY or all(e.confirmed for e in trail.entries):
            return super().start_activity(input)
        batch = trail.take()
        input.headers = {**input.headers, audit.HEADER: workflow.payload_converter().to_payload(trail.payload(batch))}
        handle = super().start_activity(input)
        handle.add_done_callback(lambda h: trail.settled(batch, not h.cancelled() and h.exception() is None))
        return handle


class _Workflow(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))


class AuditInterceptor(Interceptor):
    """Both halves: the workflows attach their unconfirmed changes to each activity, the
    activities write them (``record`` is the store by default; tests may watch instead)."""

    def __init__(self, record: Recorder = record_changes) -> None:
        self.record = record

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Activity(next, self.record)

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        return _Workflow


INTERCEPTORS = [AuditInterceptor()]
