"""The Results screen over stores with known grades: filters, counts, jumps, details, reviews, exports."""

from __future__ import annotations

import csv
import json

import pytest

from core.report import metrics_json
from core.store import Store
from tests.conftest import DATASET, run_cli
from tests.tui.conftest import FIXED_NOW, wait_until
from tests.tui.results_data_builder import (
    GRADE_CYCLE,
    UNTRUSTED_ANSWERS,
    GradedQuestion,
    build_sample_store,
    insert_graded_run,
    sample_questions,
)
from tui.app import FactdeckApp
from tui.results_index import Filters, ResultsIndex, Sorting
from tui.widgets.results_detail import ResultsDetail
from tui.widgets.results_table import ResultsTable

RUN_ID = "20261204-120000-abcd"
SAMPLE_IDS = list(range(24))


def make_app(paths) -> FactdeckApp:
    return FactdeckApp(paths, tick_seconds=0.05, step_engine=False, clock=lambda: FIXED_NOW, start_mode="jobs")


async def open_run(app, pilot, run_id: str = RUN_ID) -> None:
    app.open_results(run_id)
    await wait_until(pilot, lambda: getattr(app.screen, "index", None) is not None and app.screen.index.run_id == run_id)
    await pilot.pause()


def table_of(app) -> ResultsTable:
    return app.screen.query_one(ResultsTable)


def shown_ids(app) -> list[int]:
    index = app.screen.index
    return [int(index.question_ids[row]) for row in table_of(app).rows]


def table_lines(app) -> list[str]:
    table = table_of(app)
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def rendered_text(widget) -> str:
    """Return the lines a widget draws on screen, as plain text."""
    return "\n".join(strip.text.rstrip() for strip in widget.render_lines(widget.size.region))


def counts_line(app) -> str:
    return str(app.screen.query_one("#counts").render()).splitlines()[0]


def ids_with(*grades: str) -> list[int]:
    return [number for number in SAMPLE_IDS if GRADE_CYCLE[number % len(GRADE_CYCLE)] in grades]


@pytest.fixture
def sample_run(tui_paths) -> str:
    return build_sample_store(tui_paths.database, RUN_ID)


# The in-memory index, without the app


def sample_index() -> ResultsIndex:
    rows = [
        (q.question_id, q.topic, q.answer_type, q.grade, None, q.problem, q.gold, q.answer)
        for q in sample_questions()
    ]
    return ResultsIndex.from_rows(RUN_ID, rows)


def test_index_filters_two_grades():
    index = sample_index()
    selection = index.select(Filters(grades=frozenset({"INCORRECT", "UNPARSED"})))
    assert [int(index.question_ids[row]) for row in selection] == ids_with("INCORRECT", "UNPARSED")
    assert index.grade_counts(selection) == {
        "CORRECT": 0, "INCORRECT": 6, "NOT_ATTEMPTED": 0, "UNPARSED": 3, "FAILED": 0, "PENDING": 0,
    }


def test_index_filters_topic_type_and_text():
    index = sample_index()
    art = index.select(Filters(topics=frozenset({"Art"})))
    assert [int(index.question_ids[row]) for row in art] == [0, 5, 10, 15, 20]
    art_dates = index.select(Filters(topics=frozenset({"Art"}), answer_types=frozenset({"Date"})))
    assert [int(index.question_ids[row]) for row in art_dates] == [0, 20]
    doki = index.select(Filters(text="DOKI doki☆"))
    assert [int(index.question_ids[row]) for row in doki] == [3]
    # A longer needle narrows the previous match; a shorter one scans again.
    assert len(index.select(Filters(text="gold 1"))) == 11  # gold 1, gold 10 .. gold 19
    assert [int(index.question_ids[row]) for row in index.select(Filters(text="gold 12"))] == [12]
    assert len(index.select(Filters(text="gold"))) == 24


