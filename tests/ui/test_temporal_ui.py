"""Ops watch ports in the Temporal UI: checked in a real browser, as they would look.

One port waits for its LOA signature (documents attached, the LOAs out), another still
waits for its documents. Headless Chromium opens the UI's workflow list filtered by
``PortStatus`` and the waiting port's page, and reads what a person reads there: the port
(and its orders) in the list and not the other one, the summary and details written at
start, the current details the workflow keeps (stage, port date, next step, who it waits
on, the deadline) and the memo. Screenshots land in ``var/screenshots/`` for a look.
"""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import pytest_asyncio
from playwright.async_api import Page, async_playwright, expect
from temporalio.client import Client
from portflow.temporal import connect

from core.settings import get_settings, reset_settings
from devtools.devserver import DevServer
from models.workflow import RequestView
from store.db import dispose_engines, migrate
from tests.local_servers import current_worker
from tests.polling import eventually
from tests.settings_helpers import use_settings
from tests.ui.conftest import SCREENSHOTS
from tests.workflows.helpers import attach_all, sample_request, start, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

CODEC_TOKEN = "ui-test-codec-token"
UI_WAIT_MS = 20_000  # the UI is a single-page app: every check waits for what it looks for
expect.set_options(timeout=UI_WAIT_MS)  # assertions too (their own default is 5 s: too short on a loaded machine)


@pytest_asyncio.fixture
async def client(ui_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Client]:
    """A client of the UI's dev server, with settings for local providers and a fresh var/."""
    use_settings(monkeypatch, {
        "VAR_DIR": tmp_path / "var",
        "DATABASE_URL": None,
        "TEMPORAL_ADDRESS": ui_server.address,
        "TEMPORAL_TASK_QUEUE": f"ui-{uuid.uuid4().hex[:8]}",
        "TEMPORAL_UI_URL": ui_server.ui_url,
        "ESIGN_PROVIDER": "local",
        "AUTO_SIGN": "false",
        "CARRIER_PROVIDER": "simulator",
        "NOTIFY_CHANNELS": '["outbox"]',
        "PM_EMAIL": "pm-ops@provider.example",
        "CODEC_TOKEN": CODEC_TOKEN,
    })
    dispose_engines()
    migrate()
    yield await connect(address=ui_server.address)
    dispose_engines()
    reset_settings()


async def visible(client: Client, query: str, count: int, timeout: float = 20.0) -> None:
    """Until the server's visibility answers ``count`` workflows for ``query`` (what the UI asks)."""
    await eventually(lambda: client.count_workflows(query), lambda seen: seen.count == count,
                     what=f"{count} workflow(s) in visibility for {query!r}", timeout=timeout,
                     show=lambda seen: f"{seen.count} workflow(s)")


async def new_page(browser, ui_server: DevServer, *, token: str | None = CODEC_TOKEN) -> Page:  # noqa: ANN001
    """A page of the UI whose calls to the codec server carry the Bearer token, as a UI with
    login forwards its user's access token (the dev server's UI has no login to forward)."""
    page = await browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(UI_WAIT_MS)
    if token is not None:
        async def with_token(route) -> None:  # noqa: ANN001
            await route.continue_(headers={**route.request.headers, "authorization": f"Bearer {token}"})

        await page.route(f"{ui_server.codec_endpoint}/**", with_token)
    return page


def waits(stage: str, on: str) -> Callable[[RequestView], bool]:
    return lambda v: v.status.value == stage and v.next.waiting_on.value == on


def shot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


async def test_the_ui_lists_a_waiting_port_by_status_and_shows_its_story(
    chromium: str, ui_server: DevServer, client: Client, tmp_path: Path
) -> None:
    waiting = sample_request()
    other = sample_request()
    # the worker runs while the browser looks: the UI asks it for the current details
    async with current_worker(client, get_settings().temporal_task_queue):
        # both ports wait for the customer's documents; then the PM attaches one port's
        handle = await start(client, waiting)
        await wait_for(await start(client, other), waits("documents", "customer"), what="documents awaited")
        await wait_for(handle, waits("documents", "customer"), what="documents awaited")
        await attach_all(client, waiting, tmp_path)
        # the request's next step comes from its orders: wait until their LOA deadline is in
        view: RequestView = await wait_for(handle, lambda v: waits("loa_sent", "signer")(v) and v.next.due_at,
                                           what="both LOAs out, the signature due by a date")
        query = "PortStatus = 'loa_sent'"
        orders = [waiting.order_id(i) for i in range(len(waiting.accounts))]
        await visible(client, f"{query} AND PortRequestId = '{waiting.id}'", 1 + len(orders))
        await visible(client, f"PortStatus = 'documents' AND PortRequestId = '{other.id}'", 1)

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, headless=True)
            page = await new_page(browser, ui_server)
            try:
                await check_list(page, ui_server.ui_url, query, waiting.id, orders, other.id)
                carriers = sorted({a.carrier for a in waiting.accounts})
                await check_workflow_page(page, waiting.id, view, summary=(
                    f"Port {waiting.id}: {waiting.customer.name}, {len(waiting.all_numbers)} numbers "
                    f"from {', '.join(carriers)}"), memo=[
                    f'"customer": "{waiting.customer.name}"', f'"number_count": {len(waiting.all_numbers)}',
                    '"losing_carriers": [ ' + ", ".join(json.dumps(c) for c in carriers) + " ]",  # line breaks read as spaces
                    '"pm_email": "pm-ops@provider.example"'])
            except BaseException:
                with contextlib.suppress(Exception):  # what the browser showed when it failed
                    await page.screenshot(path=shot("temporal-ui-failure"), full_page=True)
                raise
            finally:
                await browser.close()


