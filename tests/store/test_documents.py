"""The document store: content-addressed bytes, one record per identical upload."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from core.settings import get_settings, reset_settings
from models.request import DocumentKind
from core.settings import get_settings
from store.db import session_scope
from store.documents import (
    DocumentCorrupt,
    DocumentError,
    documents_of,
    path_of,
    put_bytes,
    put_file,
    read_bytes,
)
from tests.settings_helpers import use_settings

PDF = b"%PDF-1.4 a phone bill\n" * 50


@pytest.fixture
def request_saved(saved) -> str:
    saved("PR-2026-0001", ["+14155550101"], ["+12125550101"])
    saved("PR-2026-0002", ["+14155550199"])
    return "PR-2026-0001"


def _rows(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM documents")).scalar_one()


def test_put_and_read(engine: Engine, request_saved: str) -> None:
    ref = put_bytes(
        PDF, kind="bill", file_name="bill.pdf", request_id=request_saved, uploaded_by="ana@x"
    )
    sha = hashlib.sha256(PDF).hexdigest()
    assert (ref.kind, ref.file_name, ref.size, ref.sha256, ref.order_id, ref.uploaded_by) == (
        DocumentKind.BILL,
        "bill.pdf",
        len(PDF),
        sha,
        None,
        "ana@x",
    )
    assert ref.uploaded_at is not None and ref.uploaded_at.tzinfo is not None
    assert path_of(ref) == get_settings().documents_dir / sha[:2] / sha
    assert read_bytes(ref) == PDF
    assert list(path_of(ref).parent.iterdir()) == [path_of(ref)]  # no temporary file left


def test_same_document_twice_is_recorded_once(engine: Engine, request_saved: str) -> None:
    first = put_bytes(PDF, kind="bill", file_name="bill.pdf", request_id=request_saved)
    again = put_bytes(
        PDF, kind=DocumentKind.BILL, file_name="bill-copy.pdf", request_id=request_saved
    )
    assert again == first and _rows(engine) == 1
    # same bytes, other order, other kind or other request: separate records, one blob
    put_bytes(
        PDF, kind="bill", file_name="b.pdf", request_id=request_saved, order_id=f"{request_saved}-1"
    )
    put_bytes(
        PDF, kind="bill", file_name="b.pdf", request_id=request_saved, order_id=f"{request_saved}-1"
    )
    put_bytes(PDF, kind="csr", file_name="c.pdf", request_id=request_saved)
    put_bytes(PDF, kind="bill", file_name="b.pdf", request_id="PR-2026-0002")
    assert _rows(engine) == 4
    blobs = [p for p in get_settings().documents_dir.rglob("*") if p.is_file()]
    assert len(blobs) == 1


def test_concurrent_identical_uploads_make_one_record(engine: Engine, request_saved: str) -> None:
    barrier = threading.Barrier(4, timeout=30)
    refs: list[object] = []

    def upload() -> None:
        barrier.wait()
        try:
            refs.append(put_bytes(PDF, kind="csr", file_name="csr.pdf", request_id=request_saved))
        except BaseException as exc:  # noqa: BLE001
            refs.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(refs) == 4 and len({r.sha256 for r in refs}) == 1, refs  # type: ignore[union-attr]
    assert _rows(engine) == 1


def test_documents_of_filters(engine: Engine, request_saved: str) -> None:
    wide = put_bytes(b"csr", kind="csr", file_name="csr.pdf", request_id=request_saved)
    one = put_bytes(
        b"bill 1",
        kind="bill",
        file_name="b1.pdf",
        request_id=request_saved,
        order_id=f"{request_saved}-1",
    )
    two = put_bytes(
        b"bill 2",
        kind="bill",
        file_name="b2.pdf",
        request_id=request_saved,
        order_id=f"{request_saved}-2",
    )
    put_bytes(b"other", kind="bill", file_name="o.pdf", request_id="PR-2026-0002")
    assert documents_of(request_id=request_saved) == [wide, one, two]
    assert documents_of(request_id=request_saved, order_id=f"{request_saved}-1") == [wide, one]
    assert documents_of(request_id=request_saved, kind="bill") == [one, two]
    assert documents_of(
        request_id=request_saved, order_id=f"{request_saved}-2", kind=DocumentKind.CSR
    ) == [wide]
    assert documents_of(request_id="PR-2026-0404") == []


def test_bad_documents_are_refused(
    engine: Engine, request_saved: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(DocumentError, match=r"bill.pdf is empty \(0 bytes\)"):
        put_bytes(b"", kind="bill", file_name="bill.pdf", request_id=request_saved)
    with pytest.raises(
        DocumentError, match="unknown document kind 'invoice': use one of csr, bill"
    ):
        put_bytes(PDF, kind="invoice", file_name="bill.pdf", request_id=request_saved)
    with pytest.raises(DocumentError, match="file name '' is empty"):
        put_bytes(PDF, kind="bill", file_name="", request_id=request_saved)
    with pytest.raises(DocumentError, match="request id 'PR-42' must look like PR-2026-0042"):
        put_bytes(PDF, kind="bill", file_name="bill.pdf", request_id="PR-42")
    with pytest.raises(
        DocumentError, match="order id 'PR-2026-0001' must look like PR-2026-0001-1"
    ):
        put_bytes(
            PDF, kind="bill", file_name="b.pdf", request_id=request_saved, order_id=request_saved
        )
    with pytest.raises(DocumentError, match="belongs to PR-2026-0002, not PR-2026-0001"):
        put_bytes(
            PDF,
            kind="bill",
            file_name="bill.pdf",
            request_id=request_saved,
            order_id="PR-2026-0002-1",
        )
    use_settings(monkeypatch, MAX_DOCUMENT_MB=0.001)
    with pytest.raises(
        DocumentError, match=r"bill.pdf is 0.0 MB, over the 0.001 MB limit: compress or split"
    ):
        put_bytes(PDF, kind="bill", file_name="bill.pdf", request_id=request_saved)
    assert (
        put_bytes(b"x" * 1000, kind="bill", file_name="small.pdf", request_id=request_saved).size
        == 1000
    )
    assert _rows(engine) == 1


def test_inside_a_callers_transaction(engine: Engine, request_saved: str) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        ref = put_bytes(PDF, kind="loa", file_name="loa.pdf", request_id=request_saved, session=s)
        assert documents_of(request_id=request_saved, session=s) == [ref]
        raise RuntimeError("the activity failed")
    assert documents_of(request_id=request_saved) == []  # the record rolled back with it


def test_documents_may_come_before_the_request_is_saved(engine: Engine) -> None:
    """The starter stores a request file's documents, then starts the workflow that saves it."""
    ref = put_bytes(
        PDF, kind="csr", file_name="csr.pdf", request_id="PR-2026-0077", order_id="PR-2026-0077-2"
    )
    assert documents_of(request_id="PR-2026-0077", order_id="PR-2026-0077-2") == [ref]


