"""``starter.py webhooks ...`` (database only): subscribe prints the secret once, list never
shows it, unsubscribe and deliveries; refusals exit 1 and say what to fix."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from starter import app
from store.db import dispose_engines
from tests.settings_helpers import use_settings

runner = CliRunner()


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    use_settings(monkeypatch, VAR_DIR=tmp_path / "var", DATABASE_URL=None, PM_EMAIL="pm@provider.example")
    dispose_engines()
    yield tmp_path / "var"
    dispose_engines()


def cli(*args: str):  # noqa: ANN201
    return runner.invoke(app, ["webhooks", *args])


def test_subscribe_list_unsubscribe(var: Path) -> None:
    made = cli("subscribe", "https://pm.example/hooks/portflow", "--events", "foc,exception", "-e", "completed",
               "--request", "PR-2026-0042")
    assert made.exit_code == 0, made.output
    secret = re.search(r"secret: (whsec_\S+)", made.output).group(1)
    sub_id = re.search(r"subscribed (whs_[0-9a-f]+)", made.output).group(1)
    assert "shown only once" in made.output

    listed = cli("list", "--json")
    assert listed.exit_code == 0 and secret not in listed.output
    (row,) = json.loads(listed.output)
    assert (row["id"], row["events"], row["request_id"], row["owner"]) == (
        sub_id, ["exception", "foc", "completed"], "PR-2026-0042", "pm@provider.example")
    table = cli("list")
    assert sub_id in table.output and secret not in table.output

    gone = cli("unsubscribe", sub_id)
    assert gone.exit_code == 0 and f"unsubscribed {sub_id}" in gone.output
    assert json.loads(cli("list", "--json").output) == []
    assert json.loads(cli("list", "--all", "--json").output)[0]["disabled_at"]
    assert json.loads(cli("deliveries", "--subscription", sub_id, "--json").output) == []


def test_subscribe_json_gives_the_secret_once(var: Path) -> None:
    made = cli("subscribe", "http://127.0.0.1:9000/hook", "--json", "--by", "ops@provider.example")
    assert made.exit_code == 0, made.output
    body = json.loads(made.output)
    assert body["secret"].startswith("whsec_") and body["owner"] == "ops@provider.example"
    assert len(body["events"]) == 6  # default: all


@pytest.mark.parametrize("args, says", [
    (["subscribe", "http://pm.example/h"], "use https://"),
    (["subscribe", "https://pm.example/h", "--events", "stage,foc"], "unknown event type(s) 'stage'"),
    (["subscribe", "https://pm.example/h", "--request", "42"], "not a request id"),
    (["subscribe", "https://u:p@pm.example/h"], "password"),
    (["unsubscribe", "whs_0000"], "no webhook subscription"),
    (["deliveries", "--subscription", "whs_0000"], "no webhook subscription"),
    (["redeliver", "7"], "no webhook delivery 7"),  # refused before any server is needed
])
def test_refusals_exit_1_and_create_nothing(var: Path, args: list[str], says: str) -> None:
    result = cli(*args)
    assert result.exit_code == 1 and says in result.output, result.output
    assert json.loads(cli("list", "--all", "--json").output) == []


def test_an_unusable_database_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, VAR_DIR=tmp_path / "var", DATABASE_URL="mysql://nowhere/db")
    dispose_engines()
    result = cli("list")
    assert result.exit_code == 2 and "unsupported database" in result.output
