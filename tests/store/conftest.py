"""Database fixtures: every DB test runs on a fresh SQLite file and, when
``PORTFLOW_TEST_DATABASE_URL`` is set, on a fresh PostgreSQL schema of that database
(dropped afterwards), so runs are repeatable and never see each other's rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from core.settings import reset_settings
from store.db import dispose_engine, get_engine, migrate
from tests.settings_helpers import use_settings

PG_URL = os.environ.get("PORTFLOW_TEST_DATABASE_URL", "")

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not PG_URL, reason="set PORTFLOW_TEST_DATABASE_URL to test on PostgreSQL"
        ),
    ),
]


def _pg_admin() -> Engine:
    return sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An empty database, also made the configured one (PORTFLOW_DATABASE_URL) with its own var/."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'portflow.db'}"
        schema = None
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = _pg_admin()
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        url = (
            make_url(PG_URL)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    use_settings(monkeypatch, DATABASE_URL=url, VAR_DIR=tmp_path / "var", SECRET_KEY=None)
    try:
        yield url
    finally:
        dispose_engine(url)
        reset_settings()
        if schema:
            admin = _pg_admin()
            with admin.connect() as c:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Engine:
    """The test database, migrated."""
    engine = get_engine(db_url)
    migrate(engine)
    return engine


@pytest.fixture
def make_request():
    """Build a valid PortRequest: ``make_request("PR-2026-0001", ["+14155550101", ...], ...)``."""
    from models.request import PortRequest

    def build(request_id: str, *accounts: list[str], pin: str | None = "4321") -> PortRequest:
        return PortRequest.model_validate(
            {
                "id": request_id,
                "customer": {"name": "Contoso Ltd"},
                "contact": {
                    "name": "Ana Pérez",
                    "email": "ana@contoso.example",
                    "phone": "+14155550100",
                },
                "signer": {"name": "Bo Li", "title": "CFO", "email": "bo@contoso.example"},
                "requested_port_date": date(2026, 7, 7).isoformat(),
                "accounts": [
                    {
                        "carrier": f"Carrier {i + 1}",
                        "account_number": f"ACCT-99887766{i}",
                        "pin": pin,
                        "btn": numbers[0],
                        "service_address": {
                            "street": "1 Main St",
                            "city": "San Francisco",
                            "state": "CA",
                            "postal_code": "94105",
                        },
                        "numbers": numbers,
                    }
                    for i, numbers in enumerate(accounts)
                ],
            }
        )

    return build


@pytest.fixture
def saved(engine: Engine, make_request):
    """Seal and save a request: ``saved("PR-2026-0001", ["+14155550101"], ["+12125550101"])``."""
    from store.db import session_scope
    from store.requests import save_request
    from store.vault import seal

    def save(request_id: str, *accounts: list[str]):
        request = seal(make_request(request_id, *accounts))
        with session_scope(engine) as s:
            save_request(session=s, request=request, pm_email="pm@portflow.example")
        return request

    return save
