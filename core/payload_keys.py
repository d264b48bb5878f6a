"""The key ring of the payload codec (``portflow/codec.py``): which AES-256 keys encrypt
and decrypt what portflow stores in Temporal.

``PORTFLOW_PAYLOAD_KEYS`` is ``id:base64key,id:base64key,...`` with the current key first,
or the path of a file only the worker can read holding the same (commas or new lines).
New payloads are encrypted under the first key; every listed key decrypts. When the setting
is empty, a key is generated once into ``<var_dir>/payload.key`` (mode 0600), as the vault
does with its key, so a development machine encrypts too. Rotation: put the new key first,
keep the old ones listed until no history written under them is read any more.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_FILE = "payload.key"
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_EXAMPLE = ('e.g. PORTFLOW_PAYLOAD_KEYS="k2026b:<base64 of 32 random bytes>,k2026a:<...>" '
            "(python -c 'import os,base64;print(base64.b64encode(os.urandom(32)).decode())')")


class PayloadKeyError(ValueError):
    """The key ring setting cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class KeyRing:
    """Keys by id; ``current`` encrypts, all of them decrypt."""

    current: str
    keys: dict[str, bytes]

    @property
    def ids(self) -> list[str]:
        return list(self.keys)


def parse_keys(text: str, *, source: str = "PORTFLOW_PAYLOAD_KEYS") -> KeyRing:
    """A key ring from ``id:base64key`` entries separated by commas or new lines."""
    entries = [e.strip() for e in re.split(r"[,\n]", text) if e.strip() and not e.strip().startswith("#")]
    if not entries:
        raise PayloadKeyError(f"{source} lists no key; {_EXAMPLE}")
    keys: dict[str, bytes] = {}
    for n, entry in enumerate(entries, 1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep:
            raise PayloadKeyError(f"{source}: entry {n} has no ':' between its id and its key; {_EXAMPLE}")
        if not _ID.match(key_id):
            raise PayloadKeyError(f"{source}: entry {n}: key id {key_id[:70]!r} must be 1-64 letters, digits, "
                                  "'.', '_' or '-'")
        if key_id in keys:
            raise PayloadKeyError(f"{source}: key id {key_id!r} is listed twice; give each key its own id")
        try:
            raw = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            try:
                raw = base64.urlsafe_b64decode(encoded.strip())
            except (binascii.Error, ValueError):
                raise PayloadKeyError(f"{source}: key {key_id!r} is not base64; {_EXAMPLE}") from None
        if len(raw) != 32:
            raise PayloadKeyError(f"{source}: key {key_id!r} is {len(raw)} bytes, AES-256 needs 32; {_EXAMPLE}")
        keys[key_id] = raw
    return KeyRing(current=next(iter(keys)), keys=keys)


def load_key_ring(setting: str, var_dir: Path) -> KeyRing:
    """The key ring per the setting: entries, a key file's path, or (empty) the local key file."""
    value = setting.strip()
    if not value:
        return parse_keys(_local_key_file(var_dir / KEY_FILE), source=str(var_dir / KEY_FILE))
    if ":" not in value.splitlines()[0].split(",")[0] or value.startswith(("/", "./", "~")):
        path = Path(value).expanduser()
        try:
            return parse_keys(path.read_text(encoding="utf-8"), source=str(path))
        except OSError as exc:
            raise PayloadKeyError(f"PORTFLOW_PAYLOAD_KEYS names the key file {path}, which cannot be read "
                                  f"({exc.strerror}); give a readable file or the keys themselves") from None
    return parse_keys(value)


def new_key_entry(key_id: str) -> str:
    """``id:base64key`` for a fresh random key (the local key file; rotation in the README)."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def _local_key_file(path: Path) -> str:
    """Read the local key file, creating it once (written aside, then linked: a second process
    never reads half a key; if it links first, its key wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(new_key_entry(f"local-{secrets.token_hex(4)}") + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path.read_text(encoding="utf-8")
