"""Alembic environment: runs portflow's migrations on the engine ``store.db`` builds.

``store.db.migrate()`` hands in its own connection (``config.attributes["connection"]``);
the ``alembic`` command line gets one from ``-x url=...``, ``sqlalchemy.url`` in
``alembic.ini`` or the portflow settings. Either way the SQLite pragmas, the
``BEGIN IMMEDIATE`` transaction and the PostgreSQL advisory lock of ``store.db`` apply.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.db import get_engine, run_migrations

config = context.config
target_metadata = SQLModel.metadata


def _offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    context.configure(
        url=url or get_engine().url, target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection, target_metadata)
        return
    if config.config_file_name is not None:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    with get_engine(url or None).connect() as connection:
        run_migrations(connection, target_metadata)


if context.is_offline_mode():
    _offline()
else:
    _online()
