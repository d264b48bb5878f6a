"""The Letter of Authorization (LOA): one PDF per port order, rendered with reportlab.

The LOA is what the customer's authorized signer signs to let us port the numbers: it names
the gaining provider, the losing carrier, the account, the service address and every number
(as many pages as needed). The signature block carries the anchor strings DocuSign's anchor
tabs match (``/sig1/``, ``/date1/``) as white text, invisible to people.

The account number is printed because carriers check it against the LOA; it comes in as a
plain value from the activity that revealed it from the vault, so build :class:`LoaData`
inside that activity and never pass it through workflow history. The PIN has no field
here: it is never printed. Rendering is deterministic (reportlab's invariant mode), so a
retried render stores the same bytes under the same sha256.

:class:`LoaData` holds plain values (E.164 numbers, the address as one line, the port type
as text) because core sits below the request models; ``activities.loa.loa_data`` and
``loa_data_for_account`` build it from a request's account.
"""

from __future__ import annotations

import functools
import io
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, EmailStr, Field
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.fonts import FontChain, font_chain
from core.phone import E164, format_national, is_toll_free

# DocuSign anchor strings (docusign-wire.md): the signHere and dateSigned tabs land on them.
ANCHOR_SIGN = "/sig1/"
ANCHOR_DATE = "/date1/"

NUMBERS_PER_ROW = 4
_MARGIN = 0.75 * inch
_SHADE = colors.HexColor("#f2f4f7")


class LoaData(BaseModel):
    """Everything printed on one order's LOA. Build it inside an activity (see module doc)."""

    request_id: str
    order_id: str
    customer_name: str = Field(min_length=1)
    signer_name: str = Field(min_length=1)
    signer_title: str = Field(min_length=1)
    signer_email: EmailStr
    carrier: str = Field(min_length=1, description="losing carrier")
    account_number: str = Field(
        min_length=1, repr=False, description="plain value, for rendering only"
    )
    btn: E164
    service_address: str = Field(min_length=1, description="the service address on one line")
    port_type: Literal["full", "partial"] = "full"
    remaining_numbers: Literal["keep", "disconnect"] | None = None
    new_btn: E164 | None = None
    numbers: list[E164] = Field(min_length=1)
    toll_free: bool = False
    requested_port_date: date
    generated_at: datetime
    gaining_provider: str = Field(default="portflow", min_length=1)


def _utc(dt: datetime) -> str:
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%d %H:%M UTC")


def _long_date(d: date) -> str:
    return f"{d:%A}, {d:%B} {d.day}, {d.year}"


class _NumberedCanvas(Canvas):
    """Holds pages back until the end so each footer can say "page N of M"."""

    def __init__(self, *args: object, footer: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._footer = footer
        self._pages: list[dict[str, object]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        fonts = font_chain()
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFillColor(colors.grey)
            x = _MARGIN
            for name, run in fonts.runs(self._footer):  # the customer's name, in any script
                self.setFont(name, 8)
                self.drawString(x, 0.5 * inch, run)
                x += self.stringWidth(run, name, 8)
            self.setFont(fonts.regular, 8)
            self.drawRightString(LETTER[0] - _MARGIN, 0.5 * inch, f"page {number} of {total}")
            super().showPage()
        super().save()


def _styles(fonts: FontChain) -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle(
        "loa-body", parent=base["BodyText"], fontName=fonts.regular, fontSize=10, leading=13.5
    )
    return {
        "title": ParagraphStyle(
            "loa-title", parent=base["Title"], fontName=fonts.bold, fontSize=18
        ),
        "sub": ParagraphStyle(
            "loa-sub", parent=body, alignment=1, textColor=colors.grey, fontSize=9
        ),
        "h2": ParagraphStyle(
            "loa-h2", parent=base["Heading2"], fontName=fonts.bold, fontSize=12
        ),
        "body": body,
        "cell": ParagraphStyle("loa-cell", parent=body, leading=12),
    }


def _authorization(d: LoaData, st: dict[str, ParagraphStyle], escape: Any) -> list[Paragraph]:
    cust, gain, carrier = escape(d.customer_name), escape(d.gaining_provider), escape(d.carrier)
    who = f"The undersigned, an authorized signer of <b>{cust}</b> (the Customer), authorizes"
    resporg = f"Responsible Organization (RespOrg) to {gain} or its designated RespOrg"
    if all(is_toll_free(n) for n in d.numbers):
        first = (
            f"{who} <b>{gain}</b> and its designated agents to change the Responsible Organization "
            f"(RespOrg) of the toll-free numbers listed in this letter from <b>{carrier}</b> to "
            f"{gain} or its designated RespOrg."
        )
    else:
        first = (
            f"{who} <b>{gain}</b> and its designated agents to act on the Customer's behalf to "
            f"port the telephone numbers listed in this letter from <b>{carrier}</b> to {gain}, "
            f"and to obtain the Customer's service records (CSR) from {carrier} for that purpose."
        )
        if d.toll_free:
            first += (
                " RespOrg change: for the toll-free numbers in the list (marked TF), the Customer "
                f"also authorizes the change of their {resporg}."
            )
    paras = [first]
    if d.port_type == "partial":
        if d.remaining_numbers == "keep" and d.new_btn:
            new_btn = format_national(d.new_btn)
            rest = f"stay with {carrier}; the account's new billing telephone number is {new_btn}"
        else:
            rest = f"are to be disconnected by {carrier} when the port completes"
        paras.append(f"This is a partial port: only the numbers listed move. The others {rest}.")
    paras.append(
        f"The Customer understands that service from {carrier} on these numbers ends when the "
        f"port completes, that it must not cancel its {carrier} account before {gain} confirms "
        "the port is complete (the numbers could be lost), and that it remains responsible for "
        f"any charges owed to {carrier}."
    )
    paras.append(
        "The undersigned confirms being authorized to act for the Customer on this account and "
        "that the information in this letter is correct."
    )
    return [Paragraph(p, st["body"]) for p in paras]


def _details(d: LoaData, st: dict[str, ParagraphStyle], escape: Any) -> Table:
    port = (
        "Full port (every number on the account)"
        if d.port_type == "full"
        else "Partial port"
    )
    if d.port_type == "partial" and d.remaining_numbers is not None:
        port += f"; remaining numbers: {d.remaining_numbers}"
        if d.new_btn:
            port += f", new BTN {format_national(d.new_btn)}"
    rows = [
        ("Customer", d.customer_name),
        (
            "Losing carrier",
            d.carrier + ("; toll-free numbers: RespOrg change" if d.toll_free else ""),
        ),
        ("Account number", d.account_number),
        ("Billing telephone number (BTN)", format_national(d.btn)),
        ("Service address", d.service_address),
        ("Port type", port),
        ("Numbers to port", str(len(d.numbers))),
        (
            "Requested port date",
            f"{_long_date(d.requested_port_date)} (subject to the carrier's FOC)",
        ),
    ]
    data = [
        [Paragraph(f"<b>{escape(k)}</b>", st["cell"]), Paragraph(escape(v), st["cell"])]
        for k, v in rows
    ]
    table = Table(data, colWidths=[2.1 * inch, None])
    grid = [("GRID", (0, 0), (-1, -1), 0.5, colors.lightgrey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    table.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (0, -1), _SHADE)]))
    return table


