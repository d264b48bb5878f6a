"""``/v1/cases`` over HTTP against a dev server and the production worker: the same case
commands as ``starter.py case ...`` with API keys' roles, problem+json refusals (401, 403,
404, 409, 422) and Idempotency-Key (one case for a retried open)."""

from __future__ import annotations

from store.api_keys import create_key
from tests.api.v1.test_api_dev_server import auth, serve
from tests.cli.conftest import Harness, cli  # noqa: F401 - the harness fixture
from tests.local_servers import dev_env  # noqa: F401 - the session's dev server
from tests.polling import eventually

OPS_OWNER = "olga.ops@provider.example"


async def test_a_case_over_http(cli: Harness) -> None:  # noqa: F811
    ops = create_key(OPS_OWNER, "ops")[1]
    read = create_key("reader@provider.example", "read")[1]
    async with cli.worker(), serve(cli) as http:
        body = {"priority": "P2", "summary": "calls drop on transfer for the front desk", "customer": cli.customer,
                "contact": "lee@acme.example", "language": "pt"}
        assert (await http.post("/v1/cases", json=body)).status_code == 401
        assert (await http.post("/v1/cases", json=body, headers=auth(read))).status_code == 403
        bad = await http.post("/v1/cases", json={**body, "priority": "P9"}, headers=auth(ops))
        assert bad.status_code == 422 and "P1, P2, P3, P4" in bad.json()["detail"]
        assert bad.headers["content-type"].startswith("application/problem+json")

        first = await http.post("/v1/cases", json=body, headers=auth(ops, "open-1"))
        assert first.status_code == 201, first.text
        cid = first.json()["case_id"]
        assert first.headers["location"] == f"/v1/cases/{cid}" and first.json()["state"] == "new"
        assert first.json()["opened_by"] == OPS_OWNER and first.json()["first_response_due"]
        again = await http.post("/v1/cases", json=body, headers=auth(ops, "open-1"))
        assert again.status_code == 201 and again.json()["case_id"] == cid
        assert again.headers["idempotent-replayed"] == "true"

        moved = await http.post(f"/v1/cases/{cid}/respond", json={"note": "looking at the SIP traces"},
                                headers=auth(ops))
        assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == "in_progress" and moved.json()["history"][-1]["by"] == OPS_OWNER
        raised = await http.post(f"/v1/cases/{cid}/priority", json={"priority": "P1", "note": "whole floor"},
                                 headers=auth(ops))
        assert raised.status_code == 200 and raised.json()["priority"] == "P1"
        refused = await http.post(f"/v1/cases/{cid}/reopen", json={"note": "still broken"}, headers=auth(ops))
        assert refused.status_code == 409 and "only a resolved case" in refused.json()["detail"]
        short = await http.post(f"/v1/cases/{cid}/update", json={"note": "x"}, headers=auth(ops))
        assert short.status_code == 422

        read_back = await http.get(f"/v1/cases/{cid}", headers=auth(read))
        assert read_back.status_code == 200 and [e["action"] for e in read_back.json()["history"]] == \
            ["open", "respond", "priority"]
        missing = await http.get("/v1/cases/case-1999-0001", headers=auth(read))
        assert missing.status_code == 404

        async def listed() -> list:
            return (await http.get("/v1/cases", params={"priority": "P1"}, headers=auth(read))).json()

        rows = await eventually(listed, lambda r: any(x["case_id"] == cid for x in r), what="the case listed",
                                timeout=30, interval=1)
        assert next(x for x in rows if x["case_id"] == cid)["state"] == "in_progress"

        closed = await http.post(f"/v1/cases/{cid}/close", json={"note": "transfers work again"}, headers=auth(ops))
        assert closed.status_code == 200 and closed.json()["state"] == "closed"
        late = await http.post(f"/v1/cases/{cid}/update", json={"note": "one more thing"}, headers=auth(ops))
        assert late.status_code == 409 and "is closed" in late.json()["detail"]
