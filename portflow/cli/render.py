"""The pages the port commands print: status (also refreshed live by ``watch``) and list.

A status page answers, in this order, what a PM asks: what stage is it in, what does it
wait for, from whom, until when; then the documents, each order at its carrier (raw status
and codes beside ours, what to fix), every number with its state and assignee in national
format, escalations, the timeline (when, who, why) and the Temporal UI link.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from core.phone import format_national
from models.status import TERMINAL, PortStatus, StatusChange
from models.workflow import Deadline, OrderView, RequestView
from portflow.cli.actions import StatusPage
from portflow.cli.common import console  # noqa: F401 - the commands' console, here too
from portflow.cli.listing import PortRow

_STATUS_STYLE = {
    PortStatus.COMPLETED: "bold green", PortStatus.VERIFIED: "green", PortStatus.PORTED: "green",
    PortStatus.FOC_CONFIRMED: "cyan", PortStatus.EXCEPTION: "bold red", PortStatus.FAILED: "bold red",
    PortStatus.SNAPBACK: "bold red", PortStatus.LOA_DECLINED: "yellow", PortStatus.CANCELLED: "dim",
    PortStatus.CANCEL_REQUESTED: "yellow", PortStatus.DOCUMENTS: "yellow",
}


_FINAL = {s.value for s in TERMINAL}


def national(tn: str) -> str:
    try:
        return format_national(tn)
    except Exception:  # noqa: BLE001 - show what we have rather than nothing
        return tn


def span(seconds: float) -> str:
    s = int(abs(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 48 * 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} days"


def when(at: datetime | None, now: datetime | None = None) -> str:
    """``2026-12-21 14:00 UTC (in 3 days)``; ``-`` for no time."""
    if at is None:
        return "-"
    now = now or datetime.now(UTC)
    delta = (at - now).total_seconds()
    rel = f"in {span(delta)}" if delta >= 0 else f"{span(delta)} ago"
    shown = f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}" if abs(delta) < 3600 else f"{at.astimezone(UTC):%Y-%m-%d %H:%M}"
    return f"{shown} UTC ({rel})"


def status_text(status: PortStatus | str) -> Text:
    try:
        st = PortStatus(status)
    except ValueError:
        return Text(str(status))
    return Text(st.value, style=_STATUS_STYLE.get(st, "bold"))


def next_line(nxt: Deadline, now: datetime | None = None, label: str = "next: ") -> Text:
    line = Text(label, style="bold")
    line.append(nxt.what)
    line.append(" · waiting on ")
    line.append(nxt.waiting_on.value, style="bold magenta")
    if nxt.due_at is not None:
        line.append(" · until ")
        line.append(when(nxt.due_at, now), style="bold" if nxt.due_at > (now or datetime.now(UTC)) else "bold red")
    return line


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid


def _change(e: StatusChange) -> Text:
    if e.from_status is None or e.from_status != e.to_status:
        change = Text(f"{e.from_status.value if e.from_status else '-'} → ")
        return change.append_text(status_text(e.to_status))
    return Text("note", style="dim")


def _timeline(entries: list[StatusChange], *, last: int | None = None, width: int = 120) -> RenderableType:
    """Every change, oldest first (or the ``last`` few); on a narrow terminal each entry
    takes two lines instead of five squeezed columns."""
    entries = sorted(entries, key=lambda e: e.at)
    title = "timeline" if last is None or len(entries) <= last else f"timeline (last {last} of {len(entries)})"
    if last is not None:
        entries = entries[-last:]
    if width < 110:
        lines: list[RenderableType] = [Text(title, style="italic")]
        for e in entries:
            first = Text(f"{e.at.astimezone(UTC):%m-%d %H:%M:%S}  {e.subject}  ")
            lines += [first.append_text(_change(e)), Text(f"    {e.reason} [{e.actor}]", style="dim")]
        return Group(*lines)
    table = Table(title=title, title_justify="left", expand=True)
    table.add_column("when (UTC)", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("change", no_wrap=True)
    table.add_column("who", overflow="fold", max_width=30)
    table.add_column("why", overflow="fold", ratio=1)
    for e in entries:
        table.add_row(f"{e.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}", e.subject, _change(e), e.actor, e.reason)
    return table


def _numbers(order: OrderView) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None)
    table.add_column("number", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("assigned to", overflow="fold")
    table.add_column("carrier says", overflow="fold")
    for n in order.numbers:
        style = "red" if n.state in ("not_portable", "failed") or n.carrier_outcome == "failed" else ""
        said = n.carrier_outcome or "-"
        if n.reason:
            said += f": {n.reason}"
        table.add_row(national(n.tn), Text(n.state, style=style), n.assigned_to or Text("unassigned", style="yellow"),
                      said)
    return table


def order_block(o: OrderView, now: datetime | None = None, broken: str | None = None) -> Group:
    title = Text(f"{o.order_id} · {o.carrier}" + (" · toll-free (RespOrg)" if o.toll_free else "") + " · ",
                 style="bold")
    title.append_text(status_text(o.status))
    grid = _grid()
    if broken:
        grid.add_row("STOPPED", Text(f"{broken} (see the Temporal UI; nothing moves until someone acts)",
                                     style="bold red"))
    grid.add_row("port date", f"{o.port_date:%a %Y-%m-%d}")
    grid.add_row("FOC", when(o.foc_at, now) if o.foc_at else Text("not yet", style="dim"))
    carrier = o.carrier_order_id or "not submitted yet"
    if o.carrier_raw_status:
        carrier += f" · raw status '{o.carrier_raw_status}'"
    grid.add_row("carrier order", carrier)
    if o.carrier_exceptions:
        grid.add_row("carrier codes", Text(", ".join(
            e.code + (f" ({e.raw_code})" if e.raw_code and e.raw_code != e.code else "") + (f": {e.message}" if e.message else "")
            for e in o.carrier_exceptions), style="red"))
    for fix in o.remediation:
        grid.add_row("to fix", Text(fix, style="bold red"))
    if o.envelope_id:
        grid.add_row("LOA envelope", o.envelope_id)
    grid.add_row("next", next_line(o.next, now, label=""))
    for esc in o.escalations:
        grid.add_row("escalated", Text(esc, style="bold red"))
    return Group(title, grid, _numbers(o))


def request_page(page: StatusPage, now: datetime | None = None, width: int = 120) -> Group:
    v: RequestView = page.request  # type: ignore[assignment]
    head = Text(f"{v.request_id} · {v.customer_name} · stage ", style="bold")
    head.append_text(status_text(v.status))
    grid = _grid()
    date_line = f"{v.port_date:%a %Y-%m-%d}"
    if v.port_date != v.requested_port_date:
        date_line += f" (requested {v.requested_port_date:%Y-%m-%d})"
    if v.expedited:
        date_line += " · expedited"
    grid.add_row("port date", date_line)
    have = ", ".join(f"{d.kind.value.upper()} {d.file_name}" + (f" ({d.order_id})" if d.order_id else "")
                     for d in v.documents) or "none"
    grid.add_row("documents", have)
    if v.missing_documents:
        grid.add_row("missing", Text(", ".join(v.missing_documents), style="bold yellow"))
    parts: list[RenderableType] = [head, next_line(v.next, now), grid]
    if v.request_id in page.broken:
        parts.insert(1, Text(f"STOPPED: {page.broken[v.request_id]}", style="bold red"))
    for o in v.orders:
        parts += [Text(""), order_block(page.orders.get(o.order_id, o), now, page.broken.get(o.order_id))]
    if v.go_live is not None or v.temporary_numbers:
        from portflow.cli.gate_render import gate_block

        parts += [Text(""), gate_block(v, page.orders)]
    escalations = v.escalations + [e for o in v.orders for e in page.orders.get(o.order_id, o).escalations]
    if escalations:
        parts.append(Text("escalations: " + "; ".join(escalations), style="bold red"))
    entries = list(v.timeline) + [e for o in page.orders.values() for e in o.timeline]
    parts += [Text(""), _timeline(entries, width=width)]
    if v.ui_url:
        parts.append(Text(f"Temporal UI: {v.ui_url}", style="link " + v.ui_url))
    return Group(*parts)


def order_page(page: StatusPage, now: datetime | None = None, width: int = 120) -> Group:
    o: OrderView = page.order  # type: ignore[assignment]
    return Group(order_block(o, now, page.broken.get(o.order_id)), Text(""), _timeline(o.timeline, width=width))


def watch_page(page: StatusPage, now: datetime | None = None, width: int = 120) -> Group:
    """What ``watch`` refreshes: the stage, what it waits for, each order in a line or two,
    and the latest timeline entries, short enough for a terminal."""
    v = page.request or page.order
    assert v is not None
    head = Text(f"{page.target} · stage ", style="bold")
    head.append_text(status_text(v.status))
    parts: list[RenderableType] = [head, next_line(v.next, now)]
    parts += [Text(f"STOPPED: {why} ({wid})", style="bold red") for wid, why in page.broken.items()]
    orders = [page.orders.get(o.order_id, o) for o in page.request.orders] if page.request else [v]
    table = Table(box=None, show_edge=False, pad_edge=False)
    for name in ("order", "carrier", "stage", "FOC", "assigned", "next"):
        table.add_column(name, overflow="fold")
    for o in orders:
        assert isinstance(o, OrderView)
        live = [n for n in o.numbers if n.state not in ("released", "not_portable")]
        table.add_row(o.order_id, o.carrier, status_text(o.status), when(o.foc_at, now) if o.foc_at else "-",
                      f"{sum(1 for n in live if n.assigned_to)}/{len(live)}",
                      f"{o.next.what} ({o.next.waiting_on.value})")
    parts.append(table)
    entries = list(page.request.timeline) + [e for o in page.orders.values() for e in o.timeline] if page.request \
        else list(v.timeline)
    parts.append(_timeline(entries, last=8, width=width))
    return Group(*parts)


def status_page(page: StatusPage, now: datetime | None = None, width: int = 120) -> Group:
    return request_page(page, now, width) if page.request is not None else order_page(page, now, width)


def list_table(rows: list[PortRow], query: str, now: datetime | None = None) -> Table:
    table = Table(title=f"{len(rows)} port(s) · {query}", title_justify="left")
    for name in ("id", "customer", "stage", "port date", "carriers", "waiting on", "next deadline", "run"):
        table.add_column(name, overflow="fold")
    for r in rows:
        stage = status_text(r.status)
        if r.escalated:
            stage.append(" ⚑", style="bold red")
        table.add_row(r.workflow_id, r.customer, stage, f"{r.port_date:%Y-%m-%d}" if r.port_date else "-",
                      ", ".join(r.carriers) or "-", r.waiting_on,
                      when(r.next_deadline, now) if r.next_deadline and r.status not in _FINAL else "-",
                      r.execution)
    return table
