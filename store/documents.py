"""The document store: CSRs, bills, LOAs and certificates of each port.

Bytes live once per content under ``<documents_dir>/<sha256[:2]>/<sha256>`` (written to
a temporary file and renamed, so a reader never sees half a file); the ``documents``
table records which request (and order) each belongs to, its kind, name and size. Storing
the same bytes again for the same request, order and kind returns the first record, so a
retried upload or activity changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import secrets as _random
from pathlib import Path, PurePosixPath, PureWindowsPath

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.settings import get_settings
from models.request import REQUEST_ID, DocumentKind, DocumentRef
from store.db import session_scope
from store.requests import ORDER_ID
from store.tables import DocumentRow


class DocumentError(ValueError):
    """A document that cannot be stored: empty, too large, badly named, wrong kind."""


class DocumentCorrupt(RuntimeError):
    """Stored bytes whose sha256 no longer matches their record."""


def _kind(kind: DocumentKind | str) -> DocumentKind:
    try:
        return DocumentKind(kind)
    except ValueError:
        raise DocumentError(
            f"unknown document kind {kind!r}: use one of {', '.join(k.value for k in DocumentKind)}"
        ) from None


def _clean_name(file_name: str) -> str:
    # Keep only the last path component, whichever separator the uploader used.
    name = PureWindowsPath(PurePosixPath(file_name or "").name).name.strip()
    if not name or name in (".", ".."):
        raise DocumentError(
            f"file name {file_name!r} is empty: give the document's file name, e.g. bill.pdf"
        )
    if len(name) > 255:
        raise DocumentError(f"file name {name[:40]!r}... is longer than 255 characters: shorten it")
    return name


def _check_size(size: int, name: str) -> None:
    if size == 0:
        raise DocumentError(f"{name} is empty (0 bytes): upload the real document")
    limit_mb = get_settings().max_document_mb
    if size > limit_mb * 1024 * 1024:
        raise DocumentError(
            f"{name} is {size / 1024 / 1024:.1f} MB, over the {limit_mb:g} MB limit: "
            "compress or split it "
            "(or raise PORTFLOW_MAX_DOCUMENT_MB)"
        )


def _blob_path(sha256: str) -> Path:
    return get_settings().documents_dir / sha256[:2] / sha256


def _write_blob(data: bytes, sha256: str) -> None:
    path = _blob_path(sha256)
    if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256:
        return  # already stored (and intact; a damaged copy is rewritten below)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{sha256}.{os.getpid()}.{_random.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _ref(row: DocumentRow) -> DocumentRef:
    return DocumentRef(
        kind=DocumentKind(row.kind),
        file_name=row.file_name,
        size=row.size,
        sha256=row.sha256,
        order_id=row.order_id,
        uploaded_by=row.uploaded_by,
        uploaded_at=row.uploaded_at,
    )


def _existing(
    session: Session, request_id: str, order_id: str | None, kind: str, sha256: str
) -> DocumentRow | None:
    stmt = select(DocumentRow).where(
        DocumentRow.request_id == request_id, DocumentRow.kind == kind, DocumentRow.sha256 == sha256
    )
    stmt = stmt.where(
        col(DocumentRow.order_id).is_(None)
        if order_id is None
        else DocumentRow.order_id == order_id
    )
    return session.exec(stmt).first()


def _check_ids(request_id: str, order_id: str | None) -> None:
    """Ids must be well formed; the request itself may not be saved yet (the starter stores
    documents before the workflow records the request)."""
    if not REQUEST_ID.match(request_id or ""):
        raise DocumentError(f"request id {request_id!r} must look like PR-2026-0042")
    if order_id is not None:
        match = ORDER_ID.match(order_id)
        if match is None:
            raise DocumentError(f"order id {order_id!r} must look like {request_id}-1")
        if match.group(1) != request_id:
            raise DocumentError(f"order {order_id} belongs to {match.group(1)}, not {request_id}")


def _record(session: Session, row: DocumentRow) -> DocumentRow:
    found = _existing(session, row.request_id, row.order_id, row.kind, row.sha256)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(row)
        return row
    except IntegrityError:  # the same document recorded concurrently: the first one stands
        found = _existing(session, row.request_id, row.order_id, row.kind, row.sha256)
        if found is None:
            raise
        return found


def put_bytes(
    data: bytes,
    *,
    kind: DocumentKind | str,
    file_name: str,
    request_id: str,
    order_id: str | None = None,
    uploaded_by: str = "system",
    session: Session | None = None,
) -> DocumentRef:
    """Store a document of a request (or of one of its orders) and return its reference.

    Refuses empty documents and documents over ``max_document_mb``. The request need not
    be saved yet.
    """
    doc_kind = _kind(kind)
    _check_ids(request_id, order_id)
    name = _clean_name(file_name)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DocumentError(f"{name}: document content must be bytes, not {type(data).__name__}")
    data = bytes(data)
    _check_size(len(data), name)
    sha256 = hashlib.sha256(data).hexdigest()
    _write_blob(data, sha256)
    row = DocumentRow(
        request_id=request_id,
        order_id=order_id,
        kind=doc_kind,
        file_name=name,
        size=len(data),
        sha256=sha256,
        uploaded_by=(uploaded_by or "system").strip()[:320],
    )
    if session is not None:
        return _ref(_record(session, row))
    with session_scope() as s:
        return _ref(_record(s, row))


def put_file(
    path: str | os.PathLike[str],
    *,
    kind: DocumentKind | str,
    request_id: str,
    file_name: str | None = None,
    order_id: str | None = None,
    uploaded_by: str = "system",
    session: Session | None = None,
) -> DocumentRef:
    """Like :func:`put_bytes`, reading ``path`` (its name is the default file name)."""
    p = Path(path)
    if not p.is_file():
        raise DocumentError(f"{p} is not a readable file: check the path")
    name = _clean_name(file_name or p.name)
    _check_size(p.stat().st_size, name)  # before reading a huge file into memory
    return put_bytes(
        p.read_bytes(),
        kind=kind,
        file_name=name,
        request_id=request_id,
        order_id=order_id,
        uploaded_by=uploaded_by,
        session=session,
    )


def path_of(ref: DocumentRef) -> Path:
    """Where the document's bytes are. Raises FileNotFoundError when they are missing."""
    path = _blob_path(ref.sha256)
    if not path.is_file():
        raise FileNotFoundError(
            f"{ref.file_name} ({ref.sha256[:12]}...) is missing from the document store at {path}: "
            "restore the documents directory from backup, or upload it again"
        )
    return path


