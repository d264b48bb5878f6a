"""dispatch(): channels by audience, exactly once per channel and key across retries."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from models.notify import Audience, Recipient
from providers.notify.base import NotifyError
from providers.notify.dispatch import DispatchError, channel_names, dispatch, ledger_key
from providers.notify.render import TemplateError
from store import ledger
from tests.providers.notify_samples import CUSTOMER, STAFF, sample_note
from tests.providers.notify_servers import closed_port, smtp_server, webhook_receiver


def _settings(var_dir: Path, channels: list[str], **kw: Any) -> Settings:
    return Settings(
        var_dir=var_dir,
        notify_channels=channels,
        smtp_host="127.0.0.1",
        smtp_timeout_seconds=5,
        **kw,
    )


def _emls(settings: Settings) -> list[Path]:
    return sorted(settings.outbox_dir.glob("*.eml"))


async def test_a_retried_activity_never_sends_twice(var_dir: Path) -> None:
    note = sample_note("foc_confirmed", "es")
    with smtp_server() as (server, box):
        settings = _settings(var_dir, ["outbox", "smtp"], smtp_port=server.port)
        first = await dispatch(note, settings)
        again = await dispatch(note, settings)
    assert [d.channel for d in first] == ["outbox", "smtp"] and not any(d.duplicate for d in first)
    assert [d.channel for d in again] == ["outbox", "smtp"] and all(d.duplicate for d in again)
    assert [d.message_id for d in again] == [d.message_id for d in first]
    assert len(_emls(settings)) == 1
    assert len(box.messages) == 1
    assert ledger.seen(ledger_key("smtp", note.key))["message_id"] == first[1].message_id


async def test_a_partial_failure_is_retried_for_the_missing_channel_only(var_dir: Path) -> None:
    note = sample_note("port_complete", "fr")
    down = _settings(var_dir, ["outbox", "smtp"], smtp_port=closed_port())
    with pytest.raises(DispatchError) as info:
        await dispatch(note, down)
    err = info.value
    assert err.retryable is True
    assert list(err.failures) == ["smtp"] and [d.channel for d in err.deliveries] == ["outbox"]
    assert "Delivered on: outbox" in str(err)
    with smtp_server() as (server, box):
        up = _settings(var_dir, ["outbox", "smtp"], smtp_port=server.port)
        deliveries = await dispatch(note, up)
    assert [(d.channel, d.duplicate) for d in deliveries] == [("outbox", True), ("smtp", False)]
    assert len(_emls(up)) == 1 and len(box.messages) == 1


async def test_a_permanent_failure_is_not_retryable(var_dir: Path) -> None:
    note = sample_note(
        "loa_signed",
        to=[Recipient(audience=Audience.CUSTOMER, address="reject@acme-dental.example")],
    )
    with smtp_server() as (server, _box):
        with pytest.raises(DispatchError) as info:
            await dispatch(note, _settings(var_dir, ["smtp"], smtp_port=server.port))
    assert info.value.retryable is False and "550" in str(info.value)


async def test_chat_channels_only_for_notes_to_staff_alone(var_dir: Path) -> None:
    with webhook_receiver() as rx:
        settings = _settings(
            var_dir,
            ["outbox", "teams", "slack"],
            teams_webhook_url=f"{rx.url}/t",
            slack_webhook_url=f"{rx.url}/s",
        )
        to_customer = await dispatch(sample_note("foc_confirmed", to=CUSTOMER + STAFF), settings)
        to_staff = await dispatch(sample_note("carrier_silent"), settings)
        again = await dispatch(sample_note("carrier_silent"), settings)
    assert [d.channel for d in to_customer] == ["outbox"]
    assert [d.channel for d in to_staff] == ["outbox", "teams", "slack"]
    assert all(d.duplicate for d in again)
    assert sorted(p.path for p in rx.posts) == ["/s", "/t"]  # once each, only for the staff note
    assert len(_emls(settings)) == 2


async def test_no_fitting_channel_is_a_configuration_error(var_dir: Path) -> None:
    settings = _settings(var_dir, ["slack"], slack_webhook_url="http://127.0.0.1:9/s")
    assert channel_names(sample_note("foc_confirmed"), settings) == []
    with pytest.raises(NotifyError, match="customers need outbox or smtp") as info:
        await dispatch(sample_note("foc_confirmed"), settings)
    assert info.value.retryable is False


async def test_a_broken_note_fails_before_any_channel_sends(var_dir: Path) -> None:
    note = sample_note("numbers_ready")
    del note.context["assign_by"]
    settings = _settings(var_dir, ["outbox"])
    with pytest.raises(TemplateError, match="assign_by"):
        await dispatch(note, settings)
    assert _emls(settings) == []
    assert ledger.seen(ledger_key("outbox", note.key)) is None


async def test_a_lost_ledger_entry_still_finds_the_outbox_file(var_dir: Path) -> None:
    # Sent, then the worker died before the ledger write: the outbox finds its own file.
    settings = _settings(var_dir, ["outbox"])
    note = sample_note("loa_sent")
    from providers.notify.outbox import OutboxChannel

    written = await OutboxChannel(settings).deliver(note)
    deliveries = await dispatch(note, settings)
    assert deliveries[0].duplicate and deliveries[0].location == written.location
    assert len(_emls(settings)) == 1
    assert ledger.seen(ledger_key("outbox", note.key)) is not None


async def test_a_very_long_key_still_dedupes(var_dir: Path) -> None:
    key = "PR-2026-0042-1:digest:" + "x" * 400
    assert len(ledger_key("outbox", key)) == 255
    assert ledger_key("outbox", key) != ledger_key("outbox", key + "y")
    settings = _settings(var_dir, ["outbox"])
    await dispatch(sample_note("digest", key=key), settings)
    assert (await dispatch(sample_note("digest", key=key), settings))[0].duplicate
    assert len(_emls(settings)) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_deliveries_are_logged_without_secrets(
    var_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.providers.notify_servers import authenticator

    caplog.set_level(logging.INFO, logger="portflow.notify")
    with smtp_server(
        authenticator=authenticator("portflow", "Pa55-word!"), auth_require_tls=False
    ) as (server, _):
        settings = _settings(
            var_dir,
            ["outbox", "smtp"],
            smtp_port=server.port,
            smtp_username="portflow",
            smtp_password="Pa55-word!",
        )
        await dispatch(sample_note("request_received"), settings)
        await dispatch(sample_note("request_received"), settings)
    assert "Pa55-word!" not in caplog.text
    lines = [r.getMessage() for r in caplog.records if r.name == "portflow.notify"]
    assert any("delivered on smtp to customer:lee@acme-dental.example" in line for line in lines)
    assert sum("not sent again" in line for line in lines) == 2
