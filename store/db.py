"""Engines, migrations and sessions for portflow's database.

SQLite (a file under ``var/``) is the default and PostgreSQL (``postgresql+psycopg://``)
the production choice; the same code and migrations serve both.

SQLite needs care to be safe with several writers (two workers, the CLI and the API): a
transaction that reads first and writes later cannot wait for another writer, it fails at
once with "database is locked". So every SQLite transaction here starts with
``BEGIN IMMEDIATE`` (it takes the write lock up front and waits up to the busy timeout for
it), the journal is WAL, and foreign keys are enforced. Keep sessions short: a session
left open blocks every other SQLite writer, and never open a second session inside one in
the same thread (the data functions take ``session=`` for that); such a wait ends after
the busy timeout as :class:`DatabaseBusy`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from core.settings import get_settings

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "migrations"
BUSY_TIMEOUT_MS = 30_000
# Any fixed number: serialises concurrent migrations on one PostgreSQL database.
_PG_MIGRATION_LOCK = 0x706F7274666C6F77  # "portflow"

_engines: dict[str, Engine] = {}
_migrated: set[str] = set()
_lock = threading.Lock()
# Alembic keeps its running context in module globals: one migration per process at a time.
_migrate_lock = threading.Lock()


class DatabaseUrlError(ValueError):
    """A database URL portflow cannot use."""


class DatabaseBusy(RuntimeError):
    """SQLite stayed locked by another transaction for the whole busy timeout (retryable)."""


def _normalise(url: str) -> str:
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        # psycopg 3 is the driver we ship; the bare scheme would look for psycopg2.
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def get_engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default: the configured database), one per URL per process."""
    raw = url or get_settings().db_url
    try:
        key = _normalise(raw)
    except sa.exc.ArgumentError as exc:
        raise DatabaseUrlError(
            f"cannot parse database URL {raw!r} ({exc}): use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/db"
        ) from None
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _create(key)
        return engine


def _create(url: str) -> Engine:
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        if u.database in (None, "", ":memory:"):
            raise DatabaseUrlError(
                "an in-memory SQLite database is not shared between connections: give a file, "
                "e.g. sqlite:///var/portflow.db"
            )
        Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if backend == "postgresql":
        return sa.create_engine(url, pool_pre_ping=True)
    raise DatabaseUrlError(f"unsupported database {backend!r} in {u!r}: use SQLite or PostgreSQL")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, say when a transaction begins (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: sa.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests, forks)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()


def dispose_engine(url: str) -> None:
    """Close and forget one engine."""
    key = _normalise(url)
    with _lock:
        engine = _engines.pop(key, None)
        _migrated.discard(key)
    if engine is not None:
        engine.dispose()


def alembic_config(url: str | None = None) -> Any:
    """An Alembic ``Config`` for portflow's migrations, without reading ``alembic.ini``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine_or_url: Engine | str | None = None) -> None:
    """Bring the database schema to the newest migration (``alembic upgrade head``).

    Idempotent and cheap when nothing is pending, so call it at every worker, API and CLI
    start. Two processes may call it at once: on SQLite the migration runs in one
    ``BEGIN IMMEDIATE`` transaction, on PostgreSQL under an advisory lock, so the second
    waits and then finds nothing to do.
    """
    from alembic import command

    engine = engine_or_url if isinstance(engine_or_url, Engine) else get_engine(engine_or_url)
    cfg = alembic_config()
    with _migrate_lock, engine.connect() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    with _lock:
        _migrated.add(engine.url.render_as_string(hide_password=False))


def run_migrations(connection: sa.Connection, target_metadata: sa.MetaData) -> None:
    """Run pending migrations on ``connection`` in one transaction (called by env.py)."""
    from alembic import context

    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
            )
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            transactional_ddl=True,
            compare_type=True,
        )
        context.run_migrations()


def ensure_migrated() -> Engine:
    """The configured database's engine, migrated once per process (a CLI or API start path
    calls it for every port: Alembic's check costs a connection and a version query each time)."""
    engine = get_engine()
    if engine.url.render_as_string(hide_password=False) not in _migrated:
        migrate(engine)
    return engine


def default_engine() -> Engine:
    """The configured database's engine, migrated on first use when ``db_auto_migrate``."""
    return ensure_migrated() if get_settings().db_auto_migrate else get_engine()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back when it raises.

    Without ``engine`` it uses the configured database (migrated on first use).
    Objects stay usable after the commit (``expire_on_commit=False``).
    """
    session = Session(engine or default_engine(), expire_on_commit=False)
    try:
        yield session
        session.commit()
    except sa.exc.OperationalError as exc:
        session.rollback()
        if "database is locked" not in str(exc.orig):
            raise
        raise DatabaseBusy(
            f"the SQLite database stayed locked for {BUSY_TIMEOUT_MS // 1000} s: another "
            "transaction held it, e.g. a session left open in another process, or a second "
            "session opened inside one in this same thread (pass session= to the inner call)"
        ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
