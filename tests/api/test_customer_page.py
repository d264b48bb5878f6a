"""The customer page end to end on the time-skipping server: the link from the outbox mail
opens the request's page (in its language, without its PIN or account numbers), uploads are
checked by content and attached as ``starter.py attach`` attaches them, and the documents
stage moves on when the last one arrives. Bad links and refused uploads get plain pages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from models.request import PortRequest
from models.status import PortStatus
from store import customer_links
from store.documents import documents_of
from tests.dates import port_date_in
from tests.mail_helpers import wait_mail
from tests.settings_helpers import configure, use_settings
from tests.workflows.helpers import sample_request, start, wait_for
from tests.workflows.paths_helpers import ACCEPT_AT_ONCE, CONTACT, terminate_running
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "examples" / "documents"
LINK = re.compile(r"https?://\S+/c/[A-Za-z0-9._-]+")
PIN, ACCOUNTS = "4417", ("8831-2207-19", "55-0192-7731")  # tests.workflows.helpers.sample_request's


def link_in(body: str) -> str:
    found = LINK.findall(body)
    assert found, f"no customer link in the mail:\n{body}"
    return found[0]


@pytest.fixture
def page_env(port_var: Path, task_queue: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    return configure(monkeypatch, port_var, task_queue, profile=ACCEPT_AT_ONCE,
                     PUBLIC_URL="https://portal.example", CUSTOMER_UPLOADS_PER_WINDOW=6)


@pytest_asyncio.fixture
async def port(env: WorkflowEnvironment, page_env: Path) -> AsyncIterator[tuple[PortRequest, str]]:
    """A two-account port waiting for its documents, and the link its first mail carries."""
    req = sample_request(port_date=await port_date_in(env, 40))
    async with build_worker(env.client):
        handle = await start(env.client, req)
        try:
            await wait_for(handle, lambda v: v.status == PortStatus.DOCUMENTS, what="documents stage")
            mail = (await wait_mail(page_env, "request_received", to=CONTACT))[0]
            yield req, link_in(mail.body)
        finally:
            await terminate_running(env.client, [req.id, req.order_id(0), req.order_id(1)])


def http(env: WorkflowEnvironment) -> httpx.AsyncClient:
    app = create_app(client=env.client)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://portal.example")


async def test_the_mailed_link_opens_the_page_and_uploads_complete_the_documents(
        env: WorkflowEnvironment, port: tuple[PortRequest, str]) -> None:
    req, url = port
    assert url.startswith("https://portal.example/c/PR-")
    path = url.removeprefix("https://portal.example")
    async with http(env) as web:
        page = await web.get(path)
        assert page.status_code == 200, page.text
        html = page.text
        assert '<html lang="es">' in html and "Documentos que faltan" in html  # the request's language
        assert 'name="viewport"' in html and "<script" not in html
        assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
        assert PIN not in html and not any(a in html for a in ACCOUNTS)
        assert "Lumen" in html and "Verizon" in html and 'data-step="documents"' in html
        assert html.count('data-kind="csr"') == 2 and html.count('data-kind="bill"') == 2
        assert "(212) 555-" in html and "aún sin asignar" in html  # the numbers, none assigned yet

        # not a PDF (a script renamed .pdf): refused by its content, nothing stored
        bad = await web.post(f"{path}/upload", data={"kind": "csr", "order": ""},
                             files={"file": ("bill.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf")})
        assert bad.status_code == 415 and "PDF" in bad.text and documents_of(request_id=req.id) == []

        for kind, name in (("csr", "lumen-csr.pdf"), ("bill", "lumen-bill.pdf")):
            sent = await web.post(f"{path}/upload", data={"kind": kind, "order": ""},
                                  files={"file": (name, (DOCS / name).read_bytes(), "application/octet-stream")})
            assert sent.status_code == 303, sent.text
            assert sent.headers["location"] == f"{path}?uploaded=1#documents"
        again = await web.post(f"{path}/upload", data={"kind": "csr", "order": ""},
                               files={"file": ("csr.pdf", (DOCS / "lumen-csr.pdf").read_bytes(), "application/pdf")})
        assert again.status_code == 409 and "Ya tenemos este documento" in again.text
        stored = documents_of(request_id=req.id)
        assert sorted(d.kind.value for d in stored) == ["bill", "csr"]
        assert all(d.order_id is None and d.uploaded_by == f"{CONTACT} (customer page)" for d in stored)

        handle = env.client.get_workflow_handle(req.id)
        view = await wait_for(handle, lambda v: v.status not in (PortStatus.INTAKE, PortStatus.DOCUMENTS),
                              what="the documents stage to end")
        assert view.missing == []
        after = await web.get(f"{path}?uploaded=1")
        assert 'id="uploaded"' in after.text and "Tenemos todos los documentos" in after.text
        assert 'data-step="documents"' not in after.text


async def test_revoked_expired_forged_and_malformed_links_get_plain_pages(
        env: WorkflowEnvironment, port: tuple[PortRequest, str], monkeypatch: pytest.MonkeyPatch) -> None:
    req, url = port
    # the port's PM is the one it started with; a link we never issued gets the desk's address
    use_settings(monkeypatch, PM_EMAIL="porting-desk@provider.example")
    path = url.removeprefix("https://portal.example")
    request_id, generation, expires, signature = path.removeprefix("/c/").split(".")
    forged = f"/c/{request_id}.{generation}.{int(expires) + 86400 * 365}.{signature}"  # a longer life
    other = f"/c/PR-2099-0001.{generation}.{expires}.{signature}"  # someone else's request
    async with http(env) as web:
        for bad in (forged, other, "/c/not-a-token", "/c/" + "A" * 500):
            page = await web.get(bad, headers={"accept-language": "fr-CA,fr;q=0.9"})
            assert page.status_code == 403, (bad, page.text)
            assert "Ce lien ne fonctionne pas" in page.text and "porting-desk@provider.example" in page.text
            assert req.id not in page.text and "Contoso" not in page.text
        posted = await web.post(f"{forged}/upload", files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
        assert posted.status_code == 403

        customer_links.revoke(req.id, actor="pm@provider.example")
        gone = await web.get(path)
        assert gone.status_code == 410 and "sustituido" in gone.text and "pm@portflow.local" in gone.text
        assert "Contoso" not in gone.text and "(212)" not in gone.text
        fresh = customer_links.link(req.id).removeprefix("https://portal.example")
        assert (await web.get(fresh)).status_code == 200

        from datetime import UTC, datetime, timedelta

        old = customer_links.link(req.id, now=datetime.now(UTC) - timedelta(days=31))
        expired = await web.get(old.removeprefix("https://portal.example"))
        assert expired.status_code == 410 and "caducado" in expired.text


async def test_uploads_are_limited_per_link_and_by_size(
        env: WorkflowEnvironment, port: tuple[PortRequest, str], monkeypatch: pytest.MonkeyPatch) -> None:
    req, url = port
    path = url.removeprefix("https://portal.example")
    async with http(env) as web:
        monkeypatch.setenv("PORTFLOW_MAX_DOCUMENT_MB", "0.01")
        from core.settings import reset_settings

        reset_settings()
        big = await web.post(f"{path}/upload", data={"kind": "csr"},
                             files={"file": ("csr.pdf", b"%PDF-1.4\n" + b"0" * 20_000, "application/pdf")})
        assert big.status_code == 413 and "0.01 MB" in big.text
        empty = await web.post(f"{path}/upload", data={"kind": "csr"}, files={"file": ("csr.pdf", b"", "application/pdf")})
        assert empty.status_code == 400
        wrong_order = await web.post(f"{path}/upload", data={"kind": "csr", "order": "PR-2099-0001-1"},
                                     files={"file": ("csr.pdf", b"%PDF-1.4 x", "application/pdf")})
        assert wrong_order.status_code == 400
        no_form = await web.post(f"{path}/upload", content=b"kind=csr", headers={"content-type": "text/plain"})
        assert no_form.status_code == 400
        for _ in range(2):  # six attempts in the window (PORTFLOW_CUSTOMER_UPLOADS_PER_WINDOW=6)
            refused = await web.post(f"{path}/upload", data={"kind": "bill"},
                                     files={"file": ("x.pdf", b"MZ\x90\x00", "application/pdf")})
            assert refused.status_code == 415
        limited = await web.post(f"{path}/upload", data={"kind": "bill"},
                                 files={"file": ("bill.pdf", (DOCS / "lumen-bill.pdf").read_bytes(), "application/pdf")})
        assert limited.status_code == 429 and "10 minutos" in limited.text
        assert documents_of(request_id=req.id) == []
