"""Snapshots of the Models and Jobs screens at 80x24 and 120x40, on fixed settings and jobs.

Regenerate after an intended change with `pytest tests/tui/test_snapshots_models_jobs.py
--snapshot-update`, then look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from tests.tui.conftest import FIXED_NOW
from tui.app import FactdeckApp

SIZES = [(80, 24), (120, 40)]
SETTINGS = """\
[provider]
name = "together"

[run]
models = ["meta-llama/Llama-3.3-70B-Instruct-Turbo", "Qwen/Qwen2.5-7B-Instruct-Turbo"]
grader_model = "openai/gpt-oss-120b"
dataset = "/data/simple_qa_test_set.csv"
limit = 200
seed = 1

[jobs]
poll_interval = 30
"""


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_jobs_screen_snapshot(snap_compare, tui_paths, filled_store, size):
    filled_store()
    # One snapshot at start-up and no further ticks, so the table does not change while it is captured.
    app = FactdeckApp(tui_paths, tick_seconds=600, step_engine=False, clock=lambda: FIXED_NOW, start_mode="jobs")

    async def rows_shown(pilot) -> None:
        table = app.screen.query_one("#jobs-table", DataTable)
        while table.row_count < 5:
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=rows_shown)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_models_screen_snapshot(snap_compare, tui_paths, monkeypatch, size):
    monkeypatch.setenv("TOGETHER_API_KEY", "snapshot-key")
    tui_paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    tui_paths.config_file.write_text(SETTINGS)
    app = FactdeckApp(tui_paths, tick_seconds=600, step_engine=False, clock=lambda: FIXED_NOW, start_mode="models")

    async def key_status_shown(pilot) -> None:
        status = app.screen.query_one("#key-status")
        while str(status.render()) == "checking…":
            await pilot.pause(0.05)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=key_status_shown)
