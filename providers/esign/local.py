"""Local e-signature: the default provider, a real signing flow without DocuSign.

``send_loa`` records an envelope (one JSON file per envelope under
``<var_dir>/esign-local/envelopes``) whose ``sign_url`` is the command the signer runs:
``python starter.py sign PR-2026-0042-1 --name "Jane Doe"``. :meth:`LocalESign.sign` checks
the name against the intended signer, records who signed and when, and stores the signed
LOA (the original pages, the signer's name and date on the signature lines, and a signature
record page with the original's sha256) in the document store as ``SIGNED_LOA``. With
``PORTFLOW_AUTO_SIGN=true`` (demo) the envelope is signed at once in the signer's name.
The envelope id is a uuid5 of the idempotency key, so a repeated send finds the first one.

Every change happens under one file lock (the worker and the CLI are separate processes)
and every file is written atomically. Events carry stable ids (``<envelope id>:<status>``),
so delivering one twice to the order workflow changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from core.settings import Settings, get_settings
from models.esign import (
    EnvelopeEvent,
    EnvelopeInfo,
    EnvelopeStatus,
    LoaEnvelopeRequest,
    SignedDocuments,
)
from models.request import DocumentKind, DocumentRef
from providers.esign.base import ESignConfigError, ESignError, ESignProvider, ESignRejected
from providers.esign.signed_loa import signed_loa_pdf
from providers.faults import FaultInjector, parse_faults
from store import documents

log = logging.getLogger(__name__)
OPEN = frozenset({EnvelopeStatus.CREATED, EnvelopeStatus.SENT, EnvelopeStatus.DELIVERED})
_ENVELOPE_ID = re.compile(r"^local-[0-9a-f]{32}$")
# Namespace of envelope ids made from idempotency keys: changing it loses existing envelopes.
_KEYS = uuid.UUID("6f1c5a52-3d1e-4f8b-9a57-0c2b8e4d7a10")


class EnvelopeNotFound(ESignError):
    retryable = False


class EnvelopeClosed(ESignError):
    """The envelope is no longer open (signed, declined, voided or expired)."""

    retryable = False


class SignerMismatch(ESignError):
    """The name typed is not the LOA's intended signer."""

    retryable = False


class _Envelope(BaseModel):
    """What the local provider remembers about one envelope (the JSON file)."""

    envelope_id: str
    idempotency_key: str
    request_id: str
    order_id: str
    signer_name: str
    signer_title: str
    signer_email: str
    subject: str
    loa: DocumentRef
    status: EnvelopeStatus
    created_at: datetime
    status_at: datetime
    seq: int = Field(description="creation order, breaks ties between envelopes of one order")
    signed_by: str | None = None
    signed_at: datetime | None = None
    signed_loa: DocumentRef | None = None
    forced: bool = False
    reason: str | None = None
    events: list[EnvelopeEvent] = Field(default_factory=list)


