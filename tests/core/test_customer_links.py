"""Customer link tokens: signed for one request, expiring, revocable; anything else refused
with the reason (and a request id only for a token we really signed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.customer_links import BadLink, LinkProblem, check, parse, sign
from core.settings import reset_settings
from store import customer_links
from store.db import dispose_engines, migrate
from tests.settings_helpers import use_settings

KEY = b"k" * 32
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def problem(token: object, *, now: datetime = NOW, generation: int = 1, key: bytes = KEY) -> BadLink:
    with pytest.raises(BadLink) as caught:
        check(token, key, now=now, current_generation=generation)
    return caught.value


def test_a_signed_token_opens_its_request_until_it_expires() -> None:
    token = sign(KEY, "PR-2026-0042", 1, now=NOW, days=30)
    claims = check(token, KEY, now=NOW + timedelta(days=29, hours=23), current_generation=1)
    assert claims.request_id == "PR-2026-0042" and claims.generation == 1
    assert claims.expires_at == NOW + timedelta(days=30)
    late = problem(token, now=NOW + timedelta(days=30))
    assert late.problem == LinkProblem.EXPIRED and late.request_id == "PR-2026-0042"


def test_a_revoked_generation_is_refused_and_names_its_request() -> None:
    token = sign(KEY, "PR-2026-0042", 1, now=NOW, days=30)
    revoked = problem(token, generation=2)
    assert revoked.problem == LinkProblem.REVOKED and revoked.request_id == "PR-2026-0042"
    assert check(sign(KEY, "PR-2026-0042", 2, now=NOW, days=30), KEY, now=NOW, current_generation=2)


def test_every_changed_field_or_key_is_tampering_and_names_nothing() -> None:
    token = sign(KEY, "PR-2026-0042", 1, now=NOW, days=30)
    rid, gen, exp, sig = token.split(".")
    changed = [
        f"PR-2026-0043.{gen}.{exp}.{sig}",  # another request
        f"{rid}.2.{exp}.{sig}",  # a later generation
        f"{rid}.{gen}.{int(exp) + 1}.{sig}",  # a longer life
        f"{rid}.{gen}.{exp}.{sig[:-1]}{'A' if sig[-1] != 'A' else 'B'}",  # the signature
    ]
    for bad in changed:
        found = problem(bad, generation=2 if ".2." in bad else 1)
        assert found.problem == LinkProblem.TAMPERED and found.request_id is None, bad
    other_key = problem(token, key=b"x" * 32)
    assert other_key.problem == LinkProblem.TAMPERED and other_key.request_id is None


@pytest.mark.parametrize("token", [None, 42, "", "PR-2026-0042", "PR-2026-0042.1.1767225600", "a.b.c.d",
                                   "PR-2026-0042.0.1767225600." + "A" * 43, "PR-2026-0042.1.17672.x" + "A" * 42,
                                   "PR-2026-0042.1.1767225600." + "A" * 44, "x" * 10_000, "PR-2026-0042.1.1767225600."
                                   + "A" * 42 + "="])
def test_malformed_tokens_are_refused_before_any_check(token: object) -> None:
    found = problem(token)
    assert found.problem == LinkProblem.MALFORMED and found.request_id is None
    with pytest.raises(BadLink):
        parse(token, KEY)


def test_signing_refuses_what_could_not_be_verified() -> None:
    with pytest.raises(ValueError, match="request id"):
        sign(KEY, "ACME-1", 1, now=NOW, days=30)
    with pytest.raises(ValueError, match="empty"):
        sign(b"", "PR-2026-0042", 1, now=NOW, days=30)
    with pytest.raises(ValueError, match="time zone"):
        sign(KEY, "PR-2026-0042", 1, now=NOW.replace(tzinfo=None), days=30)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_settings(monkeypatch, VAR_DIR=tmp_path / "var", DATABASE_URL=None, PUBLIC_URL="https://portal.example/",
                 CUSTOMER_LINK_DAYS=7, CUSTOMER_LINK_SECRET=None)
    dispose_engines()
    migrate()
    yield tmp_path / "var"
    dispose_engines()
    reset_settings()


def test_revoking_voids_every_link_issued_so_far_and_new_ones_work(store: Path) -> None:
    first, second = customer_links.issue("PR-2026-0042"), customer_links.issue("PR-2026-0042", now=NOW)
    other = customer_links.issue("PR-2026-0043")
    assert customer_links.verify(first).request_id == "PR-2026-0042"
    assert customer_links.revoke("PR-2026-0042", actor="pm@provider.example") == 2
    for old in (first, second):
        with pytest.raises(BadLink) as caught:
            customer_links.verify(old)
        assert caught.value.problem == LinkProblem.REVOKED
    assert customer_links.verify(customer_links.issue("PR-2026-0042")).generation == 2
    assert customer_links.verify(other).request_id == "PR-2026-0043"  # another request's links stay valid


def test_links_expire_after_the_setting_and_point_at_the_public_url(store: Path) -> None:
    url = customer_links.link("PR-2026-0042", now=NOW)
    assert url.startswith("https://portal.example/c/PR-2026-0042.1.")
    token = url.rsplit("/", 1)[1]
    assert customer_links.verify(token, now=NOW + timedelta(days=6)).request_id == "PR-2026-0042"
    with pytest.raises(BadLink) as caught:
        customer_links.verify(token, now=NOW + timedelta(days=7))
    assert caught.value.problem == LinkProblem.EXPIRED


def test_the_key_comes_from_the_setting_or_the_vault_key(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    derived = customer_links.signing_key()
    assert len(derived) == 32 and derived == customer_links.signing_key()  # stable: the vault key file
    token = customer_links.issue("PR-2026-0042")
    use_settings(monkeypatch, CUSTOMER_LINK_SECRET="s" * 40)
    with pytest.raises(BadLink) as caught:  # a new secret voids every link
        customer_links.verify(token)
    assert caught.value.problem == LinkProblem.TAMPERED
    use_settings(monkeypatch, CUSTOMER_LINK_SECRET="short")
    with pytest.raises(ValueError, match="32 characters"):
        customer_links.issue("PR-2026-0042")


def test_the_upload_limit_counts_attempts_in_the_window(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, CUSTOMER_UPLOADS_PER_WINDOW=2, CUSTOMER_UPLOAD_WINDOW_MINUTES=10)
    rid = "PR-2026-0042"
    customer_links.record_upload(rid, "accepted", now=NOW - timedelta(minutes=11))  # outside the window
    customer_links.record_upload(rid, "accepted", now=NOW - timedelta(minutes=5))
    assert customer_links.upload_allowed(rid, now=NOW)
    customer_links.record_upload(rid, "wrong_type", now=NOW)
    assert not customer_links.upload_allowed(rid, now=NOW)
    assert customer_links.upload_allowed("PR-2026-0043", now=NOW)  # per request
    dispose_engines()  # a restart keeps the count: it is in the database
    assert not customer_links.upload_allowed(rid, now=NOW)
    assert customer_links.upload_allowed(rid, now=NOW + timedelta(minutes=6))


async def test_the_notify_activity_puts_a_fresh_link_in_the_documents_mails_only(store: Path) -> None:
    from activities.notify import notify
    from models.notify import Audience, Notification, Recipient
    from tests.mail_helpers import outbox
    from tests.providers.notify_samples import CONTEXTS

    to = [Recipient(audience=Audience.CUSTOMER, address="ana@acme.example", name="Ana")]
    for template in ("documents_missing", "date_slipped"):
        context = {k: v for k, v in CONTEXTS[template].items() if k != "customer_link"}
        await notify(Notification(key=f"k-{template}", template=template, to=to, request_id="PR-2026-0042",
                                  language="fr", context=context))
    (reminder,) = outbox(store, "documents_missing")
    (url,) = [line for line in reminder.body.splitlines() if "/c/" in line]
    assert url.startswith("https://portal.example/c/PR-2026-0042.1.")
    assert customer_links.verify(url.rsplit("/", 1)[1]).request_id == "PR-2026-0042"
    assert "/c/" not in outbox(store, "date_slipped")[0].body
