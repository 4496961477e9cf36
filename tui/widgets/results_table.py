"""A virtual table of a run's questions: only the rows on screen are ever rendered.

Textual's DataTable builds every row up front, which takes seconds at 100,000 questions. This
widget keeps a `ResultsIndex` and an array of row numbers (the current filter and sort) and draws
each visible line on demand through the Line API, so replacing the selection costs the same at
any run size.
"""

from __future__ import annotations

import numpy
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from core.text import one_line
from tui.results_index import ResultsIndex
from tui.widgets.results_grades import REVIEWED_MARK, grade_label, grade_style_class

COLUMN_TITLES = ("ID", "Grade", "Topic", "Type", "Gold target", "Predicted answer")
GRADE_WIDTH = 17  # "– NOT_ATTEMPTED ✎"
SEPARATOR = " "


def column_widths(width: int) -> tuple[int, ...]:
    """Split `width` cells between the six columns; gold and answer take what the others leave."""
    id_width, type_width = 5, 7
    topic_width = 14 if width >= 100 else 11
    fixed = id_width + GRADE_WIDTH + topic_width + type_width + len(SEPARATOR) * 5
    rest = max(width - fixed, 8)
    gold_width = max(rest * 2 // 5, 4)
    return id_width, GRADE_WIDTH, topic_width, type_width, gold_width, rest - gold_width


def fit(text: str, width: int) -> str:
    """Cut or pad `text` to exactly `width` terminal cells, marking a cut with an ellipsis."""
    if cell_len(text) > width:
        return set_cell_size(text, max(width - 1, 0)) + "…"
    return set_cell_size(text, width)


class ResultsTable(ScrollView, can_focus=True):
    """Rows of a `ResultsIndex` in the order given by `set_rows`, with a cursor.

    | Key | Action |
    |---|---|
    | up / down | Move the cursor one row |
    | pageup / pagedown | Move the cursor one screen |
    | home / end | Go to the first / last row |
    | enter | Open the question's details |
    """

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "choose", "Details", id="results.details"),
    ]

    COMPONENT_CLASSES = {
        "results-table--header",
        "results-table--cursor",
        "results-table--reviewed",
        "results-table--correct",
        "results-table--incorrect",
        "results-table--not-attempted",
        "results-table--unparsed",
        "results-table--failed",
        "results-table--pending",
    }

    DEFAULT_CSS = """
    ResultsTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
    }
    ResultsTable > .results-table--header { text-style: bold; background: $panel; }
    /* Reverse video marks the cursor row even when NO_COLOR drops every colour. */
    ResultsTable > .results-table--cursor { text-style: reverse; }
    ResultsTable:focus > .results-table--cursor { text-style: bold reverse; }
    ResultsTable > .results-table--reviewed { text-style: italic underline; }
    ResultsTable > .results-table--correct { color: $success; }
    ResultsTable > .results-table--incorrect { color: $error; }
    ResultsTable > .results-table--not-attempted { color: $warning; }
    ResultsTable > .results-table--unparsed { color: $secondary; }
    ResultsTable > .results-table--failed { color: $error; text-style: bold; }
    ResultsTable > .results-table--pending { color: $text-muted; }
    """

    class CursorMoved(Message):
        """Posted when the cursor lands on another question (`row` is None when the table is empty)."""

        def __init__(self, row: int | None) -> None:
            super().__init__()
            self.row = row

    class RowChosen(Message):
        """Posted when the user presses enter on a question."""

        def __init__(self, row: int) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.index: ResultsIndex | None = None
        self.rows: numpy.ndarray = numpy.zeros(0, dtype=numpy.int64)
        self.cursor = 0
        # Column position the rows are sorted by, and whether the order is descending.
        self.sort_column: tuple[int, bool] = (0, False)
        self._styles: dict[str, Style] = {}

    # Data

    def set_rows(self, index: ResultsIndex, rows: numpy.ndarray, keep_row: int | None = None) -> None:
        """Show `rows` (row numbers of `index`); the cursor stays on `keep_row` if it is still shown."""
        self.index = index
        self.rows = rows
        position = 0
        if keep_row is not None and len(rows):
            found = numpy.flatnonzero(rows == keep_row)
            position = int(found[0]) if len(found) else 0
        self._set_virtual_height(len(rows) + 1)
        self.cursor = -1
        self.move_cursor(position)
        self.refresh()

    @property
    def cursor_row(self) -> int | None:
        """The index row under the cursor, or None when nothing is shown."""
        if 0 <= self.cursor < len(self.rows):
            return int(self.rows[self.cursor])
        return None

    def move_cursor(self, position: int) -> None:
        """Put the cursor on `position` (clamped to the rows shown) and scroll it into view."""
        position = min(max(position, 0), max(len(self.rows) - 1, 0))
        changed = position != self.cursor
        self.cursor = position
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = round(self.scroll_offset.y)
        if position < top:
            self.set_scroll(None, position)
        elif position >= top + visible:
            self.set_scroll(None, position - visible + 1)
        self.refresh()
        if changed:
            self.post_message(self.CursorMoved(self.cursor_row))

    # Actions

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor - max(self.scrollable_content_region.height - 1, 1))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor + max(self.scrollable_content_region.height - 1, 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.rows) - 1)

    def action_choose(self) -> None:
        row = self.cursor_row
        if row is not None:
            self.post_message(self.RowChosen(row))

    def on_click(self, event: Click) -> None:
        if event.y >= 1:
            self.move_cursor(round(self.scroll_offset.y) + event.y - 1)
            if event.chain == 2:
                self.action_choose()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows) + 1)

    def _set_virtual_height(self, height: int) -> None:
        # Assigning `virtual_size` requests a layout of the whole screen (Textual 8.2), which costs
        # more than redrawing the table. Only the scrollbars depend on it, so they are updated
        # directly. Showing or hiding a scrollbar still triggers a layout through its own reactive.
        size = Size(self.scrollable_content_region.width, height)
        if size != self.virtual_size:
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)

    # Rendering

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        """Return a component's Rich style, cached because computing one costs more than drawing a row."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if name == "base" else self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._style("base")
        if y == 0:
            return self._header_strip(width, base)
        position = round(self.scroll_offset.y) + y - 1
        if self.index is None or position >= len(self.rows):
            return Strip.blank(width, base)
        return self._row_strip(int(self.rows[position]), position == self.cursor, width, base)

    def _header_strip(self, width: int, base: Style) -> Strip:
        style = base + self._style("results-table--header")
        column, descending = self.sort_column
        titles = list(COLUMN_TITLES)
        titles[column] += " ↓" if descending else " ↑"
        cells = [fit(title, cell_width) for title, cell_width in zip(titles, column_widths(width))]
        return Strip([Segment(SEPARATOR.join(cells), style)], width).adjust_cell_length(width, style)

    def _row_strip(self, row: int, is_cursor: bool, width: int, base: Style) -> Strip:
        index = self.index
        assert index is not None
        widths = column_widths(width)
        style = base + self._style("results-table--cursor") if is_cursor else base
        grade = index.grade(row)
        grade_style = style + self._style(f"results-table--{grade_style_class(grade)}")
        label = grade_label(grade)
        if index.is_reviewed(row):
            grade_style += self._style("results-table--reviewed")
            label = f"{label} {REVIEWED_MARK}"
        # Dataset and model text goes into plain Segments, which Rich never parses as markup.
        segments = [
            Segment(fit(str(index.question_ids[row]), widths[0]) + SEPARATOR, style),
            Segment(fit(label, widths[1]), grade_style),
            Segment(SEPARATOR + fit(one_line(index.topics[index.topic_codes[row]]), widths[2]), style),
            Segment(SEPARATOR + fit(one_line(index.answer_types[index.answer_type_codes[row]]), widths[3]), style),
            Segment(SEPARATOR + fit(one_line(index.golds[row]), widths[4]), style),
            Segment(SEPARATOR + fit(one_line(index.answers[row]), widths[5]), style),
        ]
        return Strip(segments).adjust_cell_length(width, style)
