"""Fixtures of the REST API tests: API keys in a fresh var/, and the request as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from store.api_keys import create_key
from store.db import dispose_engines

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def request_json(name: str = "good-request.yaml") -> dict[str, Any]:
    """An example request file as the JSON body the API takes (dates as strings)."""
    return json.loads(json.dumps(yaml.safe_load((EXAMPLES / name).read_text("utf-8")), default=str))


@pytest.fixture
def keys(var_dir: Path) -> Iterator[dict[str, str]]:
    """One live key per role (and a revoked one) in this test's own database."""
    dispose_engines()
    out = {role: create_key(f"{role}@provider.example", role)[1] for role in ("pm", "ops", "read")}
    from store.api_keys import revoke_key

    info, token = create_key("gone@provider.example", "pm")
    revoke_key(info.id)
    out["revoked"] = token
    yield out
    dispose_engines()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
