"""The codec server (api/codec.py): Temporal's codec-server protocol behind a Bearer token,
CORS for the configured UI origin only."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload

from api.app import create_app
from core.payload_keys import new_key_entry, parse_keys
from portflow.codec import AesGcmCodec
from tests.settings_helpers import use_settings

TOKEN = "codec-test-token-0123456789"
UI = "http://localhost:8233"
A, B = new_key_entry("key-a"), new_key_entry("key-b")
AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default"}


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    use_settings(monkeypatch, PAYLOAD_KEYS=A, CODEC_TOKEN=TOKEN, TEMPORAL_UI_URL=UI, CODEC_CORS_ORIGIN=None)
    with TestClient(create_app(sink=object()), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c


def body(*payloads: Payload) -> dict:
    return {"payloads": [json_format.MessageToDict(p) for p in payloads]}


def test_decode_answers_the_plain_payloads(http: TestClient) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"contact": "Luis Ortega"}')
    sealed = AesGcmCodec(parse_keys(A)).encrypt(plain)
    r = http.post("/codec/decode", json=body(sealed), headers={**AUTH, "Origin": UI})
    assert r.status_code == 200, r.text
    (got,) = r.json()["payloads"]
    assert base64.b64decode(got["data"]) == plain.data
    assert base64.b64decode(got["metadata"]["encoding"]) == b"json/plain"
    assert r.headers["access-control-allow-origin"] == UI


def test_encode_then_decode_round_trips(http: TestClient) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"1200 Larimer St"')
    enc = http.post("/codec/encode", json=body(plain), headers=AUTH).json()["payloads"]
    assert b"Larimer" not in base64.b64decode(enc[0]["data"])
    dec = http.post("/codec/decode", json={"payloads": enc}, headers=AUTH).json()["payloads"]
    assert base64.b64decode(dec[0]["data"]) == plain.data


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_without_the_token_nothing_is_decoded(http: TestClient, headers: dict[str, str]) -> None:
    sealed = AesGcmCodec(parse_keys(A)).encrypt(Payload(data=b"Luis Ortega"))
    r = http.post("/codec/decode", json=body(sealed), headers=headers)
    assert r.status_code == 401 and "Luis" not in r.text and "Bearer" in r.json()["detail"]


def test_no_token_configured_refuses_everything(http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, CODEC_TOKEN="")
    r = http.post("/codec/decode", json=body(), headers={"Authorization": "Bearer "})
    assert r.status_code == 401 and "PORTFLOW_CODEC_TOKEN" in r.json()["detail"]


def test_cors_only_for_the_ui_origin(http: TestClient) -> None:
    ok = http.options("/codec/decode", headers={"Origin": UI, "Access-Control-Request-Method": "POST",
                                                "Access-Control-Request-Headers": "authorization,x-namespace"})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == UI
    assert "Authorization" in ok.headers["access-control-allow-headers"]
    evil = http.options("/codec/decode", headers={"Origin": "https://evil.example",
                                                  "Access-Control-Request-Method": "POST"})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    r = http.post("/codec/encode", json=body(), headers={**AUTH, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_a_missing_key_and_a_foreign_namespace_are_named(http: TestClient) -> None:
    under_b = AesGcmCodec(parse_keys(B)).encrypt(Payload(data=b"x"))
    r = http.post("/codec/decode", json=body(under_b), headers=AUTH)
    assert r.status_code == 400 and "'key-b'" in r.json()["detail"]
    r = http.post("/codec/decode", json=body(), headers={**AUTH, "X-Namespace": "prod"})
    assert r.status_code == 400 and "'default'" in r.json()["detail"]


@pytest.mark.parametrize("raw", [b"", b"[]", b'{"payloads": 3}', b'{"payloads": [1]}',
                                 b'{"payloads": [{"data": "%%%"}]}', b'{"payloads": [{"metadata": {"a": 1}}]}'])
def test_malformed_bodies_are_400(http: TestClient, raw: bytes) -> None:
    r = http.post("/codec/decode", content=raw, headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 400, r.text