def test_index_sorts_and_keeps_id_order_in_ties():
    index = sample_index()
    by_grade = [int(index.question_ids[row]) for row in index.select(Filters(), Sorting("grade"))]
    assert by_grade[:9] == ids_with("CORRECT")
    assert by_grade[-3:] == ids_with("FAILED")
    descending = [int(index.question_ids[row]) for row in index.select(Filters(), Sorting("id", descending=True))]
    assert descending == list(reversed(SAMPLE_IDS))


def test_index_next_grade_wraps_round():
    index = sample_index()
    selection = index.select(Filters())
    assert index.next_with_grade(selection, 0, frozenset({"INCORRECT"})) == 1
    assert index.next_with_grade(selection, 1, frozenset({"INCORRECT"})) == 7
    assert index.next_with_grade(selection, 23, frozenset({"INCORRECT"})) == 1
    assert index.next_with_grade(selection[:1], 0, frozenset({"UNPARSED"})) is None


def test_index_review_overrides_grade():
    index = sample_index()
    index.set_review(1, "CORRECT")
    assert index.grade(1) == "CORRECT"
    assert index.judge_grade(1) == "INCORRECT"
    assert index.is_reviewed(1)
    assert 1 in [int(index.question_ids[row]) for row in index.select(Filters(grades=frozenset({"CORRECT"})))]
    index.set_review(1, None)
    assert index.grade(1) == "INCORRECT"


# The screen


