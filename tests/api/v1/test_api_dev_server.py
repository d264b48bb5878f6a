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
        assert again.headers["idempotent-replayed"] == "true" and again.headers["location"] == f"/v1/ports/{rid}"
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

        # assign (pm), retried: the order shows the number assigned, the second call changes nothing
        tn = order["numbers"][0]["tn"]
        for _ in range(2):
            resp = await http.post(f"/v1/ports/{rid}/assign", json={"assignments": {tn: "ana@northwind.example"}},
                                   headers=auth(pm, "assign-1"))
            assert resp.status_code == 200, resp.text
        shown = {n["tn"]: n["assigned_to"] for o in resp.json()["orders"] for n in o["numbers"]}
        assert shown[tn] == "ana@northwind.example"
        bad = await http.post(f"/v1/ports/{rid}/assign", json={"assignments": {"+19995550100": "x@y.example"}},
                              headers=auth(pm))
        assert bad.status_code in (409, 422) and "+19995550100" in bad.json()["detail"]
        # amend (pm): the rules `starter.py amend` applies, then the order's own validator
        nothing = await http.post(f"/v1/ports/{rid}-1/amend", json={"reason": "nothing to change"}, headers=auth(pm))
        assert nothing.status_code == 422 and "nothing to amend" in nothing.json()["detail"]
        unprintable = await http.post(f"/v1/ports/{rid}-1/amend", json={"reason": "name fix", "entity_name": "Acme \x07"},
                                      headers=auth(pm))
        assert unprintable.status_code == 422 and "entity_name: the LOA cannot print" in unprintable.json()["detail"]
        amended = await http.post(f"/v1/ports/{rid}-1/amend", headers=auth(pm, "amend-1"),
                                  json={"reason": "the name as on the bill", "entity_name": "Northwind Pediatrics LLC"})
        assert amended.status_code in (200, 202), amended.text
        assert amended.json()["order_id"] == f"{rid}-1"
        # expedite is refused once the documents stage has passed: the workflow's own validator, as a 409
        late = await http.post(f"/v1/ports/{rid}/expedite", json={"reason": "the customer moves offices"},
                               headers=auth(pm))
        assert late.status_code == 409 and "an expedite waives the documents lead time" in late.json()["detail"]
        # the order-level steps reach the order's validators, ops allowed for verify and activate
        for path, payload, key in (("approve", {"note": "ok"}, pm), ("verify", {"ok": True, "notes": "calls work"}, ops),
                                   ("activate", {"reason": "customer ready"}, ops)):
            resp = await http.post(f"/v1/ports/{rid}-1/{path}", json=payload, headers=auth(key))
            assert resp.status_code == 409, (path, resp.text)
            assert resp.json()["type"] == "urn:portflow:problem:refused-by-port"

        # paging: a page of one order, then the next one
        first_page = (await http.get("/v1/ports", params={"kind": "order", "limit": 1}, headers=auth(read))).json()
        assert len(first_page["items"]) == 1 and first_page["next_cursor"]
        second = (await http.get("/v1/ports", params={"kind": "order", "limit": 1, "cursor": first_page["next_cursor"]},
                                 headers=auth(read))).json()
        assert len(second["items"]) == 1 and second["items"][0]["id"] != first_page["items"][0]["id"]
        bad = await http.get("/v1/ports", params={"cursor": "!!not-ours"}, headers=auth(read))
        assert bad.status_code == 422 and bad.json()["problems"][0]["code"] == "invalid_cursor"

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


async def test_two_identical_starts_at_once_make_one_port(cli: Harness) -> None:  # noqa: F811
    pm = create_key(PM_OWNER, "pm")[1]
    async with cli.worker(), serve(cli) as http:
        body = body_of(cli)
        answers = await asyncio.gather(*(http.post("/v1/ports", json=body, headers=auth(pm, "same-start"))
                                         for _ in range(2)))
        fresh = [a for a in answers if a.status_code == 201 and "idempotent-replayed" not in a.headers]
        assert len(fresh) == 1, [(a.status_code, a.text[:200]) for a in answers]
        other = next(a for a in answers if a is not fresh[0])
        # still running when the duplicate came: 409; already done: the first answer again
        assert other.status_code == 409 or other.json() == fresh[0].json(), other.text
        if other.status_code == 409:
            assert other.json()["type"] == "urn:portflow:problem:idempotency-in-progress"
            retried = await http.post("/v1/ports", json=body, headers=auth(pm, "same-start"))
            assert retried.status_code == 201 and retried.json() == fresh[0].json()
        listed = await eventually(
            lambda: http.get("/v1/ports", params={"customer": cli.customer}, headers=auth(pm)),
            lambda r: r.status_code == 200 and r.json()["items"], what="the port listed")
        assert [row["id"] for row in listed.json()["items"]] == [fresh[0].json()["id"]]
