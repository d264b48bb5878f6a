"""Reading a request file's bytes and its YAML safely: whatever a file holds, the answer is
plain data or a :class:`FileProblem` (exit 2) that says what to fix, in bounded time and memory.

A port request is a few small mappings and lists, so everything beyond that is refused
rather than interpreted:

- files over :data:`MAX_FILE_BYTES`, files that are not UTF-8 (UTF-16 and UTF-32 are named as
  such), NUL bytes and other control characters (with their line and column);
- YAML anchors and aliases (``&a`` / ``*a``, merge keys ``<<``): a request never needs them,
  and nested aliases expand exponentially ("billion laughs");
- nesting deeper than :data:`MAX_DEPTH`, more than :data:`MAX_NODES` values, one value or key
  longer than :data:`MAX_SCALAR` characters;
- explicit tags (``!!python/object``, ``!!binary``, ``!custom``...), other than ``!!str``;
- values PyYAML reads into Python errors of its own (an unquoted date that is not on the
  calendar, such as ``2027-02-30``; an integer of thousands of digits).

YAML 1.1's surprises are off: ``0123`` stays the text ``0123`` (a PIN keeps its leading zero
instead of becoming octal 83) and ``10:30`` stays ``10:30`` (not the sexagesimal 630).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node
from yaml.resolver import Resolver

from core.text import CONTROL, shorten

__all__ = ["MAX_FILE_BYTES", "FileProblem", "decode", "parse_yaml", "shorten"]

MAX_FILE_BYTES = 4 * 1024 * 1024  # a 10,000-number CSV with an address per row is ~1.5 MB
MAX_DEPTH = 32  # a request nests 4 deep (accounts[0].service_address.street)
MAX_NODES = 50_000  # values in one YAML file (10,000 numbers are 10,000 values)
MAX_SCALAR = 100_000  # characters of one YAML value (the check limits each field further)
MAX_KEY = 200  # characters of one key: keys are field names, and each is in the path of every
# value below it (one 90,000-character key over 45,000 list items took 4 GB of paths)

# What YAML itself refuses, plus C1 controls and DEL: C0 controls but tab, CR and LF.
_CONTROL = CONTROL
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_SAVE_AS = "save it as UTF-8 (in Excel: 'CSV UTF-8 (Comma delimited)'; in an editor: 'UTF-8')"


class FileProblem(Exception):
    """A request file that cannot be read or parsed at all (the CLI exits 2)."""

    def __init__(self, code: str, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.code = code
        self.path = path
        self.message = message


def decode(raw: bytes, source: str) -> str:
    """The file's text, or a FileProblem naming the size, encoding or character to fix."""
    if len(raw) > MAX_FILE_BYTES:
        raise FileProblem(
            "too_large",
            source,
            f"the file is larger than the limit of {MAX_FILE_BYTES:,} bytes: "
            "a request is at most 10,000 numbers; split a larger one into several requests",
        )
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise FileProblem("bad_encoding", source, f"the file is {name}, not UTF-8: {_SAVE_AS}")
    if raw.count(b"\x00") > 0 and raw[:2].count(b"\x00") == 1:
        raise FileProblem("bad_encoding", source, f"the file looks like UTF-16 without a BOM: {_SAVE_AS}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileProblem(
            "bad_encoding",
            source,
            f"line {line} is not UTF-8 (byte 0x{raw[exc.start]:02x}): {_SAVE_AS}",
        ) from None
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        what = "a NUL byte (is this a binary file?)" if bad[0] == "\x00" else f"the control character U+{ord(bad[0]):04X}"
        raise FileProblem(
            "bad_character",
            source,
            f"line {line}, column {column} holds {what}: delete it (it is invisible in most editors; "
            "retype the text around it)",
        )
    return text


# --- YAML ----------------------------------------------------------------------------------

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_STR = "tag:yaml.org,2002:str"


class _Refused(yaml.YAMLError):
    """Something the reader refuses, at a line of the file."""

    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.message = message


try:  # libyaml's parser (the PyYAML wheels have it): ten times faster on a 10,000-number request
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _Loader(Composer, _Parser, SafeConstructor, Resolver):  # type: ignore[misc,valid-type]
    """A safe loader minus octal, hex, binary and sexagesimal numbers, and with the limits of
    the module docstring enforced while the document is composed (before anything expands).
    The events come from libyaml; the composer is PyYAML's Python one, which this extends
    (about 30 % slower than libyaml's own composer, which cannot be extended)."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        Composer.__init__(self)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused(
                event.start_mark,
                f"YAML aliases ('*{shorten(event.anchor, 30)}') are not accepted in a request: "
                "write the value out where it is needed",
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(
                event.start_mark,
                f"YAML anchors ('&{shorten(anchor, 30)}') are not accepted in a request: remove it "
                "and write each value out where it is needed",
            )
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in ("!", _STR):
            raise _Refused(
                event.start_mark,
                f"the tag '{shorten(tag, 80)}' is not accepted in a request: remove it (quote the "
                "value if it must stay text)",
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(event.start_mark, f"more than {MAX_NODES:,} values: split the request")
        if isinstance(parent, MappingNode) and index is None:  # composing a key
            if not isinstance(event, ScalarEvent):
                raise _Refused(event.start_mark, "a key that is a list or a mapping: keys are field names")
            if len(event.value) > MAX_KEY:
                raise _Refused(
                    event.start_mark,
                    f"a key of {len(event.value):,} characters ('{shorten(event.value, 30)}'): keys are "
                    "field names such as customer or accounts",
                )
        if isinstance(event, ScalarEvent) and len(event.value) > MAX_SCALAR:
            raise _Refused(
                event.start_mark,
                f"a value of {len(event.value):,} characters, more than the limit of {MAX_SCALAR:,}: "
                "shorten it",
            )
        if isinstance(event, CollectionStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    event.start_mark,
                    f"nested more than {MAX_DEPTH} levels deep: a request nests at most a few "
                    "levels (see examples/good-request.yaml)",
                )
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def construct_yaml_timestamp(self, node: Node) -> Any:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise _Refused(
                node.start_mark,
                f"'{shorten(node.value)}' is not a date on the calendar: check the day and the "
                "month (YYYY-MM-DD)",
            ) from None


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(?:0|[1-9][0-9_]{0,17})$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]{0,30})\.[0-9_]{0,30}(?:[eE][-+]?[0-9]{1,3})?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def parse_yaml(text: str, source: str) -> tuple[Node | None, Any]:
    """The document's node tree (for line numbers) and its data, or a FileProblem."""
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the reader's own checks on the characters
        raise FileProblem("bad_yaml", source, f"not valid YAML ({exc})") from None
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise FileProblem("refused_yaml", source, f"{where}{exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = shorten(getattr(exc, "problem", None) or str(exc), 200)
        raise FileProblem(
            "bad_yaml",
            source,
            f"not valid YAML ({where}{what}): check the indentation and quoting there",
        ) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise FileProblem(
            "bad_yaml",
            source,
            f"a value cannot be read ({shorten(str(exc), 200)}): quote it to keep it as text",
        ) from None
    finally:
        loader.dispose()
    return node, data
