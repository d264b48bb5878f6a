"""The local e-signature flow: send, sign, decline, void, expire, auto-sign."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from activities.loa import loa_data_for_account
from core.loa import render_loa
from core.settings import get_settings, reset_settings
from models.esign import EnvelopeStatus, LoaEnvelopeRequest
from models.request import DocumentKind, DocumentRef, PortRequest
from core.loa import LoaData, render_loa
from core.settings import get_settings
from providers.esign import esign_from_settings
from providers.esign.base import ESignConfigError, ESignError, ESignRejected
from providers.esign.local import EnvelopeClosed, EnvelopeNotFound, LocalESign, SignerMismatch
from store import documents
from store.db import session_scope
from store.requests import save_request
from store.vault import seal
from tests.settings_helpers import use_settings

SENT_AT = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
ORDER = "PR-2026-0042-1"


class Clock:
    def __init__(self) -> None:
        self.now = SENT_AT

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def stored_loa(var_dir: Path) -> Iterator[DocumentRef]:
    """A saved request (so the store accepts its documents) and its rendered, stored LOA."""
    request = PortRequest.model_validate(
        {
            "id": "PR-2026-0042",
            "customer": {"name": "Acme Dental"},
            "contact": {"name": "Sam", "email": "sam@acme.example", "phone": "415-555-0199"},
            "signer": {"name": "Jane Q. Doe", "title": "CFO", "email": "jane@acme.example"},
            "requested_port_date": "2026-03-16",
            "accounts": [
                {
                    "carrier": "Verizon",
                    "account_number": "8812345",
                    "pin": "9753",
                    "btn": "415-555-1000",
                    "service_address": {
                        "street": "1 Main",
                        "city": "SF",
                        "state": "CA",
                        "postal_code": "94105",
                    },
                    "numbers": ["4155551000-1039"],
                }
            ],
        }
    )
    data = loa_data_for_account(request, 0, account_number="8812345", generated_at=SENT_AT)
    with session_scope() as session:
        save_request(
            session=session, request=seal(request, session=session), pm_email="pm@portflow.local"
        )
    yield documents.put_bytes(
        render_loa(data),
        kind=DocumentKind.LOA,
        file_name=f"{ORDER}-loa.pdf",
        request_id="PR-2026-0042",
        order_id=ORDER,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def esign(stored_loa: DocumentRef, clock: Clock) -> LocalESign:
    return LocalESign(get_settings(), clock=clock)


def _send_req(loa: DocumentRef, key: str = "PR-2026-0042-1/send_loa/1") -> LoaEnvelopeRequest:
    return LoaEnvelopeRequest(
        idempotency_key=key,
        request_id="PR-2026-0042",
        order_id=ORDER,
        signer_name="Jane Q. Doe",
        signer_title="CFO",
        signer_email="jane@acme.example",
        subject="Please sign the LOA for PR-2026-0042-1",
        loa=loa,
    )


def _text(pdf: bytes) -> list[str]:
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]


async def test_send_is_idempotent_and_tells_how_to_sign(
    esign: LocalESign, stored_loa: DocumentRef
) -> None:
    first = await esign.send_loa(_send_req(stored_loa))
    again, both = await asyncio.gather(
        esign.send_loa(_send_req(stored_loa)), esign.send_loa(_send_req(stored_loa))
    )
    assert first.envelope_id.startswith("local-") and first.provider == "local"
    assert again.envelope_id == both.envelope_id == first.envelope_id
    assert first.status is EnvelopeStatus.SENT and first.status_at == SENT_AT
    assert first.sign_url == 'python starter.py sign PR-2026-0042-1 --name "Jane Q. Doe"'
    files = list((get_settings().var_dir / "esign-local" / "envelopes").glob("*.json"))
    assert [f.stem for f in files] == [first.envelope_id]
    assert json.loads(files[0].read_text())["status"] == "sent"

    resent = await esign.send_loa(_send_req(stored_loa, key="PR-2026-0042-1/send_loa/2"))
    assert resent.envelope_id != first.envelope_id
    latest = await esign.find_by_order(ORDER)
    assert latest is not None and latest.envelope_id == resent.envelope_id
    assert await esign.find_by_order("PR-2026-0042-9") is None


async def test_sign_stores_the_signed_loa(
    esign: LocalESign, stored_loa: DocumentRef, clock: Clock
) -> None:
    sent = await esign.send_loa(_send_req(stored_loa))
    signed_at = SENT_AT + timedelta(hours=3, minutes=7, seconds=9)
    clock.now = signed_at
    event = await esign.sign(ORDER, "  jane q.   DOE ")  # case and spacing do not matter
    assert event.status is EnvelopeStatus.COMPLETED and event.at == signed_at
    assert event.event_id == f"{sent.envelope_id}:completed" and event.order_id == ORDER
    assert event.signer_name == "jane q. DOE"

    status = await esign.get_status(sent.envelope_id)
    assert (
        status.status is EnvelopeStatus.COMPLETED
        and status.signed_at == signed_at
        and status.sign_url is None
    )

    docs = await esign.download_signed(sent.envelope_id, request_id="PR-2026-0042", order_id=ORDER)
    ref = docs.signed_loa
    assert ref.kind is DocumentKind.SIGNED_LOA and ref.order_id == ORDER
    pdf = documents.read_bytes(ref)
    assert hashlib.sha256(pdf).hexdigest() == ref.sha256
    original_pages = _text(documents.read_bytes(stored_loa))
    pages = _text(pdf)
    assert len(pages) == len(original_pages) + 1
    assert "(415) 555-1039" in " ".join(pages[:-1])
    assert "jane q. DOE" in pages[-2] and "2026-02-02" in pages[-2]  # on the signature lines
    record = pages[-1]
    assert "Signed electronically by jane q. DOE at 2026-02-02 18:07:09 UTC" in record
    assert stored_loa.sha256 in record and sent.envelope_id in record
    assert documents.documents_of(request_id="PR-2026-0042", kind=DocumentKind.SIGNED_LOA) == [ref]

    with pytest.raises(EnvelopeClosed, match=r"was completed by jane q\. DOE"):
        await esign.sign(ORDER, "Jane Q. Doe")
    events = await esign.events(ORDER)
    assert [e.status for e in events] == [EnvelopeStatus.SENT, EnvelopeStatus.COMPLETED]
    assert events[-1] == event


async def test_the_wrong_signer_is_refused_unless_forced(
    esign: LocalESign, stored_loa: DocumentRef
) -> None:
    await esign.send_loa(_send_req(stored_loa))
    with pytest.raises(
        SignerMismatch, match=re.escape("addressed to Jane Q. Doe, not 'John Smith'")
    ) as exc:
        await esign.sign(ORDER, "John Smith")
    assert exc.value.retryable is False
    assert (await esign.find_by_order(ORDER)).status is EnvelopeStatus.SENT  # type: ignore[union-attr]
    with pytest.raises(ESignRejected, match="full name"):
        await esign.sign(ORDER, "   ")

    event = await esign.sign(ORDER.lower(), "John Smith", force=True)
    assert event.signer_name == "John Smith"
    envelope = await esign.find_by_order(ORDER)
    docs = await esign.download_signed(
        envelope.envelope_id, request_id="PR-2026-0042", order_id=ORDER
    )  # type: ignore[union-attr]
    assert "accepted with --force" in _text(documents.read_bytes(docs.signed_loa))[-1]


async def test_decline_closes_the_envelope(
    esign: LocalESign, stored_loa: DocumentRef, clock: Clock
) -> None:
    sent = await esign.send_loa(_send_req(stored_loa))
    with pytest.raises(ESignRejected, match="say why"):
        await esign.decline(ORDER, " ")
    clock.now = SENT_AT + timedelta(days=1)
    event = await esign.decline(sent.envelope_id, "wrong numbers listed")
    assert event.status is EnvelopeStatus.DECLINED and event.reason == "wrong numbers listed"
    assert event.event_id == f"{sent.envelope_id}:declined" and event.at == clock.now
    with pytest.raises(
        EnvelopeClosed, match=r"was declined at 2026-02-03 15:00 UTC \(wrong numbers listed\)"
    ):
        await esign.sign(ORDER, "Jane Q. Doe")
    with pytest.raises(EnvelopeClosed, match="declined, not signed"):
        await esign.download_signed(sent.envelope_id, request_id="PR-2026-0042", order_id=ORDER)
    assert (await esign.void(sent.envelope_id, "cancelled")).status is EnvelopeStatus.DECLINED


async def test_void_is_not_an_error_twice_nor_after_signing(
    esign: LocalESign, stored_loa: DocumentRef
) -> None:
    sent = await esign.send_loa(_send_req(stored_loa))
    voided = await esign.void(sent.envelope_id, "port cancelled by the PM")
    assert voided.status is EnvelopeStatus.VOIDED and voided.reason == "port cancelled by the PM"
    assert (await esign.void(sent.envelope_id, "again")).reason == "port cancelled by the PM"
    with pytest.raises(EnvelopeClosed, match="voided"):
        await esign.sign(ORDER, "Jane Q. Doe")

    other = await esign.send_loa(_send_req(stored_loa, key="k2"))
    await esign.sign(other.envelope_id, "Jane Q. Doe")
    assert (await esign.void(other.envelope_id, "too late")).status is EnvelopeStatus.COMPLETED


async def test_expire(esign: LocalESign, stored_loa: DocumentRef) -> None:
    sent = await esign.send_loa(_send_req(stored_loa))
    event = await esign.expire(ORDER)
    assert (
        event.status is EnvelopeStatus.EXPIRED and event.event_id == f"{sent.envelope_id}:expired"
    )
    with pytest.raises(EnvelopeClosed, match="expired"):
        await esign.expire(ORDER)
    with pytest.raises(EnvelopeClosed, match="a new LOA must be sent"):
        await esign.sign(ORDER, "Jane Q. Doe")


async def test_auto_sign_completes_at_once(
    stored_loa: DocumentRef, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    esign = esign_from_settings(use_settings(monkeypatch, AUTO_SIGN="true"))
    assert isinstance(esign, LocalESign)
    esign.clock = clock
    info = await esign.send_loa(_send_req(stored_loa))
    assert info.status is EnvelopeStatus.COMPLETED and info.signer_name == "Jane Q. Doe"
    assert info.signed_at == SENT_AT and info.sign_url is None
    again = await esign.send_loa(_send_req(stored_loa))
    assert again.envelope_id == info.envelope_id and again.status is EnvelopeStatus.COMPLETED
    docs = await esign.download_signed(info.envelope_id, request_id="PR-2026-0042", order_id=ORDER)
    assert "PORTFLOW_AUTO_SIGN" in _text(documents.read_bytes(docs.signed_loa))[-1]
    assert len(documents.documents_of(request_id="PR-2026-0042", kind=DocumentKind.SIGNED_LOA)) == 1


async def test_auto_sign_retried_after_a_crash_keeps_one_signed_loa(
    stored_loa: DocumentRef, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies after the signed LOA is stored but before the envelope says so (found
    by tests/deploy/test_scale_out.py's SIGKILL): the retry, minutes later, stores no second one."""
    esign = esign_from_settings(use_settings(monkeypatch, AUTO_SIGN="true"))
    esign.clock = clock
    record = LocalESign._record
    crashed = []

    def crash_once(self, env, status, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if status is EnvelopeStatus.COMPLETED and not crashed:
            crashed.append(status)
            raise SystemExit("worker killed")
        return record(self, env, status, *args, **kwargs)

    monkeypatch.setattr(LocalESign, "_record", crash_once)
    with pytest.raises(SystemExit):
        await esign.send_loa(_send_req(stored_loa))
    clock.now = SENT_AT + timedelta(minutes=3)
    info = await esign.send_loa(_send_req(stored_loa))
    assert info.status is EnvelopeStatus.COMPLETED and crashed
    assert len(documents.documents_of(request_id="PR-2026-0042", kind=DocumentKind.SIGNED_LOA)) == 1


async def test_bad_targets_and_documents_are_refused(
    esign: LocalESign, stored_loa: DocumentRef
) -> None:
    with pytest.raises(EnvelopeNotFound, match="order 'PR-2026-0042-7' has no LOA sent"):
        await esign.sign("PR-2026-0042-7", "Jane Q. Doe")
    with pytest.raises(EnvelopeNotFound, match=re.escape("no local envelope 'local-../x'")):
        await esign.get_status("local-../x")
    not_loa = stored_loa.model_copy(update={"kind": DocumentKind.BILL})
    with pytest.raises(ESignRejected, match="is a bill, not an LOA"):
        await esign.send_loa(_send_req(not_loa))
    missing = stored_loa.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(ESignRejected, match="cannot be read from the document store") as exc:
        await esign.send_loa(_send_req(missing))
    assert not exc.value.retryable
    sent = await esign.send_loa(_send_req(stored_loa))
    with pytest.raises(ESignRejected, match="belongs to order PR-2026-0042-1, not PR-2026-0042-2"):
        await esign.download_signed(
            sent.envelope_id, request_id="PR-2026-0042", order_id="PR-2026-0042-2"
        )
    other_order = _send_req(stored_loa).model_copy(update={"order_id": "PR-2026-0042-2"})
    with pytest.raises(ESignRejected, match="was used for order PR-2026-0042-1"):
        await esign.send_loa(other_order)
    await esign.sign(ORDER, "Jane Q. Doe")
    docs = await esign.download_signed(sent.envelope_id, request_id="PR-2026-0042", order_id=ORDER)
    documents.path_of(docs.signed_loa).unlink()
    with pytest.raises(ESignConfigError, match="signed LOA is gone"):
        await esign.download_signed(sent.envelope_id, request_id="PR-2026-0042", order_id=ORDER)
    assert issubclass(ESignConfigError, ESignError)


def test_provider_choice_is_lazy_about_docusign(
    var_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    import types

    assert isinstance(esign_from_settings(get_settings()), LocalESign)
    made: list[object] = []

    class FakeDocuSign:
        @classmethod
        def from_settings(cls, settings: object) -> FakeDocuSign:
            made.append(settings)
            return cls()

    fake = types.ModuleType("providers.esign.docusign")
    fake.DocuSignESign = FakeDocuSign  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "providers.esign.docusign", fake)
    settings = get_settings().model_copy(update={"esign_provider": "docusign"})
    assert isinstance(esign_from_settings(settings), FakeDocuSign) and made == [settings]
    with pytest.raises(ESignConfigError, match="set PORTFLOW_ESIGN_PROVIDER to local or docusign"):
        esign_from_settings(get_settings().model_copy(update={"esign_provider": "paper"}))


async def test_a_fault_drill_after_the_envelope_was_made_leaves_one_envelope(
    stored_loa: DocumentRef, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PORTFLOW_ESIGN_LOCAL_FAULTS: the first send fails after the envelope was made (its
    answer lost); the retry finds that envelope instead of making a second one."""
    use_settings(monkeypatch, ESIGN_LOCAL_FAULTS='{"rate": 1.0, "seed": 5, "after_effect": 1.0, '
                                                 '"timeout_seconds": 0, "max_in_a_row": 1}')
    esign = LocalESign(get_settings(), clock=clock)
    with pytest.raises(ESignError, match="fault drill") as caught:
        await esign.send_loa(_send_req(stored_loa))
    assert caught.value.retryable
    info = await esign.send_loa(_send_req(stored_loa))
    files = list((get_settings().var_dir / "esign-local" / "envelopes").glob("*.json"))
    assert [f.stem for f in files] == [info.envelope_id]
    use_settings(monkeypatch, ESIGN_LOCAL_FAULTS='{"rate": 7}')
    with pytest.raises(ESignConfigError, match="PORTFLOW_ESIGN_LOCAL_FAULTS: rate"):
        LocalESign(get_settings(), clock=clock)
