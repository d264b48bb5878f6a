"""The vault: where a port's secrets (account number, PIN) live, encrypted.

The starter seals a request before it reaches Temporal: each secret goes into the
``vault_secrets`` table as Fernet ciphertext and the request carries only a
:class:`~models.secrets.SecretRef` (``sec_<32 hex>`` and a hint such as ``******23``).
Only activities that must hand the value to a carrier call :func:`reveal`.

The key is ``PORTFLOW_SECRET_KEY`` (a Fernet key, or any random string of 32+
characters); when it is empty a key is generated once into ``<var_dir>/vault.key``
(mode 0600). Losing the key loses the secrets, so back it up with the database.
Nothing here logs, or puts into an exception, a secret's value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets as _random
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr
from sqlmodel import Session

from core.settings import get_settings
from models.request import PortRequest
from models.secrets import MASK, SecretRef, hint_of
from store.db import session_scope
from store.tables import VaultSecret

log = logging.getLogger(__name__)


class UnknownSecret(KeyError):
    """A secret reference the vault does not hold."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref

    def __str__(self) -> str:
        return (
            f"secret {self.ref} is not in the vault of this database: the request was sealed "
            "against another database, or its secrets were deleted; enter the account number "
            "and PIN again"
        )


class VaultKeyError(RuntimeError):
    """The vault key is unusable or is not the one the secrets were sealed with."""


class UnsealedSecret(ValueError):
    """A plain secret where only a vault reference may go."""


def _key() -> bytes:
    settings = get_settings()
    configured = settings.secret_key.get_secret_value().strip()
    if configured:
        return _key_from_setting(configured)
    return _key_file(settings.var_dir / "vault.key")


def _fernet() -> Fernet:
    return Fernet(_key())


def derived_key(purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` (e.g. signing customer links) derived from the vault key
    with HMAC-SHA256: every process that opens the vault derives the same one, and it reveals
    nothing of the vault key."""
    return hmac.new(_key(), f"portflow:{purpose}".encode(), hashlib.sha256).digest()


def _key_from_setting(value: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value.encode())
        if len(raw) == 32:
            return value.encode()
    except (ValueError, TypeError):
        pass
    if len(value) < 32:
        raise VaultKeyError(
            "PORTFLOW_SECRET_KEY is too short: use a Fernet key (python -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') "
            "or a random string of 32+ characters"
        )
    return base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest())


def _key_file(path: Path) -> bytes:
    """Read the key file, creating it once (atomically, 0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{_random.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key() + b"\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # fails if another process made it first: theirs wins
                log.info("generated a new vault key at %s; back it up with the database", path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        path.chmod(0o600)
        log.warning("vault key %s was readable by others (mode %o); set it to 0600", path, mode)
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise VaultKeyError(
            f"{path} is not a Fernet key: restore it from backup, or set PORTFLOW_SECRET_KEY"
        ) from None
    return key


def _store(session: Session, value: str) -> SecretRef:
    if not value or value == MASK:
        raise UnsealedSecret(
            "cannot seal an empty or masked (**********) secret: the plain value was lost; "
            "enter it again"
        )
    ref = f"sec_{_random.token_hex(16)}"
    token = _fernet().encrypt(value.encode()).decode()
    session.add(VaultSecret(ref=ref, ciphertext=token))
    session.flush()
    return SecretRef(ref=ref, hint=hint_of(value))


def put_secret(value: str, *, session: Session | None = None) -> SecretRef:
    """Encrypt ``value`` into the vault and return its reference."""
    if session is not None:
        return _store(session, value)
    with session_scope() as s:
        return _store(s, value)


def reveal(ref: SecretRef | str, *, session: Session | None = None) -> str:
    """The plain value behind a reference. For activities that send it to a carrier only."""
    key = ref.ref if isinstance(ref, SecretRef) else str(ref)
    if session is not None:
        row = session.get(VaultSecret, key)
    else:
        with session_scope() as s:
            row = s.get(VaultSecret, key)
    if row is None:
        raise UnknownSecret(key)
    try:
        return _fernet().decrypt(row.ciphertext.encode()).decode()
    except InvalidToken:
        raise VaultKeyError(
            f"secret {key} cannot be decrypted with the current vault key: PORTFLOW_SECRET_KEY or "
            "<var_dir>/vault.key changed since it was sealed; restore the old key"
        ) from None


def _seal_one(
    session: Session, secret: SecretStr | SecretRef | None, what: str, *, required: bool
) -> SecretRef | None:
    if isinstance(secret, SecretRef):
        return secret
    value = secret.get_secret_value() if secret is not None else ""
    if not value:
        if required:
            raise UnsealedSecret(f"{what} is missing: copy it from the CSR or the bill")
        return None
    if value == MASK:
        raise UnsealedSecret(
            f"{what} is masked (**********): the plain value was lost; enter it again"
        )
    return _store(session, value)


def seal(request: PortRequest, *, session: Session | None = None) -> PortRequest:
    """A copy of ``request`` whose account numbers and PINs are vault references.

    Secrets already sealed stay as they are; an empty PIN becomes ``None``. All secrets of
    the request are stored in one transaction.
    """

    def run(s: Session) -> PortRequest:
        accounts = []
        for i, account in enumerate(request.accounts):
            what = f"account {i + 1} ({account.carrier})"
            accounts.append(
                account.model_copy(
                    update={
                        "account_number": _seal_one(
                            s, account.account_number, f"{what} account number", required=True
                        ),
                        "pin": _seal_one(s, account.pin, f"{what} PIN", required=False),
                    }
                )
            )
        return request.model_copy(update={"accounts": accounts})

    if session is not None:
        return run(session)
    with session_scope() as s:
        return run(s)


def is_sealed(request: PortRequest) -> bool:
    """True when no account holds a plain secret."""
    return all(
        isinstance(a.account_number, SecretRef) and (a.pin is None or isinstance(a.pin, SecretRef))
        for a in request.accounts
    )
