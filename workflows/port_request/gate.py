"""The request's side of the go-live gate and the temporary numbers (issue 17).

The PM's updates (``gate_done``, ``gate_change_window``, ``gate_rollback``,
``add_temp_numbers``) go to the request, which holds the checklist; each accepted change is
on the request's timeline (who, when, what) and is signalled to every running order, whose
activation the gate holds (``workflows.port_order.gate``). Validators refuse before history.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.golive import GateDone, GateRollback, GateSignal, GateWindow, TempNumbers, window_problem
    from models.numbers import NumberProblem, parse_tn
    from models.status import TERMINAL, PortStatus

if TYPE_CHECKING:
    from workflows.port_request.request import Request

S = PortStatus
MAX_TEMP_NUMBERS = 50
# orders past these have activated: a window no longer has to contain their activation
_ACTIVATED = frozenset({S.ACTIVATION, S.PORTED, S.VERIFIED, S.SNAPBACK}) | TERMINAL


def activations(r: Request) -> dict[str, datetime]:
    """Each live order's activation instant: its FOC, else the planned port-day time."""
    planned = r.plan.activation_at if r.plan is not None else None
    out: dict[str, datetime] = {}
    for oid, o in r.orders.items():
        at = o.foc_at or planned
        if o.status not in _ACTIVATED and at is not None:
            out[oid] = at
    if not r.orders and planned is not None:
        out[r.subject] = planned
    return out


def _need_gate(r: Request) -> None:
    if r.gate is None:
        raise ValueError(f"{r.subject} has no go-live checklist: give its request file a go_live: section "
                         "(examples/README.md) to gate the activation")
    if r.status in TERMINAL:
        raise ValueError(f"request is {r.status}: its go-live gate no longer matters")


def v_done(r: Request, d: GateDone) -> None:
    _need_gate(r)
    assert r.gate is not None
    problem = r.gate.done_problem(d.item, r.temp_numbers)
    if problem:
        raise ValueError(problem)


def v_window(r: Request, w: GateWindow) -> None:
    _need_gate(r)
    for oid, at in activations(r).items():
        problem = window_problem(w.window, at)
        if problem:
            raise ValueError(problem if oid == r.subject else f"{oid}: {problem}")


def v_rollback(r: Request, rb: GateRollback) -> None:
    _need_gate(r)
    if not rb.plan.strip():
        raise ValueError("name the rollback plan: a document reference or a URL")


def v_temp_numbers(r: Request, t: TempNumbers) -> list[str]:
    """The numbers in E.164, or a ValueError naming every problem."""
    if r.status in TERMINAL:
        raise ValueError(f"request is {r.status}: temporary numbers no longer apply")
    porting = set(r.inp.request.all_numbers)
    out, problems = [], []
    for raw in t.numbers:
        try:
            tn = parse_tn(raw)
        except NumberProblem as exc:
            problems.append(str(exc))
            continue
        if tn in porting:
            problems.append(f"{tn} is one of the numbers being ported: calls are forwarded to a different DID")
        elif tn in r.temp_numbers or tn in out:
            problems.append(f"{tn} is already recorded")
        else:
            out.append(tn)
    if len(r.temp_numbers) + len(out) > MAX_TEMP_NUMBERS:
        problems.append(f"more than {MAX_TEMP_NUMBERS} temporary numbers: forward to fewer DIDs")
    if problems:
        raise ValueError("; ".join(problems))
    return out


async def _changed(r: Request, actor: str, what: str) -> None:
    """On the request's timeline, to every running order, and to ops' view."""
    r.note(actor, f"go-live gate: {what}" if r.gate is not None else what)
    if r.gate is not None:
        sig = GateSignal(gate=r.gate, temp_numbers=list(r.temp_numbers), actor=actor, what=what)
        for oid, handle in r.children.items():
            if oid not in r.results and r.orders.get(oid) is not None and r.orders[oid].status not in TERMINAL:
                await handle.signal("gate_changed", sig)
    await r.publish()


async def done(r: Request, d: GateDone) -> None:
    assert r.gate is not None
    r.gate = r.gate.with_done(d.item, by=d.actor, at=workflow.now(), note=d.note)
    await _changed(r, d.actor, f"{d.item} done" + (f": {d.note}" if d.note else ""))


async def window(r: Request, w: GateWindow) -> None:
    assert r.gate is not None
    r.gate = r.gate.with_window(w.window, by=w.actor, at=workflow.now())
    await _changed(r, w.actor, f"change window {w.window.text()} approved by {w.window.approved_by}")


async def rollback(r: Request, rb: GateRollback) -> None:
    assert r.gate is not None
    r.gate = r.gate.with_rollback(rb.plan.strip(), by=rb.actor, at=workflow.now())
    await _changed(r, rb.actor, f"rollback plan named: {rb.plan.strip()}")


async def temp_numbers(r: Request, t: TempNumbers, numbers: list[str]) -> None:
    r.temp_numbers.extend(numbers)
    n = len(numbers)
    await _changed(r, t.actor, f"{n} temporary number{'s' if n != 1 else ''} recorded (calls forwarded while the "
                   "port is pending; remove the forwarding once it completes)")
