"""The app shell: screen keys, help, palette, config problems, themes, and error handling."""

from __future__ import annotations

import subprocess
import sys

from textual.command import CommandPalette

from core.config import load_config
from core.errors import DatasetError
from core.providers.base import ProviderError
from tests.conftest import REPO
from tests.tui.conftest import UNTRUSTED, wait_until
from tui.app import FactdeckApp
from tui.commands import app_commands
from tui.modals import ErrorScreen, KeysScreen
from tui.themes import load_themes, packaged_theme_dir


def make_app(paths, **options) -> FactdeckApp:
    return FactdeckApp(paths, tick_seconds=0.05, **options)


def notifications(app) -> list[tuple[str, str]]:
    return [(notification.title, notification.message) for notification in app._notifications]


async def test_number_keys_switch_screens(tui_paths):
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # No config file and no runs yet: the Jobs screen points to the Models screen.
        assert (app.current_mode, app.screen.title) == ("jobs", "Jobs")
        await wait_until(pilot, lambda: "no jobs yet: start a run on Models (1)" in str(app.screen.query_one("#jobs-status").render()))
        await pilot.press("3")
        assert (app.current_mode, app.screen.title) == ("results", "Results")
        await pilot.press("1")
        assert (app.current_mode, app.screen.title) == ("models", "Models")
        await pilot.press("2")
        assert app.current_mode == "jobs"


async def test_question_mark_toggles_help(tui_paths):
    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        assert app.screen.keys == [
            ("/", "Filter"), ("!", "Invert filter"), ("esc", "Clear filter"), ("s", "Sort"), ("S", "Reverse sort"),
            ("space", "Mark"), ("c", "Cancel the marked jobs, or the one under the cursor; their runs go on"),
            ("C", "Cancel the whole runs of those jobs: every batch, nothing new submitted"),
            ("⏎", "Results"), ("^r", "Refresh"), ("1", "Models"), ("2", "Jobs"), ("3", "Results"), ("?", "Keys"),
            ("q", "Quit"), ("^p", "command palette: every action, searchable by name"),
        ]
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: not isinstance(app.screen, KeysScreen))


async def test_q_quits(tui_paths):
    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_palette_reaches_every_action(tui_paths):
    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        titles = [command.title for command in app_commands(app)]
        for title in ("Go to Models", "Go to Jobs", "Go to Results", "Refresh jobs now", "Cancel selected jobs",
                      "Cancel whole runs", "Filter jobs", "Sort jobs", "Open the job's results", "Export results",
                      "Review the grade", "Chart by topic", "Open another run", "Filter results by topic",
                      "Filter results by answer type", "Search results", "Clear result filters",
                      "Grade filter: INCORRECT", "Next UNPARSED question",
                      "Start run", "Save settings", "Show keys", "Quit", "Theme: factdeck-dark", "Theme: factdeck-light"):
            assert title in titles

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"mod")
        await wait_until(pilot, lambda: app.screen.query("CommandList").first().option_count > 0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.current_mode == "models")