def read_bytes(ref: DocumentRef) -> bytes:
    """The document's bytes, checked against its sha256."""
    data = path_of(ref).read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != ref.sha256:
        raise DocumentCorrupt(
            f"{ref.file_name}: stored bytes have sha256 {actual[:12]}..., "
            f"expected {ref.sha256[:12]}...: the file at {_blob_path(ref.sha256)} was changed "
            "or damaged; upload the document again"
        )
    return data


def documents_of(
    *,
    request_id: str,
    order_id: str | None = None,
    kind: DocumentKind | str | None = None,
    session: Session | None = None,
) -> list[DocumentRef]:
    """A request's documents, oldest first.

    With ``order_id``: that order's documents plus the request-wide ones (no order), which
    apply to every order.
    """
    stmt = select(DocumentRow).where(DocumentRow.request_id == request_id)
    if order_id is not None:
        stmt = stmt.where(
            (col(DocumentRow.order_id) == order_id) | col(DocumentRow.order_id).is_(None)
        )
    if kind is not None:
        stmt = stmt.where(DocumentRow.kind == _kind(kind))
    stmt = stmt.order_by(col(DocumentRow.uploaded_at), col(DocumentRow.id))
    if session is not None:
        return [_ref(row) for row in session.exec(stmt).all()]
    with session_scope() as s:
        return [_ref(row) for row in s.exec(stmt).all()]
