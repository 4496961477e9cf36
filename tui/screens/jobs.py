"""The Jobs screen: a live table of every batch job of every run, with k9s-style keys.

Rows are keyed by job id and only their changed cells are updated in place (`LiveTable`), so the cursor and the scroll
position stay put while the engine loop posts a fresh snapshot every tick. The table is rebuilt
only when the set or order of visible rows changes (a new job, a filter, a sort).

| Key | Action |
|---|---|
| / | filter rows (text anywhere in the row; a leading `!` keeps rows that do not match) |
| ! | invert the filter |
| escape | clear the filter |
| s, S | sort by the next column, reverse the order |
| space | mark or unmark the job under the cursor |
| c | cancel the marked jobs, or the one under the cursor, after a confirmation (their runs go on) |
| C | cancel the whole run(s) of those jobs: every batch, nothing new submitted |
| enter | open the job's run on the Results screen |
| ctrl+r | step the engine and reread the jobs now |
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from tui.backend import JobRow, JobsSnapshot
from tui.jobs_format import COLUMNS, SORT_KEYS, row_cells, searchable_text, sort_value
from tui.modals import ConfirmScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.live_table import LiveTable

FINISHED_STATES = ("done", "failed", "expired", "cancelled")
CONFIRM_LIST_LIMIT = 12


class JobsScreen(Screen):
    """Every batch job of every run, refreshed by the app's engine loop."""

    TITLE = "Jobs"
    # Fits 80 columns; sorting, opening a run's results and the rest are under ? and ctrl+p.
    KEY_BAR = (("c", "cancel job"), ("C", "cancel run"), ("space", "mark"), ("/", "filter"))
    BINDINGS = [
        Binding("slash", "start_filter", "Filter", id="jobs.filter"),
        Binding("exclamation_mark", "invert_filter", "Invert filter", show=False, id="jobs.invert"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="jobs.clear_filter"),
        Binding("s", "sort_next", "Sort", id="jobs.sort"),
        Binding("S", "sort_reverse", "Reverse sort", show=False, id="jobs.sort_reverse"),
        Binding("space", "toggle_mark", "Mark", id="jobs.mark"),
        Binding("c", "cancel", "Cancel jobs", id="jobs.cancel",
                tooltip="Cancel the marked jobs, or the one under the cursor; their runs go on"),
        Binding("C", "cancel_runs", "Cancel runs", id="jobs.cancel_runs",
                tooltip="Cancel the whole runs of those jobs: every batch, nothing new submitted"),
        Binding("enter", "open_results", "Results", id="jobs.open"),
        Binding("ctrl+r", "app.refresh_jobs", "Refresh", id="jobs.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snapshot: JobsSnapshot | None = None
        self.filter_text = ""
        self.filter_inverted = False
        self.sort_key = "age"
        self.sort_reverse = False
        self.marked: set[int] = set()
        self._shown_keys: list[str] = []
        self._shown_cells: dict[str, dict[str, Text | str]] = {}
        self._rows_by_key: dict[str, JobRow] = {}
        self._shown_status = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Waiting for the first refresh…", id="jobs-status", markup=False)
        yield LiveTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label, width in COLUMNS:
            table.add_column(label, width=width, key=key)
        self.app.jobs_changed.subscribe(self, self.show_snapshot)
        if self.app.jobs_snapshot is not None:
            self.show_snapshot(self.app.jobs_snapshot)
        table.focus()

    @property
    def table(self) -> LiveTable:
        return self.query_one("#jobs-table", LiveTable)

    # Rendering

    def show_snapshot(self, snapshot: JobsSnapshot) -> None:
        self.snapshot = snapshot
        known = {row.job_id for row in snapshot.rows}
        self.marked &= known
        self._render_rows()

    def visible_rows(self) -> list[JobRow]:
        """Rows that pass the filter, in the chosen sort order."""
        if self.snapshot is None:
            return []
        needle, inverted = self.filter_text.lower(), self.filter_inverted
        if needle.startswith("!"):
            needle, inverted = needle[1:], not inverted
        rows = [row for row in self.snapshot.rows if not needle or (needle in searchable_text(row)) != inverted]
        now = self.snapshot.taken_at
        return sorted(rows, key=lambda row: sort_value(row, self.sort_key, now), reverse=self.sort_reverse)

    def _render_rows(self) -> None:
        if self.snapshot is None:
            return
        rows = self.visible_rows()
        now = self.snapshot.taken_at
        cells = {str(row.job_id): row_cells(row, row.job_id in self.marked, now) for row in rows}
        keys = list(cells)
        table = self.table
        if keys == self._shown_keys:
            changes = {}
            for key, row_values in cells.items():
                previous = self._shown_cells.get(key, {})
                changed = {column: value for column, value in row_values.items() if previous.get(column) != value}
                if changed:
                    changes[key] = changed
            table.update_rows(changes)
        else:
            self._rebuild(table, keys, cells)
        self._shown_keys = keys
        self._shown_cells = cells
        self._rows_by_key = {str(row.job_id): row for row in rows}
        self._show_status(rows)

    def _rebuild(self, table: LiveTable, keys: list[str], cells: dict[str, dict]) -> None:
        cursor_key = self._cursor_key()
        scroll_y = table.scroll_y
        table.clear()
        for key in keys:
            table.add_row(*cells[key].values(), key=key)
        if cursor_key in keys:
            table.move_cursor(row=keys.index(cursor_key), animate=False, scroll=False)
        table.scroll_to(y=scroll_y, animate=False)

    def _cursor_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:  # noqa: BLE001 - a stale cursor after a clear has no key
            return None

    def _show_status(self, rows: list[JobRow]) -> None:
        snapshot = self.snapshot
        refreshed = time.strftime("%H:%M:%S", time.localtime(snapshot.taken_at))
        running = sum(row.state in ("validating", "running") for row in snapshot.rows)
        stalled = sum(row.stalled for row in snapshot.rows)
        # Short parts, so the line fits 80 columns with a filter and marks.
        activity = f"{running} running" + (f", {stalled} stalled" if stalled else "")
        parts = [f"Refreshed {refreshed}", f"{snapshot.run_count} runs, {len(snapshot.rows)} jobs: {activity}"]
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        if self.filter_text or self.filter_inverted:
            parts.append(f"{'NOT ' if self.filter_inverted else ''}{self.filter_text!r}: {len(rows)} shown")
        parts.append(f"sort {self.sort_key}{'↑' if self.sort_reverse else '↓'}")
        if not snapshot.rows:
            parts.append("no jobs yet: start a run on Models (1)")
        text = " · ".join(parts)
        if text != self._shown_status:
            self._shown_status = text
            # One fixed-height line: no layout pass, which would repaint the whole screen.
            self.query_one("#jobs-status", Static).update(Text(text), layout=False)

    # Filter

    def action_start_filter(self) -> None:
        boxes = self.query("#jobs-filter").results(Input)
        box = next(boxes, None)
        if box is None:
            # Mounted on first use: an Input costs start-up time and stays hidden until now.
            box = Input(placeholder="filter: text in any column; start with ! to invert", id="jobs-filter")
            self.mount(box, before=self.table)
        box.add_class("visible")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "jobs-filter":
            self.filter_text = event.value
            self._render_rows()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "jobs-filter":
            if not event.value:
                event.input.remove_class("visible")
            self.table.focus()

    def action_invert_filter(self) -> None:
        self.filter_inverted = not self.filter_inverted
        self._render_rows()

    def action_clear_filter(self) -> None:
        for box in self.query("#jobs-filter").results(Input):
            box.value = ""
            box.remove_class("visible")
        self.filter_text = ""
        self.filter_inverted = False
        self.table.focus()
        self._render_rows()

    # Sort

    def action_sort_next(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._render_rows()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._render_rows()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = event.column_key.value
        if key in SORT_KEYS:
            self.sort_reverse = not self.sort_reverse if key == self.sort_key else False
            self.sort_key = key
            self._render_rows()

    # Marks, cancel, results

    def selected_row(self) -> JobRow | None:
        key = self._cursor_key()
        return self._rows_by_key.get(key) if key else None

    def action_toggle_mark(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.marked ^= {row.job_id}
        self._render_rows()
        if self.table.cursor_row < self.table.row_count - 1:
            self.table.move_cursor(row=self.table.cursor_row + 1)

    def _chosen_rows(self) -> list[JobRow]:
        """Return the marked jobs, or else the one under the cursor."""
        if self.snapshot is None:
            return []
        chosen = [row for row in self.snapshot.rows if row.job_id in self.marked]
        if not chosen and (row := self.selected_row()) is not None:
            chosen = [row]
        return chosen

    def action_cancel(self) -> None:
        targets = [row for row in self._chosen_rows() if row.state not in FINISHED_STATES]
        if not targets:
            self.notify("No unfinished job is marked or under the cursor.", title="Nothing to cancel", severity="warning")
            return
        body = Text(
            "Cancel these batch jobs at the provider? Their runs go on: answers the jobs already produced are kept "
            "and sent to the judge in a new batch; questions they did not answer end as failed.\n"
            "To stop a run and submit nothing new for it, press n, then C (cancel the whole run).\n\n"
        )
        for row in targets[:CONFIRM_LIST_LIMIT]:
            body.append(f"job {row.job_id}  run {row.run_id}  {row.phase} shard {row.shard}  ({row.state})\n")
        if len(targets) > CONFIRM_LIST_LIMIT:
            body.append(f"… and {len(targets) - CONFIRM_LIST_LIMIT} more\n")
        job_ids = [row.job_id for row in targets]

        def cancel_if_confirmed(confirmed: bool | None) -> None:
            if confirmed:
                self.app.engine_loop.cancel(job_ids)
                self.marked.clear()
                self.notify(f"Cancelling {len(job_ids)} job(s); their runs go on.", title="Cancel", timeout=3)

        self.app.push_screen(ConfirmScreen(f"Cancel {len(targets)} job(s); the run goes on?", body, "Cancel jobs"),
                             cancel_if_confirmed)

    def action_cancel_runs(self) -> None:
        finished_runs = {row.run_id for row in self.snapshot.rows if row.run_finished} if self.snapshot else set()
        run_ids = list(dict.fromkeys(row.run_id for row in self._chosen_rows() if row.run_id not in finished_runs))
        if not run_ids:
            self.notify("No unfinished run has a job marked or under the cursor.", title="Nothing to cancel", severity="warning")
            return
        body = Text(
            "Cancel these runs? Every unfinished batch of them is cancelled at the provider and nothing new is "
            "submitted: answered questions are not sent to the judge. Answers and grades already produced are kept; "
            "questions still waiting end as failed, and each run ends as cancelled.\n\n"
        )
        for run_id in run_ids[:CONFIRM_LIST_LIMIT]:
            body.append(f"run {run_id}\n")
        if len(run_ids) > CONFIRM_LIST_LIMIT:
            body.append(f"… and {len(run_ids) - CONFIRM_LIST_LIMIT} more\n")

        def cancel_if_confirmed(confirmed: bool | None) -> None:
            if confirmed:
                self.app.engine_loop.cancel_runs(run_ids)
                self.marked.clear()
                self.notify(f"Cancelling {len(run_ids)} run(s); nothing new is submitted.", title="Cancel", timeout=3)

        self.app.push_screen(ConfirmScreen(f"Cancel the whole run(s): {len(run_ids)}?", body, "Cancel runs"), cancel_if_confirmed)

    def action_open_results(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.app.open_results(row.run_id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_results()
