"""``/v1/webhooks`` without a Temporal server: role pm only, every problem of a bad body in one
422, the secret in the 201 answer only (and in its idempotent replay, read back from the
vault: never stored in clear), list without secrets, delete, deliveries."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from store.db import session_scope
from tests.api.v1.conftest import bearer

PROBLEM = "application/problem+json"


@pytest.fixture
def api(keys) -> TestClient:  # noqa: ANN001
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def test_roles(api: TestClient, keys: dict[str, str]) -> None:
    body = {"url": "https://pm.example/hook"}
    assert api.post("/v1/webhooks", json=body).status_code == 401
    for role in ("ops", "read", "revoked"):
        resp = api.post("/v1/webhooks", json=body, headers=bearer(keys[role]))
        assert resp.status_code == (401 if role == "revoked" else 403)
        assert resp.headers["content-type"] == PROBLEM
        assert api.get("/v1/webhooks", headers=bearer(keys[role])).status_code in (401, 403)
        assert api.delete("/v1/webhooks/whs_x", headers=bearer(keys[role])).status_code in (401, 403)


def test_subscribe_list_delete(api: TestClient, keys: dict[str, str]) -> None:
    pm = bearer(keys["pm"])
    made = api.post("/v1/webhooks", json={"url": "https://pm.example/hook", "events": ["foc", "completed"],
                                          "request_id": "PR-2026-0042"}, headers=pm)
    assert made.status_code == 201, made.text
    sub = made.json()
    assert sub["secret"].startswith("whsec_") and sub["events"] == ["foc", "completed"]
    assert sub["owner"] == "pm@provider.example" and made.headers["location"] == f"/v1/webhooks/{sub['id']}"

    listed = api.get("/v1/webhooks", headers=pm)
    assert listed.status_code == 200 and sub["secret"] not in listed.text
    assert [s["id"] for s in listed.json()] == [sub["id"]]
    assert api.get(f"/v1/webhooks/{sub['id']}/deliveries", headers=pm).json() == []

    gone = api.delete(f"/v1/webhooks/{sub['id']}", headers=pm)
    assert gone.status_code == 200 and gone.json()["disabled_at"]
    assert api.get("/v1/webhooks", headers=pm).json() == []
    assert len(api.get("/v1/webhooks", params={"all": "true"}, headers=pm).json()) == 1
    missing = api.delete("/v1/webhooks/whs_nope", headers=pm)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
    assert api.get("/v1/webhooks/whs_nope/deliveries", headers=pm).status_code == 404


def test_every_problem_at_once_and_nothing_stored(api: TestClient, keys: dict[str, str]) -> None:
    pm = bearer(keys["pm"])
    resp = api.post("/v1/webhooks", json={"url": "http://pm.example/h", "events": ["foc", "nope"],
                                          "request_id": "42"}, headers=pm)
    assert resp.status_code == 422 and resp.headers["content-type"] == PROBLEM
    problems = resp.json()["problems"]
    assert [(p["code"], p["where"]) for p in problems] == [
        ("invalid_url", "body.url"), ("invalid_events", "body.events"), ("invalid_request_id", "body.request_id")]
    assert "https://" in problems[0]["message"]
    assert api.post("/v1/webhooks", json={"events": ["foc"]}, headers=pm).status_code == 422  # no url
    assert api.post("/v1/webhooks", content=b"not json", headers={**pm, "Content-Type": "application/json"}
                    ).status_code == 422
    assert api.get("/v1/webhooks", params={"all": "true"}, headers=pm).json() == []


def test_a_retried_subscribe_gives_the_first_answer_and_keeps_no_clear_secret(api: TestClient,
                                                                              keys: dict[str, str]) -> None:
    pm = {**bearer(keys["pm"]), "Idempotency-Key": "sub-1"}
    body = {"url": "https://pm.example/hook"}
    first = api.post("/v1/webhooks", json=body, headers=pm)
    again = api.post("/v1/webhooks", json=body, headers=pm)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert len(api.get("/v1/webhooks", headers=bearer(keys["pm"])).json()) == 1  # one subscription
    with session_scope() as s:
        stored = json.dumps([list(r) for r in s.execute(sa.text("SELECT * FROM api_idempotency")).all()], default=str)
    assert first.json()["id"] in stored and first.json()["secret"] not in stored


def test_redeliver_refuses_what_is_not_failed_without_a_server(api: TestClient, keys: dict[str, str]) -> None:
    pm = bearer(keys["pm"])
    sub = api.post("/v1/webhooks", json={"url": "https://pm.example/hook"}, headers=pm).json()
    missing = api.post(f"/v1/webhooks/{sub['id']}/deliveries/5/redeliver", json={}, headers=pm)
    assert missing.status_code == 404 and "no delivery 5" in missing.json()["detail"]
    assert api.post("/v1/webhooks/whs_nope/deliveries/5/redeliver", json={}, headers=pm).status_code == 404
    assert api.post(f"/v1/webhooks/{sub['id']}/deliveries/5/redeliver", json={},
                    headers=bearer(keys["ops"])).status_code == 403
