"""The signed LOA of the local e-signature: the LOA as sent, signed on its lines, plus a record.

The signer's name and the date are drawn where the LOA's ``/sig1/`` and ``/date1/`` anchors
are (the same strings DocuSign's anchor tabs use), so the signed copy reads like a signed
paper LOA; a last page records who signed, when, and the sha256 of the LOA as sent, so a
carrier or auditor can tie the signature to the exact document.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from pypdf import PageObject, PdfReader, PdfWriter
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from core.fonts import draw
from core.loa import ANCHOR_DATE, ANCHOR_SIGN

_INK = colors.HexColor("#1f3a93")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def anchor_points(page: PageObject) -> dict[str, tuple[float, float]]:
    """Where the ``/sig1/`` and ``/date1/`` anchors start on a page, in PDF points."""
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], _font: object, _size: float) -> None:
        for anchor in (ANCHOR_SIGN, ANCHOR_DATE):
            if anchor in text and anchor not in found:
                x, y = tm[4], tm[5]
                found[anchor] = (x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5])

    page.extract_text(visitor_text=visit)
    return found


def _stamp(page: PageObject, points: dict[str, tuple[float, float]], name: str, day: str) -> None:
    buf = io.BytesIO()
    size = (float(page.mediabox.width), float(page.mediabox.height))
    c = Canvas(buf, pagesize=size, invariant=True)
    c.setFillColor(_INK)
    if ANCHOR_SIGN in points:
        x, y = points[ANCHOR_SIGN]
        draw(c, x + 12, y + 4, name, 14)  # in any script (core.fonts)
    if ANCHOR_DATE in points:
        x, y = points[ANCHOR_DATE]
        c.setFont("Helvetica", 10)
        c.drawString(x + 12, y + 4, day)
    c.save()
    page.merge_page(PdfReader(buf).pages[0])


def _record_page(signed_by: str, stamp: str, record: list[tuple[str, str]]) -> PageObject:
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=LETTER, invariant=True)
    left, y = 0.75 * inch, LETTER[1] - 1 * inch
    c.setFont("Helvetica-Bold", 16)
    c.drawString(left, y, "Electronic signature record")
    draw(c, left, y - 28, f"Signed electronically by {signed_by} at {stamp}", 11)
    y -= 58
    for label, value in [*record, ("Signed at", stamp)]:
        c.setFont("Helvetica-Bold", 10)
        c.drawString(left, y, label)
        if _SHA256.match(value):
            c.setFont("Courier", 9)
            c.drawString(left + 1.5 * inch, y, value)
        else:
            draw(c, left + 1.5 * inch, y, value, 10)
        y -= 18
    c.setFont("Helvetica", 9)
    c.setFillColor(colors.grey)
    c.drawString(
        left, y - 12, "The SHA-256 is that of the LOA as sent, before signing; the pages before"
    )
    c.drawString(
        left,
        y - 24,
        "this one are that LOA with the signer's name and date on its signature lines.",
    )
    c.save()
    return PdfReader(buf).pages[0]


def signed_loa_pdf(
    original: bytes,
    *,
    signed_by: str,
    signed_at: datetime,
    record: list[tuple[str, str]],
    title: str = "",
) -> bytes:
    """The original LOA signed on its anchors, plus a record page of ``record`` (label, value)."""
    signed_at = (
        signed_at.replace(tzinfo=UTC) if signed_at.tzinfo is None else signed_at.astimezone(UTC)
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    pages = len(writer.pages)
    for page in writer.pages:
        # An LOA made elsewhere may have no anchors: then the record page alone says it is signed.
        if points := anchor_points(page):
            _stamp(page, points, signed_by, signed_at.strftime("%Y-%m-%d"))
    stamp = signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    writer.add_page(_record_page(signed_by, stamp, [*record, ("LOA pages", str(pages))]))
    writer.add_metadata(
        {"/Title": title or "Signed Letter of Authorization", "/Producer": "portflow"}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
