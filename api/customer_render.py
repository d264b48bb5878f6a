"""The customer page's HTML: Jinja2 templates (``api/templates/customer/``) and their texts in
the customer's language (``api/templates/customer/i18n/<lang>.json``: every key in every
language, which tests/api/test_customer_render.py checks).

Every response carries headers for a page reached by a secret link: never cached, never
sent as a referrer, never indexed or framed, no script allowed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi.responses import HTMLResponse

from core.settings import get_settings
from portflow.customer_page import STEPS, CustomerView, foc_dates

TEMPLATES = Path(__file__).resolve().parent / "templates"
I18N = TEMPLATES / "customer" / "i18n"
LANGUAGES = ("en", "es", "pt", "fr")
DEFAULT_LANGUAGE = "en"

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}


@cache
def texts(language: str) -> dict[str, str]:
    return json.loads((I18N / f"{language}.json").read_text(encoding="utf-8"))


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def language_of(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def from_accept_language(header: str | None) -> str:
    """The first of our languages the browser asks for (a bad link names no request, so no
    customer language is known)."""
    for part in (header or "")[:200].split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE


def translator(language: str):  # noqa: ANN201 - the template's tr()
    table = texts(language)

    def tr(key: str, **args: Any) -> str:
        return table[key].format(**args) if args else table[key]

    return tr


def _render(name: str, language: str, status: int, **context: Any) -> HTMLResponse:
    html = environment().get_template(f"customer/{name}").render(lang=language, tr=translator(language), **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def page(view: CustomerView, *, upload_path: str, uploaded: bool = False) -> HTMLResponse:
    language = language_of(view.language)
    return _render("page.html", language, 200, view=view, steps=STEPS, upload_path=upload_path, uploaded=uploaded,
                   foc_dates=foc_dates(view), max_mb=f"{get_settings().max_document_mb:g}")


def message(language: str, status: int, *, title: str, message: str, problem: str, back: str | None = None,
            **args: Any) -> HTMLResponse:
    """A plain page that says what happened and what to do (bad links, refused uploads)."""
    return _render("message.html", language_of(language), status, title=title, message=message, problem=problem,
                   back=back, args=args)
