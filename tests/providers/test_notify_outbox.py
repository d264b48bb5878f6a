"""The outbox channel writes one parseable RFC 5322 .eml per message, atomically, once per key."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from core.settings import Settings
from models.notify import Audience, Recipient
from providers.notify.mail import AddressError, message_id
from providers.notify.outbox import OutboxChannel
from tests.providers.notify_samples import sample_note


@pytest.fixture
def settings(var_dir: Path) -> Settings:
    return Settings(
        var_dir=var_dir, mail_from="Portflow <noreply@ports.example>", pm_email="pm@ports.example"
    )


async def test_outbox_writes_a_parseable_eml(settings: Settings) -> None:
    note = sample_note("foc_confirmed", "pt", priority="P2")
    delivery = await OutboxChannel(settings).deliver(note)

    path = Path(delivery.location or "")
    assert path.parent == settings.outbox_dir
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{3}Z-foc_confirmed-[0-9a-f]{16}\.eml", path.name)
    assert not delivery.duplicate
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # RFC 5322 line ends
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Message-ID"] == delivery.message_id == message_id(note.key, settings)
    assert msg["Message-ID"].endswith("@ports.example>")
    assert msg["From"].addresses[0].addr_spec == "noreply@ports.example"
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [
        ("Lee Park", "lee@acme-dental.example")
    ]
    assert msg["Reply-To"].addresses[0].addr_spec == "pm@ports.example"  # customers answer their PM
    # (Python folds a long header onto a continuation line; unfolding keeps one leading space.)
    assert (
        msg["Subject"].strip()
        == "Data de portabilidade confirmada: Wednesday, April 15, 2026 para Acme Dental"
    )
    assert msg["Content-Language"] == "pt"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert (
        msg["X-Portflow-Request"] == "PR-2026-0042" and msg["X-Portflow-Order"] == "PR-2026-0042-1"
    )
    assert msg["Importance"] == "high"
    text = msg.get_body(("plain",)).get_content()
    assert "A Verizon confirmou a portabilidade (FOC)" in text
    assert "(415) 555-0123" in text
    html = msg.get_body(("html",)).get_content()
    assert '<html lang="pt">' in html and "<li>(650) 555-0199</li>" in html
    assert [p.name for p in settings.outbox_dir.iterdir()] == [path.name]  # no temp file left


async def test_a_second_delivery_of_the_same_key_writes_nothing(settings: Settings) -> None:
    outbox = OutboxChannel(settings)
    first = await outbox.deliver(sample_note("loa_signed"))
    again = await outbox.deliver(sample_note("loa_signed"))
    assert again.duplicate and again.location == first.location
    other = await outbox.deliver(sample_note("loa_signed", key="PR-2026-0042-1:loa_signed:2"))
    assert other.location != first.location
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 2


async def test_staff_mail_has_no_reply_to_the_pm(settings: Settings) -> None:
    delivery = await OutboxChannel(settings).deliver(sample_note("inventory_late"))
    msg = message_from_bytes(Path(delivery.location or "").read_bytes(), policy=policy.default)
    assert msg["Reply-To"] is None
    assert msg["Content-Language"] == "en"


@pytest.mark.parametrize(
    "address", ["not-an-address", "a@b@c.example", "lee@acme dental.example", ""]
)
async def test_a_bad_recipient_address_is_a_permanent_error_and_writes_nothing(
    settings: Settings, address: str
) -> None:
    note = sample_note("loa_signed", to=[Recipient(audience=Audience.CUSTOMER, address=address)])
    with pytest.raises(AddressError, match="is not an e-mail address") as info:
        await OutboxChannel(settings).deliver(note)
    assert info.value.retryable is False
    assert not list(settings.outbox_dir.glob("*"))


async def test_an_unwritable_outbox_is_a_retryable_error(settings: Settings) -> None:
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    settings.outbox_dir.write_text("a file where the outbox directory should be")
    with pytest.raises(Exception) as info:
        await OutboxChannel(settings).deliver(sample_note("loa_signed"))
    assert getattr(info.value, "retryable", None) is True
    assert "cannot write the message" in str(info.value)
