"""Mail through an SMTP relay (aiosmtplib): implicit TLS or STARTTLS, optional AUTH.

Errors are sorted by what a retry can do: a refused connection, a timeout, a dropped
connection or a 4xx reply are transient (the activity retries); a 5xx reply, a rejected
login, a certificate that does not verify or a server lacking STARTTLS/AUTH is permanent
until someone changes the configuration or the address, so it is non-retryable. The
Message-ID comes from the notification key, so a receiver can drop a duplicate that a lost
acknowledgement might cause.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl

import aiosmtplib

from core.settings import Settings, get_settings
from models.notify import Delivery, Notification
from providers.notify.base import Channel, NotifyError
from providers.notify.mail import build_email
from providers.notify.render import render

log = logging.getLogger("portflow.notify.smtp")


class SmtpError(NotifyError):
    """The relay did not take the message; ``retryable`` says whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _cert_problem(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class SmtpChannel(Channel):
    name = "smtp"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = s = settings or get_settings()
        self.where = f"SMTP relay {s.smtp_host}:{s.smtp_port}"
        if s.smtp_tls and s.smtp_starttls:
            raise SmtpError(
                "PORTFLOW_SMTP_TLS (implicit TLS, usually port 465) and PORTFLOW_SMTP_STARTTLS (usually "
                "port 587) exclude each other: set only one",
                retryable=False,
            )
        if s.smtp_username and s.smtp_password is None:
            raise SmtpError(
                "PORTFLOW_SMTP_USERNAME is set but PORTFLOW_SMTP_PASSWORD is not", retryable=False
            )
        encrypted = s.smtp_tls or s.smtp_starttls
        if s.smtp_username and not encrypted and not _is_loopback(s.smtp_host):
            raise SmtpError(
                f"refusing to send the SMTP password unencrypted to {s.smtp_host}: set PORTFLOW_SMTP_STARTTLS=true "
                "(port 587) or PORTFLOW_SMTP_TLS=true (port 465)",
                retryable=False,
            )
        if s.smtp_ca_cert is not None and not s.smtp_ca_cert.is_file():
            raise SmtpError(
                f"PORTFLOW_SMTP_CA_CERT {s.smtp_ca_cert} is not a file", retryable=False
            )

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        tls_context = None
        if s.smtp_tls or s.smtp_starttls:
            tls_context = ssl.create_default_context(
                cafile=str(s.smtp_ca_cert) if s.smtp_ca_cert else None
            )
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,  # True: required, False: never (no silent downgrade or upgrade)
            tls_context=tls_context,
            timeout=s.smtp_timeout_seconds,
        )

    async def deliver(self, note: Notification) -> Delivery:
        s = self.settings
        msg = build_email(note, render(note, s), s)
        client = self._client()
        try:
            async with client:
                if s.smtp_username:
                    assert s.smtp_password is not None
                    await client.login(s.smtp_username, s.smtp_password.get_secret_value())
                refused, reply = await client.send_message(msg)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            transient = any(400 <= c < 500 for c in codes)
            who = ", ".join(f"{r.recipient} ({r.code} {r.message})" for r in exc.recipients)
            raise SmtpError(
                f"{self.where} refused every recipient of {note.key!r}: {who}",
                retryable=transient,
                code=codes[0] if codes else None,
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise SmtpError(
                f"{self.where} rejected the login of {s.smtp_username!r} ({exc.code} {exc.message}): "
                "check PORTFLOW_SMTP_USERNAME and PORTFLOW_SMTP_PASSWORD",
                retryable=400 <= exc.code < 500,
                code=exc.code,
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            transient = 400 <= exc.code < 500
            raise SmtpError(
                f"{self.where} answered {exc.code} {exc.message} for {note.key!r}"
                + ("" if transient else " (permanent: fix the message or address)"),
                retryable=transient,
                code=exc.code,
            ) from None
        except aiosmtplib.SMTPNotSupported as exc:
            raise SmtpError(
                f"{self.where}: {exc} (check PORTFLOW_SMTP_STARTTLS / PORTFLOW_SMTP_TLS and the port)",
                retryable=False,
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            problem = _cert_problem(exc)
            if problem is not None and isinstance(problem, ssl.SSLCertVerificationError):
                raise SmtpError(
                    f"{self.where}: its TLS certificate does not verify ({problem.verify_message}); "
                    "set PORTFLOW_SMTP_CA_CERT to the CA that signed it, or fix the host name",
                    retryable=False,
                ) from None
            if problem is not None:
                raise SmtpError(
                    f"{self.where}: TLS handshake failed ({problem}); is PORTFLOW_SMTP_TLS right for this port?",
                    retryable=False,
                ) from None
            if isinstance(exc, aiosmtplib.SMTPException) and not isinstance(exc, OSError):
                # aiosmtplib's own refusals (no STARTTLS offered, no usable AUTH mechanism):
                # the relay or our settings must change before a retry can succeed.
                raise SmtpError(
                    f"{self.where}: {exc} (check PORTFLOW_SMTP_STARTTLS / PORTFLOW_SMTP_TLS, the port and "
                    "the relay's AUTH mechanisms)",
                    retryable=False,
                ) from None
            # Refused or dropped connections and timeouts clear up: let the activity retry.
            raise SmtpError(f"{self.where} unreachable: {exc}", retryable=True) from None
        if refused:
            # Retrying would send the message again to those who got it; say who did not.
            log.warning(
                "%s refused some recipients of %s: %s",
                self.where,
                note.key,
                ", ".join(f"{addr} ({r.code} {r.message})" for addr, r in refused.items()),
            )
        return Delivery(
            key=note.key,
            channel=self.name,
            message_id=msg["Message-ID"],
            location=f"smtp://{s.smtp_host}:{s.smtp_port} {reply}".strip(),
        )
