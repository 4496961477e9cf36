"""The Results screen: browse, filter and review one run's graded questions.

A run's rows are read once, in a worker thread, into a `ResultsIndex`. Filters and sorting then
run in memory, and the virtual `ResultsTable` redraws only the visible lines, so a keypress costs
about the same at 4,326 and at 100,000 questions. Every database read and write happens in a worker
thread with its own `Store`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Header, Input, Static
from textual.worker import get_current_worker

from core.errors import StoreError
from core.paths import resolve_paths
from core.text import one_line
from tui import results_data
from tui.results_data import LoadedRun, QuestionDetail, RunNotFound, RunSummary
from tui.results_index import SORT_KEYS, Filters, ResultsIndex, Sorting
from tui.widgets.results_detail import ResultsDetail
from tui.widgets.results_bars import counts_text, run_bar_text
from tui.widgets.results_metrics import ResultsChart, ResultsMetrics
from tui.widgets.results_modals import ChoiceModal, ExportModal, ReviewModal, RunPicker
from tui.widgets.key_bar import KeyBar
from tui.widgets.results_table import ResultsTable

class ResultsScreen(Screen):
    """One run's questions with filters, details, metrics, a topic chart, reviews and exports.

    | Key | Action |
    |---|---|
    | c i n u f | Add or remove CORRECT, INCORRECT, NOT_ATTEMPTED, UNPARSED, FAILED in the grade filter |
    | t / a | Choose topics / answer types to show |
    | / | Search question, gold target and answer |
    | x | Clear every filter |
    | s / S | Sort by the next column / reverse the order |
    | I / U | Jump to the next INCORRECT / UNPARSED question |
    | enter | Show or hide the detail pane |
    | r | Override the grade of the question under the cursor |
    | e | Export the rows shown (CSV, JSONL) or a Markdown report |
    | m | Switch between the table and the per-topic chart |
    | p | Open another run |
    | R | Reload the run from the store (filters are kept) |
    """

    TITLE = "Results"
    # The keys a newcomer looks for first, fitting 80 columns; the filters and the rest are under ? and ctrl+p.
    KEY_BAR = (("r", "review"), ("e", "export"), ("m", "chart"), ("p", "runs"), ("/", "search"))

    BINDINGS = [
        Binding("c", "toggle_grade('CORRECT')", "✓", id="results.filter.correct",
                tooltip="Grade filter: add or remove CORRECT (none picked: all)"),
        Binding("i", "toggle_grade('INCORRECT')", "✗", id="results.filter.incorrect",
                tooltip="Grade filter: add or remove INCORRECT (none picked: all)"),
        Binding("n", "toggle_grade('NOT_ATTEMPTED')", "–", id="results.filter.not_attempted",
                tooltip="Grade filter: add or remove NOT_ATTEMPTED (none picked: all)"),
        Binding("u", "toggle_grade('UNPARSED')", "?", id="results.filter.unparsed",
                tooltip="Grade filter: add or remove UNPARSED (none picked: all)"),
        Binding("f", "toggle_grade('FAILED')", "!", id="results.filter.failed",
                tooltip="Grade filter: add or remove FAILED (none picked: all)"),
        Binding("t", "choose_topics", "Topics", id="results.filter.topics", tooltip="Choose the topics to show"),
        Binding("a", "choose_answer_types", "Types", id="results.filter.answer_types", tooltip="Choose the answer types to show"),
        Binding("slash", "search", "Search", id="results.search"),
        Binding("x", "clear_filters", "Clear", id="results.filter.clear", tooltip="Clear every filter"),
        Binding("s", "next_sort", "Sort", id="results.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="results.sort.reverse"),
        Binding("I", "jump('INCORRECT')", "Next ✗", id="results.next.incorrect", tooltip="Jump to the next INCORRECT question"),
        Binding("U", "jump('UNPARSED')", "Next ?", id="results.next.unparsed", tooltip="Jump to the next UNPARSED question"),
        Binding("r", "review", "Review", id="results.review"),
        Binding("e", "export", "Export", id="results.export"),
        Binding("m", "toggle_chart", "Chart", id="results.chart"),
        Binding("p", "pick_run", "Runs", id="results.runs"),
        Binding("R", "reload", "Reload", show=False, id="results.reload"),
        Binding("escape", "close_detail", "Close", show=False, id="results.detail.close"),
    ]

    DEFAULT_CSS = """
    ResultsScreen #run-bar { height: 1; padding: 0 1; background: $boost; }
    ResultsScreen #counts { height: 2; padding: 0 1; }
    ResultsScreen #search-row { height: 1; }
    ResultsScreen #search-row Static { width: auto; padding: 0 0 0 1; }
    ResultsScreen #search { height: 1; border: none; padding: 0 1; width: 1fr; }
    ResultsScreen #search:focus { border: none; background: $boost; }
    ResultsScreen ContentSwitcher { height: 1fr; }
    """

    class RunLoaded(Message):
        def __init__(self, loaded: LoadedRun) -> None:
            super().__init__()
            self.loaded = loaded

    class RunsListed(Message):
        def __init__(self, runs: list[RunSummary], open_latest: bool) -> None:
            super().__init__()
            self.runs = runs
            self.open_latest = open_latest

    class DetailLoaded(Message):
        def __init__(self, run_id: str, question_id: int, detail: QuestionDetail | None) -> None:
            super().__init__()
            self.run_id = run_id
            self.question_id = question_id
            self.detail = detail

    class ReviewSaved(Message):
        def __init__(self, run_id: str, question_id: int, grade: str | None, metrics: dict) -> None:
            super().__init__()
            self.run_id = run_id
            self.question_id = question_id
            self.grade = grade
            self.metrics = metrics

    class ExportWritten(Message):
        def __init__(self, path: Path, fmt: str, rows: int) -> None:
            super().__init__()
            self.path = path
            self.fmt = fmt
            self.rows = rows

    class WorkFailed(Message):
        def __init__(self, title: str, error: str) -> None:
            super().__init__()
            self.title = title
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.run_summary: RunSummary | None = None
        self.run_id: str | None = None
        self.index: ResultsIndex | None = None
        self.metrics: dict | None = None
        self.filters = Filters()
        self.sorting = Sorting()
        self.selection = numpy.zeros(0, dtype=numpy.int64)

    @property
    def database(self) -> Path:
        """The database file: the app's when it has paths of its own, else the one for this process."""
        paths = getattr(self.app, "paths", None)
        return (paths or resolve_paths()).database

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("No run open. Press p to pick one."), id="run-bar")
        yield ResultsMetrics(id="metrics")
        yield Static("", id="counts")
        with Horizontal(id="search-row"):
            yield Static("/")
            yield Input(placeholder="search question, gold, answer", id="search")
        with ContentSwitcher(initial="table"):
            yield ResultsTable(id="table")
            yield ResultsChart(id="chart")
        yield ResultsDetail(id="detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(ResultsTable).focus()
        if self.run_id is None:
            self.list_runs(self.database, open_latest=True)
        else:
            self._start_loading()

    # Opening a run

    def show_run(self, run_id: str) -> None:
        """Load `run_id` in a worker and show it when ready.

        `FactdeckApp.open_results` calls this right after `switch_mode`, before the screen is
        mounted, so in that case loading starts on mount.
        """
        self.run_id = run_id
        if self.is_mounted:
            self._start_loading()

    def _start_loading(self) -> None:
        assert self.run_id is not None
        self.query_one("#run-bar", Static).update(Text(f"Loading run {one_line(self.run_id)}…"))
        self.load_run(self.database, self.run_id)

    @work(thread=True, exclusive=True, group="results-load")
    def load_run(self, database: Path, run_id: str) -> None:
        try:
            loaded = results_data.load_run(database, run_id)
        except (StoreError, RunNotFound) as exc:
            self.post_message(self.WorkFailed("Cannot open the run", str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.RunLoaded(loaded))

    def on_results_screen_run_loaded(self, message: RunLoaded) -> None:
        loaded = message.loaded
        if loaded.run.run_id != self.run_id:
            return
        reloaded = self.index is not None and self.index.run_id == loaded.run.run_id
        self.run_summary, self.index, self.metrics = loaded.run, loaded.index, loaded.metrics
        if not reloaded:
            self.filters = Filters()
            self.sorting = Sorting()
            search = self.query_one("#search", Input)
            with search.prevent(Input.Changed):
                search.value = ""
        self.query_one("#run-bar", Static).update(run_bar_text(self.run_summary))
        self._show_metrics()
        self.apply_filters()

    @work(thread=True, exclusive=True, group="results-runs")
    def list_runs(self, database: Path, open_latest: bool) -> None:
        try:
            runs = results_data.list_runs(database)
        except StoreError as exc:
            self.post_message(self.WorkFailed("Cannot list runs", str(exc)))
            return
        self.post_message(self.RunsListed(runs, open_latest))

    def on_results_screen_runs_listed(self, message: RunsListed) -> None:
        if message.open_latest:
            if self.run_id is None and message.runs:
                self.show_run(message.runs[0].run_id)
            return
        if not message.runs:
            self.notify("The store has no runs yet. Start one from the Models screen or with `factdeck run`.")
            return
        self.app.push_screen(RunPicker(message.runs, self.run_id), self._picked)

    def _picked(self, run_id: str | None) -> None:
        if run_id is not None:
            self.show_run(run_id)

    # NOTE: the screen shows the run as it was when loaded. A run still grading changes only
    # when the user reloads it with R or opens it again.
    def action_reload(self) -> None:
        if self.run_id is not None:
            self.show_run(self.run_id)

    def action_pick_run(self) -> None:
        self.list_runs(self.database, open_latest=False)

    # Filters and sorting

    def apply_filters(self) -> None:
        """Recompute the rows shown from the in-memory index and redraw the table and counts."""
        if self.index is None:
            return
        table = self.query_one(ResultsTable)
        keep = table.cursor_row
        self.selection = self.index.select(self.filters, self.sorting)
        # The table's columns are in SORT_KEYS order.
        table.sort_column = (SORT_KEYS.index(self.sorting.key), self.sorting.descending)
        table.set_rows(self.index, self.selection, keep_row=keep)
        # The counts bar has a fixed height, so no layout pass is needed.
        self.query_one("#counts", Static).update(counts_text(self.index, self.selection, self.filters, self.sorting), layout=False)

    def action_toggle_grade(self, grade: str) -> None:
        self.filters = replace(self.filters, grades=self.filters.grades ^ {grade})
        self.apply_filters()

    def action_choose_topics(self) -> None:
        if self.index is not None:
            self.app.push_screen(ChoiceModal("Show topics", self.index.topics, self.filters.topics, self._set_topics))

    def action_choose_answer_types(self) -> None:
        if self.index is not None:
            self.app.push_screen(
                ChoiceModal("Show answer types", self.index.answer_types, self.filters.answer_types, self._set_answer_types)
            )

    def _set_topics(self, topics: frozenset[str]) -> None:
        self.filters = replace(self.filters, topics=topics)
        self.apply_filters()

    def _set_answer_types(self, answer_types: frozenset[str]) -> None:
        self.filters = replace(self.filters, answer_types=answer_types)
        self.apply_filters()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "search":
            self.filters = replace(self.filters, text=event.value)
            self.apply_filters()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "search":
            self.query_one(ResultsTable).focus()

    def action_clear_filters(self) -> None:
        self.filters = Filters()
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = ""
        self.apply_filters()

    def action_next_sort(self) -> None:
        key = SORT_KEYS[(SORT_KEYS.index(self.sorting.key) + 1) % len(SORT_KEYS)]
        self.sorting = Sorting(key, False)
        self.apply_filters()

    def action_reverse_sort(self) -> None:
        self.sorting = replace(self.sorting, descending=not self.sorting.descending)
        self.apply_filters()

    def action_jump(self, grade: str) -> None:
        if self.index is None:
            return
        table = self.query_one(ResultsTable)
        position = self.index.next_with_grade(self.selection, table.cursor, frozenset({grade}))
        if position is None:
            self.notify(f"No {grade} question among the rows shown.", severity="warning")
            return
        table.move_cursor(position)

    # Details

    def on_results_table_row_chosen(self, message: ResultsTable.RowChosen) -> None:
        detail = self.query_one(ResultsDetail)
        detail.toggle_class("-open")
        if detail.has_class("-open"):
            self._load_detail_for(message.row)

    def on_results_table_cursor_moved(self, message: ResultsTable.CursorMoved) -> None:
        if message.row is not None and self.query_one(ResultsDetail).has_class("-open"):
            self._load_detail_for(message.row)

    def action_close_detail(self) -> None:
        self.query_one(ResultsDetail).remove_class("-open")
        self.query_one(ResultsTable).focus()

    def _load_detail_for(self, row: int) -> None:
        if self.index is not None:
            self.load_detail(self.database, self.index.run_id, int(self.index.question_ids[row]))

    @work(thread=True, exclusive=True, group="results-detail")
    def load_detail(self, database: Path, run_id: str, question_id: int) -> None:
        try:
            detail = results_data.load_detail(database, run_id, question_id)
        except StoreError as exc:
            self.post_message(self.WorkFailed("Cannot read the question", str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.DetailLoaded(run_id, question_id, detail))

    def on_results_screen_detail_loaded(self, message: DetailLoaded) -> None:
        row = self.query_one(ResultsTable).cursor_row
        if self.index is None or row is None or int(self.index.question_ids[row]) != message.question_id:
            return
        self.query_one(ResultsDetail).show(message.detail)

    # Review

    def action_review(self) -> None:
        row = self.query_one(ResultsTable).cursor_row
        if self.index is None or row is None:
            return
        question_id = int(self.index.question_ids[row])
        reviewed = self.index.grade(row) if self.index.is_reviewed(row) else None
        modal = ReviewModal(question_id, self.index.judge_grade(row), reviewed)
        run_id = self.index.run_id
        self.app.push_screen(modal, lambda choice: self._reviewed(run_id, question_id, choice))

    def _reviewed(self, run_id: str, question_id: int, choice: tuple[str | None, str] | None) -> None:
        if choice is not None:
            grade, note = choice
            self.save_review(self.database, run_id, question_id, grade, note or None)

    @work(thread=True, group="results-review")
    def save_review(self, database: Path, run_id: str, question_id: int, grade: str | None, note: str | None) -> None:
        try:
            metrics = results_data.save_review(database, run_id, question_id, grade, note)
        except StoreError as exc:
            self.post_message(self.WorkFailed("Review not saved", str(exc)))
            return
        self.post_message(self.ReviewSaved(run_id, question_id, grade, metrics))

    def on_results_screen_review_saved(self, message: ReviewSaved) -> None:
        if self.index is None or self.index.run_id != message.run_id:
            return
        row = self.index.row_of(message.question_id)
        if row is not None:
            self.index.set_review(row, message.grade)
        self.metrics = message.metrics
        self._show_metrics()
        self.apply_filters()
        if self.query_one(ResultsDetail).has_class("-open") and row is not None:
            self._load_detail_for(row)
        verdict = f"set to {message.grade}" if message.grade else "removed"
        self.notify(f"Question {message.question_id}: review {verdict}.")

    # Export

    def action_export(self) -> None:
        if self.index is None:
            return
        suffix = "-filtered" if self.filters.active else ""
        stem = f"factdeck-{self.index.run_id}{suffix}"
        defaults = {fmt: Path.cwd() / f"{stem}.{fmt}" for fmt in results_data.EXPORT_FORMATS}
        defaults["md"] = Path.cwd() / f"factdeck-{self.index.run_id}-report.md"
        question_ids = self.index.question_ids[self.selection]
        run_id = self.index.run_id
        self.app.push_screen(ExportModal(defaults, len(self.selection)), lambda choice: self._export_chosen(run_id, question_ids, choice))

    def _export_chosen(self, run_id: str, question_ids: numpy.ndarray, choice: tuple[str, Path] | None) -> None:
        if choice is not None:
            self.write_export(self.database, run_id, question_ids, *choice)

    @work(thread=True, group="results-export")
    def write_export(self, database: Path, run_id: str, question_ids: numpy.ndarray, fmt: str, path: Path) -> None:
        try:
            rows = results_data.export_rows(database, run_id, question_ids, fmt, path)
        except StoreError as exc:
            self.post_message(self.WorkFailed("Export failed", str(exc)))
            return
        except OSError as exc:
            self.post_message(self.WorkFailed("Export failed", f"{exc.filename or path}: {exc.strerror or exc}"))
            return
        self.post_message(self.ExportWritten(path, fmt, rows))

    def on_results_screen_export_written(self, message: ExportWritten) -> None:
        what = "Markdown report" if message.fmt == "md" else f"{message.rows:,} rows as {message.fmt.upper()}"
        self.notify(f"Wrote {what} to {message.path}", title="Exported", markup=False)

    def on_results_screen_work_failed(self, message: WorkFailed) -> None:
        self.notify(message.error, title=message.title, severity="error", markup=False)

    # Chart

    def action_toggle_chart(self) -> None:
        switcher = self.query_one(ContentSwitcher)
        switcher.current = "chart" if switcher.current == "table" else "table"
        if switcher.current == "table":
            self.query_one(ResultsTable).focus()

    # Figures

    def _show_metrics(self) -> None:
        self.query_one(ResultsMetrics).show(self.metrics)
        self.query_one(ResultsChart).show(self.metrics)