def test_file_names_lose_their_directories(engine: Engine, request_saved: str) -> None:
    ref = put_bytes(PDF, kind="loa", file_name="../../etc/passwd", request_id=request_saved)
    assert ref.file_name == "passwd"
    ref = put_bytes(
        b"win", kind="loa", file_name="C:\\Users\\ana\\loa.pdf", request_id=request_saved
    )
    assert ref.file_name == "loa.pdf"


def test_put_file(engine: Engine, request_saved: str, tmp_path: Path) -> None:
    src = tmp_path / "csr-2026.pdf"
    src.write_bytes(PDF)
    ref = put_file(src, kind="csr", request_id=request_saved)
    assert (ref.file_name, ref.size) == ("csr-2026.pdf", len(PDF))
    assert put_file(src, kind="csr", request_id=request_saved, file_name="renamed.pdf") == ref
    with pytest.raises(DocumentError, match="is not a readable file"):
        put_file(tmp_path / "missing.pdf", kind="csr", request_id=request_saved)
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(DocumentError, match="empty.pdf is empty"):
        put_file(tmp_path / "empty.pdf", kind="csr", request_id=request_saved)


def test_damaged_or_missing_bytes_are_reported(engine: Engine, request_saved: str) -> None:
    ref = put_bytes(PDF, kind="bill", file_name="bill.pdf", request_id=request_saved)
    path_of(ref).write_bytes(PDF + b"tampered")
    with pytest.raises(DocumentCorrupt, match="bill.pdf: stored bytes have sha256"):
        read_bytes(ref)
    # storing the same document again repairs the blob
    put_bytes(PDF, kind="bill", file_name="bill.pdf", request_id=request_saved)
    assert read_bytes(ref) == PDF
    path_of(ref).unlink()
    with pytest.raises(FileNotFoundError, match="bill.pdf .* is missing from the document store"):
        read_bytes(ref)
