"""The simulated carrier's mind: what it answers, computed from an order's timeline and now.

Pure: :func:`evaluate` reads a simulator record (the submission without secrets, the
behaviour chosen at submission, and the events: submit, SUP2, SUP3, cancel, on-demand
activation) and returns the phase, FOC, activation window, exceptions and per-number
outcomes at ``now``. The same record at the same instant always gives the same answer, so
a worker restart or a test's clock changes nothing else.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from models.carrier import CarrierException, CarrierOrderStatus, NumberOutcome, SupplementKind
from providers.carrier.exceptions import NOT_PORTABLE_CODES, corrections_cover, remediation_for
from providers.carrier.sim_profile import Behaviour
from providers.carrier.submission import requested_foc_at

St = CarrierOrderStatus
RAW = {  # phase -> (our status, raw status, raw status of a toll-free RespOrg change)
    "in-process": (St.SUBMITTED, "in-process", "resporg-change-requested"),
    "submitted": (St.PENDING, "submitted", "resporg-change-pending"),
    "exception": (St.EXCEPTION, "exception", "resporg-change-rejected"),
    "foc-date-confirmed": (St.FOC_CONFIRMED, "foc-date-confirmed", "resporg-change-approved"),
    "activating": (St.ACTIVATING, "activating", "resporg-change-activating"),
    "ported": (St.PORTED, "ported", "resporg-change-complete"),
    "activation-failed": (St.ACTIVATION_FAILED, "activation-failed", "resporg-change-failed"),
    "cancel-pending": (St.CANCEL_PENDING, "cancel-pending", "resporg-change-cancel-pending"),
    "cancelled": (St.CANCELLED, "cancelled", "resporg-change-cancelled"),
}
_SUBMISSIONS = ("submit", SupplementKind.SUP2.value, SupplementKind.SUP3.value)


class Evaluation(NamedTuple):
    phase: str
    foc: datetime | None
    window: tuple[datetime, datetime] | None
    exceptions: list[CarrierException]
    outcomes: dict[str, tuple[NumberOutcome, str | None]]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _objections(
    rec: dict[str, Any], b: Behaviour, subs: list[dict[str, Any]]
) -> list[CarrierException]:
    """What the carrier still objects to after every (re)submission so far."""
    original = rec["original_numbers"]
    wanted: list[tuple[str, list[str]]] = []
    if b.behaviour == "reject":
        number_code = "remove_numbers" in remediation_for(b.code).fields_to_amend
        wanted.append(
            (b.code or "OTHER", (b.numbers or original[-1:]) if number_code else b.numbers)
        )
    elif b.behaviour == "not_portable":
        wanted.append((b.code or "PHONE_NUMBER_NOT_PORTABLE", b.numbers or original[-1:]))
    elif b.behaviour == "split":
        apart = b.numbers or original[(len(original) + 1) // 2 :]
        # the order split off (only those numbers) is what the carrier asked for: accepted
        if apart and not set(original) <= set(apart):
            wanted.append(("PORTING_ORDER_SPLIT_REQUIRED", apart))
    later = subs[1:]
    fields: dict[str, str] = {k: "" for e in later for k in e.get("corrections", [])}
    new_date = any(e.get("port_date") for e in later)
    removed = set(rec["removed"])
    out = []
    for code, nums in wanted:
        nums = [n for n in nums if n in original]
        rem = remediation_for(code, b.text, nums)
        if rem.action in ("remove_numbers", "split") and nums and set(nums) <= removed:
            continue
        resolved = (
            bool(later)
            and b.first_submission_only
            and corrections_cover(rem, fields, new_foc_date=new_date, removed=removed)
        )
        if not resolved:
            live = [n for n in nums if n in rec["numbers"]]
            out.append(
                CarrierException(
                    code=rem.code,
                    raw_code=code,
                    message=b.text or rem.what_is_wrong,
                    numbers=live,
                )
            )
    return out


def _foc(
    rec: dict[str, Any], b: Behaviour, subs: list[dict[str, Any]], answer_at: datetime
) -> datetime:
    dated = [e for e in subs if e.get("port_date")]
    at = time.fromisoformat(rec["activation_time"]) if rec["activation_time"] else None
    if dated:
        return requested_foc_at(date.fromisoformat(dated[-1]["port_date"]), at, rec["time_zone"])
    if b.foc_in_seconds:
        return _ts(subs[-1]["at"]) + timedelta(seconds=b.foc_in_seconds)
    return requested_foc_at(date.fromisoformat(rec["requested_foc_date"]), at, rec["time_zone"])


def evaluate(rec: dict[str, Any], now: datetime) -> Evaluation:
    b = Behaviour.model_validate(rec["behaviour"])
    subs = [e for e in rec["events"] if e["kind"] in _SUBMISSIONS]
    last_at = _ts(subs[-1]["at"])
    answer_at = last_at + timedelta(seconds=b.answer_after_seconds)
    first_time = not any(e.get("port_date") for e in subs[1:]) or not b.first_submission_only
    outcomes: dict[str, tuple[NumberOutcome, str | None]] = {}
    foc: datetime | None = None
    window = None
    exceptions: list[CarrierException] = []
    phase = "in-process"
    if b.behaviour == "silent" or now < answer_at:
        phase = (
            "in-process"
            if now < last_at + timedelta(seconds=b.answer_after_seconds / 2)
            else "submitted"
        )
    else:
        exceptions = _objections(rec, b, subs)
        if not exceptions:
            foc = _foc(rec, b, subs, answer_at)
            if foc <= answer_at:
                rem = remediation_for("FOC_REJECTED")
                exceptions = [
                    CarrierException(
                        code=rem.code,
                        raw_code=rem.code,
                        message=(f"requested FOC {foc:%Y-%m-%d %H:%M} UTC is not in the future"),
                    )
                ]
                foc = None
        if exceptions:
            phase = "exception"
            for e in exceptions:
                if e.code in NOT_PORTABLE_CODES:
                    outcomes.update({n: (NumberOutcome.NOT_PORTABLE, e.message) for n in e.numbers})
        else:
            assert foc is not None
            move_at = answer_at + timedelta(seconds=b.move_after_seconds)
            if b.behaviour == "foc_moved" and len(subs) == 1 and now >= move_at and move_at < foc:
                foc = foc + timedelta(seconds=b.move_by_seconds)
            if b.fast_port:
                window = (foc, foc + timedelta(seconds=b.activation_window_seconds))
            phase = "foc-date-confirmed"
            if now >= foc and b.behaviour == "foc_expired" and first_time:
                rem = remediation_for("FOC_EXPIRED")
                phase, exceptions = (
                    "exception",
                    [
                        CarrierException(
                            code=rem.code,
                            raw_code=rem.code,
                            message=b.text or f"FOC {foc:%Y-%m-%d %H:%M} UTC expired",
                        )
                    ],
                )
            elif now >= foc:
                act_at = foc
                if window is not None:
                    requested = rec["activated_at"] and _ts(rec["activated_at"])
                    act_at = (
                        requested
                        if requested and window[0] <= requested <= window[1]
                        else window[1]
                    )
                if now < act_at:
                    phase = "foc-date-confirmed"
                elif now < act_at + timedelta(seconds=b.activation_seconds):
                    phase = "activating"
                elif b.behaviour == "activation_failure" and first_time:
                    phase = "activation-failed"
                    why = (
                        b.text
                        or "the losing carrier did not release the numbers (NPAC activation failed)"
                    )
                    outcomes = {n: (NumberOutcome.FAILED, why) for n in rec["numbers"]}
                    exceptions = [
                        CarrierException(
                            code="SV_UNKNOWN_FAILURE",
                            raw_code="SV_UNKNOWN_FAILURE",
                            message=why,
                            numbers=list(rec["numbers"]),
                        )
                    ]
                else:
                    phase = "ported"
                    outcomes = {n: (NumberOutcome.PORTED, None) for n in rec["numbers"]}
                    if b.behaviour == "partial" and first_time:
                        failing = [
                            n for n in (b.numbers or rec["numbers"][-1:]) if n in rec["numbers"]
                        ]
                        why = b.text or "activation failed for this number at the NPAC"
                        outcomes.update({n: (NumberOutcome.FAILED, why) for n in failing})
                        exceptions = [
                            CarrierException(
                                code="SV_UNKNOWN_FAILURE",
                                raw_code="SV_UNKNOWN_FAILURE",
                                message=why,
                                numbers=failing,
                            )
                        ]
    if rec["cancel"]:
        cancelled_at = _ts(rec["cancel"]["at"]) + timedelta(seconds=b.cancel_after_seconds)
        phase = "cancel-pending" if now < cancelled_at else "cancelled"
        exceptions, window = [], None
        outcomes = {}
    return Evaluation(phase, foc, window, exceptions, outcomes)
