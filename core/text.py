"""Make untrusted text (datasets, model output, provider errors) safe to show in a terminal.

Escape sequences and other control characters are removed, so a model's answer cannot move the
cursor, change colours or retitle the terminal. The stored text is never changed; these functions
only shape what is displayed.
"""

from __future__ import annotations

import re

# CSI, OSC (terminated by BEL or ST), and other two-character ESC sequences.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE_RUN = re.compile(r"\s+")


def strip_control(text: str | None) -> str:
    """Remove escape sequences and control characters, keeping newlines and tabs."""
    if not text:
        return ""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n")))


def one_line(text: str | None, width: int | None = None) -> str:
    """Show a value on one line: controls removed, newlines and runs of spaces folded, then cut."""
    line = _WHITESPACE_RUN.sub(" ", strip_control(text)).strip()
    if width is not None and len(line) > width:
        return line[: max(width - 1, 0)] + "…"
    return line
