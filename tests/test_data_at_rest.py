"""Issue 14's promise: what the Temporal server stores (its SQLite file) holds none of a
port's customer data. A demo-like run (the demo's request, settings, worker and steps, in
this process) on a dev server with SQLite persistence, then the bytes of the server's files
are searched for the contact's name, the e-mails, the street addresses and the numbers.
With the codec switched off the same run leaves them there: the search itself works.
The run stops after its first half minute (the request, LOAs, submission: every field has been
in a payload by then); the full demo (tests/test_demo.py) checks its own var/temporal.db
after the port completed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.local_servers import free_ports
from tests.settings_helpers import use_settings

# the demo request's (examples/demo-request.yaml) customer data, as stored in any form
SENSITIVE = [b"Maya Castillo", b"maya.castillo@northwindpeds", b"Samuel Greene", b"samuel.greene@northwindpeds",
             b"4410 N Lincoln Ave", b"1025 Lake St", b"7735550140", b"7735550145", b"7085550160",
             b"(773) 555-0140", b"555-0162"]


def leaks(var: Path) -> list[str]:
    """Which of SENSITIVE appear in the dev server's database files (the WAL too)."""
    data = b"".join(p.read_bytes() for p in var.glob("temporal.db*"))
    assert len(data) > 100_000, "no database written"
    return [s.decode() for s in SENSITIVE if s in data]


async def demo_like_run(var: Path, monkeypatch: pytest.MonkeyPatch, *, encrypted: bool,
                        follow_seconds: float = 30) -> str:
    from devtools.demo import Demo, demo_environment, write_demo_request
    from devtools.devserver import ensure_dev_server
    from devtools.servers import current_worker, register_search_attributes
    from portflow.temporal import connect
    from store.db import dispose_engines, migrate

    port, ui_port, api_port = free_ports(3)
    env = {k.removeprefix("PORTFLOW_"): v for k, v in demo_environment(port=port, ui_port=ui_port,
                                                                      api_port=api_port).items()}
    settings = use_settings(monkeypatch, env, VAR_DIR=var, DATABASE_URL=None, PAYLOAD_KEYS="",
                            PAYLOAD_ENCRYPTION=str(encrypted).lower(), CARRIER_POLL_SECONDS=1)
    dispose_engines()
    migrate()
    server = await ensure_dev_server(port=port, ui_port=ui_port, db_file=var / "temporal.db",
                                     log_path=var / "temporal.log")
    try:
        client = await connect()
        await register_search_attributes(client)
        demo = Demo(client, out=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
        async with current_worker(client, settings.temporal_task_queue):
            rid = await demo.start(write_demo_request(var, _next_business_day()))
            # the first minute: intake, LOAs out and signed, carrier submission, status mail
            page = await demo.follow(rid, timeout=follow_seconds)
        assert page.request.timeline, "nothing happened"
    finally:
        server.stop()
        dispose_engines()
    return rid


def _next_business_day():  # noqa: ANN202
    from datetime import date, timedelta

    from core.calendar import PortCalendar

    return PortCalendar.from_settings().next_business_day(date.today() + timedelta(days=1))


@pytest.mark.timeout(200)
@pytest.mark.parametrize("encrypted", [True, False], ids=["codec", "no-codec"])
async def test_the_servers_database_holds_no_customer_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           encrypted: bool) -> None:
    var = tmp_path / "var"
    await demo_like_run(var, monkeypatch, encrypted=encrypted)
    found = leaks(var)
    if encrypted:
        assert found == [], f"in clear in the Temporal server's database: {found}"
        assert (var / "payload.key").is_file()  # development: a local key, made once
    else:
        assert len(found) >= 6, found  # the same run without the codec: the search finds them
