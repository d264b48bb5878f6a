"""/v1 without a Temporal server: keys and roles, problem+json for every error, the
offline check as a service, Idempotency-Key on it, and the webhook routes untouched."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from starter import app as cli_app
from store.api_keys import ApiKey, authenticate, create_key, list_keys
from store.db import session_scope
from tests.api.v1.conftest import bearer, request_json

PROBLEM = "application/problem+json"


@pytest.fixture
def api(keys) -> TestClient:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def is_problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == PROBLEM
    body = resp.json()
    assert body["status"] == status and body["type"].startswith("urn:portflow:problem:")
    assert body["title"] and body["detail"] and body["instance"] == resp.request.url.path
    return body


def test_keys_are_stored_hashed_and_checked_in_full(var_dir) -> None:
    info, token = create_key("dana@provider.example", "pm")
    assert token.startswith(f"pf_{info.id}_")
    secret = token.split("_", 2)[2]
    with session_scope() as s:
        row = s.get(ApiKey, info.id)
        assert secret not in row.secret_sha256 and row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert authenticate(token).owner == "dana@provider.example"
    assert authenticate(token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # one character off
    assert authenticate(f"pf_000000000000_{secret}") is None  # another id, same secret
    assert authenticate("") is None and authenticate("x" * 5000) is None


def test_apikey_commands_print_the_key_once_and_never_list_it(var_dir) -> None:
    runner = CliRunner()
    made = runner.invoke(cli_app, ["apikey", "create", "--owner", "ops@provider.example", "--role", "ops"])
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert authenticate(token).role == "ops"
    listed = runner.invoke(cli_app, ["apikey", "list"], env={"COLUMNS": "200"})
    assert "ops@provider.example" in listed.output and token.split("_", 2)[2] not in listed.output
    key_id = token.split("_")[1]
    gone = runner.invoke(cli_app, ["apikey", "revoke", key_id])
    assert gone.exit_code == 0 and "revoked" in gone.output
    assert authenticate(token) is None
    bad = runner.invoke(cli_app, ["apikey", "create", "--owner", "x@y.example", "--role", "admin"])
    assert bad.exit_code == 1 and "is not one of: pm, ops, read" in bad.output
    assert runner.invoke(cli_app, ["apikey", "revoke", "nope"]).exit_code == 1
    assert [k.revoked_at is not None for k in list_keys()] == [True]


def test_without_a_valid_key_401_with_a_challenge(api: TestClient, keys) -> None:
    body = request_json()
    for headers in ({}, bearer("pf_nothing"), bearer(keys["revoked"]), {"X-API-Key": "wrong"}):
        resp = api.post("/v1/checks", json=body, headers=headers)
        is_problem(resp, 401)
        assert resp.headers["www-authenticate"].startswith('Bearer realm="portflow"')
    assert api.post("/v1/checks", json=body, headers={"X-API-Key": keys["read"]}).status_code == 200


def test_a_role_that_may_not_act_gets_403(api: TestClient, keys) -> None:
    for role in ("read", "ops"):
        resp = api.post("/v1/ports", json=request_json(), headers=bearer(keys[role]))
        assert "needs role pm" in is_problem(resp, 403)["detail"]
        resp = api.post("/v1/ports/PR-2026-0042/cancel", json={"reason": "customer stays"}, headers=bearer(keys[role]))
        is_problem(resp, 403)
    resp = api.post("/v1/ports/PR-2026-0042-1/verify", json={"ok": True, "notes": "calls work"},
                    headers=bearer(keys["read"]))
    assert "pm or ops" in is_problem(resp, 403)["detail"]


def test_a_refused_request_lists_every_problem_with_the_checks_codes(api: TestClient, keys) -> None:
    body = request_json("bad-missing-fields.yaml")
    resp = api.post("/v1/ports", json=body, headers=bearer(keys["pm"]))
    problem = is_problem(resp, 422)
    codes = {p["code"] for p in problem["problems"]}
    report = api.post("/v1/checks", json=body, headers=bearer(keys["read"])).json()
    assert report["ok"] is False
    assert codes == {p["code"] for p in report["problems"]}  # the same check, the same codes
    assert len(problem["problems"]) == len(report["problems"]) > 1


def test_documents_are_uploaded_not_named_by_path(api: TestClient, keys) -> None:
    body = request_json()
    body["documents"] = [{"kind": "csr", "path": "/etc/passwd"}]
    report = api.post("/v1/checks", json=body, headers=bearer(keys["pm"])).json()
    assert "documents_by_upload" in {p["code"] for p in report["problems"]} and not report["ok"]


def test_every_error_is_problem_json(api: TestClient, keys) -> None:
    pm = bearer(keys["pm"])
    is_problem(api.post("/v1/checks", content=b"{not json", headers={**pm, "content-type": "application/json"}), 422)
    is_problem(api.post("/v1/checks", content=b"[1,2]", headers={**pm, "content-type": "application/json"}), 422)
    resp = api.post("/v1/checks", content=b"customer: x", headers={**pm, "content-type": "application/yaml"})
    assert is_problem(resp, 415) and resp.headers["accept-post"] == "application/json"
    upload = api.post("/v1/ports/PR-2026-0042/documents", json={"kind": "csr"}, headers=pm)
    assert "multipart/form-data" in is_problem(upload, 415)["detail"]
    big = b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}'
    is_problem(api.post("/v1/checks", content=big, headers={**pm, "content-type": "application/json"}), 413)
    # FastAPI's own validation errors, as problems with a code per field
    bad = api.post("/v1/ports/PR-2026-0042-1/verify", json={"ok": "perhaps"}, headers=pm)
    items = is_problem(bad, 422)["problems"]
    assert {i["where"] for i in items} == {"body:ok", "body:notes"}
    assert {i["code"] for i in items} == {"invalid_field", "missing_field"}
    is_problem(api.get("/v1/nothing-here", headers=pm), 404)
    is_problem(api.delete("/v1/ports", headers=pm), 405)
    is_problem(api.get("/v1/ports/not-a-port", headers=pm), 404)
    resp = api.post("/v1/ports/PR-2026-0042/approve", json={}, headers=pm)
    assert is_problem(resp, 422)["problems"][0]["code"] == "order_id_required"
    is_problem(api.get("/v1/ports?limit=0", headers=pm), 422)


def test_webhook_routes_keep_their_own_errors(api: TestClient) -> None:
    resp = api.post("/webhooks/telnyx", content=b"{}")
    assert resp.status_code in (401, 403, 503) and resp.headers["content-type"] == "application/json"


def test_a_retried_check_gets_the_first_answer(api: TestClient, keys) -> None:
    pm = {**bearer(keys["pm"]), "Idempotency-Key": "check-1"}
    body = request_json()
    first = api.post("/v1/checks", json=body, headers=pm)
    again = api.post("/v1/checks", json=body, headers=pm)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    body["notes"] = "something else"
    problem = is_problem(api.post("/v1/checks", json=body, headers=pm), 422)
    assert problem["problems"][0]["code"] == "idempotency_key_reused"
    # another caller may use the same key for its own request
    other = api.post("/v1/checks", json=body, headers={**bearer(keys["read"]), "Idempotency-Key": "check-1"})
    assert other.status_code == 200 and "idempotent-replayed" not in other.headers


def test_the_schema_documents_every_model_and_error(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()
    comps = schema["components"]["schemas"]
    for name in ("Problem", "ProblemItem", "PortRequestFile", "Started", "PortList", "CheckResult", "RequestPage",
                 "OrderPage", "AmendBody", "CarrierEventBody"):
        assert name in comps, name
    for path, methods in schema["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, op in methods.items():
            for status in ("401", "403", "422"):
                assert "application/problem+json" in op["responses"][status]["content"], (path, method, status)
            if method == "post":
                assert any(p["name"] == "Idempotency-Key" for p in op["parameters"]), path
            assert op.get("security"), (path, method)


def test_a_duplicate_while_the_first_still_runs_gets_409_and_a_stale_one_takes_over(api: TestClient, keys) -> None:
    from datetime import UTC, datetime, timedelta

    from api.v1.idempotency import fingerprint
    from store import idempotency as records

    pm = {**bearer(keys["pm"]), "Idempotency-Key": "slow-1"}
    body = request_json()
    key_id = keys["pm"].split("_")[1]
    first = api.post("/v1/checks", json=body, headers={**pm, "Idempotency-Key": "probe"})
    assert first.status_code == 200
    # the first request with key slow-1 has claimed it and is still running (in another process)
    request = type("R", (), {"method": "POST", "url": type("U", (), {"path": "/v1/checks"})(),
                             "query_params": type("Q", (), {"multi_items": lambda self: []})()})()
    assert records.claim(key_id, "slow-1", fingerprint(request, body)).outcome == "new"
    resp = api.post("/v1/checks", json=body, headers=pm)
    problem = is_problem(resp, 409)
    assert "still being processed" in problem["detail"] and resp.headers["retry-after"] == "2"
    # a claim older than STALE died with its process: the retry takes over and answers
    later = datetime.now(UTC) + records.STALE + timedelta(seconds=5)
    assert records.claim(key_id, "slow-1", fingerprint(request, body), now=later).outcome == "new"
    records.release(key_id, "slow-1")
    assert api.post("/v1/checks", json=body, headers=pm).status_code == 200
