"""The SMTP channel against a real aiosmtpd server on 127.0.0.1: plain, AUTH, STARTTLS,
implicit TLS, and the retryable/permanent split of failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from models.notify import Audience, Recipient
from providers.notify.mail import message_id
from providers.notify.smtp import SmtpChannel, SmtpError
from tests.providers.notify_samples import sample_note
from tests.providers.notify_servers import authenticator, closed_port, make_certs, smtp_server


def _settings(var_dir: Path, port: int, **kw: Any) -> Settings:
    return Settings(
        var_dir=var_dir, smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5, **kw
    )


async def test_plain_smtp_delivers_one_message_to_every_recipient(var_dir: Path) -> None:
    to = [
        Recipient(audience=Audience.CUSTOMER, address="lee@acme-dental.example", name="Lee Park"),
        Recipient(audience=Audience.PM, address="pm@portflow.local", name="Pat PM"),
    ]
    note = sample_note("port_complete", "es", to=to)
    with smtp_server() as (server, box):
        settings = _settings(var_dir, server.port)
        delivery = await SmtpChannel(settings).deliver(note)
    assert len(box.messages) == 1
    got = box.messages[0]
    assert got.mail_from == "noreply@portflow.local"
    assert got.rcpt_tos == ["lee@acme-dental.example", "pm@portflow.local"]
    assert got.authenticated_as is None
    assert got.message["Message-ID"] == delivery.message_id == message_id(note.key, settings)
    assert "Solo ahora, no antes" in got.message.get_body(("plain",)).get_content()
    assert delivery.channel == "smtp"
    assert delivery.location and delivery.location.startswith(f"smtp://127.0.0.1:{server.port}")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_auth_over_a_plain_local_connection(var_dir: Path) -> None:
    with smtp_server(
        authenticator=authenticator("portflow", "s3cret"),
        auth_require_tls=False,
        auth_required=True,
    ) as (
        server,
        box,
    ):
        ok = _settings(var_dir, server.port, smtp_username="portflow", smtp_password="s3cret")
        await SmtpChannel(ok).deliver(sample_note("loa_signed"))
        assert box.messages[0].authenticated_as == "portflow"

        wrong = _settings(var_dir, server.port, smtp_username="portflow", smtp_password="wrong")
        with pytest.raises(SmtpError) as info:
            await SmtpChannel(wrong).deliver(sample_note("loa_signed", key="k2"))
        assert info.value.retryable is False and info.value.code == 535
        assert "check PORTFLOW_SMTP_USERNAME and PORTFLOW_SMTP_PASSWORD" in str(info.value)
        assert "wrong" not in str(info.value)

        anonymous = _settings(var_dir, server.port)
        with pytest.raises(SmtpError) as info:
            await SmtpChannel(anonymous).deliver(sample_note("loa_signed", key="k3"))
        assert info.value.retryable is False and info.value.code == 530  # authentication required
    assert len(box.messages) == 1


async def test_starttls_with_auth_and_a_private_ca(var_dir: Path, tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    with smtp_server(
        tls_context=certs.server_context(),
        require_starttls=True,
        authenticator=authenticator("portflow", "s3cret"),
        auth_required=True,
    ) as (server, box):
        settings = _settings(
            var_dir,
            server.port,
            smtp_starttls=True,
            smtp_ca_cert=certs.ca,
            smtp_username="portflow",
            smtp_password="s3cret",
        )
        await SmtpChannel(settings).deliver(sample_note("foc_confirmed", "fr"))
        assert box.messages[0].authenticated_as == "portflow"

        # The same server without trusting its CA: a permanent, explained failure.
        untrusted = _settings(var_dir, server.port, smtp_starttls=True)
        with pytest.raises(
            SmtpError, match="certificate does not verify.*PORTFLOW_SMTP_CA_CERT"
        ) as info:
            await SmtpChannel(untrusted).deliver(sample_note("foc_confirmed", "fr", key="k2"))
        assert info.value.retryable is False
    assert len(box.messages) == 1


async def test_implicit_tls(var_dir: Path, tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs")
    with smtp_server(ssl_context=certs.server_context()) as (server, box):
        settings = _settings(var_dir, server.port, smtp_tls=True, smtp_ca_cert=certs.ca)
        await SmtpChannel(settings).deliver(sample_note("numbers_ready"))
    assert len(box.messages) == 1


async def test_starttls_required_but_not_offered_is_permanent(var_dir: Path) -> None:
    with smtp_server() as (server, box):
        settings = _settings(var_dir, server.port, smtp_starttls=True)
        with pytest.raises(SmtpError, match="PORTFLOW_SMTP_STARTTLS") as info:
            await SmtpChannel(settings).deliver(sample_note("loa_signed"))
    assert info.value.retryable is False
    assert box.messages == []


@pytest.mark.parametrize(
    ("address", "retryable", "code"),
    [("tempfail@x.example", True, 451), ("reject@x.example", False, 550)],
)
async def test_4xx_is_retryable_and_5xx_is_permanent(
    var_dir: Path, address: str, retryable: bool, code: int
) -> None:
    note = sample_note("loa_signed", to=[Recipient(audience=Audience.CUSTOMER, address=address)])
    with smtp_server() as (server, box):
        with pytest.raises(SmtpError) as info:
            await SmtpChannel(_settings(var_dir, server.port)).deliver(note)
    assert info.value.retryable is retryable and info.value.code == code
    assert address in str(info.value)
    assert box.messages == []


async def test_some_recipients_refused_still_delivers_to_the_others(
    var_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    to = [
        Recipient(audience=Audience.CUSTOMER, address="lee@acme-dental.example"),
        Recipient(audience=Audience.CUSTOMER, address="reject@acme-dental.example"),
    ]
    with smtp_server() as (server, box):
        await SmtpChannel(_settings(var_dir, server.port)).deliver(sample_note("loa_signed", to=to))
    assert box.messages[0].rcpt_tos == ["lee@acme-dental.example"]
    assert "reject@acme-dental.example (550" in caplog.text


async def test_an_unreachable_server_is_retryable(var_dir: Path) -> None:
    with pytest.raises(SmtpError, match="unreachable") as info:
        await SmtpChannel(_settings(var_dir, closed_port())).deliver(sample_note("loa_signed"))
    assert info.value.retryable is True


def test_configuration_mistakes_are_refused_before_connecting(var_dir: Path) -> None:
    remote = Settings(
        var_dir=var_dir, smtp_host="smtp.example.com", smtp_username="u", smtp_password="p"
    )
    with pytest.raises(SmtpError, match="refusing to send the SMTP password unencrypted") as info:
        SmtpChannel(remote)
    assert info.value.retryable is False
    with pytest.raises(SmtpError, match="exclude each other"):
        SmtpChannel(Settings(var_dir=var_dir, smtp_tls=True, smtp_starttls=True))
    with pytest.raises(SmtpError, match="PORTFLOW_SMTP_PASSWORD is not"):
        SmtpChannel(Settings(var_dir=var_dir, smtp_username="u"))
    with pytest.raises(SmtpError, match="is not a file"):
        SmtpChannel(Settings(var_dir=var_dir, smtp_tls=True, smtp_ca_cert=var_dir / "missing.pem"))
