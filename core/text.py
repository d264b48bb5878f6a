"""Showing text that came from outside in a message: short, and with nothing invisible.

A refused 10,000-character name must not be echoed whole in a report, a log line or a CLI
error; a control character must show as ``\\x1b``, not act on the terminal.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls but tab, CR and LF; DEL and C1 controls but NEL; surrogates; U+FFFE/FFFF.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def shorten(text: Any, limit: int = 60) -> str:
    """``text`` for a message: at most ``limit`` characters (and the length said when cut),
    control characters shown as ``\\x..`` escapes."""
    value = text if isinstance(text, str) else repr(text)
    cut = value[: limit + 1]
    shown = CONTROL.sub(lambda m: m[0].encode("unicode_escape", "backslashreplace").decode(), cut)
    if len(value) <= limit and len(shown) <= limit:
        return shown
    return f"{shown[: max(1, limit - 1)]}… ({len(value):,} characters)"
