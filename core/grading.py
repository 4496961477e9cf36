"""Read a judge reply as CORRECT, INCORRECT or NOT_ATTEMPTED, or UNPARSED when it names no grade.

The SimpleQA reference implementation takes the first capital A, B or C anywhere in the reply, so
it reads "CORRECT" as NOT_ATTEMPTED (the C) and "NOT_ATTEMPTED" as CORRECT (the A). Here a letter
counts only when it stands alone (or labels a matching word), and a reply that names no grade or
several different grades is UNPARSED, never defaulted to one.
"""

from __future__ import annotations

import re

CORRECT = "CORRECT"
INCORRECT = "INCORRECT"
NOT_ATTEMPTED = "NOT_ATTEMPTED"
UNPARSED = "UNPARSED"
FAILED = "FAILED"

JUDGE_GRADES = (CORRECT, INCORRECT, NOT_ATTEMPTED)
ALL_GRADES = (CORRECT, INCORRECT, NOT_ATTEMPTED, UNPARSED, FAILED)

GRADE_BY_LETTER = {"A": CORRECT, "B": INCORRECT, "C": NOT_ATTEMPTED}

# Markdown emphasis, quotes, brackets and punctuation a judge may wrap its answer in.
_WRAPPING = " \t\r\n*_`'\"“”‘’.,:;!?()[]{}<>#~"
_WORD = re.compile(r"NOT[ _-]ATTEMPTED|INCORRECT|CORRECT", re.IGNORECASE)
_UPPERCASE_WORD = re.compile(r"(?<![A-Za-z_])(?:NOT[ _-]ATTEMPTED|INCORRECT|CORRECT)(?![A-Za-z_])")
_LABELLED = re.compile(r"([ABC])\s*[:.)\-]\s*(.+)", re.IGNORECASE | re.DOTALL)
_PREFIXED = re.compile(r"(?:the\s+)?(?:final\s+)?(?:grade|answer)(?:\s+is)?\s*[:=]?\s*[*_`'\"(\[]*([ABC])", re.IGNORECASE)


def parse_grade(reply: str | None) -> str:
    """Return the grade a judge reply names, or UNPARSED."""
    if not reply:
        return UNPARSED
    core = reply.strip(_WRAPPING)

    if core.upper() in GRADE_BY_LETTER:
        return GRADE_BY_LETTER[core.upper()]

    word = _grade_word(core)
    if word is not None:
        return word

    labelled = _LABELLED.fullmatch(core)
    if labelled:
        letter_grade = GRADE_BY_LETTER[labelled.group(1).upper()]
        return letter_grade if _grade_word(labelled.group(2).strip(_WRAPPING)) == letter_grade else UNPARSED

    prefixed = _PREFIXED.fullmatch(core)
    if prefixed and prefixed.group(1) in GRADE_BY_LETTER:
        return GRADE_BY_LETTER[prefixed.group(1)]

    named = {_normalise(match.group(0)) for match in _UPPERCASE_WORD.finditer(reply)}
    return named.pop() if len(named) == 1 else UNPARSED


def _grade_word(text: str) -> str | None:
    """Return the grade when `text` is exactly one grade word, in any case."""
    if _WORD.fullmatch(text):
        return _normalise(text)
    return None


def _normalise(word: str) -> str:
    return re.sub(r"[ _-]", "_", word.upper())
