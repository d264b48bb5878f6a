"""deploy/compose/compose.yaml, checked without Docker: the Compose specification's schema
(vendored, deploy/schemas/), then what bites in practice: every service that talks to
Temporal waits for its healthcheck, pinned image tags, no secret in plain `environment:`,
every secret file made by make-secrets.sh, and a worker that `--scale worker=N` can copy."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose"
SECRET_NAME = re.compile(r"(PASSWORD|PWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|HMAC|DATABASE_URL)", re.I)


def load() -> dict:
    return yaml.safe_load((COMPOSE / "compose.yaml").read_text())


def dotenv() -> dict[str, str]:
    pairs = (ln.split("=", 1) for ln in (COMPOSE / ".env").read_text().splitlines() if "=" in ln and not ln.startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: str(v) for k, v in env.items()}


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((ROOT / "deploy" / "schemas" / "compose-spec.json").read_text()))


def needs_temporal(service: dict) -> bool:
    return any("temporal:7233" in v for v in env_of(service).values())


def problems(doc: dict, versions: dict[str, str]) -> list[str]:
    found = []
    services = doc["services"]
    if "healthcheck" not in services.get("temporal", {}):
        found.append("the temporal service has no healthcheck to wait for")
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if needs_temporal(svc) and (not isinstance(deps, dict) or
                                    deps.get("temporal", {}).get("condition") != "service_healthy"):
            found.append(f"{name} talks to Temporal but does not wait for its healthcheck (service_healthy)")
        for dep, how in (deps.items() if isinstance(deps, dict) else []):
            if how.get("condition") == "service_healthy" and "healthcheck" not in services.get(dep, {}):
                found.append(f"{name} waits for {dep}'s healthcheck, which {dep} lacks")
        image = re.sub(r"\$\{(\w+)(:-[^}]*)?\}", lambda m: versions.get(m.group(1), ""), svc.get("image", ""))
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        if not tag or tag == "latest":
            found.append(f"{name}: image {svc.get('image')!r} is not pinned to a tag (resolved {image!r})")
        for key, value in env_of(svc).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE") and not value.startswith("/run/secrets"):
                found.append(f"{name}: {key} is a secret in plain environment; use secrets: or env_file:")
    return found


def test_compose_matches_the_compose_specification() -> None:
    validator().validate(load())


def test_compose_has_none_of_the_things_that_bite() -> None:
    assert problems(load(), dotenv()) == []


@pytest.mark.parametrize("break_it, problem", [
    (lambda d: d["services"]["worker"]["depends_on"].pop("temporal"), "does not wait for its healthcheck"),
    (lambda d: d["services"]["temporal"].pop("healthcheck"), "no healthcheck"),
    (lambda d: d["services"]["temporal-ui"].update(image="temporalio/ui:latest"), "not pinned"),
    (lambda d: d["services"]["temporal-ui"].update(image="temporalio/ui"), "not pinned"),
    (lambda d: d["services"]["api"]["environment"].update(PORTFLOW_TELNYX_API_KEY="KEY123"), "plain environment"),
    (lambda d: d["services"]["temporal"]["environment"].update(POSTGRES_PWD="temporal"), "plain environment"),
])
def test_each_check_catches_its_mistake(break_it, problem: str) -> None:  # noqa: ANN001
    doc = copy.deepcopy(load())
    break_it(doc)
    assert any(problem in p for p in problems(doc, dotenv())), problems(doc, dotenv())


def test_schema_check_can_fail() -> None:
    doc = load()
    doc["services"]["worker"]["depends_on"] = {"temporal": {"condition": "when_ready"}}
    with pytest.raises(jsonschema.ValidationError):
        validator().validate(doc)


def test_the_layout_of_temporals_postgres_compose_and_portflow_on_top() -> None:
    s = load()["services"]
    assert dotenv()["POSTGRESQL_VERSION"].split(".")[0] == "16"
    assert "pg_isready" in str(s["postgresql"]["healthcheck"]["test"])
    assert s["temporal"]["depends_on"]["temporal-admin-tools"]["condition"] == "service_completed_successfully"
    assert s["setup"]["command"] == ["setup"]
    assert s["setup"]["depends_on"]["temporal-create-namespace"]["condition"] == "service_completed_successfully"
    for name in ("worker", "api"):
        assert s[name]["depends_on"]["setup"]["condition"] == "service_completed_successfully"
        assert s[name]["depends_on"]["portflow-postgresql"]["condition"] == "service_healthy"
    # --scale worker=N: no fixed name, no host port to collide on
    assert "container_name" not in s["worker"] and "ports" not in s["worker"]
    assert "temporal_db_password" in s["postgresql"]["secrets"]


def test_search_attributes_come_from_the_code_not_a_copy() -> None:
    """The namespace script leaves search attributes to `starter.py setup`, which reads
    SEARCH_ATTRIBUTES: no list in deploy/ can drift from workflows/search.py."""
    text = "".join(p.read_text() for p in (COMPOSE / "scripts").iterdir())
    assert not any(name in text for name in SEARCH_ATTRIBUTES)


def test_make_secrets_writes_every_file_compose_reads(tmp_path: Path) -> None:
    if shutil.which("sh") is None:
        pytest.skip("no POSIX sh here")
    work = tmp_path / "compose"
    shutil.copytree(COMPOSE, work, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run(["sh", str(work / "make-secrets.sh")], check=True, capture_output=True, timeout=30)
    before = {p.name: p.read_text() for p in (work / "secrets").iterdir()}
    subprocess.run(["sh", str(work / "make-secrets.sh")], check=True, capture_output=True, timeout=30)
    assert {p.name: p.read_text() for p in (work / "secrets").iterdir()} == before, "it overwrote a secret"
    doc = load()
    wanted = {Path(s["file"]).name for s in doc["secrets"].values()}
    wanted |= {Path(f).name for svc in doc["services"].values() for f in svc.get("env_file", [])}
    assert wanted <= set(before), wanted - set(before)
    assert json.loads(before["portflow_docusign_hmac_keys"]) == []
    assert len(before["portflow_secret_key"]) >= 32
    assert before["portflow_database_url"].startswith("postgresql+psycopg://portflow:")
    assert (COMPOSE / ".gitignore").read_text().strip() == "secrets/"


def test_compose_config_when_docker_compose_is_installed(tmp_path: Path) -> None:
    """`docker compose config` needs no engine; skipped where the plugin is missing."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("docker compose is not installed; the schema test above covers the file")
    work = tmp_path / "compose"
    shutil.copytree(COMPOSE, work, ignore=shutil.ignore_patterns("secrets"))
    subprocess.run(["sh", str(work / "make-secrets.sh")], check=True, capture_output=True)
    run = subprocess.run([docker, "compose", "config", "--quiet"], cwd=work, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
