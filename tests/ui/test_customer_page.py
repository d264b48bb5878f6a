"""The customer's self-service page in a real browser, as the customer meets it: the link
comes from the ``request_received`` mail in the outbox; headless Chromium opens it, uploads
the CSR and the bill from ``examples/documents/`` through the form, and sees the port leave
the documents stage. A worker and the API service run against the dev server (the UI tests'
``ui_server``). Screenshots land in ``var/screenshots/customer-*.png``.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, async_playwright, expect
from temporalio.client import Client

from core.settings import get_settings, reset_settings
from devtools.devserver import DevServer
from models.status import PortStatus
from portflow.temporal import connect
from store.db import dispose_engines, migrate
from store.documents import documents_of
from tests.local_servers import current_worker
from tests.mail_helpers import wait_mail
from tests.settings_helpers import use_settings
from tests.ui.conftest import SCREENSHOTS
from tests.workflows.helpers import sample_request, start, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "examples" / "documents"
CONTACT = "ana@contoso.example"  # tests.workflows.helpers.sample_request's contact
WAIT_MS = 20_000
expect.set_options(timeout=WAIT_MS)


def api_port_of(server: DevServer) -> int:
    """The port of the API service the UI fixture started (its codec server's endpoint)."""
    return int(re.search(r":(\d+)/codec$", server.codec_endpoint).group(1))  # type: ignore[attr-defined, union-attr]


@pytest_asyncio.fixture
async def client(ui_server: DevServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Client]:
    """Local providers, a fresh var/, and customer links that point at the running API."""
    use_settings(monkeypatch, {
        "VAR_DIR": tmp_path / "var",
        "DATABASE_URL": None,
        "TEMPORAL_ADDRESS": ui_server.address,
        "TEMPORAL_TASK_QUEUE": f"customer-{uuid.uuid4().hex[:8]}",
        "ESIGN_PROVIDER": "local",
        "AUTO_SIGN": "false",
        "CARRIER_PROVIDER": "simulator",
        "NOTIFY_CHANNELS": '["outbox"]',
        "PUBLIC_URL": f"http://127.0.0.1:{api_port_of(ui_server)}",
    })
    dispose_engines()
    migrate()
    yield await connect(address=ui_server.address)
    dispose_engines()
    reset_settings()


def shot(name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"customer-{name}.png"


async def upload(page: Page, kind: str, file: Path) -> None:
    await page.locator("select[name=kind]").select_option(kind)
    await page.locator("input[name=file]").set_input_files(str(file))
    await page.locator("form button[type=submit]").click()
    await expect(page.locator("#uploaded")).to_be_visible()  # back on the page, with the thank-you line


async def reload_until(page: Page, selector: str, attribute: str, value: str, seconds: float = 30) -> None:
    for _ in range(int(seconds * 2)):
        if await page.locator(selector).get_attribute(attribute) == value:
            return
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(page.locator(selector)).to_have_attribute(attribute, value)


async def test_the_customer_uploads_the_documents_from_the_mailed_link(
        chromium: str, ui_server: DevServer, client: Client) -> None:
    request = sample_request(accounts=1, customer={"name": "Contoso Dental", "language": "pt"})
    async with current_worker(client, get_settings().temporal_task_queue):
        handle = await start(client, request)
        await wait_for(handle, lambda v: v.status == PortStatus.DOCUMENTS, what="the documents stage")
        mail = (await wait_mail(get_settings().var_dir, "request_received", to=CONTACT))[0]
        links = re.findall(r"http://127\.0\.0\.1:\d+/c/\S+", mail.body)
        assert len(links) == 1, mail.body
        link = links[0]

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, headless=True)
            page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.set_default_timeout(WAIT_MS)
            try:
                await page.goto(link)
                stage = page.locator("#stage")
                await expect(stage).to_have_attribute("data-step", "documents")
                await expect(page.locator("html")).to_have_attribute("lang", "pt")
                await expect(page.get_by_role("heading", name="Documentos que faltam")).to_be_visible()
                await expect(page.locator("#documents li")).to_have_count(2)  # CSR and bill of the one account
                html = await page.content()
                assert "4417" not in html and "8831-2207-19" not in html  # the PIN and account number
                # usable on a phone: nothing wider than the screen
                assert await page.evaluate("document.documentElement.scrollWidth") <= 390
                await page.screenshot(path=shot("documents-phone"), full_page=True)

                await upload(page, "csr", DOCS / "lumen-csr.pdf")
                await expect(page.locator("#documents li")).to_have_count(1)
                await upload(page, "bill", DOCS / "lumen-bill.pdf")

                # the workflow moves the stage on after the last document, then sends the LOA:
                # the customer reloads until the page says so
                await reload_until(page, "#next", "data-need", "need_signature")
                await expect(stage).to_have_attribute("data-step", "loa")
                await expect(page.locator("#loa p")).to_have_attribute("data-loa", "sent")
                await expect(page.locator("#documents")).to_contain_text("Temos todos os documentos")
                await page.set_viewport_size({"width": 1024, "height": 900})
                await page.screenshot(path=shot("after-upload"), full_page=True)
            except BaseException:
                with contextlib.suppress(Exception):
                    await page.screenshot(path=shot("failure"), full_page=True)
                raise
            finally:
                await browser.close()

        view = await wait_for(handle, lambda v: v.status not in (PortStatus.INTAKE, PortStatus.DOCUMENTS),
                              what="the documents stage to end")
        assert view.missing == []
        stored = [d for d in documents_of(request_id=request.id) if d.kind.value in ("csr", "bill")]  # not the LOA
        assert sorted((d.kind.value, d.file_name) for d in stored) == [("bill", "lumen-bill.pdf"), ("csr", "lumen-csr.pdf")]
        assert {d.uploaded_by for d in stored} == {f"{CONTACT} (customer page)"}
        await handle.terminate(reason="test over")
        for i in range(len(request.accounts)):
            with contextlib.suppress(Exception):
                await client.get_workflow_handle(request.order_id(i)).terminate(reason="test over")