async def test_grade_keys_filter_two_grades(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        assert shown_ids(app) == SAMPLE_IDS
        assert counts_line(app) == "24 of 24 shown  ✓ 9 ✗ 6 – 3 ? 3 ! 3"

        await pilot.press("i", "u")
        assert shown_ids(app) == ids_with("INCORRECT", "UNPARSED")
        assert counts_line(app) == "9 of 24 shown  ✓ 0 ✗ 6 – 0 ? 3 ! 0"

        await pilot.press("i")
        assert shown_ids(app) == ids_with("UNPARSED")
        await pilot.press("x")
        assert shown_ids(app) == SAMPLE_IDS


async def test_topic_modal_filters_rows(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("t", "space", "down", "down", "space", "escape")
        assert shown_ids(app) == [0, 2, 5, 7, 10, 12, 15, 17, 20, 22]  # Art and History
        assert counts_line(app) == "10 of 24 shown  ✓ 4 ✗ 3 – 0 ? 2 ! 1"
        await pilot.press("a", "space", "escape")  # answer type Date
        assert shown_ids(app) == [0, 12, 20]


async def test_search_filters_as_typed(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("slash", *"bold red")
        assert shown_ids(app) == [1]
        assert counts_line(app) == "1 of 24 shown  ✓ 0 ✗ 1 – 0 ? 0 ! 0"
        await pilot.press("enter")
        assert app.focused is table_of(app)
        # Grade keys filter again once the table has focus.
        await pilot.press("c")
        assert shown_ids(app) == []


async def test_sort_keys_reorder_rows(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        assert table_lines(app)[0].startswith("ID ↑ ")
        await pilot.press("s")
        assert shown_ids(app)[:9] == ids_with("CORRECT")
        assert shown_ids(app)[-3:] == ids_with("FAILED")
        assert "Grade ↑" in table_lines(app)[0]
        await pilot.press("S")
        assert shown_ids(app)[:3] == list(reversed(ids_with("FAILED")))
        assert "Grade ↓" in table_lines(app)[0]
        await pilot.press("s", "s")  # past topic to answer type
        assert "Type ↑" in table_lines(app)[0]
        assert shown_ids(app)[:6] == [0, 4, 8, 12, 16, 20]  # Date comes first


async def test_jump_keys_find_next_grade(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        table = table_of(app)
        await pilot.press("I")
        assert table.cursor == 1
        await pilot.press("I")
        assert table.cursor == 7
        await pilot.press("U")
        assert table.cursor == 12
        await pilot.press("end")
        assert table.cursor == 23
        await pilot.press("I")
        assert table.cursor == 1  # wrapped round


async def test_cursor_keys_scroll_long_selection(tui_paths):
    store = Store(tui_paths.database)
    try:
        insert_graded_run(store, RUN_ID, sample_questions(300))
    finally:
        store.close()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("end")
        assert table_of(app).cursor == 299
        assert table_lines(app)[-1].startswith("299 ")
        await pilot.press("pageup")
        assert table_of(app).cursor == 299 - (table_of(app).scrollable_content_region.height - 1)
        await pilot.press("home")
        assert table_lines(app)[1].startswith("0 ")


async def test_detail_pane_shows_full_question(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(app, pilot)
        detail = app.screen.query_one(ResultsDetail)
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: "Question 1 " in str(detail.query_one("#detail-body").render()))
        text = str(detail.query_one("#detail-body").render())
        assert "Question number 1: which value is 7?\nSecond line of the question." in text
        assert "Gold target\ngold 1\n" in text
        assert "Predicted answer\n[bold red]X[/]\n" in text
        assert "Judge's reply\nB\n" in text
        assert "https://en.wikipedia.org/wiki/Item_1\nhttps://example.test/[b]x[/b]\n" in text
        assert "answer: 50 prompt + 8 completion (1 attempt(s))" in text
        assert "judge: 400 prompt + 2 completion (1 attempt(s))" in text
        assert "Failure reason" not in text

        table_of(app).move_cursor(6)
        await wait_until(pilot, lambda: "Question 6 " in str(detail.query_one("#detail-body").render()))
        text = str(detail.query_one("#detail-body").render())
        assert "Failure reason\nanswer request failed 3 times: HTTP 500 [red]boom[/red]\n" in text
        assert "Predicted answer\n(no answer)" in text

        await pilot.press("escape")
        assert not detail.has_class("-open")


async def test_untrusted_text_is_literal(tui_paths):
    questions = sample_questions(6)
    questions[4].answer = "\x1b[31mred\x1b[0m\nsecond line\x07"
    store = Store(tui_paths.database)
    try:
        insert_graded_run(store, RUN_ID, questions)
    finally:
        store.close()
    app = make_app(tui_paths)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(app, pilot)
        lines = table_lines(app)
        for number, answer in enumerate(UNTRUSTED_ANSWERS):
            assert lines[number + 1].rstrip().endswith(answer), lines[number + 1]
        assert lines[5].rstrip().endswith("red second line")

        table_of(app).move_cursor(4)
        await pilot.press("enter")
        detail = app.screen.query_one(ResultsDetail)
        await wait_until(pilot, lambda: "Question 4 " in str(detail.query_one("#detail-body").render()))
        assert "Predicted answer\nred\nsecond line\n" in str(detail.query_one("#detail-body").render())

    # The store keeps the answer as the model sent it.
    store = Store(tui_paths.database)
    try:
        assert store.question_detail(RUN_ID, 4)["answer"] == "\x1b[31mred\x1b[0m\nsecond line\x07"
    finally:
        store.close()


async def test_review_override_is_stored_and_counted(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("down", "r")
        await pilot.pause()
        await pilot.press("up", "enter", *"judge missed it", "enter")
        await wait_until(pilot, lambda: app.screen.index.is_reviewed(1))
        await pilot.pause()

        assert "✓ CORRECT ✎" in table_lines(app)[2]
        assert counts_line(app) == "24 of 24 shown  ✓ 10 ✗ 5 – 3 ? 3 ! 3"
        metrics = app.screen.metrics
        assert metrics["correct"] == 9
        assert metrics["reviewed"]["correct"] == 10
        assert metrics["reviewed"]["incorrect"] == 5
        assert metrics["reviewed"]["overrides"] == 1
        assert metrics["reviewed"]["accuracy"] == 10 / 18
        assert metrics["accuracy"] == 9 / 18
        figures = rendered_text(app.screen.query_one("#metrics"))
        assert "Judge        50.0% (29.0-71.0%)  60.0% (35.7-80.2%)  54.5% (30.3-76.5%)" in figures
        assert "Reviewed ✎1  55.6% (33.7-75.4%)  66.7% (41.7-84.8%)  60.6% (37.5-82.4%)" in figures

    store = Store(tui_paths.database)
    try:
        review = store.query("SELECT * FROM reviews WHERE run_id = ?", (RUN_ID,))
        judge = store.question_detail(RUN_ID, 1)["grade"]
    finally:
        store.close()
    assert [(row["question_id"], row["grade"], row["note"]) for row in review] == [(1, "CORRECT", "judge missed it")]
    assert review[0]["reviewed_at"] > 0
    assert judge == "INCORRECT"


async def test_review_can_be_removed(tui_paths, sample_run):
    store = Store(tui_paths.database)
    try:
        store.set_review(RUN_ID, 0, "INCORRECT", None)
    finally:
        store.close()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        assert app.screen.index.grade(0) == "INCORRECT"
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("end", "enter", "enter")
        await wait_until(pilot, lambda: not app.screen.index.is_reviewed(0))
        assert "reviewed" not in app.screen.metrics


def exports_done(app) -> bool:
    return not any(worker.group == "results-export" and not worker.is_finished for worker in app.screen.workers)


async def export(app, pilot, path, format_position: int) -> None:
    await pilot.press("e")
    await pilot.pause()
    await pilot.press(*(["down"] * format_position), "enter")
    app.screen.query_one("#path").value = str(path)
    await pilot.press("enter")
    await wait_until(pilot, path.exists)
    await wait_until(pilot, lambda: exports_done(app))


async def test_export_writes_filtered_rows(tui_paths, sample_run, tmp_path):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("i", "f")
        csv_path = tmp_path / "out" / "rows.csv"
        await export(app, pilot, csv_path, 0)
        jsonl_path = tmp_path / "rows.jsonl"
        await export(app, pilot, jsonl_path, 1)
        report_path = tmp_path / "report.md"
        await export(app, pilot, report_path, 2)
        notices = [notification.message for notification in app._notifications]
        assert f"Wrote 9 rows as CSV to {csv_path}" in notices
        assert f"Wrote 9 rows as JSONL to {jsonl_path}" in notices
        assert f"Wrote Markdown report to {report_path}" in notices

    with csv_path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(row["question_id"]) for row in rows] == ids_with("INCORRECT", "FAILED")
    assert rows[0]["answer"] == "[bold red]X[/]"
    lines = jsonl_path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["question_id"] for line in lines] == ids_with("INCORRECT", "FAILED")
    assert {json.loads(line)["grade"] for line in lines} == {"INCORRECT", "FAILED"}
    report = report_path.read_text(encoding="utf-8")
    assert report.startswith(f"# SimpleQA run {RUN_ID} (SIMULATED")
    assert "| Accuracy | 50.0% |" in report


async def test_export_failure_is_notified(tui_paths, sample_run, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    target = blocker / "rows.csv"
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("e")
        await pilot.pause()
        await pilot.press("enter")
        app.screen.query_one("#path").value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.title == "Export failed" for n in app._notifications))
        failure = next(n for n in app._notifications if n.title == "Export failed")
        assert failure.message == f"{blocker}: File exists"
        assert failure.severity == "error"
    assert not target.exists()


async def test_export_default_path_follows_format(tui_paths, sample_run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("u", "e")
        await pilot.pause()
        path_input = app.screen.query_one("#path")
        assert path_input.value == str(tmp_path / f"factdeck-{RUN_ID}-filtered.csv")
        await pilot.press("down")
        assert path_input.value == str(tmp_path / f"factdeck-{RUN_ID}-filtered.jsonl")
        await pilot.press("enter", "enter")
        await wait_until(pilot, (tmp_path / f"factdeck-{RUN_ID}-filtered.jsonl").exists)
        await wait_until(pilot, lambda: exports_done(app))
    lines = (tmp_path / f"factdeck-{RUN_ID}-filtered.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3


async def test_run_picker_switches_runs(tui_paths, sample_run):
    store = Store(tui_paths.database)
    try:
        other = [GradedQuestion(7, "Only question?", "yes", "Music", "Other", "CORRECT", "yes")]
        insert_graded_run(store, "20261204-130000-real", other, simulated=False, model="org/real-model",
                          created_at=FIXED_NOW + 60)
    finally:
        store.close()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        assert str(app.screen.query_one("#run-bar").render()).startswith("SIMULATED mock/student-small")
        await pilot.press("p")
        await wait_until(pilot, lambda: app.screen.query("#runs"))
        options = app.screen.query_one("#runs")
        assert "SIMULATED" in str(options.get_option_at_index(1).prompt)
        assert "SIMULATED" not in str(options.get_option_at_index(0).prompt)
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: app.screen.index is not None and app.screen.index.run_id == "20261204-130000-real")
        await pilot.pause()
        assert shown_ids(app) == [7]
        assert str(app.screen.query_one("#run-bar").render()).startswith("org/real-model")


async def test_reload_keeps_filters(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("i")
        assert shown_ids(app) == ids_with("INCORRECT")
        store = Store(tui_paths.database)
        try:
            store.set_review(RUN_ID, 7, "NOT_ATTEMPTED", "set elsewhere")
        finally:
            store.close()
        index_before = app.screen.index
        await pilot.press("R")
        await wait_until(pilot, lambda: app.screen.index is not index_before)
        await pilot.pause()
        assert shown_ids(app) == [number for number in ids_with("INCORRECT") if number != 7]
        assert app.screen.metrics["reviewed"]["overrides"] == 1


async def test_chart_shows_accuracy_per_topic(tui_paths, sample_run):
    app = make_app(tui_paths)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_run(app, pilot)
        await pilot.press("m")
        chart = str(app.screen.query_one("#chart").render())
        assert "Art" in chart
        assert "75.0% (30.1-95.4%)" in chart  # Art: 3 correct of 4 graded
        assert "Science and technology" in chart


async def test_results_of_engine_run(tui_paths):
    result = run_cli(
        ["run", "--provider", "mock", "--model", "mock/student-small", "--grader-model", "mock/judge",
         "--dataset", str(DATASET), "--limit", "40", "--poll-interval", "0.2", "--wait", "--json"],
        tui_paths.config_dir,
    )
    assert result.returncode == 0, result.stderr
    expected = result.json()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot, expected["run_id"])
        counts = app.screen.index.grade_counts(table_of(app).rows)
        assert len(table_of(app).rows) == 40
        for grade in ("CORRECT", "INCORRECT", "NOT_ATTEMPTED", "UNPARSED", "FAILED"):
            assert counts[grade] == expected[grade.lower()]
        assert str(app.screen.query_one("#run-bar").render()).startswith("SIMULATED")
        await pilot.press("i")
        assert len(table_of(app).rows) == expected["incorrect"]

    store = Store(tui_paths.database)
    try:
        assert metrics_json(store, expected["run_id"])["correct"] == expected["correct"]
    finally:
        store.close()


async def test_key_bar_fits_80_columns_most_wanted_first(tui_paths, sample_run):
    from tui.widgets.key_bar import KeyBar

    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        line = app.screen.query_one(KeyBar).describe_keys().plain
        assert line == " r  review  e  export  m  chart  p  runs  /  search  ?  keys  ^p  palette"
        assert len(line) <= 80


async def test_palette_finds_export_and_opens_it(tui_paths, sample_run):
    from textual.command import CommandPalette

    from tui.widgets.results_modals import ExportModal

    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_run(app, pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"export")
        await wait_until(pilot, lambda: app.screen.query("CommandList").first().option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportModal))
