"""The Models screen: configure a run with the keyboard, start it, and keep the settings."""

from __future__ import annotations

import os
import stat

from textual import events
from textual.widgets import DataTable, Input, Select

from core.config import load_config
from core.dataset import load_dataset
from core.launch import RunRequest, preflight
from core.providers.mock import MODELS
from core.store import Store
from tests.tui.conftest import FIXED_NOW, insert_job, insert_run, wait_until
from tui.app import FactdeckApp
from tui.model_picker import ModelPickerScreen
from tui.modals import ConfirmScreen
from tui.screens.jobs import JobsScreen


async def type_into(pilot, app, widget_id: str, text: str) -> None:
    """Focus a field, clear it with keys, and paste `text` as a terminal would (typing is slow in tests)."""
    field = app.screen.query_one(f"#{widget_id}", Input)
    field.focus()
    await pilot.press("home", "ctrl+k")
    field.post_message(events.Paste(text))
    await pilot.pause()


def notification_titles(app) -> list[str]:
    return [notification.title for notification in app._notifications]


async def test_configure_start_and_finish_run(tui_paths, small_dataset):
    app = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused.id == "provider"
        await pilot.press("enter", "down", "enter")
        assert app.screen.query_one("#provider", Select).value == "mock"

        await type_into(pilot, app, "student-models", "mock/student-small, mock/student-large")
        await type_into(pilot, app, "dataset", str(small_dataset))
        await type_into(pilot, app, "limit", "4")
        await type_into(pilot, app, "seed", "7")
        await type_into(pilot, app, "poll-interval", "0.1")

        # The judge comes from the provider's list, searched and chosen with the keyboard.
        app.screen.query_one("#judge-model", Input).focus()
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen) and app.screen.models is not None)
        await pilot.press(*"judge", "enter", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPickerScreen))
        assert app.screen.query_one("#judge-model", Input).value == "mock/judge"

        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert list(app._notifications) == []  # no toast covers the summary
        summary = str(app.screen.body)
        questions = load_dataset(small_dataset).sample(4, 7)
        request = RunRequest(
            provider="mock", models=("mock/student-small", "mock/student-large"), grader_model="mock/judge",
            dataset=str(small_dataset), limit=4, seed=7, max_tokens=256, temperature=0.0, judge_max_tokens=64, poll_interval=0.1,
        )
        expected = preflight(request, questions, list(MODELS))
        assert "SIMULATED" in summary
        assert "Runs            2 (one per student model, sharing the judge)" in summary
        assert "Questions       4 of 6; sample: 4 (seed 7)" in summary
        assert "Requests        16 (answers and judge, before retries)" in summary
        assert f"about ${expected.estimated_cost:,.4f} (batch discount 50% applied; estimate)" in summary

        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, JobsScreen))
        store = Store(tui_paths.database)
        try:
            await wait_until(pilot, lambda: {run["status"] for run in store.runs()} == {"done"}, timeout=10)
            runs = store.runs()
            assert sorted(run["model"] for run in runs) == ["mock/student-large", "mock/student-small"]
            assert {len(store.questions(run["run_id"])) for run in runs} == {4}
        finally:
            store.close()
        table = app.screen.query_one("#jobs-table", DataTable)
        await wait_until(pilot, lambda: [str(table.get_cell(row.key, "state")) for row in table.ordered_rows] == ["✓ done"] * 4)
        assert notification_titles(app).count("Run finished") == 2

    saved = load_config(tui_paths.config_file)
    assert saved.problems == []
    assert saved.config.provider.name == "mock"
    assert saved.config.run.models == ("mock/student-small", "mock/student-large")
    assert saved.config.run.grader_model == "mock/judge"
    assert saved.config.run.dataset == str(small_dataset)
    assert saved.config.run.limit == 4
    assert saved.config.run.seed == 7
    assert saved.config.jobs.poll_interval == 0.1


async def test_settings_saved_and_reloaded(tui_paths, small_dataset):
    app = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, app, "student-models", "org/model-a")
        await type_into(pilot, app, "judge-model", "org/judge")
        await type_into(pilot, app, "temperature", "0.7")
        await type_into(pilot, app, "limit", "")
        await type_into(pilot, app, "base-url", "http://127.0.0.1:9/v1")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Saved" in notification_titles(app)

    text = tui_paths.config_file.read_text()
    assert "limit" not in text
    assert "api_key" not in text
    reopened = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with reopened.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        value = lambda widget_id: reopened.screen.query_one(f"#{widget_id}", Input).value  # noqa: E731
        assert value("student-models") == "org/model-a"
        assert value("judge-model") == "org/judge"
        assert value("temperature") == "0.7"
        assert value("limit") == ""
        assert value("base-url") == "http://127.0.0.1:9/v1"


