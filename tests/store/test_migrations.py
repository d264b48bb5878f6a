"""The Alembic migrations: they build exactly the schema the SQLModel tables describe, and
running them again, or from two processes at once, changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import store.tables  # noqa: F401
from store.db import alembic_config, get_engine, migrate

ROOT = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
TABLES = {
    "port_requests",
    "port_orders",
    "inventory_numbers",
    "documents",
    "audit_events",
    "vault_secrets",
    "ledger_entries",
    "request_id_counters",
}


def _version(engine: Engine) -> list[str]:
    with engine.connect() as c:
        return [r[0] for r in c.execute(sa.text("SELECT version_num FROM alembic_version"))]


def _diffs(engine: Engine, metadata: sa.MetaData) -> list:
    with engine.connect() as c:
        return compare_metadata(
            MigrationContext.configure(c, opts={"compare_type": True}), metadata
        )


def test_migration_matches_the_tables(engine: Engine) -> None:
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    assert _diffs(engine, SQLModel.metadata) == []


def test_schema_comparison_sees_a_difference(engine: Engine) -> None:
    """Control for the test above: a column the migration lacks is reported."""
    changed = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    sa.Table("ledger_entries", changed, sa.Column("extra", sa.Integer()), extend_existing=True)
    diffs = _diffs(engine, changed)
    assert [d[0] for d in diffs] == ["add_column"]
    assert diffs[0][3].name == "extra"


def test_the_active_number_rule_is_a_partial_unique_index(engine: Engine) -> None:
    indexes = {ix["name"]: ix for ix in sa.inspect(engine).get_indexes("inventory_numbers")}
    rule = indexes["uq_inventory_active_tn"]
    assert rule["unique"] and rule["column_names"] == ["tn"]
    where = rule["dialect_options"].get(f"{engine.dialect.name}_where")
    assert "released_at is null" in str(where).lower()


def test_migrate_twice_is_a_no_op(db_url: str) -> None:
    engine = get_engine(db_url)
    migrate(db_url)
    assert _version(engine) == [HEAD]
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO request_id_counters (year, last) VALUES (2026, 7)"))
    migrate(engine)
    migrate()  # the configured database is the same one
    assert _version(engine) == [HEAD]
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT last FROM request_id_counters")).scalar_one() == 7


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.connect() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "base")
    assert not (set(sa.inspect(engine).get_table_names()) & TABLES)
    migrate(engine)
    assert _diffs(engine, SQLModel.metadata) == []


def test_two_processes_migrate_at_once(db_url: str) -> None:
    """Two workers starting together on a fresh database: both succeed, one schema."""
    code = "import sys; from store.db import migrate; migrate(sys.argv[1])"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, db_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
    for _out, err, rc in results:
        assert rc == 0, err.decode()
    engine = get_engine(db_url)
    assert _version(engine) == [HEAD]
    assert _diffs(engine, SQLModel.metadata) == []


def test_alembic_command_line_uses_the_shipped_ini(db_url: str) -> None:
    """``alembic -c store/alembic.ini upgrade head`` works for operators too."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "alembic",
            "-c",
            str(ROOT / "store" / "alembic.ini"),
            "-x",
            f"url={db_url}",
            "upgrade",
            "head",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert _version(get_engine(db_url)) == [HEAD]
