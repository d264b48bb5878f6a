"""``starter.py link show|revoke`` and the link ``starter.py status`` prints, through the
command line (typer's runner) against a port on the dev server."""

from __future__ import annotations

import asyncio
import re

import pytest
from typer.testing import CliRunner

from starter import app
from store import customer_links
from store.customer_links import BadLink, LinkProblem
from tests.cli.conftest import Harness, business_days_ahead
from tests.cli.test_ports_cli import start

LINK = re.compile(r"customer page: (https://portal\.example/c/(\S+)) \(valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC\)")


async def invoke(*args: str) -> tuple[int, str]:
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, result.output


async def test_status_and_link_show_print_links_and_revoke_voids_them(cli: Harness) -> None:
    cli.configure(PUBLIC_URL="https://portal.example", CUSTOMER_LINK_DAYS="14")
    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(30), documents=False)
        code, out = await invoke("status", rid)
        assert code == 0, out
        from_status = LINK.search(out)
        assert from_status and from_status.group(2).startswith(f"{rid}.1."), out
        code, out = await invoke("link", "show", rid)
        assert code == 0 and (shown := LINK.search(out)), out
        for token in (from_status.group(2), shown.group(2)):
            assert customer_links.verify(token).request_id == rid

        code, out = await invoke("link", "revoke", rid, "--by", "lead-pm@provider.example")
        assert code == 0 and f"revoked every customer link of {rid}" in out and "generation 2" in out, out
        for token in (from_status.group(2), shown.group(2)):
            with pytest.raises(BadLink) as caught:
                customer_links.verify(token)
            assert caught.value.problem == LinkProblem.REVOKED
        code, out = await invoke("link", "show", rid)
        fresh = LINK.search(out)
        assert fresh and customer_links.verify(fresh.group(2)).generation == 2


@pytest.mark.parametrize("args, message", [
    (["link", "show", "PR-2099-0999"], "no port PR-2099-0999 in this database"),
    (["link", "revoke", "PR-2099-0999"], "no port PR-2099-0999 in this database"),
    (["link", "show", "PR-2099-0999-1"], "is an order; a customer link belongs to its request: use PR-2099-0999"),
    (["link", "show", "ACME"], "'ACME' is not a port id"),
])
async def test_link_commands_refuse_what_they_cannot_act_on(cli: Harness, args: list[str], message: str) -> None:
    code, out = await invoke(*args)
    assert code != 0 and message in " ".join(out.split()), out