async def check_list(page: Page, ui_url: str, query: str, request_id: str, orders: list[str], other: str) -> None:
    """The workflow list filtered by the query: the port and its orders, not the other port."""
    await page.goto(f"{ui_url}/namespaces/default/workflows?query={quote(query)}")
    await expect(page.get_by_role("link", name=request_id, exact=True)).to_be_visible()
    for order_id in orders:
        await expect(page.get_by_role("link", name=order_id, exact=True)).to_be_visible()
    await expect(page.get_by_role("link", name=other, exact=True)).to_have_count(0)
    await expect(page.get_by_text('"loa_sent"').first).to_be_visible()  # the filter the UI applied
    await page.screenshot(path=shot("temporal-ui-list"), full_page=True)


async def check_workflow_page(page: Page, request_id: str, view: RequestView, *, summary: str,
                              memo: list[str]) -> None:
    """The request's page: summary and details from the start, current details, memo."""
    await page.get_by_role("link", name=request_id, exact=True).click()
    await expect(page.get_by_role("heading", name=request_id)).to_be_visible()
    await page.get_by_text("User Metadata", exact=True).click()

    # Summary, details and current details are markdown, each rendered in its own frame
    await expect(page.frame_locator("#user-metadata-summary").locator("body")).to_have_text(summary)
    await expect(page.frame_locator("#user-metadata-details").locator("body")).to_contain_text(
        f"Requested port date {view.requested_port_date}")
    current = page.frame_locator("#user-metadata-current-details")
    await expect(current.locator("strong").first).to_have_text(view.status.value)  # **loa_sent**: bold, not stars
    body = current.locator("body")
    await expect(body).to_contain_text(f"port date {view.port_date}")
    await expect(body).to_contain_text(f"Next: {view.next.what}")
    await expect(body).to_contain_text(f"waiting on {view.next.waiting_on.value}")
    await expect(body).to_contain_text(f"due {view.next.due_at:%Y-%m-%d %H:%M} UTC")
    await page.screenshot(path=shot("temporal-ui-workflow"), full_page=True)

    await page.get_by_text("Memo", exact=True).click()
    shown = page.get_by_role("main")
    for fact in memo:
        await expect(shown).to_contain_text(fact)
    await page.screenshot(path=shot("temporal-ui-memo"), full_page=True)


async def test_the_ui_decodes_a_port_through_the_codec_server_and_only_with_the_token(
    chromium: str, ui_server: DevServer, client: Client, tmp_path: Path
) -> None:
    """Issue 14: payloads are encrypted on the server; the UI shows them decoded through the
    API's codec server, which refuses a call without the token."""
    import httpx

    request = sample_request()
    async with current_worker(client, get_settings().temporal_task_queue):
        handle = await start(client, request)
        await wait_for(handle, waits("documents", "customer"), what="documents awaited")
    history = await handle.fetch_history()
    (sealed,) = history.events[0].workflow_execution_started_event_attributes.input.payloads
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert request.contact.email.encode() not in sealed.data

    body = {"payloads": [{"metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
                          "data": base64.b64encode(sealed.data).decode()}]}
    async with httpx.AsyncClient() as http:
        refused = await http.post(f"{ui_server.codec_endpoint}/decode", json=body, headers={"X-Namespace": "default"})
        assert refused.status_code == 401 and request.contact.email not in refused.text
        ok = await http.post(f"{ui_server.codec_endpoint}/decode", json=body,
                             headers={"X-Namespace": "default", "Authorization": f"Bearer {CODEC_TOKEN}"})
        assert ok.status_code == 200 and request.contact.email in base64.b64decode(ok.json()["payloads"][0]["data"]).decode()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = await new_page(browser, ui_server)
            await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows/{request.id}")
            await expect(page.get_by_role("heading", name=request.id)).to_be_visible()
            inputs = page.get_by_text(request.contact.email).first  # the decoded input, as JSON
            await inputs.scroll_into_view_if_needed()
            await expect(inputs).to_be_visible()
            await page.screenshot(path=shot("temporal-ui-decoded-input"), full_page=True)

            blind = await new_page(browser, ui_server, token=None)  # no token: the UI shows no customer data
            await blind.goto(f"{ui_server.ui_url}/namespaces/default/workflows/{request.id}")
            await expect(blind.get_by_role("heading", name=request.id)).to_be_visible()
            await blind.wait_for_timeout(3000)
            assert request.contact.email not in await blind.content()
            await blind.screenshot(path=shot("temporal-ui-without-codec-token"), full_page=True)
        finally:
            await browser.close()
