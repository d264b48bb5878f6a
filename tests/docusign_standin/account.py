"""The stand-in's DocuSign account: envelopes, their life cycle, and the Connect messages
each change produces. The HTTP layer (``server.py``) and the tests (as the signer) drive it.

Behaviour copied from DocuSign (docusign-wire.md): drafts (``created``) become ``sent`` by a
PUT; only sent/delivered envelopes can be voided; expiry is ``voided`` with "Envelope has
expired."; a bounced mail leaves the envelope ``sent`` with the signer ``autoresponded``;
anchor tabs whose string is not in the document are refused (ANCHOR_TAB_STRING_NOT_FOUND).
"""

from __future__ import annotations

import base64
import io
import re
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reportlab.pdfgen.canvas import Canvas

EXPIRED = "Envelope has expired."


def ds_time(dt: datetime | None = None) -> str:
    """DocuSign's timestamp format: 7 fraction digits and Z."""
    dt = dt or datetime.now(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


class DocuSignError(Exception):
    """An error answer: HTTP status and DocuSign's {errorCode, message}."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, str]:
        return {"errorCode": self.code, "message": self.message}


def pdf_text(pdf: bytes) -> bytes:
    """The PDF's bytes plus its decoded content streams (ASCII85 and/or Flate), enough to
    find anchor strings the way DocuSign's anchor tabs do."""
    parts = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        data = m.group(1).strip()
        if data.endswith(b"~>"):
            try:
                data = base64.a85decode(data[:-2], adobe=False)
            except ValueError:
                continue
        try:
            parts.append(zlib.decompress(data))
        except zlib.error:
            parts.append(data)
    return b"\n".join(parts)


def certificate_pdf(envelope_id: str, signer: str) -> bytes:
    buf = io.BytesIO()
    canvas = Canvas(buf, invariant=1)
    canvas.drawString(72, 720, f"Certificate of Completion - envelope {envelope_id}")
    canvas.drawString(72, 700, f"Signed by {signer}")
    canvas.save()
    return buf.getvalue()


@dataclass
class StandInEnvelope:
    envelope_id: str
    definition: dict[str, Any]  # the JSON body exactly as the SDK sent it
    document: bytes
    status: str
    transaction_id: str | None
    custom_fields: dict[str, str]
    signer: dict[str, Any]
    created_at: str = field(default_factory=ds_time)
    status_changed_at: str = field(default_factory=ds_time)
    sent_at: str | None = None
    completed_at: str | None = None
    voided_reason: str | None = None
    signed_pdf: bytes | None = None
    certificate: bytes | None = None

    def summary(self, include_recipients: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "envelopeId": self.envelope_id,
            "status": self.status,
            "emailSubject": self.definition.get("emailSubject"),
            "createdDateTime": self.created_at,
            "statusChangedDateTime": self.status_changed_at,
            "customFields": {
                "textCustomFields": [
                    {"fieldId": str(i + 1), "name": k, "value": v, "show": "false", "required": "false"}
                    for i, (k, v) in enumerate(self.custom_fields.items())
                ]
            },
        }
        for key, value in (("transactionId", self.transaction_id), ("sentDateTime", self.sent_at),
                           ("completedDateTime", self.completed_at), ("voidedReason", self.voided_reason)):
            if value is not None:
                data[key] = value
        if include_recipients:
            data["recipients"] = {"signers": [dict(self.signer)]}
        return data


@dataclass
class ConnectMessage:
    url: str
    event: str
    body: dict[str, Any]
    retry_count: int = 0


class StandInAccount:
    """One DocuSign account's envelopes. Thread-safe: the HTTP server and tests share it."""

    def __init__(self, account_id: str, user_id: str) -> None:
        self.account_id = account_id
        self.user_id = user_id
        self.lock = threading.RLock()
        self.envelopes: dict[str, StandInEnvelope] = {}
        self.outbox: list[ConnectMessage] = []

    # --- API side -----------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> StandInEnvelope:
        docs = body.get("documents") or []
        if not docs:
            raise DocuSignError(400, "ENVELOPE_IS_INCOMPLETE", "The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, and a Subject Line.")
        try:
            document = base64.b64decode(docs[0]["documentBase64"], validate=True)
        except (KeyError, ValueError):
            raise DocuSignError(400, "INVALID_REQUEST_BODY", "documentBase64 is not valid base64") from None
        if not document.startswith(b"%PDF"):
            raise DocuSignError(400, "UNABLE_TO_CONVERT_DOCUMENT", "The document could not be converted.")
        signers = (body.get("recipients") or {}).get("signers") or []
        if not signers or not body.get("emailSubject"):
            raise DocuSignError(400, "ENVELOPE_IS_INCOMPLETE", "The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, and a Subject Line.")
        signer = signers[0]
        if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", signer.get("email") or ""):
            raise DocuSignError(400, "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT", "The email address for the recipient is invalid.")
        text = pdf_text(document)
        for tabs in (signer.get("tabs") or {}).values():
            for tab in tabs:
                anchor = tab.get("anchorString")
                if anchor and tab.get("anchorIgnoreIfNotPresent") != "true" and anchor.encode() not in text:
                    raise DocuSignError(400, "ANCHOR_TAB_STRING_NOT_FOUND", f"The specified Anchor Tab string was not found in the document. Anchor Tab String: {anchor}")
        tid = body.get("transactionId")
        if tid is not None and len(tid) > 100:
            raise DocuSignError(400, "INVALID_REQUEST_PARAMETER", "transactionId is longer than 100 characters")
        fields = {f["name"]: f.get("value", "") for f in (body.get("customFields") or {}).get("textCustomFields") or []}
        if any(len(v) > 100 for v in fields.values()):
            raise DocuSignError(400, "INVALID_REQUEST_PARAMETER", "a text custom field value is longer than 100 characters")
        status = body.get("status", "created")
        if status not in ("created", "sent"):
            raise DocuSignError(400, "INVALID_ENVELOPE_STATUS", f"Invalid envelope status: {status}")
        with self.lock:
            env = StandInEnvelope(
                envelope_id=str(uuid.uuid4()), definition=body, document=document, status="created",
                transaction_id=tid, custom_fields=fields,
                signer={"recipientId": signer.get("recipientId", "1"), "name": signer.get("name"),
                        "email": signer.get("email"), "status": "created", "routingOrder": "1"},
            )
            self.envelopes[env.envelope_id] = env
            if status == "sent":
                self._send(env)
            return env

    def get(self, envelope_id: str) -> StandInEnvelope:
        env = self.envelopes.get(envelope_id)
        if env is None:
            raise DocuSignError(404, "ENVELOPE_DOES_NOT_EXIST", "The envelope specified either does not exist or you have no rights to it.")
        return env

    def search(self, query: dict[str, str]) -> list[StandInEnvelope]:
        if not (query.get("from_date") or query.get("transaction_ids") or query.get("envelope_ids")):
            raise DocuSignError(400, "INVALID_REQUEST_PARAMETER", "The request contained at least one invalid parameter. A from_date, envelope_ids or transaction_ids query parameter is required.")
        with self.lock:
            found = list(self.envelopes.values())
        if query.get("transaction_ids"):
            wanted = set(query["transaction_ids"].split(","))
            found = [e for e in found if e.transaction_id in wanted]
        if query.get("envelope_ids"):
            wanted = set(query["envelope_ids"].split(","))
            found = [e for e in found if e.envelope_id in wanted]
        if query.get("custom_field"):
            name, _, value = query["custom_field"].partition("=")
            found = [e for e in found if e.custom_fields.get(name) == value]
        return found

    def update(self, envelope_id: str, body: dict[str, Any]) -> None:
        with self.lock:
            env = self.get(envelope_id)
            target = body.get("status")
            if target == "sent":
                if env.status != "created":
                    raise DocuSignError(400, "ENVELOPE_INVALID_STATUS", f"Invalid envelope status. Envelope status is {env.status}.")
                self._send(env)
            elif target == "voided":
                if env.status not in ("sent", "delivered"):
                    raise DocuSignError(400, "ENVELOPE_CANNOT_VOID_INVALID_STATE", "Only envelopes in the 'Sent' or 'Delivered' states may be voided.")
                if not body.get("voidedReason"):
                    raise DocuSignError(400, "ENVELOPE_VOID_REASON_REQUIRED", "A reason is required to void an envelope.")
                self._change(env, "voided", "envelope-voided", voided_reason=body["voidedReason"])
            else:
                raise DocuSignError(400, "INVALID_REQUEST_BODY", f"unsupported update: {body}")

    def recycle(self, envelope_ids: list[str]) -> None:
        with self.lock:
            for envelope_id in envelope_ids:
                env = self.get(envelope_id)
                if env.status != "created":
                    raise DocuSignError(400, "INVALID_REQUEST_PARAMETER", "only drafts can be deleted here")
                env.status = "deleted"
                env.status_changed_at = ds_time()

    def document(self, envelope_id: str, document_id: str, certificate: bool) -> bytes:
        env = self.get(envelope_id)
        signed = env.signed_pdf or env.document
        if document_id == "certificate":
            return env.certificate or certificate_pdf(env.envelope_id, "(not signed)")
        if document_id in ("combined", "1"):
            return signed + (env.certificate or b"") if certificate and document_id == "combined" else signed
        raise DocuSignError(404, "DOCUMENT_DOES_NOT_EXIST", "The document specified was not found.")

    # --- the signer's side (tests call these) ---------------------------------------
    def open(self, envelope_id: str) -> None:
        with self.lock:
            env = self._in_process(envelope_id)
            env.signer["status"] = "delivered"
            self._change(env, "delivered", "envelope-delivered")

    def sign(self, envelope_id: str) -> None:
        with self.lock:
            env = self._in_process(envelope_id)
            now = ds_time()
            env.signer.update(status="completed", signedDateTime=now)
            env.signed_pdf = env.document + f"\n% signed by {env.signer['name']} at {now}\n%%EOF\n".encode()
            env.certificate = certificate_pdf(env.envelope_id, env.signer["name"])
            env.completed_at = now
            self._change(env, "completed", "envelope-completed")

    def decline(self, envelope_id: str, reason: str) -> None:
        with self.lock:
            env = self._in_process(envelope_id)
            env.signer.update(status="declined", declinedReason=reason, declinedDateTime=ds_time())
            self._change(env, "declined", "envelope-declined")

    def expire(self, envelope_id: str) -> None:
        with self.lock:
            env = self._in_process(envelope_id)
            self._change(env, "voided", "envelope-voided", voided_reason=EXPIRED)

    def bounce(self, envelope_id: str) -> None:
        with self.lock:
            env = self._in_process(envelope_id)
            env.signer.update(status="autoresponded", autoRespondedReason="550 5.1.1 mailbox unavailable")
            env.status_changed_at = ds_time()
            self._emit(env, "recipient-autoresponded")

    # --- internals ------------------------------------------------------------------
    def _in_process(self, envelope_id: str) -> StandInEnvelope:
        env = self.get(envelope_id)
        if env.status not in ("sent", "delivered"):
            raise AssertionError(f"envelope {envelope_id} is {env.status}: the signer cannot act on it")
        return env

    def _send(self, env: StandInEnvelope) -> None:
        env.sent_at = ds_time()
        env.signer["status"] = "sent"
        self._change(env, "sent", "envelope-sent")

    def _change(self, env: StandInEnvelope, status: str, event: str, voided_reason: str | None = None) -> None:
        env.status = status
        env.status_changed_at = ds_time()
        if voided_reason is not None:
            env.voided_reason = voided_reason
        self._emit(env, event)

    def _emit(self, env: StandInEnvelope, event: str) -> None:
        """Queue a Connect message when the envelope subscribed to this event."""
        notification = env.definition.get("eventNotification") or {}
        if not notification.get("url") or event not in (notification.get("events") or []):
            return
        include = set((notification.get("eventData") or {}).get("includeData") or [])
        summary = env.summary(include_recipients="recipients" in include)
        if "custom_fields" not in include:
            summary.pop("customFields", None)
        self.outbox.append(ConnectMessage(url=notification["url"], event=event, body={
            "event": event,
            "apiVersion": "v2.1",
            "uri": f"/restapi/v2.1/accounts/{self.account_id}/envelopes/{env.envelope_id}",
            "retryCount": 0,
            "configurationId": 10501,
            "generatedDateTime": ds_time(),
            "data": {"accountId": self.account_id, "userId": self.user_id, "envelopeId": env.envelope_id,
                     "envelopeSummary": summary},
        }))