async def test_invalid_field_blocks_save(tui_paths):
    app = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, app, "max-tokens", "abc")
        await type_into(pilot, app, "poll-interval", "0")
        await pilot.press("ctrl+s")
        await pilot.pause()
        messages = [notification.message for notification in app._notifications]
        assert "Max tokens: must be a whole number, got 'abc'\nPoll interval (s): must be more than 0, got '0'" in messages
    assert not tui_paths.config_file.exists()


async def test_api_key_saved_to_credentials_file(tui_paths):
    app = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#key-status")
        await wait_until(pilot, lambda: str(status.render()).startswith("✗ missing"))
        await type_into(pilot, app, "api-key", "sk-test-123")
        await pilot.press("enter")
        await wait_until(pilot, lambda: str(status.render()).startswith("✓ found in credentials file"))
        assert app.screen.query_one("#api-key", Input).value == ""
        await pilot.press("ctrl+s")
        await pilot.pause()

    credentials = tui_paths.credentials_file
    assert stat.S_IMODE(os.stat(credentials).st_mode) == 0o600
    assert "sk-test-123" in credentials.read_text()
    assert "sk-test-123" not in tui_paths.config_file.read_text()


async def test_saved_key_makes_backed_off_jobs_due_now(tui_paths):
    store = Store(tui_paths.database)
    try:
        insert_run(store, "20251204-200000-aaaa", "meta-llama/Llama-3.3-70B-Instruct-Turbo")
        rejected = insert_job(store, "20251204-200000-aaaa", error_count=1, next_poll_at=FIXED_NOW + 900,
                              last_error="Together returned 401 during poll: invalid API key")
        healthy = insert_job(store, "20251204-200000-aaaa", shard=2, next_poll_at=FIXED_NOW + 60)
    finally:
        store.close()

    def next_polls() -> dict[int, float]:
        reader = Store(tui_paths.database)
        try:
            return {job_id: reader.job(job_id)["next_poll_at"] for job_id in (rejected, healthy)}
        finally:
            reader.close()

    app = FactdeckApp(tui_paths, tick_seconds=0.05, step_engine=False, clock=lambda: FIXED_NOW, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#key-status")
        await wait_until(pilot, lambda: str(status.render()).startswith("✗ missing"))
        await pilot.pause(0.3)
        assert next_polls() == {rejected: FIXED_NOW + 900, healthy: FIXED_NOW + 60}
        await type_into(pilot, app, "api-key", "sk-test-123")
        await pilot.press("enter")
        await wait_until(pilot, lambda: next_polls()[rejected] == 0)
        assert next_polls() == {rejected: 0, healthy: FIXED_NOW + 60}


async def test_template_preview_and_bad_template(tui_paths, tmp_path):
    template = tmp_path / "student.txt"
    template.write_text("Answer briefly: {question}\n[bold]not markup[/bold]", encoding="utf-8")
    app = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        preview = app.screen.query_one("#student-template-preview")
        await type_into(pilot, app, "student-template", str(template))
        await pilot.press("enter")
        await wait_until(pilot, lambda: str(preview.render()).startswith("Answer briefly"))
        assert "[bold]not markup[/bold]" in str(preview.render())

        await type_into(pilot, app, "student-template", str(tmp_path / "missing.txt"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: "template not found" in str(preview.render()))
        assert "Cannot continue" in notification_titles(app)


async def test_picker_lists_only_chat_models(tui_paths):
    from core.providers.base import ModelInfo

    app = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        picker = ModelPickerScreen("Judge model", (), multiple=False)
        await app.push_screen(picker)
        picker.set_models([
            ModelInfo("org/chat-b"), ModelInfo("org/embed", kind="embedding"), ModelInfo("org/chat-a"),
            ModelInfo("org/rerank", kind="rerank"),
        ])
        await pilot.pause()
        listing = picker.query_one("#picker-list")
        assert [listing.get_option_at_index(index).value for index in range(listing.option_count)] == ["org/chat-a", "org/chat-b"]
        assert str(picker.query_one("#picker-state").render()) == "2 of 2 models"


async def test_confirmation_buttons_stay_on_screen_at_80x24(tui_paths):
    from rich.text import Text

    app = FactdeckApp(tui_paths, tick_seconds=0.05, start_mode="models")
    async with app.run_test(size=(80, 24)) as pilot:
        body = Text("".join(f"line {number}\n" for number in range(40)) + "\n⚠ a warning at the end")
        await app.push_screen(ConfirmScreen("Start 2 runs?", body, "Start"))
        await pilot.pause()
        for button_id in ("#yes", "#no"):
            region = app.screen.query_one(button_id).region
            assert region.height == 1
            assert region.y >= 0
            assert region.bottom <= 24
        scroll = app.screen.query_one(".dialog-body")
        assert scroll.max_scroll_y > 0  # the body scrolls instead of pushing the buttons off
