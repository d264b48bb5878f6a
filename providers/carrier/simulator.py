"""CarrierSimulator: the local default carrier, playing every answer a real one can give.

What a simulated carrier does is set per carrier by the profile (``sim_profile``). Each
order is one JSON record under ``<var_dir>/carrier-sim/`` (atomic writes, so it survives
worker restarts) holding the submission without secrets (only hints), the behaviour
chosen at submission and the timeline of what we asked (submit, SUP2, SUP3, cancel,
on-demand activation). :meth:`status` *computes* the carrier's answer from that timeline
and the clock, so the same record read at the same instant always gives the same state,
and a test moves time by moving its injected clock.

Like a real carrier it refuses supplements and cancels inside the guard window before
the FOC, cancels through ``cancel-pending``, and is idempotent on the submission's and
the supplement's idempotency keys.

Toll-free orders are RespOrg changes: no PIN is needed and the raw statuses are the
RespOrg words (``resporg-change-pending``, ...), beside the same normalized statuses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.settings import Settings, get_settings
from models.carrier import (
    CarrierOrderState,
    CarrierOrderStatus,
    CarrierSubmission,
    NumberOutcome,
    CarrierNumber,
    Supplement,
    SupplementKind,
)
from providers.carrier.base import CarrierError, CarrierProvider, CarrierRejected
from providers.carrier.exceptions import NOT_PORTABLE_CODES
from providers.carrier.guard import check_change_allowed
from providers.carrier.sim_engine import RAW, evaluate
from providers.faults import FaultInjector
from providers.carrier.sim_profile import Profile, load_profile
from providers.carrier.submission import (
    JsonStore,
    hint,
    parse_corrections,
    validate_submission,
)

St = CarrierOrderStatus


class CarrierSimulator(CarrierProvider):
    name = "simulator"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        profile: Profile | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.profile = (
            profile if profile is not None else load_profile(self.settings.simulator_profile)
        )
        self.store = JsonStore(self.settings.var_dir / "carrier-sim")
        self.faults = FaultInjector(self.profile.faults, self.settings.var_dir / "carrier-sim", CarrierError)

    # ------------------------------------------------------------------ interface
    # each call may fail on purpose when the profile asks for fault drills (providers/faults.py)
    async def submit(self, sub: CarrierSubmission, secrets: dict[str, str]) -> CarrierOrderState:
        return await self.faults.call("submit", sub.order_id, lambda: self._submit(sub, secrets), has_effect=True)

    async def supplement(self, carrier_order_id: str, sup: Supplement, secrets: dict[str, str]) -> CarrierOrderState:
        return await self.faults.call("supplement", carrier_order_id,
                                      lambda: self._supplement(carrier_order_id, sup, secrets), has_effect=True)

    async def cancel(self, carrier_order_id: str, reason: str) -> CarrierOrderState:
        return await self.faults.call("cancel", carrier_order_id, lambda: self._cancel(carrier_order_id, reason),
                                      has_effect=True)

    async def status(self, carrier_order_id: str) -> CarrierOrderState:
        return await self.faults.call("status", carrier_order_id, lambda: self._status(carrier_order_id),
                                      has_effect=False)

    async def activate(self, carrier_order_id: str) -> CarrierOrderState:
        return await self.faults.call("activate", carrier_order_id, lambda: self._activate(carrier_order_id),
                                      has_effect=True)

    async def _submit(self, sub: CarrierSubmission, secrets: dict[str, str]) -> CarrierOrderState:
        validate_submission(sub, secrets, self._now())
        order_id = "SIM-" + hashlib.sha256(sub.idempotency_key.encode()).hexdigest()[:12].upper()
        rec = self.store.get(order_id)
        if rec is not None:  # the same submission again (a retry): the order it made
            return self._state(rec)
        now = self._now()
        behaviour = self.profile.behaviour_for(sub.carrier, sub.numbers)
        rec = {
            "id": order_id,
            "idempotency_key": sub.idempotency_key,
            "order_id": sub.order_id,
            "request_id": sub.request_id,
            "carrier": sub.carrier,
            "toll_free": sub.toll_free,
            "behaviour": behaviour.model_dump(mode="json"),
            "numbers": list(sub.numbers),
            "original_numbers": list(sub.numbers),
            "removed": {},
            "btn": sub.btn,
            "new_btn": sub.new_btn,
            "entity_name": sub.entity_name,
            "auth_person_name": sub.auth_person_name,
            "service_address": sub.service_address.model_dump(mode="json"),
            "port_type": sub.port_type.value,
            "remaining_numbers": sub.remaining_numbers.value if sub.remaining_numbers else None,
            "account_hint": hint(secrets, sub.account_number_ref),
            "pin_hint": "" if sub.toll_free else hint(secrets, sub.pin_ref),
            "requested_foc_date": sub.requested_foc_date.isoformat(),
            "activation_time": sub.activation_time.isoformat() if sub.activation_time else None,
            "time_zone": sub.time_zone,
            "documents": [d.sha256 for d in sub.documents],
            "events": [
                {
                    "kind": "submit",
                    "at": now.isoformat(),
                    "key": sub.idempotency_key,
                    "fields": [],
                    "removed": [],
                }
            ],
            "cancel": None,
            "activated_at": None,
        }
        self.store.put(order_id, rec)
        return self._state(rec)

    async def _supplement(
        self, carrier_order_id: str, sup: Supplement, secrets: dict[str, str]
    ) -> CarrierOrderState:
        if sup.kind is SupplementKind.SUP1:
            return await self._cancel(carrier_order_id, sup.reason or "SUP1")
        rec = self._load(carrier_order_id)
        if any(e.get("key") == sup.idempotency_key for e in rec["events"]):
            return self._state(rec)
        now = self._now()
        state = self._state(rec, now)
        if state.status in (St.PORTED, St.ACTIVATING, St.CANCELLED, St.CANCEL_PENDING):
            raise CarrierRejected(
                f"order {carrier_order_id} is {state.raw_status}: the carrier takes no supplement now"
                + (
                    "; for a port that went wrong arrange a snapback"
                    if state.status is St.PORTED
                    else ""
                )
            )
        action = "new_date" if sup.kind is SupplementKind.SUP2 else "supplement"
        if state.status is St.FOC_CONFIRMED:
            check_change_allowed(state.foc_at, now, self._guard_hours(rec), action)
        c = parse_corrections(sup, secrets)
        if sup.kind is SupplementKind.SUP2 and c.port_date is None:
            raise CarrierRejected("a SUP2 changes the due date: give new_foc_date")
        unknown = [n for n in c.remove_numbers if n not in rec["numbers"]]
        if unknown:
            raise CarrierRejected(
                f"cannot remove {', '.join(unknown)}: not on order {carrier_order_id}"
            )
        if c.remove_numbers and set(c.remove_numbers) >= set(rec["numbers"]):
            raise CarrierRejected(
                "removing every number would leave the order empty: cancel it instead"
            )
        not_portable = {
            n: e.message
            for e in state.exceptions
            if e.code in NOT_PORTABLE_CODES
            for n in e.numbers
        }
        for tn in c.remove_numbers:
            rec["numbers"].remove(tn)
            if tn in not_portable:
                rec["removed"][tn] = {
                    "outcome": "not_portable",
                    "reason": not_portable[tn] or "not portable",
                }
            else:
                rec["removed"][tn] = {
                    "outcome": "dropped",
                    "reason": sup.reason or "removed from the order",
                }
        for name in ("auth_person_name", "entity_name", "btn", "new_btn"):
            if getattr(c, name) is not None:
                rec[name] = getattr(c, name)
        if c.service_address is not None:
            rec["service_address"] = c.service_address.model_dump(mode="json")
        if c.port_type is not None:
            rec["port_type"] = c.port_type.value
        if c.remaining_numbers is not None:
            rec["remaining_numbers"] = c.remaining_numbers.value
        if c.account_number_ref:
            rec["account_hint"] = hint(secrets, c.account_number_ref)
        if c.pin_ref:
            rec["pin_hint"] = hint(secrets, c.pin_ref)
        for doc in (c.loa, c.bill):
            if doc is not None:
                rec["documents"].append(doc.sha256)
        rec["events"].append(
            {
                "kind": sup.kind.value,
                "at": now.isoformat(),
                "key": sup.idempotency_key,
                "fields": c.fields(),
                "removed": c.remove_numbers,
                "port_date": c.port_date.isoformat() if c.port_date else None,
                "corrections": sorted(sup.corrections),
                "reason": sup.reason,
            }
        )
        self.store.put(carrier_order_id, rec)
        return self._state(rec, now)

    async def _cancel(self, carrier_order_id: str, reason: str) -> CarrierOrderState:
        rec = self._load(carrier_order_id)
        now = self._now()
        state = self._state(rec, now)
        if state.status in (St.CANCELLED, St.CANCEL_PENDING):
            return state
        if state.status in (St.PORTED, St.ACTIVATING):
            raise CarrierRejected(
                f"order {carrier_order_id} is {state.raw_status}: too late to cancel; arrange a snapback instead"
            )
        if state.status is St.FOC_CONFIRMED:
            check_change_allowed(state.foc_at, now, self._guard_hours(rec), "cancel")
        rec["cancel"] = {"at": now.isoformat(), "reason": reason}
        self.store.put(carrier_order_id, rec)
        return self._state(rec, now)

    async def _status(self, carrier_order_id: str) -> CarrierOrderState:
        return self._state(self._load(carrier_order_id))

    async def _activate(self, carrier_order_id: str) -> CarrierOrderState:
        rec = self._load(carrier_order_id)
        now = self._now()
        state = self._state(rec, now)
        if state.status in (St.PORTED, St.ACTIVATING, St.ACTIVATION_FAILED):
            return state
        if state.status is not St.FOC_CONFIRMED:
            raise CarrierRejected(
                f"cannot activate order {carrier_order_id}: it is {state.raw_status}; activation needs a confirmed FOC"
            )
        if not state.fast_port_eligible or state.activation_window is None:
            return state  # scheduled activation: the carrier ports at the FOC by itself
        start, end = state.activation_window
        if now < start:
            raise CarrierRejected(
                f"on-demand activation opens at the FOC, {start:%Y-%m-%d %H:%M:%S} UTC (window until "
                f"{end:%H:%M:%S} UTC); without it the numbers port at the end of the window"
            )
        rec["activated_at"] = now.isoformat()
        self.store.put(carrier_order_id, rec)
        return self._state(rec, now)

    # ------------------------------------------------------------------ the carrier's mind
    def _now(self) -> datetime:
        now = self.clock()
        return now if now.tzinfo else now.replace(tzinfo=UTC)

    def _load(self, carrier_order_id: str) -> dict[str, Any]:
        rec = self.store.get(carrier_order_id) if carrier_order_id.startswith("SIM-") else None
        if rec is None:
            raise CarrierRejected(f"the simulated carrier has no order {carrier_order_id}")
        return rec

    def _guard_hours(self, rec: dict[str, Any]) -> int:
        b = rec["behaviour"].get("guard_hours")
        return self.settings.foc_guard_hours if b is None else int(b)

    def _state(self, rec: dict[str, Any], now: datetime | None = None) -> CarrierOrderState:
        now = now or self._now()
        phase, foc, window, exceptions, outcomes = evaluate(rec, now)
        status, raw, raw_tf = RAW[phase]
        numbers = [
            CarrierNumber(
                tn=tn,
                outcome=outcomes.get(tn, (NumberOutcome.PENDING, None))[0],
                reason=outcomes.get(tn, (None, None))[1],
            )
            for tn in rec["numbers"]
        ]
        numbers += [
            CarrierNumber(tn=tn, outcome=NumberOutcome.NOT_PORTABLE, reason=r["reason"])
            for tn, r in rec["removed"].items()
            if r["outcome"] == "not_portable"
        ]
        return CarrierOrderState(
            carrier_order_id=rec["id"],
            provider=self.name,
            status=status,
            raw_status=raw_tf if rec["toll_free"] else raw,
            foc_at=foc,
            exceptions=exceptions,
            numbers=numbers,
            fast_port_eligible=bool(rec["behaviour"]["fast_port"]),
            activation_window=window,
            updated_at=now,
        )
