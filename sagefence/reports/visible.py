"""Text for a terminal: control characters from scanned input are shown, never obeyed.

Resource ids, tag values, file names and API messages come from templates and accounts
that may be hostile. Written raw, an ANSI escape sequence clears the screen or hides a
line, a carriage return overwrites the summary, and a bidirectional override reorders
what is read. Each such character is written as its escape (``\\x1b``, ``\\r``, ``\\u202e``).
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: a report line stays one line), DEL, C1 controls,
# bidirectional embeddings, overrides and isolates, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` as str with every control character replaced by its escape."""
    return _CONTROL.sub(_escape, str(text))
