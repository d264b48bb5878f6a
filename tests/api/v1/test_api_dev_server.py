"""The REST API over HTTP (uvicorn on a local port) against a Temporal dev server and the
production worker: start a port from JSON, act on it, read it back; the 401/403/409/422
paths; idempotent retries (the same key twice: one port, one action)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
import yaml

from api.app import create_app
from store.api_keys import create_key
from tests.cli.conftest import EXAMPLES, Harness, business_days_ahead, cli  # noqa: F401 - the harness fixture
from tests.local_servers import dev_env, free_ports  # noqa: F401 - the session's dev server
from tests.polling import eventually

PM_OWNER = "dana.pm@provider.example"


@asynccontextmanager
async def serve(h: Harness) -> AsyncIterator[httpx.AsyncClient]:
    """The service on a free local port, sharing the test's Temporal client; an HTTP client to it."""
    [port] = free_ports(1)
    server = uvicorn.Server(uvicorn.Config(create_app(client=h.client), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, what="uvicorn up", timeout=20)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            yield http
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


def body_of(h: Harness) -> dict[str, Any]:
    path = h.request_file(port_date=business_days_ahead(30), documents=False)
    data = yaml.safe_load(path.read_text("utf-8"))
    data.pop("documents", None)
    data["requested_port_date"] = str(data["requested_port_date"])
    return data


def auth(token: str, key: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **({"Idempotency-Key": key} if key else {})}


async def test_a_port_started_acted_on_and_read_back_over_http(cli: Harness) -> None:  # noqa: F811
    pm = create_key(PM_OWNER, "pm")[1]
    ops = create_key("ops@provider.example", "ops")[1]
    read = create_key("reader@provider.example", "read")[1]
    async with cli.worker(), serve(cli) as http:
        body = body_of(cli)
        assert (await http.post("/v1/ports", json=body)).status_code == 401
        assert (await http.post("/v1/ports", json=body, headers=auth(read))).status_code == 403

        # start, then the same request retried: one port, the first answer
        first = await http.post("/v1/ports", json=body, headers=auth(pm, "start-1"))
        assert first.status_code == 201, first.text
        rid = first.json()["id"]
        assert first.headers["location"] == f"/v1/ports/{rid}"
        assert first.json()["port"]["status"] == "documents" and first.json()["orders"] == [f"{rid}-1", f"{rid}-2"]
        again = await http.post("/v1/ports", json=body, headers=auth(pm, "start-1"))
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        changed = await http.post("/v1/ports", json={**body, "notes": "other"}, headers=auth(pm, "start-1"))
        assert changed.status_code == 422 and changed.json()["problems"][0]["code"] == "idempotency_key_reused"
        listed = await eventually(
            lambda: http.get("/v1/ports", params={"customer": cli.customer}, headers=auth(read)),
            lambda r: r.status_code == 200 and r.json()["items"], what="the port listed")
        assert [row["id"] for row in listed.json()["items"]] == [rid]  # one port, not two

        # the same numbers again under a new key: refused, nothing started
        dup = await http.post("/v1/ports", json=body, headers=auth(pm, "start-2"))
        assert dup.status_code == 409 and dup.json()["problems"][0]["code"] in ("numbers_taken", "duplicate_request")

        # documents by multipart upload; a retried upload is not attached twice
        docs = [("lumen-csr.pdf", "csr", 1), ("lumen-bill.pdf", "bill", 1), ("comcast-csr.pdf", "csr", 2),
                ("comcast-bill.pdf", "bill", 2)]
        for name, kind, order in docs:
            content = (EXAMPLES / "documents" / name).read_bytes()
            for _ in range(2):
                resp = await http.post(f"/v1/ports/{rid}/documents", headers=auth(pm, f"doc-{name}"),
                                       files={"file": (name, content, "application/pdf")},
                                       data={"kind": kind, "order": f"{rid}-{order}"})
                assert resp.status_code == 200, resp.text
        page = resp.json()
        assert len(page["documents"]) == 4 and not page["missing_documents"]
        assert {d["uploaded_by"] for d in page["documents"]} == {PM_OWNER}

        page = (await eventually(lambda: http.get(f"/v1/ports/{rid}", headers=auth(read)),
                                 lambda r: r.json()["status"] == "loa_sent", what="LOAs out")).json()
        assert [o["status"] for o in page["orders"]] == ["loa_sent", "loa_sent"]
        assert page["next"]["waiting_on"] == "signer" and page["timeline"]
        order = (await http.get(f"/v1/ports/{rid}-1", headers=auth(read))).json()
        assert order["order_id"] == f"{rid}-1" and order["carrier"]

        # ops may record carrier events, but the order has not reached the carrier: 409 from its state
        early = await http.post(f"/v1/ports/{rid}-1/carrier-events", json={"foc": "2027-01-05T09:00-05:00"},
                                headers=auth(ops))
        assert early.status_code == 409 and "has not been submitted" in early.json()["detail"]
        assert (await http.post(f"/v1/ports/{rid}/cancel", json={"reason": "customer stays"},
                                headers=auth(ops))).status_code == 403

        # cancel order 2, retried: one cancel, by the key's owner, on the timeline
        for _ in range(2):
            resp = await http.post(f"/v1/ports/{rid}-2/cancel", json={"reason": "the clinic stays with Comcast"},
                                   headers=auth(pm, "cancel-2"))
            assert resp.status_code in (200, 202), resp.text
        order2 = (await eventually(lambda: http.get(f"/v1/ports/{rid}-2", headers=auth(read)),
                                   lambda r: r.json()["status"] == "cancelled", what="order 2 cancelled")).json()
        cancels = [c for c in order2["timeline"] if c["to_status"] == "cancelled"]
        assert len(cancels) == 1 and cancels[0]["actor"] == PM_OWNER
        bad = await http.post(f"/v1/ports/{rid}-2/cancel", json={"reason": "again"}, headers=auth(pm))
        assert bad.status_code in (404, 409) and bad.headers["content-type"] == "application/problem+json"
        assert (await http.get("/v1/ports/PR-2099-0001", headers=auth(read))).status_code == 404
