"""A port with two carriers, start to finish, as the PM and ops see it."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from models.status import PortStatus
from store import inventory
from store.db import session_scope
from tests.settings_helpers import use_settings
from tests.workflows.helpers import attach_all, record_histories, order, sample_request, sign_all, start, wait_for
from worker import build_worker
from workflows.port_request import PortRequestWorkflow


@pytest.fixture
def settings_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_settings(monkeypatch, TEMPORAL_TASK_QUEUE=task_queue, VERIFICATION="auto")
    return port_var


async def test_two_carrier_port_runs_to_completion(env: WorkflowEnvironment, settings_env: Path, tmp_path: Path) -> None:
    req = sample_request()
    async with build_worker(env.client):
        handle = await start(env.client, req)
        view = await wait_for(handle, lambda v: v.status == PortStatus.DOCUMENTS, what="documents stage")
        assert len(view.missing_documents) == 4  # CSR and bill for each of the two accounts
        assert view.next.waiting_on == "customer"

        await attach_all(env.client, req, tmp_path)
        view = await wait_for(handle, lambda v: len(v.orders) == 2 and all(o.status == PortStatus.LOA_SENT for o in v.orders),
                              what="both LOAs sent")
        assert order(view, 0).next.waiting_on == "signer"

        # the PM assigns every number before the port day
        await handle.execute_update("assign", {"actor": "pm@provider.example",
                                               "assignments": {tn: f"user{i}@contoso.example" for i, tn in enumerate(req.all_numbers)}})
        await sign_all(env.client, req)
        result = await handle.result()
        final = await handle.query(PortRequestWorkflow.status)
        await record_histories(env.client, "two_carrier_lean", [req.id, req.order_id(0), req.order_id(1)])

    assert result.status == PortStatus.COMPLETED
    assert {o.status for o in final.orders} == {PortStatus.COMPLETED}
    for o in final.orders:
        assert o.foc_at is not None and o.carrier_order_id
        walked = [c.to_status for c in o.timeline]
        for stage in (PortStatus.LOA_SENT, PortStatus.LOA_SIGNED, PortStatus.SUBMITTED, PortStatus.FOC_CONFIRMED,
                      PortStatus.ACTIVATION, PortStatus.PORTED, PortStatus.VERIFIED, PortStatus.COMPLETED):
            assert stage in walked, (o.order_id, walked)
        assert all(c.actor and c.reason for c in o.timeline)

    with session_scope() as s:
        rows = inventory.numbers_of(session=s, request_id=req.id)
    assert sorted(r.tn for r in rows) == sorted(req.all_numbers)
    assert {str(r.state) for r in rows} == {"active"}
    assert all(r.assigned_to for r in rows)

    outbox = settings_env / "outbox"
    subjects = [email.message_from_bytes(p.read_bytes())["Subject"] for p in sorted(outbox.glob("*.eml"))]
    assert len(subjects) >= 8, subjects
    bodies = " ".join(p.read_text(errors="ignore") for p in outbox.glob("*.eml"))
    # secrets never in mail (as whole tokens: a MIME boundary's random digits may hold "4417")
    assert not re.search(r"(?<![0-9])(8831-2207-19|4417)(?![0-9])", bodies), "a secret is in a mail"
