"""Grade labels: a glyph and the grade's word, so grades stay clear without colour (NO_COLOR)."""

from __future__ import annotations

GRADE_GLYPHS = {
    "CORRECT": "✓",
    "INCORRECT": "✗",
    "NOT_ATTEMPTED": "–",
    "UNPARSED": "?",
    "FAILED": "!",
    "PENDING": "…",
}
# Marks a grade that a reviewer set, in place of the judge's.
REVIEWED_MARK = "✎"


def grade_label(grade: str) -> str:
    """Return e.g. "✓ CORRECT" for a grade code name."""
    return f"{GRADE_GLYPHS[grade]} {grade}"


def grade_style_class(grade: str) -> str:
    """Return the component class suffix used to colour a grade, e.g. "not-attempted"."""
    return grade.lower().replace("_", "-")

