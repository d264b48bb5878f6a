"""The served OpenAPI schema drives a fuzzer (schemathesis): every /v1 operation gets
generated inputs, with a pm key, with a read key and with none, against ``python -m api``
connected to a dev server, both valid inputs and invalid ones (schemathesis' negative
mode). No answer may be a 5xx, and each must be a status and content
type the schema documents for that operation. Bounded: a few examples per operation and
caller, derandomized (under a minute); PORTFLOW_FUZZ_EXAMPLES=N runs N/100 each."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from store.api_keys import create_key
from store.db import dispose_engines
from tests.local_servers import dev_env, free_ports  # noqa: F401 - the session's dev server
from tests.polling import eventually_sync
from tests.settings_helpers import use_settings

ROOT = Path(__file__).resolve().parents[3]
# examples per operation and caller: generating from the schema, not calling, is the cost
EXAMPLES = int(os.environ.get("PORTFLOW_FUZZ_EXAMPLES", "0")) // 100 or 4


@pytest.fixture
def live_api(dev_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:  # noqa: F811
    var = tmp_path / "var"
    use_settings(monkeypatch, VAR_DIR=var)
    dispose_engines()
    tokens = {role: create_key(f"{role}@fuzz.example", role)[1] for role in ("pm", "read")}
    dispose_engines()
    [port] = free_ports(1)
    env = {**os.environ, "PORTFLOW_VAR_DIR": str(var), "PORTFLOW_API_HOST": "127.0.0.1", "PORTFLOW_API_PORT": str(port),
           "PORTFLOW_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
           "PORTFLOW_TEMPORAL_TASK_QUEUE": "schema-fuzz"}
    proc = subprocess.Popen([sys.executable, "-m", "api"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
        try:
            return httpx.get(base + "/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        eventually_sync(up, what="python -m api", timeout=30)
        yield base, tokens
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
        assert "Traceback" not in out, out[-4000:]


def test_no_generated_input_gets_a_server_error(live_api) -> None:
    base, tokens = live_api
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    ours = [op for op in operations if op.path.startswith("/v1")]
    assert len(ours) >= 13
    pm = {"Authorization": f"Bearer {tokens['pm']}"}
    callers = [("pm", pm, GenerationMode.POSITIVE, EXAMPLES), ("pm", pm, GenerationMode.NEGATIVE, EXAMPLES),
               ("read", {"X-API-Key": tokens["read"]}, GenerationMode.POSITIVE, 1),
               ("none", {}, GenerationMode.POSITIVE, 1)]
    seen: dict[int, int] = {}
    for op in ours:
        for who, headers, mode, examples in callers:
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=op.as_strategy(mode))
            def run(case: schemathesis.Case) -> None:
                if who == "none":
                    for name in ("Authorization", "X-API-Key"):
                        (case.headers or {}).pop(name, None)
                response = case.call(base_url=base, headers=headers, timeout=60)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                         content_type_conformance, response_schema_conformance])

            run()
    print("statuses seen:", dict(sorted(seen.items())))
    assert not any(status >= 500 for status in seen), seen
    assert {401, 422} <= set(seen), seen  # the fuzz reached both the key check and the readers
