"""The side-effect ledger: first write wins, even when attempts race."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.ledger import record, seen


def test_record_then_seen(engine: Engine) -> None:
    key = "PR-2026-0001-1:envelope"
    assert seen(key) is None
    assert record(key, {"envelope_id": "env-1", "attempt": 1}) is True
    assert seen(key) == {"envelope_id": "env-1", "attempt": 1}
    assert record(key, {"envelope_id": "env-2"}) is False
    assert seen(key) == {"envelope_id": "env-1", "attempt": 1}
    assert seen("PR-2026-0001-2:envelope") is None


def test_record_inside_a_callers_transaction(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert record("k:1", {"v": 1}, session=s) is True
        assert record("k:1", {"v": 2}, session=s) is False
        assert seen("k:1", session=s) == {"v": 1}
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        record("k:2", {"v": 1}, session=s)
        raise RuntimeError("the activity failed after all")
    assert seen("k:2") is None  # rolled back with the caller


def test_racing_records_keep_exactly_one(engine: Engine) -> None:
    barrier = threading.Barrier(6, timeout=30)
    outcomes: dict[int, object] = {}

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = record("PR-2026-0001-1:submit", {"attempt": i})
        except BaseException as exc:  # noqa: BLE001
            outcomes[i] = exc

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [i for i, won in outcomes.items() if won is True]
    assert len(outcomes) == 6 and all(isinstance(v, bool) for v in outcomes.values()), outcomes
    assert len(winners) == 1
    assert seen("PR-2026-0001-1:submit") == {"attempt": winners[0]}


def test_bad_keys_and_values(engine: Engine) -> None:
    with pytest.raises(ValueError, match="ledger key is empty"):
        record(" ", {})
    with pytest.raises(ValueError, match="over 255"):
        seen("k" * 256)
    with pytest.raises(TypeError, match="ledger value is not JSON"):
        record("k", {"when": object()})
    with pytest.raises(TypeError, match="must be a dict"):
        record("k", ["a"])  # type: ignore[arg-type]
    assert seen("k") is None
