"""Outgoing webhooks' readers of outside input: the ``webhooks`` CLI's URL, event and request
arguments (exit 0 or 1 with a message, never a traceback; a refused subscription stores
nothing, an accepted one stores exactly what the checks returned), and the receiver-side
verifier (any header, body and secret: a verified event or a ``SignatureError``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from core.webhook_signing import SignatureError, sign, verify
from models.webhooks import SubscriptionProblem, check_url, parse_events
from starter import app
from store.db import dispose_engines
from tests.fuzz import fuzz
from tests.fuzz.paths import json_values
from tests.settings_helpers import use_settings

runner = CliRunner()

_hosts = st.sampled_from(["localhost", "127.0.0.1", "[::1]", "pm.example", "10.0.0.1", "xn--bcher-kva.example",
                          "bücher.example", "a..b", "-x.example", "", "exa mple.com", "%41.example"])
urls = st.one_of(
    st.text(max_size=60),
    st.builds(lambda scheme, user, host, port, path: f"{scheme}{user}{host}{port}{path}",
              st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "//", "https:", "javascript:", ""]),
              st.sampled_from(["", "u@", "u:p@", "@"]), _hosts,
              st.sampled_from(["", ":443", ":0", ":99999", ":x", ":-1"]),
              st.text(alphabet=st.characters(codec="utf-8"), max_size=30)),
)
event_names = st.sampled_from(["stage_changed", "exception", "foc", "completed", "cancelled", "failed", "all",
                               "FOC", " foc ", "", ",", "stage", "fail"])
events = st.lists(st.one_of(event_names, st.text(max_size=12),
                            st.lists(event_names, max_size=3).map(",".join)), max_size=3)
request_ids = st.one_of(st.none(), st.sampled_from(["PR-2026-0042", "pr-2026-0042", "PR-26-1", ""]),
                        st.text(max_size=20))


@pytest.fixture(scope="module")
def var(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("hooks") / "var"
        use_settings(mp, VAR_DIR=path, DATABASE_URL=None)
        dispose_engines()
        yield path
        dispose_engines()


def _stored() -> list[dict]:
    from store import webhooks

    return [r.model_dump(mode="json") for r in webhooks.subscriptions(include_disabled=True)]


@fuzz(80)
@given(url=urls, names=events, request=request_ids)
def test_subscribe_arguments(var: Path, url: str, names: list[str], request: str | None) -> None:
    if "\x00" in url or any("\x00" in n for n in names) or (request and "\x00" in request):
        return  # a command line cannot hold NUL
    before = len(_stored())
    args = ["webhooks", "subscribe", *[a for n in names for a in ("--events", n)], "--json"]
    if request is not None:
        args += ["--request", request]
    args += ["--", url]  # a URL like "-x" is an argument, not an option
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1), result.output
    after = _stored()
    if result.exit_code == 1:
        assert "error:" in result.output and len(after) == before
        return
    made = json.loads(result.output)
    assert len(after) == before + 1 and made["url"] == check_url(url)
    assert made["events"] == [str(e) for e in parse_events(names or None)]
    assert made["secret"].startswith("whsec_") and made["secret"] not in json.dumps(after)


@fuzz(300)
@given(url=urls)
def test_url_checks_refuse_with_a_message(url: str) -> None:
    try:
        clean = check_url(url)
    except SubscriptionProblem as exc:
        assert str(exc)
        return
    assert clean.lower().startswith(("https://", "http://localhost", "http://127.0.0.1", "http://[::1]"))


@fuzz(300)
@given(body=st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode())),
       header=st.one_of(st.text(max_size=120), st.builds(lambda t, v: f"t={t},v1={v}", st.text(max_size=14),
                                                          st.text(max_size=70))),
       secret=st.text(max_size=40))
def test_the_verifier_answers_anything(body: bytes, header: str, secret: str) -> None:
    try:
        event = verify(body, header, secret)
    except SignatureError as exc:
        assert str(exc)
        return
    assert isinstance(event, dict)  # only a right signature over a JSON object gets here


@fuzz(200)
@given(event=st.dictionaries(st.text(max_size=10), json_values, max_size=5), secret=st.text(min_size=1, max_size=40),
       flip=st.integers(min_value=0, max_value=10_000), skew=st.integers(min_value=-10**6, max_value=10**6))
def test_any_change_to_a_signed_delivery_is_refused(event: dict, secret: str, flip: int, skew: int) -> None:
    body = json.dumps(event).encode()
    header = sign(secret, body, timestamp=1_764_777_600)
    assert verify(body, header, secret, now=1_764_777_600 + 299) == event
    tampered = bytearray(body)
    tampered[flip % len(tampered)] ^= 1 << (flip % 8)
    with pytest.raises(SignatureError):
        verify(bytes(tampered), header, secret, now=1_764_777_600)
    with pytest.raises(SignatureError):
        verify(body, header, secret + "x", now=1_764_777_600)
    if abs(skew) > 300:
        with pytest.raises(SignatureError, match="tolerance"):
            verify(body, header, secret, now=1_764_777_600 + skew)


@fuzz(80)
@given(command=st.sampled_from(["unsubscribe", "redeliver", "deliveries"]),
       value=st.one_of(st.text(max_size=40), st.integers(min_value=-5, max_value=2**40).map(str)))
def test_id_arguments(var: Path, command: str, value: str) -> None:
    if "\x00" in value:
        return
    args = ["webhooks", command, *(["--subscription", value] if command == "deliveries" else ["--", value])]
    result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    # 0: nothing to show; 1: no such subscription or delivery (before any server); 2: not a number
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