def _numbers(d: LoaData, fonts: FontChain) -> Table:
    cells = [
        (f"{i}", format_national(n) + (" TF" if is_toll_free(n) else ""))
        for i, n in enumerate(d.numbers, start=1)
    ]
    rows: list[list[str]] = [["#", "Telephone number"] * NUMBERS_PER_ROW]
    for start in range(0, len(cells), NUMBERS_PER_ROW):
        chunk = cells[start : start + NUMBERS_PER_ROW]
        chunk += [("", "")] * (NUMBERS_PER_ROW - len(chunk))
        rows.append([text for pair in chunk for text in pair])
    width = (LETTER[0] - 2 * _MARGIN) / NUMBERS_PER_ROW
    table = Table(rows, colWidths=[0.4 * inch, width - 0.4 * inch] * NUMBERS_PER_ROW, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, 0), fonts.bold, 9),
        ("FONT", (0, 1), (-1, -1), fonts.regular, 9),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
    ]
    # The running index (#) columns in grey, so the numbers stand out.
    style += [("TEXTCOLOR", (c, 1), (c, -1), colors.grey) for c in range(0, 2 * NUMBERS_PER_ROW, 2)]
    table.setStyle(TableStyle(style))
    return table


def _signature(d: LoaData, st: dict[str, ParagraphStyle], escape: Any) -> KeepTogether:
    line = "_" * 48
    # White anchor text sits on the line where the DocuSign tab is placed.
    rows = [
        ("Authorized signer", escape(d.signer_name)),
        ("Title", escape(d.signer_title)),
        ("E-mail", escape(str(d.signer_email))),
        ("Signature", f'<font color="white" size="5">{ANCHOR_SIGN}</font>{line}'),
        ("Date", f'<font color="white" size="5">{ANCHOR_DATE}</font>{line[:24]}'),
    ]
    table = Table(
        [[Paragraph(f"<b>{k}</b>", st["cell"]), Paragraph(v, st["cell"])] for k, v in rows],
        colWidths=[1.6 * inch, None],
    )
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("TOPPADDING", (0, 3), (-1, -1), 18)])
    )
    return KeepTogether([Spacer(1, 12), Paragraph("Authorized signature", st["h2"]), table])


def render_loa(data: LoaData) -> bytes:
    """The LOA as PDF bytes: identical input gives identical bytes. Text goes to the first
    font of :func:`core.fonts.font_chain` with its glyphs (``check`` refuses names none has)."""
    fonts = font_chain()
    st = _styles(fonts)
    escape = fonts.markup
    every_tf = all(is_toll_free(n) for n in data.numbers)
    title = "Letter of Authorization" + (": RespOrg change" if every_tf else "")
    story = [
        Paragraph(title, st["title"]),
        Paragraph(
            f"Request {escape(data.request_id)} · order {escape(data.order_id)} · "
            f"generated {_utc(data.generated_at)}",
            st["sub"],
        ),
        Spacer(1, 14),
        *_authorization(data, st, escape),
        Spacer(1, 8),
        Paragraph("Account", st["h2"]),
        _details(data, st, escape),
        Spacer(1, 8),
        Paragraph(f"Numbers to port ({len(data.numbers)})", st["h2"]),
        *(
            [Paragraph("TF: toll-free number (RespOrg change)", st["cell"]), Spacer(1, 4)]
            if data.toll_free
            else []
        ),
        _numbers(data, fonts),
        _signature(data, st, escape),
    ]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=LETTER,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=f"Letter of Authorization {data.order_id}",
        author=data.gaining_provider,
        subject=f"Port of {len(data.numbers)} number(s) from {data.carrier}",
        creator="portflow",
        invariant=True,
    )
    footer = " · ".join(
        [
            data.gaining_provider,
            "Letter of Authorization",
            f"order {data.order_id}",
            data.customer_name,
        ]
    )
    doc.build(story, canvasmaker=functools.partial(_NumberedCanvas, footer=footer))
    return buf.getvalue()
