"""The codec server's bodies (api/codec.py), with the token, so the fuzzed part reaches the
parser: every body gets a 200 or a 4xx with a message, never a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from core.payload_keys import new_key_entry, parse_keys
from core.settings import reset_settings
from portflow.codec import AesGcmCodec
from temporalio.api.common.v1 import Payload
from tests.fuzz import fuzz
from tests.fuzz.paths import json_values
from tests.settings_helpers import use_settings

TOKEN = "fuzz-codec-token"
KEY = new_key_entry("fuzz-a")
HEADERS = {"Authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
SEALED = AesGcmCodec(parse_keys(KEY)).encrypt(Payload(metadata={"encoding": b"json/plain"}, data=b'"x"'))


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    mp = pytest.MonkeyPatch()
    use_settings(mp, PAYLOAD_KEYS=KEY, CODEC_TOKEN=TOKEN)
    with TestClient(create_app(sink=object()), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c
    mp.undo()
    reset_settings()


b64 = st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode())
metadata = st.dictionaries(st.sampled_from(["encoding", "encryption-key-id", "x"]),
                           st.one_of(b64, st.sampled_from(["YmluYXJ5L2VuY3J5cHRlZA==", "ZnV6ei1h", "a2V5LWI="]),
                                     json_values), max_size=3)
payloads = st.fixed_dictionaries({}, optional={"metadata": st.one_of(metadata, json_values),
                                               "data": st.one_of(b64, json_values)})
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(st.one_of(payloads, json_values), max_size=5).map(lambda ps: json.dumps({"payloads": ps}).encode()),
    st.integers(1, 200_000).map(lambda n: b'{"payloads": ' + b"[" * n + b"]" * n + b"}"),
)


@fuzz(150)
@given(body=bodies, path=st.sampled_from(["/codec/decode", "/codec/encode"]))
def test_codec_bodies_never_500(client: TestClient, body: bytes, path: str) -> None:
    r = client.post(path, content=body, headers=HEADERS)
    assert r.status_code == 200 or 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.status_code == 200 or r.json()["detail"]


@fuzz(100)
@given(tail=st.binary(max_size=40), key_id=st.text(max_size=20))
def test_mangled_ciphertext_is_a_4xx(client: TestClient, tail: bytes, key_id: str) -> None:
    item = {"metadata": {"encoding": base64.b64encode(b"binary/encrypted").decode(),
                         "encryption-key-id": base64.b64encode(key_id.encode() or b"fuzz-a").decode()},
            "data": base64.b64encode(SEALED.data[:20] + tail).decode()}
    r = client.post("/codec/decode", json={"payloads": [item]}, headers=HEADERS)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
