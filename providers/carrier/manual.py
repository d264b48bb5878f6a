"""ManualCarrier: the PM submits in the carrier's portal and tells portflow what happened.

This is the seed process made explicit. :meth:`submit` records a local order
(``MAN-<order id>-<key hash>``, status ``submitted``, raw ``manual: awaiting PM entry``);
the PM types the order into the carrier's portal, then records each answer with
``starter.py carrier-event`` -> :meth:`record_event`: the carrier's order id, the FOC,
a rejection (code and the carrier's text), completion, cancellation or a failed
activation. The CLI turns the returned state into a :class:`CarrierEvent`
(:func:`build_event`) and the workflow treats it like an API event; :meth:`status`
returns the last state the PM recorded, so polling changes nothing and the workflow's
silence reminder tells the PM when the carrier has been quiet too long.

Supplements and cancels are recorded as requests for the PM to enter (after the same FOC
guard as the API carriers). Records live under ``<var_dir>/carrier-manual/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.settings import Settings, get_settings
from models.carrier import (
    CarrierEvent,
    CarrierException,
    CarrierOrderState,
    CarrierOrderStatus,
    CarrierSubmission,
    NumberOutcome,
    CarrierNumber,
    Supplement,
    SupplementKind,
)
from models.numbers import NumberProblem, parse_tn
from providers.carrier.base import CarrierProvider, CarrierRejected
from providers.carrier.exceptions import NOT_PORTABLE_CODES, normalize_code, remediation_for
from providers.carrier.guard import check_change_allowed
from providers.carrier.submission import JsonStore, parse_corrections, validate_submission

St = CarrierOrderStatus


class ManualEventError(ValueError):
    """What a PM recorded does not make sense; the message says what to fix."""


def build_event(
    order_id: str,
    state: CarrierOrderState,
    *,
    actor: str = "pm",
    note: str = "",
    at: datetime | None = None,
) -> CarrierEvent:
    """The carrier event for a state the PM recorded; the same record gives the same event id."""
    at = at or state.updated_at or datetime.now(UTC)
    digest = hashlib.sha256(
        f"{order_id}|{state.model_dump_json(exclude={'updated_at'})}|{at.isoformat()}".encode()
    )
    return CarrierEvent(
        event_id=f"manual:{digest.hexdigest()[:20]}",
        order_id=order_id,
        state=state,
        at=at,
        actor=actor,
        note=note,
    )


class ManualCarrier(CarrierProvider):
    name = "manual"

    def __init__(
        self, settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.settings = settings or get_settings()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.store = JsonStore(self.settings.var_dir / "carrier-manual")

    # ------------------------------------------------------------------ interface
    async def submit(self, sub: CarrierSubmission, secrets: dict[str, str]) -> CarrierOrderState:
        validate_submission(sub, secrets, self.clock())
        local_id = (
            f"MAN-{sub.order_id}-{hashlib.sha256(sub.idempotency_key.encode()).hexdigest()[:6]}"
        )
        rec = self.store.get(local_id)
        if rec is not None:
            return CarrierOrderState.model_validate(rec["state"])
        now = self.clock()
        what = "RespOrg change" if sub.toll_free else "port order"
        state = CarrierOrderState(
            carrier_order_id=local_id,
            provider=self.name,
            status=St.SUBMITTED,
            raw_status=f"manual: awaiting PM entry ({what} in {sub.carrier}'s portal)",
            numbers=[CarrierNumber(tn=n) for n in sub.numbers],
            updated_at=now,
        )
        rec = {
            "id": local_id,
            "order_id": sub.order_id,
            "request_id": sub.request_id,
            "carrier": sub.carrier,
            "toll_free": sub.toll_free,
            "time_zone": sub.time_zone,
            "created_at": now.isoformat(),
            "carrier_reference": None,
            "supplement_keys": [],
            "state": state.model_dump(mode="json"),
            "history": [
                {
                    "at": now.isoformat(),
                    "actor": "system",
                    "what": f"{what} recorded for manual entry",
                }
            ],
        }
        self.store.put(local_id, rec)
        return state

    async def supplement(
        self, carrier_order_id: str, sup: Supplement, secrets: dict[str, str]
    ) -> CarrierOrderState:
        if sup.kind is SupplementKind.SUP1:
            return await self.cancel(carrier_order_id, sup.reason or "SUP1")
        rec = self._find(carrier_order_id)
        state = CarrierOrderState.model_validate(rec["state"])
        if sup.idempotency_key in rec["supplement_keys"]:
            return state
        if state.status in (St.PORTED, St.CANCELLED, St.CANCEL_PENDING):
            raise CarrierRejected(
                f"order {carrier_order_id} is {state.status.value}: no supplement possible now"
            )
        now = self.clock()
        if state.status is St.FOC_CONFIRMED:
            check_change_allowed(
                state.foc_at,
                now,
                self.settings.foc_guard_hours,
                "new_date" if sup.kind is SupplementKind.SUP2 else "supplement",
            )
        c = parse_corrections(sup, secrets)
        removed = set(c.remove_numbers)
        numbers = [n for n in state.numbers if n.tn not in removed]
        numbers += [
            CarrierNumber(
                tn=n,
                outcome=NumberOutcome.NOT_PORTABLE,
                reason=sup.reason or "removed from the order",
            )
            for n in sorted(removed)
        ]
        what = f"{sup.kind.value} ({', '.join(c.fields()) or 'resubmit'})"
        new = state.model_copy(
            update={
                "status": St.SUBMITTED,
                "raw_status": f"manual: {what} awaiting PM entry",
                "exceptions": [],
                "foc_at": None if sup.kind is SupplementKind.SUP2 else state.foc_at,
                "numbers": numbers,
                "updated_at": now,
            }
        )
        rec["supplement_keys"].append(sup.idempotency_key)
        return self._save(rec, new, "system", f"{what} requested: {sup.reason}")

    async def cancel(self, carrier_order_id: str, reason: str) -> CarrierOrderState:
        rec = self._find(carrier_order_id)
        state = CarrierOrderState.model_validate(rec["state"])
        if state.status in (St.CANCELLED, St.CANCEL_PENDING):
            return state
        if state.status is St.PORTED:
            raise CarrierRejected(
                f"order {carrier_order_id} is ported: too late to cancel; arrange a snapback"
            )
        now = self.clock()
        if state.status is St.FOC_CONFIRMED:
            check_change_allowed(state.foc_at, now, self.settings.foc_guard_hours, "cancel")
        new = state.model_copy(
            update={
                "status": St.CANCEL_PENDING,
                "updated_at": now,
                "raw_status": "manual: cancel (SUP1) awaiting PM entry",
            }
        )
        return self._save(rec, new, "system", f"cancel requested: {reason}")

    async def status(self, carrier_order_id: str) -> CarrierOrderState:
        return CarrierOrderState.model_validate(self._find(carrier_order_id)["state"])

    async def activate(self, carrier_order_id: str) -> CarrierOrderState:
        """The carrier activates at the FOC; the PM records completion (or failure)."""
        return await self.status(carrier_order_id)

    # ------------------------------------------------------------------ the PM's entries
    def record_event(
        self,
        order_id: str,
        *,
        carrier_order_id: str | None = None,
        foc_at: datetime | None = None,
        reject_code: str | None = None,
        reject_text: str | None = None,
        numbers: Iterable[str] = (),
        completed: bool = False,
        failed_numbers: Iterable[str] = (),
        activation_failed: bool = False,
        cancelled: bool = False,
        actor: str = "pm",
        note: str = "",
    ) -> CarrierOrderState:
        """Record what the carrier told the PM about ``order_id`` (ours, e.g. PR-2026-0042-1)."""
        rec = self._latest_for(order_id)
        state = CarrierOrderState.model_validate(rec["state"])
        outcomes = [
            k
            for k, v in (
                ("foc", foc_at),
                ("reject", reject_code),
                ("completed", completed),
                ("activation_failed", activation_failed),
                ("cancelled", cancelled),
            )
            if v
        ]
        if len(outcomes) > 1:
            raise ManualEventError(
                f"record one carrier answer at a time, not {' and '.join(outcomes)}"
            )
        if reject_text and not reject_code:
            raise ManualEventError(
                "a rejection needs its code (e.g. BTN_ATN_MISMATCH, or OTHER with the text)"
            )
        if not outcomes and not carrier_order_id:
            raise ManualEventError(
                "nothing to record: give the carrier's order id, an FOC, a rejection, "
                "completion, a failed activation or a cancellation"
            )
        live = [n.tn for n in state.numbers if n.outcome is not NumberOutcome.NOT_PORTABLE]
        concerned = self._numbers(numbers, live)
        failed = self._numbers(failed_numbers, live)
        now = self.clock()
        update: dict[str, Any] = {"updated_at": now}
        if carrier_order_id:
            rec["carrier_reference"] = carrier_order_id.strip()
            update["carrier_order_id"] = rec["carrier_reference"]
        ref = f" (carrier order {rec['carrier_reference']})" if rec["carrier_reference"] else ""
        if foc_at is not None:
            foc = foc_at if foc_at.tzinfo else foc_at.replace(tzinfo=ZoneInfo(rec["time_zone"]))
            update.update(
                status=St.FOC_CONFIRMED,
                foc_at=foc.astimezone(UTC),
                exceptions=[],
                raw_status=f"manual: FOC {foc:%Y-%m-%d %H:%M %Z} recorded by {actor}{ref}",
            )
        elif reject_code:
            code = normalize_code(reject_code)
            rem = remediation_for(reject_code, reject_text or "", concerned)
            exc = CarrierException(
                code=code,
                raw_code=reject_code.strip(),
                message=reject_text or rem.what_is_wrong,
                numbers=concerned,
            )
            nums = [
                n.model_copy(update={"outcome": NumberOutcome.NOT_PORTABLE, "reason": exc.message})
                if code in NOT_PORTABLE_CODES and n.tn in concerned
                else n
                for n in state.numbers
            ]
            update.update(
                status=St.EXCEPTION,
                exceptions=[exc],
                numbers=nums,
                raw_status=f"manual: rejected {reject_code.strip()} recorded by {actor}{ref}",
            )
        elif completed:
            nums = [
                n
                if n.outcome is NumberOutcome.NOT_PORTABLE
                else n.model_copy(
                    update={
                        "outcome": NumberOutcome.FAILED if n.tn in failed else NumberOutcome.PORTED,
                        "reason": "did not port (recorded by the PM)" if n.tn in failed else None,
                    }
                )
                for n in state.numbers
            ]
            update.update(
                status=St.PORTED,
                numbers=nums,
                exceptions=[],
                raw_status=f"manual: completion recorded by {actor}{ref}",
            )
        elif activation_failed:
            nums = [
                n
                if n.outcome is NumberOutcome.NOT_PORTABLE
                else n.model_copy(
                    update={"outcome": NumberOutcome.FAILED, "reason": note or "activation failed"}
                )
                for n in state.numbers
            ]
            update.update(
                status=St.ACTIVATION_FAILED,
                numbers=nums,
                raw_status=f"manual: activation failure recorded by {actor}{ref}",
            )
        elif cancelled:
            update.update(
                status=St.CANCELLED, raw_status=f"manual: cancellation recorded by {actor}{ref}"
            )
        else:
            update.update(
                status=St.PENDING if state.status is St.SUBMITTED else state.status,
                raw_status=f"manual: carrier order id{ref} recorded by {actor}",
            )
        what = ", ".join(outcomes) or "carrier order id"
        return self._save(
            rec, state.model_copy(update=update), actor, f"{what}{': ' + note if note else ''}"
        )

    # ------------------------------------------------------------------ records
    def _numbers(self, given: Iterable[str], live: list[str]) -> list[str]:
        out = []
        for raw in given:
            try:
                tn = parse_tn(raw)
            except NumberProblem as exc:
                raise ManualEventError(exc.message) from None
            if tn not in live:
                raise ManualEventError(f"{tn} is not on this order: it has {', '.join(live)}")
            out.append(tn)
        return sorted(set(out))

    def _save(
        self, rec: dict[str, Any], state: CarrierOrderState, actor: str, what: str
    ) -> CarrierOrderState:
        rec["state"] = state.model_dump(mode="json")
        rec["history"].append(
            {"at": (state.updated_at or self.clock()).isoformat(), "actor": actor, "what": what}
        )
        self.store.put(rec["id"], rec)
        return state

    def _find(self, carrier_order_id: str) -> dict[str, Any]:
        rec = self.store.get(carrier_order_id) if carrier_order_id.startswith("MAN-") else None
        if rec is None:  # the carrier's own order id, once the PM recorded it
            for name in self.store.names("MAN-"):
                cand = self.store.get(name)
                if cand and cand.get("carrier_reference") == carrier_order_id:
                    return cand
            raise CarrierRejected(f"no manual carrier order {carrier_order_id}")
        return rec

    def _latest_for(self, order_id: str) -> dict[str, Any]:
        recs = [
            r
            for r in (self.store.get(n) for n in self.store.names(f"MAN-{order_id}-"))
            if r and r["order_id"] == order_id
        ]
        if not recs:
            raise ManualEventError(
                f"order {order_id} has no manual carrier submission yet: nothing to record against"
            )
        return max(recs, key=lambda r: r["created_at"])
