"""The request's orders: one child PortOrderWorkflow per losing carrier account (and per
toll-free share, and per split the carrier requires); the request ends when they all have."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.notify import NumberList
    from models.request import Signer
    from models.status import NumberState, PortStatus
    from models.workflow import (
        AccountSpec,
        InventoryChange,
        InventoryResult,
        OrderView,
        PortOrderInput,
        SplitInput,
        SplitRequest,
        WaitingOn,
    )
    from workflows.common import LOCAL, act, fmt, initial_search_attributes
    from workflows.port_order import PortOrderWorkflow
    from workflows.port_request.request import at_midnight

if TYPE_CHECKING:
    from workflows.port_request.request import Request

S = PortStatus


async def run_orders(r: Request) -> None:
    """Start every order (with the amendments made before), then wait for them all, starting
    the new orders of any split on the way."""
    req = r.inp.request
    for part in r.parts:
        acc = req.accounts[part.account_index]
        oid, base = part.order_id, req.order_id(part.account_index)
        spec = AccountSpec(
            carrier=acc.carrier, account_number=acc.account_number, pin=acc.pin, btn=acc.btn,
            service_address=acc.service_address, port_type=acc.port_type.value,
            remaining_numbers=acc.remaining_numbers.value if acc.remaining_numbers else None,
            new_btn=acc.new_btn, numbers=part.numbers, toll_free=part.toll_free,
        )
        amends = [a for a in r.pre_amends if a.order_id in (oid, base)]
        for a in amends:
            spec = spec.model_copy(update=a.account_updates())
        entity = next((a.entity_name for a in reversed(amends) if a.entity_name), None)
        signer = next((a.signer for a in reversed(amends) if a.signer), None) or req.signer
        await _start(r, oid, base, spec, signer, entity, r.port_date,
                     f"Order {len(r.children) + 1} of {len(r.parts)} of request {req.id}.")
    await r.publish()
    while True:
        await r.flush_audit()  # the request waits weeks here: the store is current
        await workflow.wait_condition(lambda: bool(r.split_q) or len(r.results) == len(r.children))
        if not r.split_q:
            break
        await _split(r, r.split_q.pop(0))
    for oid, res in r.results.items():
        if isinstance(res, OrderView):
            r.orders[oid] = res
        else:
            r.escalations.append(f"{oid} ended with an error: {res}")


async def _start(r: Request, oid: str, base: str, spec: AccountSpec, signer: Signer, entity: str | None,
                 port_date: date, details: str) -> None:
    """Start one child PortOrderWorkflow; its result lands in ``r.results``."""
    req = r.inp.request
    r.doc_base[oid] = base
    # the account's documents serve each of its orders (a toll-free share, a split)
    docs = [d if d.order_id is None or d.order_id == oid else d.model_copy(update={"order_id": oid})
            for d in r.documents if d.order_id in (None, oid, base)]
    child_inp = PortOrderInput(
        request_id=req.id, order_id=oid, index=len(r.children), customer_name=req.customer.name, entity_name=entity,
        language=req.customer.language, contact_name=req.contact.name, contact_email=str(req.contact.email),
        signer=signer, account=spec, port_date=port_date, activation_time=req.activation_time,
        time_zone=req.time_zone, documents=docs, options=r.inp.options, expedited=r.expedite is not None,
        go_live=r.gate, temp_numbers=list(r.temp_numbers),
    )
    r.orders[oid] = OrderView(order_id=oid, carrier=spec.carrier, status=S.VALIDATED, port_date=port_date,
                              toll_free=spec.toll_free)
    kind = "RespOrg change" if spec.toll_free else f"{spec.port_type} port"
    handle = await workflow.start_child_workflow(
        PortOrderWorkflow.run, child_inp, id=oid,
        static_summary=f"{req.customer.name}: {spec.carrier} {kind}, {len(spec.numbers)} numbers",
        static_details=f"{details} Port date {port_date}.",
        search_attributes=initial_search_attributes(
            request_id=req.id, customer=req.customer.name if r.inp.options.search_customer_name else None,
            carriers=[spec.carrier], port_date=at_midnight(port_date),
            status=S.VALIDATED.value, since=workflow.now(),
            unassigned=len([n for n in spec.numbers if n not in r.assignments]),
        ),
        memo={"request_id": req.id, "customer": req.customer.name, "carrier": spec.carrier,
              "kind": kind, "number_count": len(spec.numbers), "pm_email": r.inp.options.pm_email},
    )
    r.children[oid] = handle

    async def done() -> None:
        try:
            r.results[oid] = await handle
        except Exception as err:  # noqa: BLE001 - kept as the order's outcome
            r.results[oid] = err

    r.background.append(asyncio.create_task(done()))


async def _split(r: Request, s: SplitRequest) -> None:
    """The carrier required some numbers apart: they go on in a new order of their own."""
    req = r.inp.request
    oid = f"{req.id}-{len(r.children) + 1}"
    await act("split_order", SplitInput(request_id=req.id, from_order=s.from_order, to_order=oid, tns=s.numbers),
              InventoryResult, summary=f"move {len(s.numbers)} numbers from {s.from_order} to {oid}", retry=LOCAL)
    r.part_numbers[oid] = set(s.numbers)
    r.part_numbers[s.from_order] = r.part_numbers.get(s.from_order, set()) - set(s.numbers)
    r.note("system", f"{s.from_order}: the carrier required a split; {len(s.numbers)} numbers go on in {oid}: {s.reason}")
    await _start(r, oid, r.doc_base.get(s.from_order, s.from_order), s.account.model_copy(update={"numbers": s.numbers}),
                 s.signer, s.entity_name, s.port_date, f"Split from {s.from_order} of request {req.id} (the carrier required it).")
    await r.publish()


async def cancelled(r: Request) -> None:
    """Cancelled before any order ran: release the numbers."""
    c = r.cancel_req
    assert c is not None
    await act("inventory_update", InventoryChange(request_id=r.inp.request.id, state=NumberState.RELEASED.value,
                                                  reason=f"cancelled: {c.reason}"),
              InventoryResult, summary="release the numbers", retry=LOCAL)
    await r.move(S.CANCELLED, c.actor, c.reason)


async def finish(r: Request) -> None:
    """The request ends as its orders did (REQUEST_TRANSITIONS), and the customer is told."""
    statuses = [o.status for o in r.orders.values()]
    if r.status in (S.COMPLETED, S.CANCELLED, S.FAILED):
        pass
    elif statuses and all(s == S.COMPLETED for s in statuses):
        await r.move(S.COMPLETED, "system", "every order ported and verified")
    elif statuses and all(s in (S.COMPLETED, S.CANCELLED) for s in statuses) and S.COMPLETED in statuses:
        await r.move(S.COMPLETED, "system", "ported orders verified; the others cancelled")
    elif statuses and all(s == S.CANCELLED for s in statuses):
        await r.move(S.CANCELLED, "system", r.cancel_req.reason if r.cancel_req else "every order cancelled")
    else:
        await r.move(S.FAILED, "system", "an order failed: " + "; ".join(r.escalations or [str(statuses)]))
    if r.status == S.COMPLETED:
        await r.notify("complete", "port_complete", [r.contact(), r.pm()],
                       lists={"numbers": NumberList.ACTIVE, "not_ported": NumberList.NOT_ACTIVE},
                       kept_numbers=[a.new_btn for a in r.inp.request.accounts if a.new_btn],
                       temporary_numbers=list(r.temp_numbers),
                       completed_at=fmt(workflow.now()),
                       first_invoice_date=(workflow.now() + timedelta(days=30)).date().replace(day=1).isoformat(),
                       losing_carrier=", ".join(sorted({o.carrier for o in r.orders.values()})))
    elif r.status == S.CANCELLED:
        await r.notify("cancelled", "cancelled", [r.contact(), r.pm()],
                       reason=r.cancel_req.reason if r.cancel_req else "cancelled", lists={"numbers": NumberList.ALL},
                       losing_carrier=", ".join(sorted({a.carrier for a in r.inp.request.accounts})))
    r.set_next("nothing: finished", None, WaitingOn.NOBODY)
    await r.publish()
