"""Fonts for the PDFs portflow prints (the LOA, the signature page), with a fallback per glyph.

reportlab's built-in Helvetica covers Latin-1 (Windows-1252) only: a Polish, Czech or
Vietnamese name printed with it shows black boxes, and the customer signs a wrong
document. So the PDFs embed TrueType fonts, tried in this order, each character going to
the first face that has a glyph for it:

1. Noto Sans from PyPI (``fontpkg-noto-sans``, a project dependency): Latin, Greek,
   Cyrillic and Vietnamese. It ships as a variable font, so its bold is its regular.
2. DejaVu Sans from Debian (``fonts-dejavu-core``: ``/usr/share/fonts/truetype/dejavu``),
   when installed: the same scripts and more (Armenian, Georgian, Hebrew, Arabic), and a
   real bold. It is the main face (bold included) when Noto Sans is missing.
3. CJK TrueType fonts from Debian when installed (``fonts-wqy-zenhei``, ``fonts-arphic-*``,
   ``fonts-droid-fallback``...; the paths are in :data:`CJK_FONTS`).
4. Helvetica, for whatever is in Windows-1252 and in none of the above.

What no face covers cannot be printed: :func:`unprintable` names those characters, and the
offline check refuses a request whose LOA would show them (``unprintable_characters``).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

DEBIAN_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
    Path("/usr/share/fonts/truetype/arphic/ukai.ttc"),
    Path("/usr/share/fonts/truetype/unfonts-core/UnDotum.ttf"),
)
_IGNORED = frozenset("\t\n\r ")


@dataclass(frozen=True)
class Face:
    name: str  # as registered with reportlab
    bold: str
    covers: frozenset[int] | None  # code points with a glyph; None: Windows-1252 (Helvetica)

    def has(self, ch: str) -> bool:
        if self.covers is not None:
            return ord(ch) in self.covers
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            return False
        return ch.isprintable()


@dataclass(frozen=True)
class FontChain:
    faces: tuple[Face, ...]
    sources: tuple[str, ...] = field(default=())  # where each face came from, for messages

    @property
    def regular(self) -> str:
        return self.faces[0].name

    @property
    def bold(self) -> str:
        return self.faces[0].bold

    def face_for(self, ch: str) -> Face | None:
        if ch in _IGNORED:
            return self.faces[0]
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
            return None  # controls, surrogates, private use, unassigned: never printed
        return next((f for f in self.faces if f.has(ch)), None)

    def missing(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that no face can print, in order."""
        if text.isascii() and text.isprintable():
            return []  # every face has ASCII: no font is loaded for it
        out: list[str] = []
        for ch in text:
            if ch not in out and self.face_for(ch) is None:
                out.append(ch)
        return out

    def runs(self, text: str, bold: bool = False) -> list[tuple[str, str]]:
        """``text`` cut into (font name, text) runs, each run in the first face with its glyphs;
        an unprintable character goes to the main face (which shows a box)."""
        out: list[tuple[str, str]] = []
        for ch in text:
            face = self.face_for(ch) or self.faces[0]
            name = face.bold if bold else face.name
            if out and out[-1][0] == name:
                out[-1] = (name, out[-1][1] + ch)
            else:
                out.append((name, ch))
        return out

    def markup(self, text: str, bold: bool = False) -> str:
        """``text`` escaped for a reportlab Paragraph, with a ``<font>`` tag around each run
        that is not in the paragraph's own (main) face."""
        main = self.bold if bold else self.regular
        parts = []
        for name, run in self.runs(text, bold):
            parts.append(escape(run) if name == main else f'<font face="{name}">{escape(run)}</font>')
        return "".join(parts)


def _register(name: str, path: Path, index: int = 0) -> frozenset[int] | None:
    """Register a TrueType font under ``name``; its covered code points, or None when it
    cannot be used (missing, unreadable, PostScript outlines)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        font = TTFont(name, str(path), subfontIndex=index)
    except (TTFError, OSError, ValueError, KeyError, IndexError):
        return None
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def _pypi_noto() -> Path | None:
    try:
        import fontpkg_noto_sans  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = Path(fontpkg_noto_sans.ROOT) / "files" / "NotoSans[wdth,wght].ttf"
    return path if path.is_file() else None


@functools.cache
def font_chain() -> FontChain:
    """The faces this machine has, registered with reportlab once per process."""
    faces: list[Face] = []
    sources: list[str] = []
    noto = _pypi_noto()
    if noto is not None and (covers := _register("NotoSans", noto)) is not None:
        faces.append(Face("NotoSans", "NotoSans", covers))
        sources.append(f"Noto Sans ({noto.parent.parent.name})")
    regular, bold = DEBIAN_DEJAVU / "DejaVuSans.ttf", DEBIAN_DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.is_file() and (covers := _register("DejaVuSans", regular)) is not None:
        # the main face when Noto Sans is missing, else the first to fill its gaps
        bold_name = "DejaVuSans-Bold" if bold.is_file() and _register("DejaVuSans-Bold", bold) else "DejaVuSans"
        faces.append(Face("DejaVuSans", bold_name, covers))
        sources.append(f"DejaVu Sans ({DEBIAN_DEJAVU})")
    for i, path in enumerate(CJK_FONTS):
        if path.is_file() and (covers := _register(f"CJK{i}", path)) is not None:
            faces.append(Face(f"CJK{i}", f"CJK{i}", covers))
            sources.append(str(path))
    faces.append(Face("Helvetica", "Helvetica-Bold", None))
    sources.append("Helvetica (Windows-1252 only)")
    from reportlab.lib.fonts import addMapping

    for face in faces[:-1]:  # <b> inside a paragraph or a <font> run picks the face's bold
        for name in {face.name, face.bold}:
            addMapping(name, 0, 0, face.name)
            addMapping(name, 1, 0, face.bold)
            addMapping(name, 0, 1, face.name)
            addMapping(name, 1, 1, face.bold)
    return FontChain(tuple(faces), tuple(sources))


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` that no installed font can print (empty: it prints)."""
    if text.isascii() and text.isprintable():
        return []
    return font_chain().missing(text)


def describe(chars: list[str], limit: int = 5) -> str:
    """``'李' (U+674E, CJK UNIFIED IDEOGRAPH-674E), ...`` for a message."""
    shown = [
        f"'{c}' (U+{ord(c):04X}, {unicodedata.name(c, 'unnamed')})"
        if unicodedata.category(c) not in ("Cc", "Cs", "Co", "Cn")
        else f"U+{ord(c):04X}"
        for c in chars[:limit]
    ]
    more = f" and {len(chars) - limit} more" if len(chars) > limit else ""
    return ", ".join(shown) + more


def draw(canvas: object, x: float, y: float, text: str, size: float, bold: bool = False) -> float:
    """Draw ``text`` on a reportlab canvas from ``x``, each run in its face; the end's x."""
    chain = font_chain()
    for name, run in chain.runs(text, bold):
        canvas.setFont(name, size)  # type: ignore[attr-defined]
        canvas.drawString(x, y, run)  # type: ignore[attr-defined]
        x += canvas.stringWidth(run, name, size)  # type: ignore[attr-defined]
    return x