async def test_open_results_shows_the_run(tui_paths, filled_store):
    filled_store()
    app = make_app(tui_paths, start_mode="jobs", step_engine=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_results("20251204-201000-bbbb")
        await pilot.pause(0.2)
        assert app.current_mode == "results"
        assert not isinstance(app.screen, ErrorScreen)


async def test_ctrl_r_reads_jobs_now(tui_paths, filled_store):
    app = FactdeckApp(tui_paths, tick_seconds=600, step_engine=False, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#jobs-table")
        await wait_until(pilot, lambda: app.jobs_snapshot is not None)
        assert table.row_count == 0
        filled_store()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: table.row_count == 5)


async def test_broken_config_reported_and_kept(tui_paths):
    broken = "[run]\nseed = 3\nlimit = 'ten'\n"
    tui_paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    tui_paths.config_file.write_text(broken)
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.current_mode == "models"
        title, message = notifications(app)[0]
        assert title == "Config file has problems"
        assert f"{tui_paths.config_file}:3: run.limit: expected an integer, got 'ten'" in message
        banner = app.screen.query_one("#config-problems")
        assert banner.display
        assert "run.limit: expected an integer" in str(banner.render())
        assert "keeps its valid values and uses the defaults for the keys below" in str(banner.render())
        assert app.screen.query_one("#seed").value == "3"

        # A theme change is used but not written over the broken file.
        app.choose_theme("factdeck-light")
        await pilot.pause(0.1)
        assert tui_paths.config_file.read_text() == broken
        assert ("Theme not saved" in [title for title, _ in notifications(app)])

        # An explicit save replaces the file with valid settings.
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not banner.display
        [backup] = tui_paths.config_file.parent.glob("config.toml.broken-*")
        assert backup.read_text() == broken
        assert ("Backup kept", f"Your previous config had problems; a copy was kept at {backup}") in notifications(app)
    loaded = load_config(tui_paths.config_file)
    assert loaded.problems == []
    assert loaded.config.ui.theme == "factdeck-light"
    assert loaded.config.run.seed == 3


async def test_empty_config_is_reported_not_first_run(tui_paths):
    tui_paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    tui_paths.config_file.write_text("")
    app = make_app(tui_paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.first_start
        title, message = notifications(app)[0]
        assert title == "Config file has problems"
        assert "the file is empty" in message
    assert tui_paths.config_file.read_text() == ""


async def test_theme_choice_saved_and_restored(tui_paths):
    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "factdeck-dark"
        app.choose_theme("factdeck-light")
        await pilot.pause(0.1)
    assert load_config(tui_paths.config_file).config.ui.theme == "factdeck-light"

    reopened = make_app(tui_paths, start_mode="jobs")
    async with reopened.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert reopened.theme == "factdeck-light"


async def test_bad_theme_file_falls_back(tui_paths):
    folder = tui_paths.config_dir / "themes"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    tui_paths.config_file.write_text('[ui]\ntheme = "broken"\n')
    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "factdeck-dark"
        theme_notes = [(title, message) for title, message in notifications(app) if title == "Theme not loaded"]
        assert len(theme_notes) == 1
        message = theme_notes[0][1]
        assert f"{folder / 'broken.toml'}: primary is not a colour: 'not-a-colour'" in message
        assert "config [ui] theme: no theme named 'broken'" in message
    assert tui_paths.config_file.read_text() == '[ui]\ntheme = "broken"\n'


def test_packaged_themes_are_valid():
    themes, problems = load_themes([packaged_theme_dir()])
    assert problems == []
    assert {(theme.name, theme.dark) for theme in themes} == {("factdeck-dark", True), ("factdeck-light", False)}


async def test_provider_auth_error_is_a_titled_notification(tui_paths):
    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        app.show_error(ProviderError("Together rejected the API key (401) during list models", kind="auth"))
        app.show_error(ProviderError("No Together API key: set TOGETHER_API_KEY or save a key from the Models screen", kind="auth"))
        app.show_error(DatasetError("data.csv:3: missing column 'answer'"))
        await pilot.pause()
        assert ("API key missing", "No Together API key: set TOGETHER_API_KEY or save a key from the Models screen") in notifications(app)
        assert ("API key rejected", "Together rejected the API key (401) during list models") in notifications(app)
        assert ("Cannot continue", "data.csv:3: missing column 'answer'") in notifications(app)
        assert not isinstance(app.screen, ErrorScreen)


async def test_unexpected_error_opens_copyable_details(tui_paths):
    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        text = " ".join(UNTRUSTED)

        def fail() -> None:
            raise RuntimeError(text)

        app.run_in_thread(fail, "failing-task")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        details = str(app.screen.query_one("#details").render())
        assert "RuntimeError: closing [/] tag [bold red]X[/] [link=http://example.test]x[/link] red" in details
        assert "\x1b" not in details
        await pilot.press("c")
        assert "Traceback (most recent call last)" in app.clipboard
        assert "[bold red]X[/]" in app.clipboard
        await pilot.press("escape")
        assert not isinstance(app.screen, ErrorScreen)
    assert "RuntimeError" in tui_paths.log_file.read_text()


def test_tui_import_skips_heavy_libraries():
    code = "import sys, tui.app; print(sorted(name for name in ('pandas', 'numpy', 'together') if name in sys.modules))"
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


async def test_key_bars_fit_80_columns(tui_paths):
    from tui.widgets.key_bar import KeyBar

    app = make_app(tui_paths, start_mode="jobs")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one(KeyBar).describe_keys().plain == (
            " c  cancel job  C  cancel run  space  mark  /  filter  ?  keys  ^p  palette"
        )
        await pilot.press("1")
        await pilot.pause()
        assert app.screen.query_one(KeyBar).describe_keys().plain == (
            " ^g  start run  ^s  save  ^l  pick models  1 2 3  screens  ?  keys  ^p  palette"
        )
        assert len(app.screen.query_one(KeyBar).describe_keys().plain) <= 80
