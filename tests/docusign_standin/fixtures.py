"""Fixtures shared by the DocuSign tests: import the ones a test module uses.

``ds_env`` points portflow's settings at a running stand-in (OAuth host, CA
certificate, key file, HMAC key) with short timeouts and backoff; ``saved_order`` saves a
port request so the document store accepts its LOA; ``loa_request`` renders that order's
real LOA (``core.loa``) and stores it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from core.settings import Settings, get_settings, reset_settings
from models.esign import LoaEnvelopeRequest
from models.request import DocumentKind, PortRequest
from core.settings import Settings
from tests.docusign_standin.certs import make_rsa_key_pair
from tests.docusign_standin.server import DocuSignStandIn
from tests.settings_helpers import use_settings

INTEGRATION_KEY = "6a1d0f6e-1111-4a5b-9c9d-0123456789ab"
USER_ID = "b5e0a9c2-2222-4e0f-8d3c-abcdef012345"
HMAC_KEY = "c3RhbmQtaW4gY29ubmVjdCBrZXkgb25l"
TIMEOUT = 2.0


@pytest.fixture(scope="session")
def rsa_pair() -> tuple[bytes, bytes]:
    return make_rsa_key_pair()


@pytest.fixture
def standin(tmp_path: Path, rsa_pair: tuple[bytes, bytes]) -> Iterator[DocuSignStandIn]:
    server = DocuSignStandIn(
        tmp_path / "tls", integration_key=INTEGRATION_KEY, user_id=USER_ID, public_key=rsa_pair[1], hmac_keys=[HMAC_KEY]
    ).start()
    yield server
    server.stop()


@pytest.fixture
def ds_env(standin: DocuSignStandIn, var_dir: Path, tmp_path: Path, rsa_pair: tuple[bytes, bytes],
           monkeypatch: pytest.MonkeyPatch) -> Callable[..., Settings]:
    """``ds_env(PUBLIC_URL="http://...")``: settings for the stand-in, overrides by suffix."""
    key_file = tmp_path / "docusign-private.key"
    key_file.write_bytes(rsa_pair[0])

    def configure(**overrides: str) -> Settings:
        return use_settings(monkeypatch, {
            "ESIGN_PROVIDER": "docusign",
            "DOCUSIGN_INTEGRATION_KEY": INTEGRATION_KEY,
            "DOCUSIGN_USER_ID": USER_ID,
            "DOCUSIGN_PRIVATE_KEY_FILE": str(key_file),
            "DOCUSIGN_OAUTH_HOST": standin.host,
            "DOCUSIGN_CA_CERT": str(standin.cert_path),
            "DOCUSIGN_HMAC_KEYS": json.dumps([HMAC_KEY]),
            "DOCUSIGN_TIMEOUT_SECONDS": str(TIMEOUT),
            "DOCUSIGN_BACKOFF_SECONDS": "0.01",
            "DOCUSIGN_MAX_ATTEMPTS": "3",
            "DOCUSIGN_RATE_LIMIT_MAX_WAIT_SECONDS": "3",
            "DOCUSIGN_REMINDER_DELAY_DAYS": "2",
            "DOCUSIGN_REMINDER_FREQUENCY_DAYS": "3",
            "DOCUSIGN_EXPIRE_AFTER_DAYS": "10",
            "DOCUSIGN_EXPIRE_WARN_DAYS": "2",
            "DOCUSIGN_ACCOUNT_ID": "",
            "DOCUSIGN_BASE_URI": "",
            "PUBLIC_URL": "",
            "DOCUSIGN_PRIVATE_KEY": None,  # the key file, unless a test pastes the key
            **overrides,
        })

    return configure


@pytest.fixture
def saved_order(var_dir: Path) -> Callable[..., tuple[str, str]]:
    """Save a one-account port request (default database under var_dir); returns (request id, order id)."""
    from store.db import session_scope
    from store.requests import save_request
    from store.vault import seal

    def save(signer_email: str = "bo@contoso.example") -> tuple[str, str]:
        request = _request(f"PR-2026-{uuid.uuid4().int % 900000 + 100000}", signer_email)
        with session_scope() as s:
            save_request(session=s, request=seal(request), pm_email="pm@portflow.example")
        return request.id, request.order_id(0)

    return save


@pytest.fixture
def loa_request(saved_order: Callable[..., tuple[str, str]]) -> Callable[..., LoaEnvelopeRequest]:
    """``loa_request(key=..., signer_email=..., pdf=...)``: store an LOA and ask to send it."""
    from activities.loa import loa_data_for_account
    from core.loa import render_loa
    from store.documents import put_bytes

    def build(key: str | None = None, *, signer_email: str = "bo@contoso.example", pdf: bytes | None = None,
              order: tuple[str, str] | None = None) -> LoaEnvelopeRequest:
        request_id, order_id = order or saved_order(signer_email)
        if pdf is None:
            request = _request(request_id, signer_email)
            pdf = render_loa(loa_data_for_account(request, 0, account_number="ACCT-998877660",
                                                  generated_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
        ref = put_bytes(pdf, kind=DocumentKind.LOA, file_name=f"{order_id}-loa.pdf", request_id=request_id,
                        order_id=order_id)
        return LoaEnvelopeRequest(
            idempotency_key=key or f"{order_id}/send-loa/1",
            request_id=request_id,
            order_id=order_id,
            signer_name="Bo Li",
            signer_title="CFO",
            signer_email=signer_email,
            subject=f"Please sign the LOA for {order_id}",
            loa=ref,
        )

    return build


def _request(request_id: str, signer_email: str) -> PortRequest:
    return PortRequest.model_validate({
        "id": request_id,
        "customer": {"name": "Contoso Ltd"},
        "contact": {"name": "Ana Pérez", "email": "ana@contoso.example", "phone": "+14155550100"},
        "signer": {"name": "Bo Li", "title": "CFO", "email": signer_email},
        "requested_port_date": date(2026, 7, 7).isoformat(),
        "accounts": [{
            "carrier": "Carrier 1",
            "account_number": "ACCT-998877660",
            "pin": "4321",
            "btn": "+14155550101",
            "service_address": {"street": "1 Main St", "city": "San Francisco", "state": "CA", "postal_code": "94105"},
            "numbers": ["+14155550101", "+14155550102"],
        }],
    })
