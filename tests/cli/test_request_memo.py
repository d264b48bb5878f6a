"""The request workflow's memo and summary: what ops read on its page in the Temporal UI.

``start_port`` writes them at start; the dev server keeps them with the execution, and
``describe`` returns them as the UI shows them. Everyone with UI access reads the memo, so
it holds counts and names, never a phone number, an account number or a PIN.
"""

from __future__ import annotations

from portflow.cli import actions
from portflow.cli.files import plan_start
from tests.cli.conftest import PM, Harness, business_days_ahead


async def test_the_request_memo_holds_the_ports_facts_and_no_secrets(cli: Harness) -> None:
    port_date = business_days_ahead(30)
    plan = plan_start(cli.request_file(port_date=port_date, documents=False))
    rid = await actions.fresh_request_id(cli.client)
    request = plan.request.model_copy(update={"id": rid})
    async with cli.worker(PM_EMAIL="pm-east@provider.example"):
        await actions.cmd_start(cli.client, request, base_dir=plan.base_dir, actor=PM)
        desc = await cli.client.get_workflow_handle(rid).describe()

    # exactly these keys: a new one (a BTN, an account number) has to be added here on purpose
    assert await desc.memo() == {
        "customer": cli.customer,
        "losing_carriers": ["Comcast Business", "Lumen"],
        "number_count": 8,
        "account_count": 2,
        "requested_port_date": port_date.isoformat(),
        "pm_email": "pm-east@provider.example",
        "started_by": PM,
    }
    assert await desc.static_summary() == f"Port {rid}: {cli.customer}, 8 numbers from Comcast Business, Lumen"

