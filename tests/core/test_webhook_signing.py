"""The outgoing webhooks' signature: what a receiver computes, what it accepts and refuses."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from core.webhook_signing import SignatureError, sign, verify

SECRET = "whsec_test"
T = 1_764_777_600
BODY = json.dumps({"id": "evt_1", "type": "foc"}).encode()


def test_the_scheme_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"
    assert verify(BODY, sign(SECRET, BODY, T), SECRET, now=T) == {"id": "evt_1", "type": "foc"}


def test_within_tolerance_either_way() -> None:
    header = sign(SECRET, BODY, T)
    verify(BODY, header, SECRET, now=T + 300)
    verify(BODY, header, SECRET, now=T - 300)
    with pytest.raises(SignatureError, match="outside the 300 s tolerance"):
        verify(BODY, header, SECRET, now=T + 301)
    with pytest.raises(SignatureError, match="tolerance"):
        verify(BODY, header, SECRET, now=T - 301)
    verify(BODY, header, SECRET, now=T + 1000, tolerance=1000)


@pytest.mark.parametrize("change", [
    lambda b, h: (b.replace(b"foc", b"fod"), h),  # tampered body
    lambda b, h: (b + b" ", h),  # re-serialized body
    lambda b, h: (b, h.replace(f"t={T}", f"t={T + 1}")),  # timestamp moved, signature kept
    lambda b, h: (b, h[:-1] + ("0" if h[-1] != "0" else "1")),  # one hex digit changed
])
def test_any_change_is_refused(change) -> None:  # noqa: ANN001
    body, header = change(BODY, sign(SECRET, BODY, T))
    with pytest.raises(SignatureError, match="no signature matches"):
        verify(body, header, SECRET, now=T)


def test_wrong_secret_and_several_signatures() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(SignatureError, match="wrong secret"):
        verify(BODY, header, "whsec_other", now=T)
    rotating = header + ",v1=" + "0" * 64  # an old and a new secret's signatures
    assert verify(BODY, rotating, SECRET, now=T)["id"] == "evt_1"


@pytest.mark.parametrize("header, says", [
    ("", "missing"), ("v1=ab", "no t="), (f"t={T}", "no v1="), ("t=abc,v1=ab", "not a Unix time"),
    ("t=-5,v1=ab", "not a Unix time"), ("garbage", "not key=value"), ("x" * 5000, "oversized"),
])
def test_malformed_headers(header: str, says: str) -> None:
    with pytest.raises(SignatureError, match=says):
        verify(BODY, header, SECRET, now=T)


def test_a_signed_body_that_is_not_an_object_is_refused() -> None:
    for body in (b"[1,2]", b"not json"):
        with pytest.raises(SignatureError, match="not"):
            verify(body, sign(SECRET, body, T), SECRET, now=T)
