"""The payload codec and its key ring (issue 14): AES-256-GCM, a fresh nonce per payload,
the key id in the metadata, rotation, and errors that say which key or entry to fix."""

from __future__ import annotations

import asyncio
import base64
import stat
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.common import HeaderCodecBehavior
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes

from core.payload_keys import PayloadKeyError, load_key_ring, new_key_entry, parse_keys
from models.workflow import PortOptions
from portflow.codec import ENCODING, KEY_ID, AesGcmCodec, PayloadKeyMissing, PayloadUndecryptable
from portflow.temporal import client_options, data_converter
from tests.settings_helpers import use_settings

A, B = new_key_entry("key-a"), new_key_entry("key-b")
SECRET = "Luis Ortega, 1200 Larimer St"


def encode(dc, value):  # noqa: ANN001, ANN201
    return asyncio.run(dc.encode([value]))


def test_payloads_are_encrypted_under_the_current_key_with_a_fresh_nonce(tmp_path: Path) -> None:
    codec = AesGcmCodec(parse_keys(f"{A},{B}"))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=SECRET.encode())
    one, two = codec.encrypt(plain), codec.encrypt(plain)
    assert one.metadata["encoding"] == ENCODING and one.metadata[KEY_ID] == b"key-a"
    assert SECRET.encode() not in one.data and b"json/plain" not in one.data
    assert one.data[:12] != two.data[:12] and one.data != two.data  # a fresh nonce each time
    assert codec.decrypt(one) == plain and codec.decrypt(two) == plain


def test_rotation_keeps_old_payloads_readable_and_a_removed_key_is_named() -> None:
    under_a = AesGcmCodec(parse_keys(A)).encrypt(Payload(data=SECRET.encode()))
    rotated = AesGcmCodec(parse_keys(f"{B},{A}"))
    assert rotated.decrypt(under_a).data == SECRET.encode()
    assert rotated.encrypt(Payload(data=b"x")).metadata[KEY_ID] == b"key-b"
    with pytest.raises(PayloadKeyMissing, match="'key-a'.*add key 'key-a' back") as err:
        AesGcmCodec(parse_keys(B)).decrypt(under_a)
    assert err.value.key_id == "key-a"


def test_a_different_key_under_the_same_id_or_altered_data_is_refused_by_name() -> None:
    under_a = AesGcmCodec(parse_keys(A)).encrypt(Payload(data=SECRET.encode()))
    other = new_key_entry("key-a")
    with pytest.raises(PayloadUndecryptable, match="'key-a'"):
        AesGcmCodec(parse_keys(other)).decrypt(under_a)
    tampered = Payload(metadata=dict(under_a.metadata), data=under_a.data[:-1] + bytes([under_a.data[-1] ^ 1]))
    with pytest.raises(PayloadUndecryptable):
        AesGcmCodec(parse_keys(A)).decrypt(tampered)


def test_unencrypted_payloads_pass_through_on_decode() -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"')
    assert AesGcmCodec(parse_keys(A)).decrypt(plain) == plain


@pytest.mark.parametrize(("setting", "says"), [
    ("key-a", "no ':'"),
    ("bad id!:" + base64.b64encode(bytes(range(32))).decode(), "must be 1-64 letters"),
    ("a:" + base64.b64encode(bytes(range(16))).decode(), "16 bytes, AES-256 needs 32"),
    ("a:not base64 at all!!", "not base64"),
    (f"{A},{A}", "listed twice"),
    (" , ", "lists no key"),
])
def test_bad_key_settings_say_what_to_fix(setting: str, says: str) -> None:
    with pytest.raises(PayloadKeyError, match=says):
        parse_keys(setting)


def test_keys_from_a_file_and_a_local_key_made_once(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(f"# current first\n{B}\n{A}\n")
    assert load_key_ring(str(key_file), tmp_path).ids == ["key-b", "key-a"]
    with pytest.raises(PayloadKeyError, match="cannot be read"):
        load_key_ring(str(tmp_path / "missing"), tmp_path)
    var = tmp_path / "var"
    first = load_key_ring("", var)
    assert first.current.startswith("local-") and load_key_ring("", var) == first
    assert stat.S_IMODE((var / "payload.key").stat().st_mode) == 0o600


def test_the_one_converter_encrypts_payloads_failures_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, PAYLOAD_KEYS=A)
    dc = data_converter()
    (payload,) = encode(dc, PortOptions(pm_email="luis@contoso.example"))
    assert payload.metadata[KEY_ID] == b"key-a" and b"contoso" not in payload.data
    assert isinstance(dc.failure_converter, DefaultFailureConverterWithEncodedAttributes)
    assert client_options()["header_codec_behavior"] == HeaderCodecBehavior.CODEC
    use_settings(monkeypatch, PAYLOAD_ENCRYPTION="false")  # measuring only: then it is in clear
    (clear,) = encode(data_converter(), PortOptions(pm_email="luis@contoso.example"))
    assert b"contoso" in clear.data
