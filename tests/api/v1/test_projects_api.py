"""/v1/projects: the project commands over HTTP, with the CLI's checks. Without a server: keys,
roles and a refused project body (every problem, by field). On the dev server with the
worker: start, read, complete a task, attach a port, and each refusal's status."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from core.calendar import PortCalendar
from store.api_keys import create_key
from tests.api.v1.conftest import EXAMPLES, bearer
from tests.api.v1.test_api_dev_server import auth, body_of, serve
from tests.api.v1.test_auth_and_errors import is_problem
from tests.cli.conftest import Harness, business_days_ahead, cli  # noqa: F401 - the harness fixture
from tests.local_servers import dev_env  # noqa: F401 - the session's dev server


def project_body(pid: str | None = None) -> dict[str, Any]:
    data = json.loads(json.dumps(yaml.safe_load((EXAMPLES / "project.yaml").read_text()), default=str))
    cal = PortCalendar.from_settings()
    go_live = business_days_ahead(30)
    data["id"] = pid or f"API-{uuid.uuid4().hex[:6]}"
    data["timeline"] = {"initiate": str(business_days_ahead(3)), "kick_off": str(business_days_ahead(6)),
                        "build": str(business_days_ahead(12)), "go_live": str(go_live),
                        "post_go_live": str(cal.add_business_days(go_live, 5)),
                        "acceptance": str(cal.add_business_days(go_live, 10))}
    return data


@pytest.fixture
def api(keys) -> TestClient:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


def test_project_routes_refuse_before_reaching_temporal(api: TestClient, keys: dict[str, str]) -> None:
    body = project_body()
    is_problem(api.post("/v1/projects", json=body), 401)
    is_problem(api.post("/v1/projects", json=body, headers=bearer(keys["read"])), 403)
    is_problem(api.post("/v1/projects/ACME-2027/tasks/kick_off_call/done", json={}, headers=bearer(keys["ops"])), 403)
    bad = {**body, "timeline": {**body["timeline"], "go_live": "next week"}, "colour": "blue"}
    problem = is_problem(api.post("/v1/projects", json=bad, headers=bearer(keys["pm"])), 422)
    where = {p["where"]: p["message"] for p in problem["problems"]}
    assert where["body:timeline.go_live"] == "'next week' is not a date (YYYY-MM-DD)"
    assert where["body:colour"] == "is not a field of a project file"
    is_problem(api.post("/v1/projects", content=b"id: x", headers={**bearer(keys["pm"]),
                                                                    "Content-Type": "application/yaml"}), 415)
    is_problem(api.post("/v1/projects/ACME-2027/tasks/Kick Off/done", json={}, headers=bearer(keys["pm"])), 422)
    is_problem(api.get("/v1/projects/ACME 2027!", headers=bearer(keys["read"])), 404)


async def test_a_project_over_http(cli: Harness) -> None:  # noqa: F811
    pm = create_key("irene@provider.example", "pm")[1]
    read = create_key("reader@provider.example", "read")[1]
    body = project_body()
    pid = body["id"]
    async with cli.worker(), serve(cli) as http:
        first = await http.post("/v1/projects", json=body, headers=auth(pm, f"start-{pid}"))
        assert first.status_code == 201, first.text
        assert first.json() == {"id": pid, "workflow_id": f"project-{pid}", "phase": "initiate", "tasks": 24}
        assert first.headers["location"] == f"/v1/projects/{pid}"
        retried = await http.post("/v1/projects", json=body, headers=auth(pm, f"start-{pid}"))  # the same retry
        assert retried.status_code == 201 and retried.json() == first.json()
        assert retried.headers["idempotent-replayed"] == "true" and retried.headers["location"] == f"/v1/projects/{pid}"
        again = await http.post("/v1/projects", json=body, headers=auth(pm))  # a second start, without the key
        assert again.status_code == 409 and "was already started" in again.json()["detail"]

        page = await http.get(f"/v1/projects/{pid}", headers=auth(read))
        assert page.status_code == 200, page.text
        assert page.json()["phase"] == "initiate" and page.json()["open_tasks"][0]["id"] == "ipm_assigned"

        done = await http.post(f"/v1/projects/{pid}/tasks/ipm_assigned/done", json={"note": "Irene"},
                               headers=auth(pm))
        assert done.status_code == 200, done.text
        assert done.json()["done_by"] == "irene@provider.example" and "ipm_assigned" not in done.json()["open_tasks"]
        twice = await http.post(f"/v1/projects/{pid}/tasks/ipm_assigned/done", json={}, headers=auth(pm))
        assert twice.status_code == 409 and "already done by irene@provider.example" in twice.json()["detail"]
        unknown = await http.post(f"/v1/projects/{pid}/tasks/kickoff/done", json={}, headers=auth(pm))
        assert unknown.status_code == 409 and "no task 'kickoff'" in unknown.json()["detail"]
        nobody = await http.get("/v1/projects/NOPE-1", headers=auth(read))
        assert nobody.status_code == 404 and "no project NOPE-1" in nobody.json()["detail"]

        # a port started over the port API, attached to the project
        started = await http.post("/v1/ports", json=body_of(cli), headers=auth(pm, f"p-{pid}"))
        rid = started.json()["id"]
        link = await http.post(f"/v1/projects/{pid}/ports", json={"request_id": rid}, headers=auth(pm))
        assert link.status_code == 200 and link.json()["how"] == "attached", link.text
        dup = await http.post(f"/v1/projects/{pid}/ports", json={"request_id": rid}, headers=auth(pm))
        assert dup.status_code == 409
        missing = await http.post(f"/v1/projects/{pid}/ports", json={"request_id": "PR-2099-0001"}, headers=auth(pm))
        assert missing.status_code == 404
        page = await http.get(f"/v1/projects/{pid}", headers=auth(read))
        assert page.json()["port_stages"][0]["request_id"] == rid

        listed = await http.get("/v1/projects?phase=initiate&running=true", headers=auth(read))
        assert listed.status_code == 200
