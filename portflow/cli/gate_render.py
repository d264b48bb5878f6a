"""The go-live gate and temporary numbers as ``status`` and ``gate show`` print them."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from core.phone import format_national
from models.workflow import OrderView, RequestView


def gate_block(v: RequestView, orders: dict[str, OrderView] | None = None) -> RenderableType:
    """Each item (required or not, done by whom, when, with what note), the change window,
    the rollback plan, what holds each order's activation, and the temporary numbers."""
    parts: list[RenderableType] = []
    g = v.go_live
    if g is not None:
        parts.append(Text(f"go-live gate · {g.summary()} · if not ready {g.warn_business_days} business days "
                          f"before the FOC: {'SUP2 +' + str(g.slip_business_days) + ' business days' if g.on_not_ready == 'sup2' else 'escalate'}",
                          style="bold"))
        table = Table(box=None, show_edge=False, pad_edge=False)
        for name in ("", "item", "required", "done by", "at (UTC)", "note"):
            table.add_column(name, overflow="fold")
        for i in g.items:
            mark = Text("✓", style="green") if i.done else Text("✗" if i.required else "·",
                                                                style="bold red" if i.required else "dim")
            table.add_row(mark, i.id, "yes" if i.required else "no", i.done.by if i.done else "-",
                          f"{i.done.at:%Y-%m-%d %H:%M}" if i.done else "-", i.done.note if i.done else i.title)
        parts.append(table)
        if g.change_window is not None:
            w = g.change_window
            parts.append(Text(f"change window: {w.text()} approved by {w.approved_by}"
                              + (f" ({w.reference})" if w.reference else "")))
        if g.rollback_plan:
            parts.append(Text(f"rollback plan: {g.rollback_plan}"))
        for o in v.orders:
            full = (orders or {}).get(o.order_id, o)
            if full.gate_problems:
                parts.append(Text(f"{o.order_id} activation held: " + "; ".join(full.gate_problems), style="yellow"))
            elif full.gate_problems == [] and full.status in ("foc_confirmed", "carrier_pending", "submitted"):
                parts.append(Text(f"{o.order_id}: gate ready", style="green"))
    if v.temporary_numbers:
        parts.append(Text("temporary numbers (remove the forwarding once the port completes): "
                          + ", ".join(format_national(t) for t in v.temporary_numbers)))
    return Group(*parts)