def _aware(at: datetime | None, clock: Callable[[], datetime]) -> datetime:
    at = at or clock()
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class LocalESign(ESignProvider):
    name = "local"

    def __init__(
        self, settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.settings = settings or get_settings()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.root = self.settings.var_dir / "esign-local"
        try:
            drill = parse_faults(self.settings.esign_local_faults, "PORTFLOW_ESIGN_LOCAL_FAULTS")
        except ValueError as exc:
            raise ESignConfigError(str(exc)) from None
        self.faults = FaultInjector(drill, self.root, ESignError)

    # --- the ESignProvider interface ------------------------------------------------
    # each call may fail on purpose under PORTFLOW_ESIGN_LOCAL_FAULTS (providers/faults.py)
    async def send_loa(self, req: LoaEnvelopeRequest) -> EnvelopeInfo:
        return await self.faults.call("send_loa", req.order_id, lambda: asyncio.to_thread(self._send, req),
                                      has_effect=True)

    async def get_status(self, envelope_id: str) -> EnvelopeInfo:
        async def status() -> EnvelopeInfo:
            return self._info(await asyncio.to_thread(self._resolve, envelope_id))

        return await self.faults.call("status", envelope_id, status, has_effect=False)

    async def void(self, envelope_id: str, reason: str) -> EnvelopeInfo:
        return await self.faults.call("void", envelope_id, lambda: asyncio.to_thread(self._void, envelope_id, reason),
                                      has_effect=True)

    async def download_signed(
        self, envelope_id: str, *, request_id: str, order_id: str
    ) -> SignedDocuments:
        env = await asyncio.to_thread(self._resolve, envelope_id)
        if env.order_id != order_id or env.request_id != request_id:
            raise ESignRejected(
                f"envelope {env.envelope_id} belongs to order {env.order_id}, not {order_id}"
            )
        if env.status is not EnvelopeStatus.COMPLETED or env.signed_loa is None:
            raise EnvelopeClosed(
                f"envelope {env.envelope_id} of order {order_id} is {env.status}, not signed"
            )
        try:
            documents.path_of(env.signed_loa)
        except FileNotFoundError as exc:
            raise ESignConfigError(f"order {order_id}: the signed LOA is gone: {exc}") from exc
        return SignedDocuments(signed_loa=env.signed_loa)

    # --- the local signing flow (CLI, demo, tests) -----------------------------------
    async def sign(
        self,
        order_or_envelope: str,
        signer_name: str,
        *,
        at: datetime | None = None,
        force: bool = False,
    ) -> EnvelopeEvent:
        """Sign the order's latest envelope (or the given one) as ``signer_name``.

        The name must match the intended signer (case and spacing aside) unless ``force``.
        """
        return await asyncio.to_thread(self._sign, order_or_envelope, signer_name, at, force, "cli")

    async def decline(
        self, order_or_envelope: str, reason: str, *, at: datetime | None = None
    ) -> EnvelopeEvent:
        """The signer refuses to sign; the workflow tells the PM, who corrects and resends."""
        if not reason.strip():
            raise ESignRejected("say why the LOA is declined (for example: wrong numbers listed)")
        return await asyncio.to_thread(
            self._close, order_or_envelope, EnvelopeStatus.DECLINED, reason.strip(), at
        )

    async def expire(self, order_or_envelope: str, *, at: datetime | None = None) -> EnvelopeEvent:
        """Let the envelope lapse unsigned, as DocuSign does after its expiry days."""
        return await asyncio.to_thread(
            self._close, order_or_envelope, EnvelopeStatus.EXPIRED, "Envelope has expired.", at
        )

    async def find_by_order(self, order_id: str) -> EnvelopeInfo | None:
        """The order's latest envelope, or None when it has none."""
        env = await asyncio.to_thread(self._latest_of, order_id)
        return self._info(env) if env else None

    async def events(self, order_or_envelope: str) -> list[EnvelopeEvent]:
        """Every event of an envelope, oldest first: for redelivery after a failed delivery
        (event ids are stable, so the workflow ignores the ones it has)."""
        return list((await asyncio.to_thread(self._resolve, order_or_envelope)).events)

    # --- internals (sync, run in a thread) ------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        (self.root / "envelopes").mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _path(self, envelope_id: str) -> Path:
        return self.root / "envelopes" / f"{envelope_id}.json"

    def _load(self, envelope_id: str) -> _Envelope | None:
        path = self._path(envelope_id)
        return _Envelope.model_validate_json(path.read_text("utf-8")) if path.exists() else None

    def _save(self, env: _Envelope) -> None:
        _atomic_write(self._path(env.envelope_id), env.model_dump_json(indent=2))

    def _all(self) -> list[_Envelope]:
        folder = self.root / "envelopes"
        if not folder.is_dir():
            return []
        return [
            _Envelope.model_validate_json(p.read_text("utf-8"))
            for p in sorted(folder.glob("local-*.json"))
        ]

    def _latest_of(self, order_id: str) -> _Envelope | None:
        mine = [e for e in self._all() if e.order_id.upper() == order_id.strip().upper()]
        return max(mine, key=lambda e: (e.created_at, e.seq)) if mine else None

    def _resolve(self, order_or_envelope: str) -> _Envelope:
        target = order_or_envelope.strip()
        if target.startswith("local-"):
            env = self._load(target) if _ENVELOPE_ID.match(target) else None
            if env is None:
                raise EnvelopeNotFound(
                    f"no local envelope '{target}': give the order id (PR-2026-0042-1) instead"
                )
            return env
        env = self._latest_of(target)
        if env is None:
            raise EnvelopeNotFound(
                f"order '{target}' has no LOA sent for signature: check the order id "
                "(such as PR-2026-0042-1) and that its LOA went out (starter.py status)"
            )
        return env

    def _info(self, env: _Envelope) -> EnvelopeInfo:
        quoted = env.signer_name.replace('"', "'")
        command = f'python starter.py sign {env.order_id} --name "{quoted}"'
        return EnvelopeInfo(
            envelope_id=env.envelope_id,
            provider=self.name,
            status=env.status,
            status_at=env.status_at,
            signer_name=env.signed_by or env.signer_name,
            signer_email=env.signer_email,
            signed_at=env.signed_at,
            reason=env.reason,
            sign_url=command if env.status in OPEN else None,
        )

    def _record(
        self, env: _Envelope, status: EnvelopeStatus, at: datetime, source: str, **changes: object
    ) -> EnvelopeEvent:
        """Move ``env`` to ``status``, append the event, save: the one place envelopes change."""
        env = env.model_copy(update={"status": status, "status_at": at, **changes})
        event = EnvelopeEvent(
            event_id=f"{env.envelope_id}:{status.value}",
            order_id=env.order_id,
            envelope_id=env.envelope_id,
            status=status,
            at=at,
            signer_name=env.signed_by if status is EnvelopeStatus.COMPLETED else None,
            reason=env.reason,
            source=f"local:{source}",
        )
        env.events.append(event)
        self._save(env)
        log.info(
            "local e-signature: envelope %s of order %s is %s",
            env.envelope_id,
            env.order_id,
            status,
        )
        return event

    def _send(self, req: LoaEnvelopeRequest) -> EnvelopeInfo:
        if req.loa.kind is not DocumentKind.LOA:
            raise ESignRejected(
                f"order {req.order_id}: the document to sign is a {req.loa.kind}, not an LOA"
            )
        # The id derives from the idempotency key, so finding the first envelope is one lookup.
        env_id = f"local-{uuid.uuid5(_KEYS, req.idempotency_key).hex}"
        with self._locked():
            env = self._load(env_id)
            if env is not None and env.order_id != req.order_id:
                raise ESignRejected(
                    f"idempotency key {req.idempotency_key!r} was used for order {env.order_id}, "
                    f"not {req.order_id}"
                )
            if env is None:
                try:
                    documents.read_bytes(req.loa)
                except Exception as exc:  # the store says what is wrong
                    raise ESignRejected(
                        f"order {req.order_id}: the LOA {req.loa.file_name} "
                        f"({req.loa.sha256[:12]}) "
                        f"cannot be read from the document store: {exc}"
                    ) from exc
                now = _aware(None, self.clock)
                env = _Envelope(
                    envelope_id=env_id,
                    idempotency_key=req.idempotency_key,
                    request_id=req.request_id,
                    order_id=req.order_id,
                    signer_name=req.signer_name,
                    signer_title=req.signer_title,
                    signer_email=str(req.signer_email),
                    subject=req.subject,
                    loa=req.loa,
                    status=EnvelopeStatus.CREATED,
                    created_at=now,
                    status_at=now,
                    seq=time.time_ns(),
                )
                self._record(env, EnvelopeStatus.SENT, now, "send")
                env = self._resolve(env_id)
            if self.settings.auto_sign and env.status in OPEN:
                # Demo: the intended signer signs at once (also on a retry that crashed before),
                # at the send time: a retry after a crash between storing the signed LOA and
                # recording it renders the same bytes, so the store keeps one signed LOA, not two.
                self._sign_locked(env, req.signer_name, env.created_at, False, "auto_sign")
                env = self._resolve(env_id)
            return self._info(env)

    def _check_open(self, env: _Envelope, action: str) -> None:
        if env.status in OPEN:
            return
        when = env.status_at.strftime("%Y-%m-%d %H:%M UTC")
        why = (
            f" ({env.reason})" if env.reason and env.status is not EnvelopeStatus.COMPLETED else ""
        )
        who = f" by {env.signed_by}" if env.status is EnvelopeStatus.COMPLETED else ""
        again = "" if env.status is EnvelopeStatus.COMPLETED else "; a new LOA must be sent"
        raise EnvelopeClosed(
            f"cannot {action} the LOA of order {env.order_id}: envelope {env.envelope_id} "
            f"was {env.status}{who} at {when}{why}{again}"
        )

    def _sign(
        self, target: str, signer_name: str, at: datetime | None, force: bool, source: str
    ) -> EnvelopeEvent:
        if not signer_name.strip():
            raise ESignRejected('give the signer\'s full name, as on the LOA: --name "Jane Doe"')
        with self._locked():
            return self._sign_locked(self._resolve(target), signer_name, at, force, source)

    def _sign_locked(
        self, env: _Envelope, signer_name: str, at: datetime | None, force: bool, source: str
    ) -> EnvelopeEvent:
        self._check_open(env, "sign")
        name = " ".join(signer_name.split())
        if not _same_name(name, env.signer_name) and not force:
            raise SignerMismatch(
                f"the LOA of order {env.order_id} is addressed to {env.signer_name}, not '{name}': "
                f"sign as {env.signer_name}, or correct the signer on the order; "
                "--force signs anyway"
            )
        at = _aware(at, self.clock)
        if at < env.created_at:
            raise ESignRejected(f"signing time {at:%Y-%m-%d %H:%M} UTC is before the LOA was sent")
        try:
            original = documents.read_bytes(env.loa)  # checks the bytes against the sha256
        except (FileNotFoundError, documents.DocumentCorrupt) as exc:
            raise ESignConfigError(f"cannot sign the LOA of order {env.order_id}: {exc}") from exc
        how = "auto-sign (demo, PORTFLOW_AUTO_SIGN)" if source == "auto_sign" else "starter.py sign"
        signer = name + ("  (not the intended signer; accepted with --force)" if force else "")
        signed = signed_loa_pdf(
            original,
            signed_by=name,
            signed_at=at,
            record=[
                ("Envelope", env.envelope_id),
                ("Request / order", f"{env.request_id} / {env.order_id}"),
                ("Intended signer", f"{env.signer_name}, {env.signer_title} <{env.signer_email}>"),
                ("Signed by", signer),
                ("Sent at", env.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
                ("Method", f"portflow local e-signature: {how}"),
                ("Original LOA", f"{env.loa.file_name}, {env.loa.size} bytes"),
                ("Original SHA-256", env.loa.sha256),
            ],
            title=f"Signed Letter of Authorization {env.order_id}",
        )
        ref = documents.put_bytes(
            signed,
            kind=DocumentKind.SIGNED_LOA,
            file_name=f"{env.order_id}-loa-signed.pdf",
            request_id=env.request_id,
            order_id=env.order_id,
            uploaded_by=f"esign-local:{source}",
        )
        signed_fields = {"signed_by": name, "signed_at": at, "signed_loa": ref, "forced": force}
        return self._record(env, EnvelopeStatus.COMPLETED, at, source, **signed_fields)

    def _close(
        self, target: str, status: EnvelopeStatus, reason: str, at: datetime | None
    ) -> EnvelopeEvent:
        with self._locked():
            env = self._resolve(target)
            self._check_open(env, "decline" if status is EnvelopeStatus.DECLINED else "expire")
            return self._record(env, status, _aware(at, self.clock), status.value, reason=reason)

    def _void(self, envelope_id: str, reason: str) -> EnvelopeInfo:
        if not reason.strip():
            raise ESignRejected("say why the envelope is voided (e.g. port cancelled by the PM)")
        with self._locked():
            env = self._resolve(envelope_id)
            if env.status in OPEN:
                now = _aware(None, self.clock)
                self._record(env, EnvelopeStatus.VOIDED, now, "void", reason=reason.strip())
                env = self._resolve(env.envelope_id)
            return self._info(env)
