"""The Jobs screen over a store with fixed jobs: cells, in-place updates, filter, sort, marks, cancel."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import DataTable

from core.store import Store
from tests.tui.conftest import FIXED_NOW, UNTRUSTED, insert_job, insert_run, wait_until
from tui.app import FactdeckApp
from core.text import one_line
from tui.backend import JobsRefreshed
from tui.jobs_format import MODEL_WIDTH, duration
from tui.modals import ConfirmScreen
from tui.screens.jobs import JobsScreen


def make_app(paths) -> FactdeckApp:
    return FactdeckApp(paths, tick_seconds=0.05, step_engine=False, clock=lambda: FIXED_NOW, start_mode="jobs")


def table_of(app) -> DataTable:
    return app.screen.query_one("#jobs-table", DataTable)


def cells(app, job_id: int) -> dict[str, str]:
    table = table_of(app)
    values = table.get_row(str(job_id))
    return {column.key.value: str(value) for column, value in zip(table.ordered_columns, values)}


def shown_ids(app) -> list[int]:
    return [int(row.key.value) for row in table_of(app).ordered_rows]


async def test_jobs_table_shows_every_job(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)

        running = cells(app, ids["running"])
        assert running["state"] == "▶ running"
        assert running["progress"] == "████░░░░░░  40%"
        assert running["requests"] == "40/100"
        assert running["failed"] == "0"
        assert running["age"] == "10m"
        assert running["eta"] == "8m"  # 30 points in 240 s, 60 points left
        assert running["model"] == "meta-llama/Llama-3.3-70B-…"
        assert running["run"] == "aaaa"
        assert running["run_id"] == "20251204-200000-aaaa"
        assert running["phase"] == "answers"

        stalled = cells(app, ids["stalled"])
        assert stalled["state"] == "⚠ stalled"
        assert stalled["eta"] == "—"

        assert cells(app, ids["rate_limited"])["note"] == "rate limited, retrying in 40 s"
        assert cells(app, ids["rate_limited"])["state"] == "… validating"
        done = cells(app, ids["done"])
        assert done["state"] == "✓ done"
        assert done["requests"] == "98/100"
        assert done["failed"] == "2"
        assert done["model"] == "mock/student-small"
        assert done["run"] == "bbbb"
        assert done["run_id"] == "20251204-201000-bbbb (simulated)"
        judge = cells(app, ids["judge"])
        assert judge["state"] == "· queued"
        assert judge["model"] == "judge/model-70b"
        assert judge["phase"] == "judge"

        status = str(app.screen.query_one("#jobs-status").render())
        assert status == "Refreshed 20:26:40 · 2 runs, 5 jobs: 3 running, 1 stalled · sort age↓"


async def test_snapshot_updates_cells_in_place(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)
        app.engine_loop.tick_seconds = 60  # no more ticks: this test posts its own snapshot
        await pilot.pause(0.2)
        table = table_of(app)
        table.move_cursor(row=2)
        key_before = shown_ids(app)[2]

        snapshot = app.jobs_snapshot
        rows = tuple(replace(row, progress=80.0, stalled=True) if row.job_id == ids["running"] else row for row in snapshot.rows)
        app.post_message(JobsRefreshed(replace(snapshot, rows=rows), []))
        await pilot.pause(0.1)

        assert cells(app, ids["running"])["progress"] == "████████░░  80%"
        line = shown_ids(app).index(ids["running"]) + 1  # below the header line
        # At 80 columns the row shows its run, phase, shard, status, progress, done/total and ETA.
        assert "".join(segment.text for segment in table.render_line(line)).startswith(
            "    aaaa  answers     1   ⚠ stalled      ████████░░  80%  40/100      —   "
        )
        assert table.cursor_row == 2
        assert shown_ids(app)[2] == key_before


async def test_filter_and_inverted_filter(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)

        await pilot.press("slash", *"stalled", "enter")
        assert shown_ids(app) == [ids["stalled"]]

        await pilot.press("exclamation_mark")
        assert sorted(shown_ids(app)) == sorted(set(ids.values()) - {ids["stalled"]})

        await pilot.press("escape")
        assert table_of(app).row_count == 5

        await pilot.press("slash", *"!aaaa", "enter")
        assert sorted(shown_ids(app)) == sorted([ids["done"], ids["judge"]])


async def test_sort_cycles_columns(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)
        # Default: age ascending, so the newest job comes first.
        assert shown_ids(app)[0] == ids["judge"]

        screen = app.screen
        while screen.sort_key != "progress":
            await pilot.press("s")
        assert shown_ids(app) == [ids["judge"], ids["rate_limited"], ids["stalled"], ids["running"], ids["done"]]

        await pilot.press("S")
        assert shown_ids(app) == [ids["done"], ids["running"], ids["stalled"], ids["rate_limited"], ids["judge"]]


async def test_mark_and_cancel_after_confirmation(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)
        table = table_of(app)
        # Mark the queued judge job and the finished job. Only the unfinished one is cancelled.
        for job in ("judge", "done"):
            table.move_cursor(row=shown_ids(app).index(ids[job]))
            await pilot.press("space")
        assert app.screen.marked == {ids["judge"], ids["done"]}
        assert cells(app, ids["judge"])["mark"] == "●"
        status = str(app.screen.query_one("#jobs-status").render())
        assert status == "Refreshed 20:26:40 · 2 runs, 5 jobs: 3 running, 1 stalled · 2 marked · sort age↓"

        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.title_text == "Cancel 1 job(s); the run goes on?"
        assert str(app.screen.body).startswith(
            "Cancel these batch jobs at the provider? Their runs go on: answers the jobs already produced are kept "
            "and sent to the judge in a new batch; questions they did not answer end as failed.\n"
        )
        await pilot.press("y")

        await wait_until(pilot, lambda: cells(app, ids["judge"])["state"] == "⊘ cancelled")
        assert cells(app, ids["done"])["state"] == "✓ done"
        assert app.screen.marked == set()

    store = Store(tui_paths.database)
    assert store.job(ids["judge"])["cancel_requested"] == 1
    assert store.job(ids["running"])["cancel_requested"] == 0
    store.close()


async def test_cancel_run_of_cursor_job(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)
        table_of(app).move_cursor(row=shown_ids(app).index(ids["done"]))
        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.title_text == "Cancel the whole run(s): 1?"
        assert "nothing new is submitted: answered questions are not sent to the judge" in str(app.screen.body)
        assert str(app.screen.body).endswith("run 20251204-201000-bbbb\n")
        await pilot.press("y")
        await wait_until(pilot, lambda: cells(app, ids["judge"])["state"] == "⊘ cancelled")

        # The run is now cancelled, so a second C finds nothing to cancel.
        await pilot.press("C")
        await pilot.pause(0.1)
        assert isinstance(app.screen, JobsScreen)
        assert [notification.title for notification in app._notifications][-1] == "Nothing to cancel"

    store = Store(tui_paths.database)
    assert store.run("20251204-201000-bbbb")["cancel_requested"] == 1
    assert store.run("20251204-200000-aaaa")["cancel_requested"] == 0
    assert store.job(ids["judge"])["cancel_requested"] == 1
    assert store.job(ids["running"])["cancel_requested"] == 0
    store.close()


async def test_cancel_declined_changes_nothing(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)
        table_of(app).move_cursor(row=shown_ids(app).index(ids["judge"]))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause(0.2)
        assert isinstance(app.screen, JobsScreen)
        assert cells(app, ids["judge"])["state"] == "· queued"


async def test_enter_opens_the_run_in_results(tui_paths, filled_store):
    ids = filled_store()
    app = make_app(tui_paths)
    opened = []
    app.open_results = opened.append
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == 5)
        table_of(app).move_cursor(row=shown_ids(app).index(ids["done"]))
        await pilot.press("enter")
        assert opened == ["20251204-201000-bbbb"]


async def test_untrusted_text_shown_literally(tui_paths):
    store = Store(tui_paths.database)
    job_ids = []
    for number, text in enumerate(UNTRUSTED):
        run_id = f"20251204-20000{number}-cccc"
        insert_run(store, run_id, model=f"{text}\n2")
        job_ids.append(insert_job(store, run_id, last_error=f"said {text}"))
    store.close()

    app = make_app(tui_paths)
    async with app.run_test(size=(240, 40)) as pilot:
        await wait_until(pilot, lambda: table_of(app).row_count == len(UNTRUSTED))
        table = table_of(app)
        rendered = [table.render_line(y).text for y in range(1, 1 + len(UNTRUSTED))]
        for job_id, text in zip(job_ids, UNTRUSTED):
            shown = text.replace("\x1b[31m", "")
            row = cells(app, job_id)
            assert row["model"] == one_line(f"{shown} 2", MODEL_WIDTH)
            assert row["note"] == f"said {shown}"
            line = rendered[shown_ids(app).index(job_id)]
            assert row["model"] in line
            assert f"said {shown}" in line
            assert "\x1b" not in line


def test_durations_change_at_most_once_a_minute():
    assert [duration(seconds) for seconds in (None, 0, 59.9, 60, 3599, 3900, 48 * 3600 + 4 * 3600)] == [
        "", "<1m", "<1m", "1m", "59m", "1h05m", "2d04h"
    ]


def test_retry_phase_shortened_to_fit_its_column():
    from tui.jobs_format import phase_cell

    assert phase_cell("answers retry 2") == "answers r2"
    assert phase_cell("judge") == "judge"
