"""``PORTFLOW_SEARCH_CUSTOMER_NAME=false`` (issue 14): search attributes are stored in clear,
so an operator may leave the customer's name out of them; the choice is frozen into the
port's options at start, never read by workflow code."""

from __future__ import annotations

import pytest

from portflow.cli import actions
from tests.cli.conftest import Harness, business_days_ahead
from tests.cli.test_ports_cli import start
from tests.polling import eventually
from workflows import search


async def _attributes(cli: Harness, workflow_id: str):  # noqa: ANN202
    return (await cli.client.get_workflow_handle(workflow_id).describe()).typed_search_attributes


@pytest.mark.parametrize("named", [True, False])
async def test_customer_name_is_a_search_attribute_only_when_allowed(cli: Harness, named: bool) -> None:
    cli.configure(SEARCH_CUSTOMER_NAME=str(named).lower())
    async with cli.worker():
        rid = await start(cli, port_date=business_days_ahead(30), documents=True)
        page = await eventually(lambda: actions.cmd_status(cli.client, rid),
                                lambda p: p.request is not None and len(p.request.orders) == 2, what="two orders")
        for wid in [rid, *(o.order_id for o in page.request.orders)]:
            attrs = await _attributes(cli, wid)
            assert attrs.get(search.PORT_STATUS) is not None, wid
            assert attrs.get(search.CUSTOMER_NAME) == (cli.customer if named else None), wid
