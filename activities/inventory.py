"""Our number inventory (Service Control): numbers ready, assigned, active, released."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio import activity
from temporalio.exceptions import ApplicationError

from models.workflow import AssignInput, InventoryChange, InventoryResult, NumberView, SplitInput
from store import inventory
from store.db import session_scope
from store.tables import InventoryNumber


@contextmanager
def _refused() -> Iterator[None]:
    """What the inventory refuses (wrong order, unknown number) time cannot fix: not retried."""
    try:
        yield
    except inventory.InventoryError as exc:
        raise ApplicationError(str(exc), type="InventoryError", non_retryable=True) from None


def _views(rows: list[InventoryNumber]) -> InventoryResult:
    return InventoryResult(
        numbers=[NumberView(tn=r.tn, state=str(r.state), assigned_to=r.assigned_to) for r in rows]
    )


@activity.defn(name="inventory_update")
def inventory_update(inp: InventoryChange) -> InventoryResult:
    """Move numbers to a state; ``released`` releases them (cancel). Safe to repeat."""
    with session_scope() as s:
        if inp.state == "released":
            inventory.release(session=s, request_id=inp.request_id, order_id=inp.order_id, reason=inp.reason)
            return InventoryResult()
        if inp.order_id is None:
            raise ApplicationError("inventory_update needs an order id for that state", non_retryable=True)
        with _refused():
            tns = inp.tns or [n.tn for n in inventory.numbers_of(session=s, request_id=inp.request_id)
                              if n.order_id == inp.order_id]
            rows = inventory.set_state(session=s, order_id=inp.order_id, tns=tns, state=inp.state)
        return _views(rows)


@activity.defn(name="assign_numbers")
def assign_numbers(inp: AssignInput) -> InventoryResult:
    with session_scope() as s, _refused():
        rows = inventory.assign(session=s, request_id=inp.request_id, assignments=inp.assignments, kind=inp.kind)
        return _views(rows)


@activity.defn(name="split_order")
def split_order(inp: SplitInput) -> InventoryResult:
    """The carrier required a split: the numbers move to a new order of the same request."""
    with session_scope() as s, _refused():
        rows = inventory.split_off(session=s, request_id=inp.request_id, from_order=inp.from_order,
                                   to_order=inp.to_order, tns=inp.tns)
        return _views(rows)
