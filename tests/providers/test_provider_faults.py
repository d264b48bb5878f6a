"""The stand-ins' fault drills: failures are retryable, seeded, bounded per call, logged;
an after-effect failure leaves the work done, so a retry finds it instead of redoing it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from providers.carrier.base import CarrierError
from providers.faults import FaultInjector, Faults


def _run(inj: FaultInjector, done: list[int], op: str = "submit", has_effect: bool = True) -> str:
    async def work() -> str:
        done.append(1)
        return "ok"

    try:
        return asyncio.run(inj.call(op, "PR-1-1", work, has_effect=has_effect))
    except CarrierError as exc:
        assert exc.retryable
        return f"fault: {exc}"


def test_faults_are_seeded_bounded_and_logged(tmp_path: Path) -> None:
    outcomes = []
    for run in ("a", "b"):
        inj = FaultInjector(Faults(rate=0.6, seed=11, timeout_seconds=0, max_in_a_row=2), tmp_path / run, CarrierError)
        outcomes.append([_run(inj, []) for _ in range(40)])
    assert outcomes[0] == outcomes[1]  # the same seed, the same sequence
    # a restarted worker (a new injector) goes on counting: it does not replay the first calls
    restarted = FaultInjector(Faults(rate=0.6, seed=11, timeout_seconds=0, max_in_a_row=2), tmp_path / "a", CarrierError)
    assert [_run(restarted, []) for _ in range(10)] == [_run(inj, []) for _ in range(10)]
    faults = [o for o in outcomes[0] if o.startswith("fault")]
    assert 10 < len(faults) < 40
    assert {"503" in f or "429" in f or "no answer" in f for f in faults} == {True}
    run = "".join("F" if o.startswith("fault") else "." for o in outcomes[0])
    assert "FFF" not in run  # at most max_in_a_row in a row
    logged = (tmp_path / "a" / "faults.log").read_text().splitlines()
    assert len(logged) >= len(faults)


def test_an_after_effect_fault_did_the_work_and_a_read_never_has_one(tmp_path: Path) -> None:
    inj = FaultInjector(Faults(rate=1.0, seed=3, after_effect=1.0, timeout_seconds=0, max_in_a_row=1), tmp_path,
                        CarrierError)
    done: list[int] = []
    assert _run(inj, done).startswith("fault")
    assert done == [1]  # the carrier recorded it; the answer was lost
    assert _run(inj, done) == "ok" and done == [1, 1]  # the retry (max_in_a_row=1) gets through
    done = []
    assert _run(inj, done, op="status", has_effect=False).startswith("fault") and done == []


def test_no_faults_without_a_rate(tmp_path: Path) -> None:
    inj = FaultInjector(None, tmp_path, CarrierError)
    assert [_run(inj, []) for _ in range(5)] == ["ok"] * 5
    assert not (tmp_path / "faults.log").exists()


def test_a_drill_setting_names_the_field_to_fix() -> None:
    import pytest

    from providers.faults import parse_faults

    assert parse_faults("", "PORTFLOW_ESIGN_LOCAL_FAULTS") is None
    assert parse_faults('{"rate": 0.3, "seed": 7}', "PORTFLOW_ESIGN_LOCAL_FAULTS").seed == 7
    with pytest.raises(ValueError, match="PORTFLOW_ESIGN_LOCAL_FAULTS: rate: .*less than or equal to 1"):
        parse_faults('{"rate": 3}', "PORTFLOW_ESIGN_LOCAL_FAULTS")
