"""Outgoing webhooks driven over HTTP against a Temporal dev server and the production worker:
a PM system subscribes with ``POST /v1/webhooks``, a port is started and cancelled through the
API, and a real local receiver gets every status change once, each signature verified."""

from __future__ import annotations

from collections import Counter

from store import requests, webhooks
from store.api_keys import create_key
from store.db import session_scope
from tests.api.v1.test_api_dev_server import auth, body_of, serve
from tests.cli.conftest import Harness, cli  # noqa: F401 - the harness fixture
from tests.local_servers import dev_env  # noqa: F401 - the session's dev server
from tests.polling import eventually
from tests.webhook_receiver import running_receiver


async def test_a_subscriber_gets_each_change_of_a_port_once_signed(cli: Harness) -> None:  # noqa: F811
    pm = create_key("dana.pm@provider.example", "pm")[1]
    with running_receiver() as rec:
        async with cli.worker(), serve(cli) as http:
            made = await http.post("/v1/webhooks", json={"url": rec.url + "/pm-system"}, headers=auth(pm, "hook-1"))
            assert made.status_code == 201, made.text
            rec.secrets["/pm-system"] = made.json()["secret"]
            flaky = await http.post("/v1/webhooks", json={"url": rec.url + "/down-once", "events": ["cancelled"]},
                                    headers=auth(pm))
            rec.secrets["/down-once"], flaky_id = flaky.json()["secret"], flaky.json()["id"]
            rec.script["/down-once"] = [404]  # misconfigured at first: the delivery fails at once

            started = await http.post("/v1/ports", json=body_of(cli), headers=auth(pm, "start-1"))
            assert started.status_code == 201, started.text
            rid = started.json()["id"]
            resp = await http.post(f"/v1/ports/{rid}/cancel", json={"reason": "the customer stays"},
                                   headers=auth(pm, "cancel-1"))
            assert resp.status_code in (200, 202), resp.text
            await eventually(lambda: http.get(f"/v1/ports/{rid}", headers=auth(pm)),
                             lambda r: r.json()["status"] == "cancelled", what="the port cancelled", timeout=60)

            def expected() -> set[str]:
                with session_scope() as s:
                    return {webhooks.event_id_of(requests.as_change(e))
                            for e in requests.timeline(session=s, subject_prefix=rid)}

            await eventually(lambda: {r.verified["id"] for r in rec.accepted("/pm-system")},
                             lambda got: got and got == expected(), what="every change delivered", timeout=60)
            listed = (await http.get(f"/v1/webhooks/{made.json()['id']}/deliveries", headers=auth(pm))).json()

            # the receiver is fixed; the PM sends the failed delivery again, twice by mistake: once
            failed = (await eventually(lambda: http.get(f"/v1/webhooks/{flaky_id}/deliveries", headers=auth(pm)),
                                       lambda r: [d for d in r.json() if d["state"] == "failed"],
                                       what="the failed delivery")).json()
            path = f"/v1/webhooks/{flaky_id}/deliveries/{failed[0]['id']}/redeliver"
            again = await http.post(path, json={"reason": "receiver fixed"}, headers=auth(pm))
            assert again.status_code == 200, again.text
            twice = await http.post(path, json={"reason": "receiver fixed"}, headers=auth(pm))
            assert twice.status_code == 409 and twice.headers["content-type"] == "application/problem+json"
            await eventually(lambda: http.get(f"/v1/webhooks/{flaky_id}/deliveries", headers=auth(pm)),
                             lambda r: [d["state"] for d in r.json()] == ["delivered"], what="delivered at last")

    got = rec.on("/pm-system")
    assert all(r.verified is not None and r.error is None for r in got)  # every signature verified
    counts = Counter(r.verified["id"] for r in got)
    assert set(counts.values()) == {1}, counts  # each event once
    types = {r.verified["type"] for r in got}
    assert "cancelled" in types and {r.verified["request_id"] for r in got} == {rid}
    assert {d["state"] for d in listed} == {"delivered"} and len(listed) == len(counts)
    # from the status change to the receiver's 2xx (the worker dispatches with the next activity)
    assert [r.answered for r in rec.on("/down-once")] == [404, 200]
    lags = sorted((d.delivered_at - e.occurred_at).total_seconds() for d, e in webhooks.deliveries()
                  if d.subscription_id == made.json()["id"])
    print(f"webhook delivery lag over {len(lags)} events: median {lags[len(lags) // 2]:.2f} s, max {lags[-1]:.2f} s")
    assert lags[-1] < 30, lags
