"""The customer page's texts and HTML without a server: every text in every language, the
page in each language for each stage, the upload types recognised by content."""

from __future__ import annotations

import json
import re
import string
from datetime import date
from pathlib import Path

import pytest

from api import customer_render as render
from core.sniff import sniff
from portflow.customer_page import STEPS, CustomerView, MissingDoc, NumberLine, OrderLine, loa_state
from models.status import PortStatus

ROOT = Path(__file__).resolve().parents[2]


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_exists_in_every_language_with_the_same_placeholders() -> None:
    english = render.texts("en")
    for language in render.LANGUAGES:
        table = json.loads((render.I18N / f"{language}.json").read_text(encoding="utf-8"))
        assert set(table) == set(english), (language, set(english) ^ set(table))
        for key, text in table.items():
            assert text.strip(), (language, key)
            assert placeholders(text) == placeholders(english[key]), (language, key)
            if language != "en" and key not in ("step_documents", "upload_kind", "lang_name"):
                assert text != english[key] or len(text) < 12, f"{language}.{key} is still English"


def test_the_templates_use_only_texts_that_exist() -> None:
    keys = set(render.texts("en"))
    used = set()
    for name in ("page.html", "message.html", "base.html"):
        source = (render.TEMPLATES / "customer" / name).read_text()
        used |= set(re.findall(r'tr\("([a-z_]+)"[,)]', source))
    assert used and used <= keys, used - keys
    prefixed = {f"{p}{s}" for p, values in (("step_", STEPS), ("loa_", ("not_yet", "sent", "declined", "signed",
                                                                        "stopped")), ("doc_", ("csr", "bill")))
                for s in values}
    assert prefixed <= keys, prefixed - keys


def view(status: str = "documents", **over: object) -> CustomerView:
    base = dict(request_id="PR-2026-0042", language="en", customer_name="Acme <Dental>", contact_name="Ana",
                contact_email="ana@acme.example", pm_email="pm@provider.example", status=status,
                port_date=date(2027, 1, 20), documents_due=date(2026, 12, 30),
                missing=[MissingDoc("csr", "PR-2026-0042-1", "Lumen"), MissingDoc("bill", "PR-2026-0042-2", "Verizon")],
                orders=[OrderLine("PR-2026-0042-1", "Lumen", status, loa_state(status)),
                        OrderLine("PR-2026-0042-2", "Verizon", status, loa_state(status), foc_date="2027-01-20")],
                numbers=[NumberLine("(212) 555-0100", None), NumberLine("(212) 555-0101", "ana@acme.example")])
    base.update(over)
    return CustomerView(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", render.LANGUAGES)
def test_the_page_renders_in_each_language(language: str) -> None:
    html = render.page(view(language=language), upload_path="/c/t/upload").body.decode()
    table = render.texts(language)
    assert f'<html lang="{language}">' in html and 'name="viewport"' in html
    for key in ("stage_heading", "docs_heading", "upload_button", "loa_heading", "numbers_heading"):
        assert table[key].replace("'", "&#39;") in html, key
    assert "Acme &lt;Dental&gt;" in html  # escaped
    assert 'action="/c/t/upload"' in html and 'enctype="multipart/form-data"' in html
    assert '<option value="">' in html  # two accounts: "all my accounts" or one of them
    assert "2027-01-20" in html and "2026-12-30" in html
    assert "{" not in html.split("<style>")[1].split("</style>")[1]  # every placeholder filled


@pytest.mark.parametrize("status, step, need", [
    ("documents", "documents", "need_documents"),
    ("loa_sent", "loa", "need_signature"),
    ("carrier_pending", "carrier", "need_nothing"),
    ("foc_confirmed", "scheduled", "need_assignments"),
    ("completed", "done", "need_done"),
    ("cancelled", "stopped", "need_stopped"),
])
def test_each_stage_says_where_the_port_is_and_what_is_needed(status: str, step: str, need: str) -> None:
    missing = [] if status != "documents" else view().missing
    v = view(status, missing=missing)
    assert (v.step, v.need) == (step, need)
    html = render.page(v, upload_path="/c/t/upload").body.decode()
    assert f'data-step="{step}"' in html and f'data-need="{need}"' in html
    assert ("<form" in html) == bool(missing)


def test_every_port_status_has_a_step() -> None:
    for status in PortStatus:
        assert view(status.value, missing=[]).step in (*STEPS, "stopped")


def test_a_page_whose_workflow_did_not_answer_lists_no_documents() -> None:
    html = render.page(view(live=False, missing=[]), upload_path="/u").body.decode()
    assert render.texts("en")["docs_unknown"] in html and "<form" not in html


def test_messages_are_plain_pages_with_their_status() -> None:
    page = render.message("pt", 410, title="err_title", message="err_expired", problem="expired", email="pm@x.example")
    assert page.status_code == 410 and "Este link expirou" in page.body.decode() and "pm@x.example" in page.body.decode()
    assert page.headers["cache-control"] == "no-store" and "script-src" not in page.headers["content-security-policy"]
    assert render.message("xx", 403, title="err_title", message="err_invalid", problem="invalid",
                          email="e").body.decode().startswith("<!doctype html>\n<html lang=\"en\">")


@pytest.mark.parametrize("header, language", [("fr-CA,fr;q=0.9,en;q=0.8", "fr"), ("de-DE,pt-BR;q=0.5", "pt"),
                                              ("", "en"), (None, "en"), ("*", "en"), ("x" * 5000, "en")])
def test_a_bad_link_page_speaks_the_browsers_language(header: str | None, language: str) -> None:
    assert render.from_accept_language(header) == language


def test_uploads_are_recognised_by_content_not_name() -> None:
    for name in ("comcast-bill.pdf", "lumen-csr.pdf"):
        assert sniff((ROOT / "examples" / "documents" / name).read_bytes()) == ("application/pdf", "pdf")
    assert sniff(b"\x89PNG\r\n\x1a\n....") == ("image/png", "png")
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == ("image/jpeg", "jpg")
    assert sniff(b"GIF89a...") == ("image/gif", "gif")
    assert sniff(b"II*\x00....") == ("image/tiff", "tif")
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    for bad in (b"", b"%PD", b"MZ\x90\x00", b"PK\x03\x04", b"<html><script>", b"RIFF\x00\x00\x00\x00WAVE",
                b" %PDF-1.4", b"\xef\xbb\xbf%PDF-1.4"):
        assert sniff(bad) is None, bad


@pytest.mark.parametrize("language", render.LANGUAGES)
@pytest.mark.parametrize("template", ["request_received", "documents_missing"])
def test_the_mails_carry_the_link_in_each_language(template: str, language: str) -> None:
    from models.notify import Audience, Notification, Recipient
    from providers.notify.render import render as render_mail
    from tests.providers.notify_samples import CONTEXTS

    link = "https://portal.example/c/PR-2026-0042.1.1767225600." + "B" * 43
    note = Notification(key="k", template=template, language=language, request_id="PR-2026-0042",
                        to=[Recipient(audience=Audience.CUSTOMER, address="ana@acme.example", name="Ana")],
                        context={**CONTEXTS[template], "customer_link": link})
    mail = render_mail(note)
    assert mail.language == language
    assert f"\n{link}\n" in mail.text  # on a line of its own: mail clients make it a link
    assert f'<a href="{link}">{link}</a>' in (mail.html or "")
    without = render_mail(note.model_copy(update={"context": {**CONTEXTS[template], "customer_link": None}}))
    assert "/c/" not in without.text
