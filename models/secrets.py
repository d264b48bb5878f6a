"""Secrets of a port (account number, PIN) and how they travel.

A person types the value (a :class:`pydantic.SecretStr`: its repr and JSON dumps show
``**********``). Before anything reaches Temporal, the starter seals it into the vault
(``store.vault``) and the workflow carries only a :class:`SecretRef`: a vault key and a
short hint such as ``****0123``. Activities that must send the value to a carrier reveal
it from the vault. So neither workflow history, logs, search attributes nor e-mails ever
hold the plain value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

MASK = "**********"


class SecretRef(BaseModel):
    """A sealed secret: where it is in the vault, and a hint people may see."""

    model_config = ConfigDict(frozen=True)

    ref: str = Field(pattern=r"^sec_[0-9a-f]{32}$")
    hint: str = ""

    def __str__(self) -> str:
        return self.hint or MASK

    def __repr__(self) -> str:
        return f"SecretRef(hint={self.hint!r})"


def hint_of(value: str, keep: int = 2) -> str:
    """``'12345678'`` -> ``'******78'``: enough to recognise, not enough to use."""
    if len(value) <= keep + 2:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]


def _coerce(value: Any) -> Any:
    if isinstance(value, (SecretStr, SecretRef)):
        return value
    if isinstance(value, dict) and "ref" in value:
        return SecretRef.model_validate(value)
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        return SecretStr(value.strip())
    return value


# A secret as typed by a person, or as sealed in the vault.
Secret = Annotated[SecretStr | SecretRef, BeforeValidator(_coerce)]


def is_blank(secret: SecretStr | SecretRef | None) -> bool:
    if secret is None:
        return True
    if isinstance(secret, SecretRef):
        return False
    value = secret.get_secret_value()
    return not value or value == MASK


def masked(secret: SecretStr | SecretRef | None) -> str:
    """What people may see of a secret."""
    if secret is None:
        return ""
    if isinstance(secret, SecretRef):
        return secret.hint or MASK
    return hint_of(secret.get_secret_value())
