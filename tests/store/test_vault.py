"""The vault: sealed secrets round-trip, and the plain value is nowhere in the database."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from core.settings import get_settings, reset_settings
from models.secrets import SecretRef
from core.settings import get_settings
from store.db import session_scope
from store.requests import save_request
from store.vault import (
    UnknownSecret,
    UnsealedSecret,
    VaultKeyError,
    is_sealed,
    put_secret,
    reveal,
    seal,
)
from tests.settings_helpers import use_settings

ACCOUNT = "ACCT-55501-77"
PIN = "80417263"


def _request(make_request, **kw):
    request = make_request("PR-2026-0001", ["+14155550101"], ["+12125550101"], pin=PIN)
    accounts = [
        a.model_copy(update={"account_number": SecretStr(ACCOUNT)}) for a in request.accounts
    ]
    return request.model_copy(update={"accounts": accounts})


def test_seal_and_reveal_round_trip(
    engine: Engine, make_request, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request = _request(make_request)
    assert not is_sealed(request)
    sealed = seal(request)
    assert is_sealed(sealed) and not is_sealed(request)  # a copy; the input is untouched
    refs = [a.account_number for a in sealed.accounts] + [a.pin for a in sealed.accounts]
    assert all(isinstance(r, SecretRef) for r in refs)
    assert len({r.ref for r in refs}) == 4
    first = sealed.accounts[0]
    assert first.account_number.hint == "***********77" and first.pin.hint == "******63"
    assert reveal(first.account_number) == ACCOUNT and reveal(first.pin.ref) == PIN
    # sealing again keeps the references
    assert seal(sealed) == sealed
    # neither the sealed model's dumps nor the logs hold the secret
    for text in (sealed.model_dump_json(), repr(sealed), str(sealed), caplog.text):
        assert ACCOUNT not in text and PIN not in text


def test_database_holds_no_plain_secret(engine: Engine, db_url: str, make_request) -> None:
    sealed = seal(_request(make_request))
    with session_scope(engine) as s:
        save_request(session=s, request=sealed, pm_email="pm@portflow.example")
    dumped = []
    with engine.connect() as c:
        for table in sa.inspect(engine).get_table_names():
            dumped += [str(tuple(row)) for row in c.execute(sa.text(f"SELECT * FROM {table}"))]
    text = "\n".join(dumped)
    assert "sec_" in text  # the references are there...
    assert ACCOUNT not in text and PIN not in text  # ...the values are not
    if engine.dialect.name == "sqlite":
        db_file = Path(sa.engine.make_url(db_url).database)
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        assert b"sec_" in raw
        assert ACCOUNT.encode() not in raw and PIN.encode() not in raw


def test_save_request_refuses_plain_secrets(engine: Engine, make_request) -> None:
    with (
        session_scope(engine) as s,
        pytest.raises(UnsealedSecret, match=r"seal it with store.vault.seal"),
    ):
        save_request(session=s, request=_request(make_request), pm_email="pm@portflow.example")


def test_masked_or_missing_secrets_cannot_be_sealed(engine: Engine, make_request) -> None:
    request = _request(make_request)
    masked = request.accounts[0].model_copy(update={"account_number": SecretStr("**********")})
    with pytest.raises(UnsealedSecret, match=r"account 1 \(Carrier 1\) account number is masked"):
        seal(request.model_copy(update={"accounts": [masked]}))
    empty_pin = request.accounts[0].model_copy(update={"pin": SecretStr("")})
    assert seal(request.model_copy(update={"accounts": [empty_pin]})).accounts[0].pin is None
    with pytest.raises(UnsealedSecret):
        put_secret("")


def test_unknown_reference(engine: Engine) -> None:
    with pytest.raises(UnknownSecret) as err:
        reveal("sec_" + "0" * 32)
    assert isinstance(err.value, KeyError)
    assert str(err.value).startswith(
        "secret sec_00000000000000000000000000000000 is not in the vault"
    )


def test_generated_key_file_is_private_and_stable(engine: Engine) -> None:
    ref = put_secret("s3cret-value")
    key_file = get_settings().var_dir / "vault.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    assert reveal(ref) == "s3cret-value"
    assert key_file.read_bytes() == key


def test_configured_key_and_a_changed_key(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, SECRET_KEY="x" * 40)
    ref = put_secret("s3cret-value")
    assert reveal(ref) == "s3cret-value"
    assert not (get_settings().var_dir / "vault.key").exists()
    use_settings(monkeypatch, SECRET_KEY="y" * 40)
    with pytest.raises(
        VaultKeyError, match="cannot be decrypted with the current vault key"
    ) as err:
        reveal(ref)
    assert "s3cret" not in str(err.value)
    use_settings(monkeypatch, SECRET_KEY="short")
    with pytest.raises(VaultKeyError, match="too short"):
        put_secret("s3cret-value")
