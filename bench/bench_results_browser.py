"""Results screen: keypress to repainted table after a filter change, at 4,326 and 100,000 rows.

Both runs are written straight into a temporary store with `Store.insert_run`, then SQL updates
set deterministic grades. Their questions are the real SimpleQA rows, repeated for the
100,000-question run.
The Results screen runs headless in `App.run_test` at 120x40. Each sample starts when
`pilot.press` sends a grade-filter key and ends when the last screen update caused by it has been
rendered (the last `App._display` call before the following `pilot.pause()` returns), so the idle
waiting that the pilot adds after the repaint is not counted. The baseline is the naive approach,
timed the same way in the same process: a Textual `DataTable` cleared and refilled with the
filtered rows on each keypress, on the 4,326-question run.

    python -m bench.bench_results_browser [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import DATASET, figure

FULL_RUN = "20261204-000000-full"
LARGE_RUN = "20261204-000000-100k"
LARGE_SIZE = 100_000
SCREEN_SIZE = (120, 40)
# Toggling a grade on and off again, so every press changes the rows shown.
FILTER_KEYS = ("i", "u", "i", "u", "c", "c", "n", "n")
# Typing a word into the search box, then deleting it: each keystroke changes the rows shown.
SEARCH_KEYS = ("slash", "r", "i", "v", "e", "r", "backspace", "backspace", "backspace", "backspace", "backspace")
# Grade of question i: a deterministic spread close to a real model's (about 40% CORRECT).
GRADE_PATTERN = ("CORRECT",) * 8 + ("INCORRECT",) * 7 + ("NOT_ATTEMPTED",) * 3 + ("UNPARSED", "FAILED")


def build_store(database: Path, large_size: int) -> None:
    """Write a 4,326-question run and a `large_size` one, both fully graded."""
    from core.dataset import load_dataset
    from core.store import FINISHED, Store

    questions = load_dataset(DATASET).questions
    store = Store(database)
    try:
        for run_id, size in ((FULL_RUN, len(questions)), (LARGE_RUN, large_size)):
            rows = []
            for question_id in range(size):
                source = questions[question_id % len(questions)]
                rows.append({
                    "question_id": question_id,
                    "problem": source.problem,
                    "gold": source.gold,
                    "topic": source.topic,
                    "answer_type": source.answer_type,
                    "urls": json.dumps(list(source.urls)),
                })
            store.insert_run(
                {"run_id": run_id, "status": "done", "provider": "mock", "simulated": 1, "model": "mock/student-small",
                 "grader_model": "mock/judge", "dataset": str(DATASET), "sample_limit": None, "seed": 0, "settings": {}},
                rows,
            )
            updates = []
            for row in rows:
                grade = GRADE_PATTERN[(row["question_id"] * 7919) % len(GRADE_PATTERN)]
                answer = row["gold"] if grade == "CORRECT" else f"not {row['gold']}"
                if grade == "FAILED":
                    answer = None
                reply = {"CORRECT": "A", "INCORRECT": "B", "NOT_ATTEMPTED": "C"}.get(grade, "unclear")
                updates.append((FINISHED, answer, grade, None if grade == "FAILED" else reply, run_id, row["question_id"]))
            with store.transaction() as connection:
                connection.executemany(
                    "UPDATE questions SET state = ?, answer = ?, grade = ?, judge_reply = ? WHERE run_id = ? AND question_id = ?",
                    updates,
                )
    finally:
        store.close()


class RepaintClock:
    """Record when the app last rendered a screen update (headless apps render, then discard it)."""

    def __init__(self, app) -> None:
        self.last = 0.0
        display = app._display

        def timed_display(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.last = time.perf_counter()

        app._display = timed_display

    async def press(self, pilot, key: str) -> float:
        """Press `key`, wait until the app is idle, and return the seconds until its last repaint."""
        self.last = 0.0
        start = time.perf_counter()
        await pilot.press(key)
        await pilot.pause()
        end = time.perf_counter()
        return (self.last if self.last else end) - start


async def measure_results_screen(run_id: str, presses: int) -> tuple[list[float], list[float], float]:
    """Return keypress-to-repaint times (seconds) of filter keys and of search keystrokes, and the load time."""
    from textual.app import App

    from tui.screens.results import ResultsScreen
    from tui.widgets.results_table import ResultsTable

    class ResultsHost(App):
        MODES = {"results": ResultsScreen}

    app = ResultsHost()
    samples = []
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        # As `FactdeckApp.open_results` does: show_run before the screen mounts, so the screen
        # does not first open the newest run on its own.
        started = time.perf_counter()
        app.switch_mode("results")
        screen = app.screen
        screen.show_run(run_id)
        while screen.index is None or screen.index.run_id != run_id:
            await pilot.pause(0.01)
        await pilot.pause()
        load_seconds = time.perf_counter() - started
        table = screen.query_one(ResultsTable)
        if len(table.rows) == 0:
            raise RuntimeError(f"run {run_id} did not load")
        clock = RepaintClock(app)
        for number in range(presses):
            before = len(table.rows)
            samples.append(await clock.press(pilot, FILTER_KEYS[number % len(FILTER_KEYS)]))
            if number % 2 == 0 and len(table.rows) == before:
                raise RuntimeError("a filter key did not change the rows shown")
        typing = []
        for _ in range(max(presses // 10, 1)):
            await pilot.press(SEARCH_KEYS[0])
            for key in SEARCH_KEYS[1:]:
                typing.append(await clock.press(pilot, key))
            await pilot.press("enter")
    return samples, typing, load_seconds


async def measure_naive_datatable(run_id: str, presses: int) -> list[float]:
    """Return keypress-to-repaint times of a DataTable refilled with every filtered row."""
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from core.paths import resolve_paths
    from core.store import Store

    store = Store(resolve_paths().database)
    try:
        rows = store.result_index_rows(run_id)
    finally:
        store.close()

    class NaiveHost(App):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            self.hidden: set[str] = set()
            table = self.query_one(DataTable)
            table.add_columns("ID", "Grade", "Topic", "Type", "Gold target", "Predicted answer")
            self.refill()

        def refill(self) -> None:
            table = self.query_one(DataTable)
            table.clear()
            table.add_rows(
                (str(row[0]), row[3], Text(row[1]), Text(row[2]), Text(row[6]), Text(row[7] or ""))
                for row in rows if row[3] not in self.hidden
            )

        def on_key(self, event) -> None:
            grade = {"i": "INCORRECT", "u": "UNPARSED", "c": "CORRECT", "n": "NOT_ATTEMPTED"}.get(event.key)
            if grade:
                self.hidden ^= {grade}
                self.refill()

    app = NaiveHost()
    samples = []
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await pilot.pause()
        clock = RepaintClock(app)
        for number in range(presses):
            samples.append(await clock.press(pilot, FILTER_KEYS[number % len(FILTER_KEYS)]))
    return samples


def run(quick: bool = False) -> list[dict]:
    presses = 16 if quick else 40
    baseline_presses = 4 if quick else 8
    large_size = 20_000 if quick else LARGE_SIZE
    previous_home = os.environ.get("FACTDECK_HOME")
    with tempfile.TemporaryDirectory(prefix="factdeck-bench-results-") as home:
        os.environ["FACTDECK_HOME"] = home
        try:
            from core.paths import resolve_paths

            build_store(resolve_paths().database, large_size)
            full, full_typing, full_load = asyncio.run(measure_results_screen(FULL_RUN, presses))
            large, large_typing, large_load = asyncio.run(measure_results_screen(LARGE_RUN, presses))
            naive = asyncio.run(measure_naive_datatable(FULL_RUN, baseline_presses))
        finally:
            if previous_home is None:
                os.environ.pop("FACTDECK_HOME", None)
            else:
                os.environ["FACTDECK_HOME"] = previous_home

    naive_ms = 1000 * statistics.median(naive)
    full_ms = 1000 * statistics.median(full)
    large_ms = 1000 * statistics.median(large)
    return [
        figure("results filter key to repaint, 4,326 rows (median)", full_ms, "ms", naive_ms, "<= 50 ms", full_ms <= 50),
        figure(f"results filter key to repaint, {large_size:,} rows (median)", large_ms, "ms", naive_ms,
               "<= 100 ms", large_ms <= 100),
        figure("results search keystroke to repaint, 4,326 rows (median)", 1000 * statistics.median(full_typing),
               "ms", naive_ms, "<= 50 ms", 1000 * statistics.median(full_typing) <= 50),
        figure(f"results search keystroke to repaint, {large_size:,} rows (median)",
               1000 * statistics.median(large_typing), "ms", naive_ms, "<= 100 ms",
               1000 * statistics.median(large_typing) <= 100),
        figure(f"results run load in a worker, {large_size:,} rows", large_load, "s", full_load,
               "baseline: same load at 4,326 rows", True),
    ]


def main() -> int:
    results = run(quick="--quick" in sys.argv[1:])
    for result in results:
        ratio = f"{result['ratio']:.3f}x" if result["ratio"] is not None else "-"
        print(f"{result['name']}: {result['value']:.1f} {result['unit']} (baseline {result['baseline']:.1f}, "
              f"ratio {ratio}, target {result['target']}, {'met' if result['met'] else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
