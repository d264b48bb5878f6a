"""The go-live gate and temporary numbers over HTTP (issue 17): a port started from JSON with
a go_live section, its checklist read and completed through /v1, with the refusals the CLI
gives (a window that misses the activation: 409 with the reason), and the roles."""

from __future__ import annotations

from api.v1.gate import GatePage
from store.api_keys import create_key
from tests.api.v1.test_api_dev_server import auth, body_of, serve
from tests.cli.conftest import Harness, cli  # noqa: F401 - the harness fixture
from tests.local_servers import dev_env  # noqa: F401 - the session's dev server
from tests.polling import eventually


async def test_the_gate_over_http(cli: Harness) -> None:  # noqa: F811
    pm = create_key("dana.pm@provider.example", "pm")[1]
    read = create_key("reader@provider.example", "read")[1]
    async with cli.worker(), serve(cli) as http:
        body = {**body_of(cli), "go_live": {"on_not_ready": "escalate", "optional": ["uat_passed"]},
                "temporary_numbers": ["(303) 555-0188"]}
        body["accounts"] = body["accounts"][:1]
        started = await http.post("/v1/ports", json=body, headers=auth(pm))
        assert started.status_code == 201, started.text
        rid, day = started.json()["id"], body["requested_port_date"]
        await eventually(lambda: http.get(f"/v1/ports/{rid}", headers=auth(read)),
                         lambda r: r.json()["status"] == "documents", what="documents stage")

        shown = await http.get(f"/v1/ports/{rid}/gate", headers=auth(read))
        assert shown.status_code == 200, shown.text
        page = GatePage.model_validate(shown.json())
        assert page.temporary_numbers == ["+13035550188"] and page.go_live.on_not_ready == "escalate"
        assert not page.go_live.item("uat_passed").required and page.go_live.item("users_trained").required

        assert (await http.post(f"/v1/ports/{rid}/gate/items/users_trained", json={}, headers=auth(read))).status_code == 403
        for _ in range(2):  # a retry with the same key records it once
            done = await http.post(f"/v1/ports/{rid}/gate/items/users-trained", json={"note": "3 sessions"},
                                   headers=auth(pm, "trained-1"))
            assert done.status_code == 200, done.text
        item = next(i for i in done.json()["go_live"]["items"] if i["id"] == "users_trained")
        assert item["done"]["by"] == "dana.pm@provider.example" and item["done"]["note"] == "3 sessions"
        again = await http.post(f"/v1/ports/{rid}/gate/items/users_trained", json={}, headers=auth(pm))
        assert again.status_code == 409 and "users_trained is already done" in again.json()["detail"]
        unknown = await http.post(f"/v1/ports/{rid}/gate/items/usres_trained", json={}, headers=auth(pm))
        assert unknown.status_code == 422 and "did you mean users_trained?" in unknown.json()["detail"]

        missed = await http.post(f"/v1/ports/{rid}/gate/change-window", headers=auth(pm), json={
            "start": f"{day} 06:00", "end": "08:00", "tz": "America/Chicago", "approved_by": "CAB"})
        assert missed.status_code == 409, missed.text
        assert (f"the change window {day} 06:00-08:00 America/Chicago ends before activation at 10:00; ask the "
                f"change board for a window that contains {day} 10:00 America/Chicago") in missed.json()["detail"]
        bad = await http.post(f"/v1/ports/{rid}/gate/change-window", headers=auth(pm), json={
            "start": f"{day} 09:00", "end": "12:00", "tz": "Mars/Olympus", "approved_by": "CAB"})
        assert bad.status_code == 422 and "unknown time zone" in bad.json()["detail"]
        ok = await http.post(f"/v1/ports/{rid}/gate/change-window", headers=auth(pm), json={
            "start": f"{day} 09:00", "end": "12:00", "tz": "America/Chicago", "approved_by": "CAB", "reference": "CR-1"})
        assert ok.status_code == 200 and ok.json()["go_live"]["change_window"]["approved_by"] == "CAB"
        rb = await http.post(f"/v1/ports/{rid}/gate/rollback", json={"plan": "RB-12"}, headers=auth(pm))
        assert rb.status_code == 200 and rb.json()["go_live"]["rollback_plan"] == "RB-12"
        tn = await http.post(f"/v1/ports/{rid}/temporary-numbers", json={"numbers": ["303-555-0189"]}, headers=auth(pm))
        assert tn.status_code == 200 and tn.json()["temporary_numbers"] == ["+13035550188", "+13035550189"]
        bad_tn = await http.post(f"/v1/ports/{rid}/temporary-numbers", json={"numbers": ["12"]}, headers=auth(pm))
        assert bad_tn.status_code == 422 and "is not a valid NANP number" in bad_tn.json()["detail"]
        order = await http.get(f"/v1/ports/{rid}-1/gate", headers=auth(read))
        assert order.status_code == 422 and f"use {rid}" in order.json()["detail"]
        await http.post(f"/v1/ports/{rid}/cancel", json={"reason": "test finished"}, headers=auth(pm))


async def test_a_port_without_a_gate_is_404(cli: Harness) -> None:  # noqa: F811
    pm = create_key("dana.pm@provider.example", "pm")[1]
    async with cli.worker(), serve(cli) as http:
        started = await http.post("/v1/ports", json=body_of(cli), headers=auth(pm))
        assert started.status_code == 201, started.text
        rid = started.json()["id"]
        got = await http.get(f"/v1/ports/{rid}/gate", headers=auth(pm))
        assert got.status_code == 404 and "has no go-live checklist" in got.json()["detail"]
        await http.post(f"/v1/ports/{rid}/cancel", json={"reason": "test finished"}, headers=auth(pm))
