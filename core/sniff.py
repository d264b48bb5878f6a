"""What a file is, by its first bytes (magic numbers), never by its name or declared type.

Customers upload CSRs and bills as PDFs or as photos and scans; anything else (an .exe renamed
bill.pdf, an HTML page, a ZIP) is refused by what it contains.
"""

from __future__ import annotations

# (media type, extension, test on the first bytes)
_SIGNATURES: tuple[tuple[str, str, object], ...] = (
    ("application/pdf", "pdf", lambda b: b.startswith(b"%PDF-")),
    ("image/png", "png", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", "jpg", lambda b: b.startswith(b"\xff\xd8\xff")),
    ("image/gif", "gif", lambda b: b.startswith((b"GIF87a", b"GIF89a"))),
    ("image/tiff", "tif", lambda b: b.startswith((b"II*\x00", b"MM\x00*"))),
    ("image/webp", "webp", lambda b: len(b) >= 12 and b.startswith(b"RIFF") and b[8:12] == b"WEBP"),
)

DOCUMENT_TYPES = tuple(media for media, _, _ in _SIGNATURES)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(media type, usual extension) of a PDF or image, else None."""
    head = bytes(data[:16])
    for media, ext, test in _SIGNATURES:
        if test(head):  # type: ignore[operator]
            return media, ext
    return None
