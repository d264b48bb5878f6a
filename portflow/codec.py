"""The payload codec: every payload portflow stores in Temporal (inputs, results, signals,
updates, memos, failure messages and stack traces, the ``portflow-audit`` headers) is
encrypted with AES-256-GCM before it leaves the process, and decrypted on the way back.

An encrypted payload's metadata says ``encoding: binary/encrypted`` and names its key
(``encryption-key-id``); its data is a fresh 12-byte nonce and the ciphertext of the whole
original payload (metadata and data), authenticated together with the key id. Keys come
from ``core.payload_keys`` (``PORTFLOW_PAYLOAD_KEYS``). A payload that is not encrypted
(recorded before the codec) decodes as it is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from core.payload_keys import KeyRing

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE = 12


class PayloadKeyMissing(ValueError):
    """A payload was encrypted under a key this process does not hold."""

    def __init__(self, key_id: str, known: Sequence[str]) -> None:
        self.key_id = key_id
        super().__init__(
            f"payload encrypted with key {key_id!r}, which PORTFLOW_PAYLOAD_KEYS does not list (it lists "
            f"{', '.join(repr(k) for k in known) or 'nothing'}): add key {key_id!r} back (after the current key) "
            "to read this port"
        )


class PayloadUndecryptable(ValueError):
    """A payload whose key id is known but whose ciphertext does not authenticate."""


class AesGcmCodec(PayloadCodec):
    """Encrypts under the ring's current key; decrypts under whichever key a payload names."""

    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self.ring.current
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyMissing(key_id, self.ring.ids)
        if len(payload.data) < _NONCE + 16:
            raise PayloadUndecryptable(f"payload under key {key_id!r} is too short to be one this codec wrote")
        try:
            plain = cipher.decrypt(payload.data[:_NONCE], payload.data[_NONCE:], key_id.encode())
        except InvalidTag:
            raise PayloadUndecryptable(
                f"payload under key {key_id!r} does not decrypt with the key listed as {key_id!r}: the key was "
                "changed under the same id, or the data was altered; restore the original key for that id"
            ) from None
        return Payload.FromString(plain)
