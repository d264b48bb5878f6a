"""While the carrier holds the order (submitted, pending, exception, supplement, FOC
confirmed): take its answers, chase its silence, remind to assign numbers, and start port
day at the FOC (or inside an on-demand activation window)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.status import AWAITING_CARRIER, WITH_CARRIER, PortStatus
    from models.workflow import WaitingOn
    from workflows.common import fmt
    from workflows.port_order import carrier, gate, numbers
    from workflows.port_order.waits import CarrierWait

if TYPE_CHECKING:
    from workflows.port_order.order import Order

S = PortStatus


def on_demand_window(o: Order) -> tuple[datetime, datetime, datetime] | None:
    """(opens, closes, when portflow activates by itself) for a fast-port order whose carrier
    offers on-demand activation; None for an order that activates at its FOC."""
    c = o.st.carrier
    if c is None or not c.fast_port_eligible or not c.activation_window:
        return None
    start, end = c.activation_window
    return start, end, max(start, end - timedelta(minutes=10))


async def stage(o: Order) -> None:
    opts = o.inp.options
    poll_every = timedelta(seconds=opts.carrier_poll_seconds)
    foc_poll_every = max(poll_every, timedelta(seconds=opts.carrier_foc_poll_seconds))
    silence = timedelta(hours=opts.carrier_silence_hours)
    wait = CarrierWait(o, poll_every)
    st = o.st
    if not o.resuming("carrier"):  # a new stay with the carrier (a continued run goes on with its clock)
        st.silence_at, st.reminded, st.window_noted = workflow.now() + silence, set(), False
    assert st.silence_at is not None
    # when a wait's timer fired, the time is at least its deadline: decisions use that floor,
    # not workflow.now() alone, which came out stale (the previous task's time) in a task that
    # followed a timed-out workflow task on a killed worker, so the replay took another branch
    floor: datetime | None = None
    try:
        while o.status in WITH_CARRIER:
            if o.may_continue_as_new():
                wait.stop()
                await o.continue_as_new(in_stage="carrier")
            window = on_demand_window(o)
            if o.status == S.FOC_CONFIRMED:
                st.window_noted = _note_window(o, window, st.window_noted)
                if gate.active(o):
                    await gate.before_port_day(o, floor)  # may move the date (SUP2)
                if o.status == S.FOC_CONFIRMED and await _port_day_starts(o, window, floor):
                    return
            # once the FOC is in, the poll only watches for the carrier moving it
            wait.interval = foc_poll_every if o.status == S.FOC_CONFIRMED else poll_every
            wait.watch(o.st.carrier)
            wakes = _plan_next(o, window, st.silence_at, st.reminded)
            if o.status == S.FOC_CONFIRMED and gate.active(o):
                wakes = gate.plan_next(o, wakes)
            await o.publish()
            wake = min(wakes, default=None)
            got = await o.wait(lambda: wait.has_event() or wait.polled() or bool(o.st.amends)
                               or o.st.activate_req is not None or o.st.gate_dirty, wake,
                               f"{o.next.what} (until {fmt(wake)})")
            st.gate_dirty = False
            floor = wake if not got else None
            while (event := wait.take_event()) is not None:
                await carrier.apply_carrier(o, *event)
                st.silence_at = workflow.now() + silence
            if (state := wait.take_poll()) is not None:
                await carrier.apply_carrier(o, state, f"carrier:{o.carrier_name}")
                st.silence_at = workflow.now() + silence
            await o.apply_amends()
            if got:
                continue
            now = workflow.now()
            if now >= st.silence_at and o.status in AWAITING_CARRIER:
                st.silence_at = now + silence
                c = o.st.carrier
                await o.notify(f"carrier_silent:{int(now.timestamp())}", "carrier_silent", [o.pm()],
                               silent_hours=opts.carrier_silence_hours, silent_since=fmt(o.st.last_carrier_at),
                               last_status=c.raw_status if c else "none",
                               carrier_order_id=c.carrier_order_id if c else "")
            await numbers.remind_to_assign(o, st.reminded)
    finally:
        wait.stop()


def _note_window(o: Order, window: tuple[datetime, datetime, datetime] | None, noted: bool) -> bool:
    """Once, on the timeline: the on-demand activation window has opened."""
    if noted or window is None or workflow.now() < window[0]:
        return noted
    o.note(f"carrier:{o.carrier_name}", f"activation window open until {fmt(window[1])}: activate on demand, "
                                        f"else portflow activates at {fmt(window[2])}")
    return True


async def _port_day_starts(o: Order, window: tuple[datetime, datetime, datetime] | None,
                           floor: datetime | None = None) -> bool:
    """FOC_CONFIRMED: move to ACTIVATION when the PM activates on demand, the on-demand window
    is about to close, or the FOC has come (``floor``: a fired timer's deadline); True when it did."""
    now, foc = max(workflow.now(), floor or workflow.now()), o.foc()
    due = o.st.activate_req is not None or (window is not None and now >= window[2]) or (
        window is None and foc is not None and now >= foc)
    if due and gate.active(o) and not gate.ready(o):
        await gate.hold(o, foc)  # the go-live gate is not ready: no activation
        return False
    if o.st.activate_req is not None:
        r = o.st.activate_req
        await o.move(S.ACTIVATION, r.actor, f"on-demand activation inside the carrier's window: {r.reason}")
        return True
    if window is not None and now >= window[2]:
        await o.move(S.ACTIVATION, "system", f"activation window ends {fmt(window[1])}: activating")
        return True
    if window is None and foc is not None and now >= foc:
        await o.move(S.ACTIVATION, "system", f"port day: FOC {fmt(foc)} reached")
        return True
    return False


def _plan_next(o: Order, window: tuple[datetime, datetime, datetime] | None, silence_at: datetime,
               reminded: set[datetime]) -> list[datetime]:
    """Say what the order waits for (the next step) and return when to wake for it."""
    now, foc = workflow.now(), o.foc()
    if o.status == S.EXCEPTION:
        carrier.set_exception_next(o)
        return []  # the PM's amend, the carrier's event or a change the poll finds
    if o.status == S.FOC_CONFIRMED and window is not None:
        o.set_next(f"PM activates on demand (starter.py activate) inside the window {fmt(window[0])} to "
                   f"{fmt(window[1])}, else portflow activates at {fmt(window[2])}", window[2], WaitingOn.PM)
        return [t for t in window if t > now] + numbers.next_reminder(o, reminded)
    if o.status == S.FOC_CONFIRMED and foc is not None:
        unassigned = o.unassigned()
        o.set_next(f"port day {fmt(foc)}" + (f"; {len(unassigned)} numbers to assign" if unassigned else ""),
                   foc, WaitingOn.CUSTOMER if unassigned else WaitingOn.NOBODY)
        return [foc, *numbers.next_reminder(o, reminded)]
    c = o.st.carrier
    if c is not None and c.provider == "manual" and o.status in (S.SUBMITTED, S.SUPPLEMENT):
        # the manual adapter: the PM enters the order in the carrier's portal and records its answer
        what = "the order" if o.status == S.SUBMITTED else "the supplement"
        o.set_next(f"PM enters {what} in {o.carrier_name}'s portal and records the answer "
                   f"(starter.py carrier-event {o.id})", silence_at, WaitingOn.PM)
    else:
        o.set_next(f"{o.carrier_name} answers (FOC or exception)", silence_at, WaitingOn.CARRIER)
    return [silence_at]
