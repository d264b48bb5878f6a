"""The ``portflow-audit`` header (workflows/audit.py) carries status-change reasons with
customer names: it goes through the payload codec (``header_codec_behavior``), and the
worker's activity interceptor (activities/audit.py) still reads it, decrypted before it runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from models.status import PortStatus
from portflow.codec import ENCODING
from store import requests
from store.db import session_scope
from tests.settings_helpers import use_settings
from tests.workflows.helpers import attach_all, sample_request, start, wait_for
from worker import build_worker
from workflows import audit


async def test_audit_headers_are_encrypted_and_still_recorded(env: WorkflowEnvironment, port_var: Path, task_queue: str,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, TEMPORAL_TASK_QUEUE=task_queue)
    req = sample_request()
    async with build_worker(env.client):
        handle = await start(env.client, req)
        await wait_for(handle, lambda v: v.status == PortStatus.DOCUMENTS, what="documents stage")
        await attach_all(env.client, req, tmp_path)
        await wait_for(handle, lambda v: len(v.orders) == 2 and all(o.status == PortStatus.LOA_SENT for o in v.orders),
                       what="both LOAs sent")
    headers = []
    for wid in (req.id, req.order_id(0)):
        async for ev in env.client.get_workflow_handle(wid).fetch_history_events():
            if ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                carried = ev.activity_task_scheduled_event_attributes.header.fields.get(audit.HEADER)
                if carried is not None:
                    headers.append(carried)
    assert headers, "no activity carried a portflow-audit header"
    for carried in headers:
        assert carried.metadata["encoding"] == ENCODING
        assert req.customer.name.encode() not in carried.data and req.id.encode() not in carried.data
    # the interceptor decoded them: the store's timeline has the moves the headers carried
    with session_scope() as s:
        stored = {(e.subject, e.to_status) for e in requests.timeline(session=s, subject_prefix=req.id)}
    assert (req.order_id(0), PortStatus.LOA_SENT.value) in {(a, str(getattr(b, "value", b))) for a, b in stored}, stored
