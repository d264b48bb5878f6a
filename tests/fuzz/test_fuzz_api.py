"""The REST API's readers (issue 16): the JSON body of POST /v1/ports and /v1/checks, the
headers every /v1 call reads (Authorization, X-API-Key, Idempotency-Key, Content-Type), and
the multipart form of a document upload. Every input gets a 2xx or a problem+json 4xx
with a bounded detail; never a 500, a hang or unbounded memory. Temporal is a closed port
here: a body that passes every check may meet 503 (the server is down), nothing else."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from api.app import create_app
from core.settings import reset_settings
from store.api_keys import create_key
from store.db import dispose_engines
from tests.api.v1.conftest import request_json
from tests.fuzz import fuzz
from tests.fuzz.paths import json_values, paths
from tests.local_servers import free_ports
from tests.settings_helpers import use_settings

GOOD = request_json()
FIELDS = ["customer", "contact", "signer", "accounts", "numbers", "btn", "pin", "documents", "id", "time_zone",
          "requested_port_date", "documents_complete_on", "port_type", "remaining_numbers", "new_btn"]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    mp = pytest.MonkeyPatch()
    [closed] = free_ports(1)
    use_settings(mp, VAR_DIR=tmp_path_factory.mktemp("api-fuzz") / "var", TEMPORAL_ADDRESS=f"127.0.0.1:{closed}")
    dispose_engines()
    token = create_key("fuzz@provider.example", "pm")[1]
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c, token
    dispose_engines()
    mp.undo()
    reset_settings()


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> bytes:
    data = copy.deepcopy(base)
    places = [p for p in paths(base) if p]
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(places))
        parent: Any = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(st.one_of(json_values, st.sampled_from(FIELDS)))
        except (KeyError, IndexError, TypeError):
            continue
    if draw(st.booleans()):
        data[draw(st.sampled_from([*FIELDS, "expedite", "x"]))] = draw(json_values)
    return json.dumps(data).encode()


raw_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n),
    st.just(b'{"a": ' * 5000 + b"1" + b"}" * 5000),
)
header_text = st.text(st.characters(min_codepoint=1, max_codepoint=255, exclude_characters="\r\n"), max_size=300)


def answered(resp: Any, *, may_be_down: bool = False) -> None:
    allowed = {503} if may_be_down else set()
    assert resp.status_code < 500 or resp.status_code in allowed, (resp.status_code, resp.text[:500])
    if resp.status_code >= 400:
        assert resp.headers["content-type"] == "application/problem+json", resp.text[:300]
        body = resp.json()
        assert body["status"] == resp.status_code and 0 < len(body["detail"]) < 2000, body
        assert len(resp.content) < 200_000


@fuzz(120)
@given(st.one_of(mutated(GOOD), raw_bodies), st.sampled_from(["/v1/checks", "/v1/ports"]))
def test_port_request_bodies(api: tuple[TestClient, str], body: bytes, path: str) -> None:
    client, token = api
    resp = client.post(path, content=body, headers={"Authorization": f"Bearer {token}",
                                                    "content-type": "application/json"})
    answered(resp, may_be_down=path == "/v1/ports")


@fuzz(150)
@given(st.dictionaries(st.sampled_from(["Authorization", "X-API-Key", "Idempotency-Key", "Content-Type",
                                        "Content-Length"]), header_text, max_size=4),
       st.booleans())
def test_headers(api: tuple[TestClient, str], headers: dict[str, str], with_key: bool) -> None:
    client, token = api
    if with_key:
        headers = {"Authorization": f"Bearer {token}", **{k: v for k, v in headers.items() if k != "Authorization"}}
    headers.pop("Content-Length", None)  # the client computes it; a lying one is covered by test_bodies_limits
    try:
        resp = client.post("/v1/checks", content=json.dumps(GOOD).encode(), headers=headers)
    except (UnicodeEncodeError, ValueError):
        return  # not a header an HTTP client can send
    answered(resp)


@fuzz(60)
@given(st.sampled_from(["csr", "bill", "other", "loa", "", "CSR"]), header_text, st.binary(max_size=2000),
       st.one_of(st.none(), header_text), st.sampled_from(["PR-2026-0042", "PR-2026-0042-1", "x", "PR-2026-0042-99"]))
def test_document_uploads(api: tuple[TestClient, str], kind: str, name: str, content: bytes, order: str | None,
                          target: str) -> None:
    client, token = api
    data = {"kind": kind, **({"order": order} if order is not None else {})}
    try:
        resp = client.post(f"/v1/ports/{target}/documents", headers={"Authorization": f"Bearer {token}"},
                           files={"file": (name, content, "application/pdf")}, data=data)
    except (UnicodeEncodeError, ValueError):
        return
    answered(resp, may_be_down=True)


def test_bodies_limits(api: tuple[TestClient, str]) -> None:
    client, token = api
    pm = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    answered(client.post("/v1/checks", content=b"{}", headers={**pm, "content-length": "99999999999"}))
    resp = client.post("/v1/checks", content=iter([b"[" * 1024] * 3000), headers=pm)  # streamed, no length
    assert resp.status_code == 413 and resp.headers["content-type"] == "application/problem+json"


@fuzz(40)
@given(st.text(max_size=400), st.text(max_size=30), st.text(max_size=40))
def test_apikey_command_arguments(api: tuple[TestClient, str], owner: str, role: str, key_id: str) -> None:
    """``starter.py apikey create|revoke``: any owner, role or id ends in exit 0 or 1 with a
    message, never a traceback; a key made is a key that works."""
    from typer.testing import CliRunner

    from starter import app as cli
    from store.api_keys import authenticate

    runner = CliRunner()
    made = runner.invoke(cli, ["apikey", "create", "--owner", owner, "--role", role])
    assert made.exit_code in (0, 1) and (made.exception is None or isinstance(made.exception, SystemExit)), made.output
    if made.exit_code == 0:
        assert authenticate(made.output.strip().splitlines()[-1]).owner == owner.strip()
    else:
        assert "--owner" in made.output or "--role" in made.output
    gone = runner.invoke(cli, ["apikey", "revoke", key_id])
    assert gone.exit_code in (0, 1) and (gone.exception is None or isinstance(gone.exception, SystemExit)), gone.output
