"""LOA signing through DocuSign eSignature with the real ``docusign-esign`` SDK.

Never two envelopes for one LOA: every envelope carries our own ``transactionId`` (derived
from the idempotency key) and hidden custom fields (``port_request_id``, ``port_order_id``,
``idempotency_key``). :meth:`DocuSignESign.send_loa` looks the envelope up by those
*before* every create attempt, creates it as a draft, and only then sends it; a timeout
that left an envelope behind is found on the next attempt and sent, not duplicated.

Events: per-envelope Connect (``eventNotification``) posts to ``public_url`` +
``/webhooks/docusign`` (``api/docusign.py``). Without a public URL the workflow polls
:meth:`DocuSignESign.get_status` every :attr:`DocuSignESign.poll_interval` (DocuSign
forbids polling one envelope more often than every 15 minutes).

The SDK is synchronous: every public method runs its SDK calls in a thread. Auth and the
retry/error policy live in :mod:`providers.esign.docusign_auth`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from docusign_esign import (
    ConnectEventData,
    CustomFields,
    DateSigned,
    Document,
    Envelope,
    EnvelopeDefinition,
    EnvelopesApi,
    EventNotification,
    Expirations,
    FoldersApi,
    FoldersRequest,
    Notification,
    RecipientEmailNotification,
    Recipients,
    Reminders,
    Signer,
    SignHere,
    Tabs,
    TextCustomField,
)
from docusign_esign.client.api_exception import ApiException

from core.settings import Settings, get_settings
from models.esign import EnvelopeEvent, EnvelopeInfo, EnvelopeStatus, LoaEnvelopeRequest, SignedDocuments
from models.request import DocumentKind, Language
from providers.esign.base import ESignConfigError, ESignError, ESignProvider, ESignRejected
from providers.esign.docusign_auth import DocuSignConfig, DocuSignSession

log = logging.getLogger(__name__)

# Anchor strings the LOA renderer prints (invisibly) in the PDF's text layer; DocuSign
# places the Sign Here and Date Signed tabs on them. Import these, never retype them.
ANCHOR_SIGN = "/sig1/"
ANCHOR_DATE = "/date1/"

WEBHOOK_PATH = "/webhooks/docusign"
CONNECT_EVENTS = (
    "envelope-sent",
    "envelope-delivered",
    "envelope-completed",
    "envelope-declined",
    "envelope-voided",
    "recipient-autoresponded",
)
EXPIRED_REASON = "Envelope has expired."
CF_REQUEST_ID = "port_request_id"
CF_ORDER_ID = "port_order_id"
CF_IDEMPOTENCY_KEY = "idempotency_key"
# Our own bound for transactionId and custom-field values (DocuSign caps text custom
# fields at 100 characters): longer or unusual keys are replaced by a hash.
MAX_TRANSACTION_ID = 64
VOID_REASON_MAX = 200
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]+$")
_LANGUAGE = {Language.EN: "en", Language.ES: "es", Language.PT: "pt_BR", Language.FR: "fr"}

_STATUS = {
    "created": EnvelopeStatus.CREATED,
    "sent": EnvelopeStatus.SENT,
    "correct": EnvelopeStatus.SENT,  # being corrected by the sender, still out for signature
    "delivered": EnvelopeStatus.DELIVERED,
    "signed": EnvelopeStatus.DELIVERED,  # all signed, DocuSign still finishing: not downloadable yet
    "completed": EnvelopeStatus.COMPLETED,
    "declined": EnvelopeStatus.DECLINED,
    "voided": EnvelopeStatus.VOIDED,
    "deleted": EnvelopeStatus.VOIDED,  # a draft we deleted on cancel
    "timedout": EnvelopeStatus.EXPIRED,
}
FINAL = frozenset({EnvelopeStatus.COMPLETED, EnvelopeStatus.DECLINED, EnvelopeStatus.VOIDED, EnvelopeStatus.EXPIRED})


def transaction_id_for(idempotency_key: str) -> str:
    """Our ``transactionId`` for an idempotency key: the key itself when it is short and
    plain, else ``pf-`` + its sha256 (same key, same id: that is what makes look-up work)."""
    key = idempotency_key.strip()
    if len(key) <= MAX_TRANSACTION_ID and _SAFE_ID.match(key):
        return key
    return "pf-" + hashlib.sha256(key.encode()).hexdigest()[: MAX_TRANSACTION_ID - 3]


def is_expired_reason(reason: str | None) -> bool:
    return bool(reason) and reason.strip().lower().startswith(EXPIRED_REASON.lower().rstrip("."))  # type: ignore[union-attr]


def envelope_status(status: str | None, voided_reason: str | None = None, signer_status: str | None = None) -> EnvelopeStatus:
    """DocuSign's envelope status as ours: expiry is ``voided`` + "Envelope has expired.",
    a bounce is a ``sent`` envelope whose signer is ``autoresponded``."""
    raw = (status or "").strip().lower()
    mapped = _STATUS.get(raw)
    if mapped is None:
        err = ESignError(f"DocuSign reported an envelope status portflow does not know: {status!r}")
        err.retryable = False
        raise err
    if mapped is EnvelopeStatus.VOIDED and raw == "voided" and is_expired_reason(voided_reason):
        return EnvelopeStatus.EXPIRED
    if mapped in (EnvelopeStatus.SENT, EnvelopeStatus.DELIVERED) and (signer_status or "").lower() == "autoresponded":
        return EnvelopeStatus.BOUNCED
    return mapped


def parse_time(value: Any) -> datetime | None:
    """DocuSign timestamps ("2026-03-01T17:04:05.1230000Z", 7 fraction digits) as aware UTC."""
    if not value:
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip()
        m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$", text)
        if m:
            text = m.group(1) + (m.group(2) or "")[:7] + (m.group(3) or "Z")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def event_from_info(info: EnvelopeInfo, order_id: str) -> EnvelopeEvent:
    """An event for the order's workflow from a polled status. One id per (envelope, status),
    so polling the same status again is a duplicate the workflow ignores."""
    return EnvelopeEvent(
        event_id=f"docusign:{info.envelope_id}:poll:{info.status.value}",
        order_id=order_id,
        envelope_id=info.envelope_id,
        status=info.status,
        at=info.status_at or datetime.now(UTC),
        signer_name=info.signer_name,
        reason=info.reason,
        source="docusign-poll",
    )


class DocuSignESign(ESignProvider):
    """:class:`ESignProvider` on DocuSign eSignature (JWT grant, one user, one account)."""

    name = "docusign"

    def __init__(self, settings: Settings, *, session: DocuSignSession | None = None) -> None:
        s = settings
        if not 1 <= s.docusign_expire_after_days <= 999:
            raise ESignConfigError("PORTFLOW_DOCUSIGN_EXPIRE_AFTER_DAYS must be between 1 and 999")
        if not 0 <= s.docusign_expire_warn_days < s.docusign_expire_after_days:
            raise ESignConfigError("PORTFLOW_DOCUSIGN_EXPIRE_WARN_DAYS must be at least 0 and less than EXPIRE_AFTER_DAYS")
        if s.docusign_reminder_delay_days < 0 or s.docusign_reminder_frequency_days < 0:
            raise ESignConfigError("PORTFLOW_DOCUSIGN_REMINDER_* days cannot be negative (0 turns reminders off)")
        self.settings = s
        self.session = session or DocuSignSession(DocuSignConfig.from_settings(s))
        self.envelopes = EnvelopesApi(self.session.api_client)
        self.folders = FoldersApi(self.session.api_client)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> DocuSignESign:
        """The provider for ``PORTFLOW_ESIGN_PROVIDER=docusign``; ESignConfigError says what is missing."""
        return cls(settings or get_settings())

    @property
    def poll_interval(self) -> timedelta:
        """How often a workflow without webhooks may call :meth:`get_status` for one envelope."""
        return timedelta(minutes=max(15, self.settings.docusign_poll_minutes))

    @property
    def webhook_url(self) -> str | None:
        base = self.settings.public_url.strip().rstrip("/")
        return base + WEBHOOK_PATH if base else None

    # --- the interface -------------------------------------------------------------
    async def send_loa(self, req: LoaEnvelopeRequest) -> EnvelopeInfo:
        return await asyncio.to_thread(self._send_loa, req)

    async def get_status(self, envelope_id: str) -> EnvelopeInfo:
        return await asyncio.to_thread(self._get, envelope_id)

    async def void(self, envelope_id: str, reason: str) -> EnvelopeInfo:
        return await asyncio.to_thread(self._void, envelope_id, reason)

    async def download_signed(self, envelope_id: str, *, request_id: str, order_id: str) -> SignedDocuments:
        return await asyncio.to_thread(self._download, envelope_id, request_id, order_id)

    # --- send ------------------------------------------------------------------------
    def _send_loa(self, req: LoaEnvelopeRequest) -> EnvelopeInfo:
        from store.documents import read_bytes

        pdf = read_bytes(req.loa)
        if not pdf.startswith(b"%PDF"):
            raise ESignRejected(f"LOA document {req.loa.file_name} is not a PDF: render the LOA again")
        tid = transaction_id_for(req.idempotency_key)
        definition = self._definition(req, pdf, tid)
        t = self.session.timeout

        def find_or_create(acct: str) -> tuple[str, str]:
            found = self._find(acct, tid)
            if found is not None:
                log.info("LOA envelope %s for %s already exists (%s): not creating another",
                         found.envelope_id, req.order_id, found.status)
                return found.envelope_id, found.status
            created = self.envelopes.create_envelope(acct, envelope_definition=definition, _request_timeout=t)
            log.info("LOA draft envelope %s created for %s", created.envelope_id, req.order_id)
            return created.envelope_id, "created"

        envelope_id, status = self.session.call(f"create the LOA envelope for {req.order_id}", find_or_create)
        if status == "created":
            self.session.call(f"send LOA envelope {envelope_id}", lambda acct: self._send_draft(acct, envelope_id))
        return self._get(envelope_id)

    def _find(self, acct: str, tid: str) -> Envelope | None:
        """The envelope already made for this transaction id: by transactionId (kept 7
        days by DocuSign), else by our hidden custom field."""
        t = self.session.timeout
        result = self.envelopes.list_status_changes(acct, transaction_ids=tid, _request_timeout=t)
        found = [e for e in (result.envelopes or []) if (e.status or "").lower() != "deleted"]
        if not found:
            since = datetime.now(UTC) - timedelta(days=max(30, self.settings.docusign_expire_after_days + 7))
            result = self.envelopes.list_status_changes(
                acct,
                custom_field=f"{CF_IDEMPOTENCY_KEY}={tid}",
                from_date=since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                _request_timeout=t,
            )
            found = [e for e in (result.envelopes or []) if (e.status or "").lower() != "deleted"]
        if len(found) > 1:
            log.warning("%d envelopes carry transaction id %s; using the first: %s", len(found), tid,
                        ", ".join(e.envelope_id for e in found))
        return found[0] if found else None

    def _send_draft(self, acct: str, envelope_id: str) -> None:
        t = self.session.timeout
        try:
            self.envelopes.update(acct, envelope_id, envelope=Envelope(status="sent"), _request_timeout=t)
        except ApiException as exc:
            # A previous try may have sent it and timed out before the answer: check.
            if exc.status == 400:
                current = self.envelopes.get_envelope(acct, envelope_id, _request_timeout=t)
                if (current.status or "").lower() != "created":
                    return
            raise

    def _definition(self, req: LoaEnvelopeRequest, pdf: bytes, tid: str) -> EnvelopeDefinition:
        s = self.settings
        anchor = {"anchor_units": "pixels", "anchor_x_offset": "0", "anchor_y_offset": "0",
                  "anchor_ignore_if_not_present": "false", "anchor_match_whole_word": "true"}
        signer = Signer(
            email=str(req.signer_email),
            name=req.signer_name,
            recipient_id="1",
            routing_order="1",
            email_notification=RecipientEmailNotification(
                email_subject=req.subject, email_body="", supported_language=_LANGUAGE.get(req.language, "en")
            ),
            tabs=Tabs(
                sign_here_tabs=[SignHere(anchor_string=ANCHOR_SIGN, **anchor)],
                date_signed_tabs=[DateSigned(anchor_string=ANCHOR_DATE, **anchor)],
            ),
        )
        reminders_on = s.docusign_reminder_delay_days > 0 and s.docusign_reminder_frequency_days > 0
        definition = EnvelopeDefinition(
            email_subject=req.subject[:100],
            status="created",  # a draft: sent only once we know it is the only one
            transaction_id=tid,
            documents=[Document(document_base64=base64.b64encode(pdf).decode("ascii"), document_id="1",
                                file_extension="pdf", name=req.loa.file_name)],
            recipients=Recipients(signers=[signer]),
            custom_fields=CustomFields(text_custom_fields=[
                TextCustomField(name=name, value=value, show="false", required="false")
                for name, value in ((CF_REQUEST_ID, req.request_id), (CF_ORDER_ID, req.order_id),
                                    (CF_IDEMPOTENCY_KEY, tid))
            ]),
            notification=Notification(
                use_account_defaults="false",
                reminders=Reminders(
                    reminder_enabled=str(reminders_on).lower(),
                    reminder_delay=str(s.docusign_reminder_delay_days),
                    reminder_frequency=str(s.docusign_reminder_frequency_days),
                ),
                expirations=Expirations(
                    expire_enabled="true",
                    expire_after=str(s.docusign_expire_after_days),
                    expire_warn=str(s.docusign_expire_warn_days),
                ),
            ),
        )
        if self.webhook_url:
            definition.event_notification = EventNotification(
                url=self.webhook_url,
                delivery_mode="SIM",
                include_hmac="true",
                require_acknowledgment="true",
                logging_enabled="true",
                events=list(CONNECT_EVENTS),
                event_data=ConnectEventData(version="restv2.1", format="json",
                                            include_data=["custom_fields", "recipients"]),
            )
        return definition

    # --- status, void, download ------------------------------------------------------
    def _get(self, envelope_id: str) -> EnvelopeInfo:
        env = self.session.call(
            f"read envelope {envelope_id}",
            lambda acct: self.envelopes.get_envelope(acct, envelope_id, include="recipients",
                                                     _request_timeout=self.session.timeout),
        )
        return self._info(env)

    def _info(self, env: Envelope) -> EnvelopeInfo:
        signers = list((env.recipients.signers if env.recipients else None) or [])
        signer = signers[0] if signers else None
        status = envelope_status(env.status, env.voided_reason, signer.status if signer else None)
        reason: str | None = None
        if status is EnvelopeStatus.DECLINED and signer is not None:
            reason = signer.declined_reason
        elif status in (EnvelopeStatus.VOIDED, EnvelopeStatus.EXPIRED):
            reason = env.voided_reason
        elif status is EnvelopeStatus.BOUNCED and signer is not None:
            reason = f"mail to {signer.email} bounced" + (f": {signer.auto_responded_reason}"
                                                          if signer.auto_responded_reason else "")
        return EnvelopeInfo(
            envelope_id=env.envelope_id,
            provider=self.name,
            status=status,
            status_at=parse_time(env.status_changed_date_time),
            signer_name=signer.name if signer else None,
            signer_email=signer.email if signer else None,
            signed_at=parse_time((signer.signed_date_time if signer else None) or env.completed_date_time)
            if status is EnvelopeStatus.COMPLETED else None,
            reason=reason,
        )

    def _void(self, envelope_id: str, reason: str) -> EnvelopeInfo:
        reason = (reason or "").strip()[:VOID_REASON_MAX] or "Port request cancelled"
        info = self._get(envelope_id)
        if info.status in FINAL:
            return info
        t = self.session.timeout
        if info.status is EnvelopeStatus.CREATED:
            # A draft cannot be voided; deleting it (recycle bin) withdraws it.
            self.session.call(f"delete draft envelope {envelope_id}", lambda acct: self.folders.move_envelopes(
                acct, "recyclebin", folders_request=FoldersRequest(envelope_ids=[envelope_id]), _request_timeout=t))
            return info.model_copy(update={"status": EnvelopeStatus.VOIDED, "reason": reason})

        def void(acct: str) -> None:
            try:
                self.envelopes.update(acct, envelope_id, envelope=Envelope(status="voided", voided_reason=reason),
                                      _request_timeout=t)
            except ApiException as exc:
                if exc.status == 400:  # completed/declined/voided meanwhile: nothing left to withdraw
                    current = self.envelopes.get_envelope(acct, envelope_id, _request_timeout=t)
                    if envelope_status(current.status, current.voided_reason) in FINAL:
                        return
                raise

        self.session.call(f"void envelope {envelope_id}", void)
        return self._get(envelope_id)

    def _download(self, envelope_id: str, request_id: str, order_id: str) -> SignedDocuments:
        from store.documents import put_bytes

        info = self._get(envelope_id)
        if info.status is not EnvelopeStatus.COMPLETED:
            raise ESignRejected(f"envelope {envelope_id} is {info.status.value}, not completed: nothing signed to download")
        t = self.session.timeout

        def fetch(document_id: str) -> bytes:
            data = self.session.call(
                f"download {document_id} of envelope {envelope_id}",
                # combined includes the certificate unless told not to: we store it separately.
                lambda acct: self.envelopes.get_document(acct, document_id, envelope_id, _request_timeout=t,
                                                         **({"certificate": "false"} if document_id == "combined" else {})),
            )
            if not isinstance(data, bytes) or not data.startswith(b"%PDF"):
                raise ESignError(f"DocuSign sent something that is not a PDF for {document_id} of {envelope_id}")
            return data

        signed = put_bytes(fetch("combined"), kind=DocumentKind.SIGNED_LOA, file_name=f"{order_id}-loa-signed.pdf",
                           request_id=request_id, order_id=order_id, uploaded_by="docusign")
        certificate = put_bytes(fetch("certificate"), kind=DocumentKind.CERTIFICATE,
                                file_name=f"{order_id}-loa-certificate.pdf", request_id=request_id,
                                order_id=order_id, uploaded_by="docusign")
        log.info("signed LOA of %s stored (sha256 %s) with its certificate (sha256 %s)",
                 order_id, signed.sha256, certificate.sha256)
        return SignedDocuments(signed_loa=signed, certificate=certificate)
