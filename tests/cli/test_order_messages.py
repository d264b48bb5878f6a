"""Messages about an order that is not there yet, or not at the carrier yet (issue 12), on
the dev server: each says what is true and what happens next, never a step that cannot work.
"""

from __future__ import annotations

import pytest

from portflow.cli import actions, order_actions
from portflow.cli.errors import CliError
from portflow.cli.files import plan_start
from tests.cli.conftest import EXAMPLES, PM, Harness, business_days_ahead
from tests.polling import eventually
from models.request import DocumentKind


async def _started(cli: Harness) -> str:
    plan = plan_start(cli.request_file(port_date=business_days_ahead(30), documents=False))
    rid = await actions.fresh_request_id(cli.client)
    await actions.cmd_start(cli.client, plan.request.model_copy(update={"id": rid}), base_dir=plan.base_dir, actor=PM)
    return rid


async def _refusal(call) -> str:
    with pytest.raises(CliError) as caught:
        await call
    return caught.value.message


async def test_sign_names_what_is_wrong_with_an_order_that_does_not_run(cli: Harness) -> None:
    async with cli.worker():
        rid = await _started(cli)
        message = await _refusal(order_actions.cmd_sign(cli.client, f"{rid}-7", name="Dr. Samuel Greene"))
        assert message.startswith(f"{rid} has no order {rid}-7: its orders are {rid}-1, {rid}-2"), message
        assert "documents are complete" not in message

        message = await _refusal(order_actions.cmd_sign(cli.client, f"{rid}-1", name="Dr. Samuel Greene"))
        assert message.startswith(f"{rid}-1 has not started yet: its LOA goes out once {rid}'s documents are complete")
        assert "CSR" in message  # what is missing

        message = await _refusal(order_actions.cmd_sign(cli.client, "PR-2026-9999-1", name="Dr. Samuel Greene"))
        assert message.startswith("no port PR-2026-9999-1: there is no request PR-2026-9999"), message


async def test_carrier_event_on_an_order_not_yet_submitted_says_so_without_asking_for_a_carrier_order_id(
    cli: Harness,
) -> None:
    async with cli.worker():
        rid = await _started(cli)
        for name, kind, order in (("lumen-csr.pdf", DocumentKind.CSR, 1), ("lumen-bill.pdf", DocumentKind.BILL, 1),
                                  ("comcast-csr.pdf", DocumentKind.CSR, 2), ("comcast-bill.pdf", DocumentKind.BILL, 2)):
            await actions.cmd_attach(cli.client, rid, EXAMPLES / "documents" / name, kind, actor=PM,
                                     order_id=f"{rid}-{order}")
        oid = f"{rid}-1"
        async def status() -> str | None:
            try:
                return (await actions.query_order(cli.client, oid)).status.value
            except CliError:  # the order has not started yet
                return None

        await eventually(status, lambda s: s == "loa_sent", what="LOA sent")
        for given in ({"completed": True}, {"completed": True, "carrier_order_id": "LUM-1"}):
            message = await _refusal(order_actions.cmd_carrier_event(cli.client, oid, actor=PM, **given))
            assert message.startswith(f"{oid} is loa_sent: it has not been submitted to the carrier yet"), message
            assert "--carrier-order-id" not in message
        for provider in ("manual",):
            cli.configure(CARRIER_PROVIDER=provider)
            message = await _refusal(order_actions.cmd_carrier_event(cli.client, oid, actor=PM, completed=True))
            assert "has not been submitted to the carrier yet" in message, message
