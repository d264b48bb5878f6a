"""Engines and sessions: one engine per URL, SQLite set up for several writers, and a
session that commits or rolls back as a whole."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.db import (
    DatabaseBusy,
    DatabaseUrlError,
    dispose_engine,
    get_engine,
    migrate,
    session_scope,
)
from store.tables import LedgerEntry


def test_one_engine_per_url_and_the_default(db_url: str) -> None:
    assert get_engine(db_url) is get_engine(db_url)
    assert get_engine() is get_engine(db_url)  # the fixture made it the configured database


def test_sqlite_is_set_up_for_concurrent_writers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'deep' / 'dir' / 'x.db'}"
    try:
        engine = get_engine(url)
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert c.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000
        assert (tmp_path / "deep" / "dir" / "x.db").exists()
    finally:
        dispose_engine(url)


def test_unusable_urls_are_explained() -> None:
    with pytest.raises(DatabaseUrlError, match="unsupported database 'mysql'"):
        get_engine("mysql://u@h/db")
    with pytest.raises(DatabaseUrlError, match="in-memory SQLite database is not shared"):
        get_engine("sqlite://")
    with pytest.raises(DatabaseUrlError, match="cannot parse database URL"):
        get_engine("not a url")


def test_session_scope_commits_or_rolls_back(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(LedgerEntry(key="kept", value={}))
    with pytest.raises(ZeroDivisionError), session_scope(engine) as s:
        s.add(LedgerEntry(key="dropped", value={}))
        s.flush()
        1 / 0  # noqa: B018
    with session_scope() as s:  # the configured database, the same one
        assert s.get(LedgerEntry, "kept") is not None
        assert s.get(LedgerEntry, "dropped") is None


def test_a_second_writer_waits_instead_of_failing(engine: Engine) -> None:
    """A write transaction that is open makes the other writer wait for it, not error."""
    first_inside, release_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with session_scope(engine) as s:
            s.add(LedgerEntry(key="a", value={}))
            s.flush()
            first_inside.set()
            release_first.wait(10)

    def second() -> None:
        try:
            first_inside.wait(10)
            with session_scope(engine) as s:
                assert s.get(LedgerEntry, "b") is None
                s.add(LedgerEntry(key="b", value={}))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t1, t2 = threading.Thread(target=first), threading.Thread(target=second)
    t1.start()
    t2.start()
    assert first_inside.wait(10)
    release_first.set()
    t1.join(30)
    t2.join(30)
    assert errors == []
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM ledger_entries")).scalar_one() == 2


def test_migrate_from_two_threads_at_once(db_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(2, timeout=30)

    def run() -> None:
        try:
            barrier.wait()
            migrate(db_url)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert "ledger_entries" in sa.inspect(get_engine(db_url)).get_table_names()


def test_a_nested_sqlite_session_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second session inside an open one in the same thread waits for itself: the error
    says so instead of a bare 'database is locked'."""
    import store.db

    monkeypatch.setattr(store.db, "BUSY_TIMEOUT_MS", 200)
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    try:
        engine = get_engine(url)
        migrate(engine)
        with session_scope(engine) as outer:
            outer.add(LedgerEntry(key="outer", value={}))
            outer.flush()
            with pytest.raises(DatabaseBusy, match="pass session= to the inner call"):
                with session_scope(engine) as inner:
                    inner.get(LedgerEntry, "x")
    finally:
        dispose_engine(url)
