"""Snapshots of the Results screen at 80x24 and 120x40 over a fixed 24-question run.

Update them with `pytest tests/tui/test_snapshots_results.py --snapshot-update` after a deliberate
change, and look at the new SVGs before committing them.
"""

from __future__ import annotations

from core.store import Store
from tests.tui.results_data_builder import build_sample_store
from tests.tui.test_results_screen import RUN_ID, make_app, open_run
from tests.tui.conftest import wait_until
from tui.widgets.results_detail import ResultsDetail


def test_results_table_80x24(snap_compare, tui_paths):
    build_sample_store(tui_paths.database, RUN_ID)
    app = make_app(tui_paths)

    async def run_before(pilot) -> None:
        await open_run(app, pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_results_filtered_reviewed_120x40(snap_compare, tui_paths):
    build_sample_store(tui_paths.database, RUN_ID)
    store = Store(tui_paths.database)
    try:
        store.set_review(RUN_ID, 1, "CORRECT", "the gold target is outdated")
    finally:
        store.close()
    app = make_app(tui_paths)

    async def run_before(pilot) -> None:
        await open_run(app, pilot)
        await pilot.press("c", "i")

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_results_detail_pane_80x24(snap_compare, tui_paths):
    build_sample_store(tui_paths.database, RUN_ID)
    app = make_app(tui_paths)

    async def run_before(pilot) -> None:
        await open_run(app, pilot)
        await pilot.press("down", "enter")
        body = app.screen.query_one(ResultsDetail).query_one("#detail-body")
        await wait_until(pilot, lambda: "Question 1 " in str(body.render()))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_results_topic_chart_120x40(snap_compare, tui_paths):
    build_sample_store(tui_paths.database, RUN_ID)
    app = make_app(tui_paths)

    async def run_before(pilot) -> None:
        await open_run(app, pilot)
        await pilot.press("m")

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
