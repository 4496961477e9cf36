"""Text of the Results screen's one-line bars: the open run, and the counts under the filters."""

from __future__ import annotations

import numpy
from rich.text import Text

from core.text import one_line
from tui.results_data import RunSummary
from tui.results_index import GRADE_CODES, PENDING, Filters, ResultsIndex, Sorting
from tui.widgets.results_grades import GRADE_GLYPHS

SORT_TITLES = {"id": "id", "grade": "grade", "topic": "topic", "answer_type": "type", "gold": "gold", "answer": "answer"}


def run_bar_text(run: RunSummary) -> Text:
    """Describe the open run, starting with SIMULATED for a mock-provider run."""
    text = Text()
    if run.simulated:
        text.append("SIMULATED", style="bold reverse")
        text.append(" ")
    text.append(one_line(run.model))
    text.append(f" · {run.run_id} · {run.status} · judge ")
    text.append(one_line(run.grader_model))
    return text


def counts_text(index: ResultsIndex, selection: numpy.ndarray, filters: Filters, sorting: Sorting) -> Text:
    """Count the rows shown per grade, then summarise the filters and the sort order."""
    counts = index.grade_counts(selection)
    text = Text(f"{len(selection):,} of {len(index):,} shown ")
    for grade in GRADE_CODES:
        if grade == PENDING and not counts[grade]:
            continue
        style = "bold" if grade in filters.grades else ""
        text.append(f" {GRADE_GLYPHS[grade]} {counts[grade]:,}", style=style)
    text.append("\n")
    text.append(filter_summary(filters, sorting), style="dim")
    return text


def filter_summary(filters: Filters, sorting: Sorting) -> str:
    parts = []
    if filters.grades:
        parts.append("grade " + "+".join(grade for grade in GRADE_CODES if grade in filters.grades))
    if filters.topics:
        parts.append("topic " + "+".join(one_line(topic) for topic in sorted(filters.topics)))
    if filters.answer_types:
        parts.append("type " + "+".join(one_line(kind) for kind in sorted(filters.answer_types)))
    if filters.text.strip():
        parts.append(f'text "{one_line(filters.text)}"')
    if not parts:
        parts.append("no filter")
    arrow = "↓" if sorting.descending else "↑"
    parts.append(f"sort {SORT_TITLES[sorting.key]} {arrow}")
    return " · ".join(parts)
