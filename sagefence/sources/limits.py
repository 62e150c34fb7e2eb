"""What a template file may be and hold before we read it as one (rules.md v2 §6).

A scan reads what pull requests bring: a FIFO or a device named ``*.yaml`` must never be opened
(reading ``/dev/zero`` grows memory without end, a FIFO blocks forever), a symlink loop must not
be followed, and values nested deeper than any template needs, integers longer than any number a
property takes, or strings that are not valid Unicode are errors naming the file, never a crash.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

MAX_DEPTH = 100
MAX_DIGITS = 4000
_MAX_INT_BITS = int(MAX_DIGITS * 3.3219280948873626)  # 10**4000 has about this many bits
# A JSON or YAML escape that can produce half of a surrogate pair: only then are strings scanned.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class LimitError(Exception):
    """A file or value beyond what a template may be."""


def kind_of(path: Path) -> str | None:
    """None for a regular file (following symlinks), else what it is instead ("a FIFO", "a symlink loop")."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "a symlink loop"
        if os.path.islink(path):
            return "a symlink to nothing"
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_values(data: Any, text: str) -> None:
    """Raise LimitError for nesting deeper than MAX_DEPTH, an integer longer than MAX_DIGITS digits,
    or (when the text has a surrogate escape) a string holding half of a surrogate pair."""
    scan_strings = _SURROGATE_ESCAPE.search(text) is not None
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
            if scan_strings:
                for key in value:
                    _check_scalar(key)
        elif isinstance(value, list):
            children = value
        else:
            _check_scalar(value, scan_strings)
            continue
        if depth >= MAX_DEPTH:
            raise LimitError(f"values nested deeper than {MAX_DEPTH} levels")
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
            else:
                _check_scalar(child, scan_strings)


def _check_scalar(value: Any, scan_strings: bool = True) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_INT_BITS:
        raise LimitError(f"an integer longer than {MAX_DIGITS} digits")
    if scan_strings and isinstance(value, str) and _SURROGATE.search(value):
        raise LimitError("a string that is not valid Unicode (half of a surrogate pair)")
