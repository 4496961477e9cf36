"""The factdeck Textual app: three screens (Models, Jobs, Results) on keys 1, 2, 3.

The app owns what the screens share: the settings (config file), the themes, and the engine
loop thread that moves runs forward while the app is open. It is also the one place where a
failed worker becomes a notification or an error view.

| Key | Action |
|---|---|
| 1, 2, 3 | Models, Jobs, Results screen |
| ? | show or hide every key binding of the screen |
| ctrl+p | command palette (every action below and the themes) |
| q | quit (runs continue at the provider; `factdeck watch` or the next start moves them on) |
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal
from textual.theme import Theme
from textual.worker import Worker, WorkerState

from core.config import Config, load_config, save_config
from core.errors import FactdeckError
from core.paths import Paths, resolve_paths
from core.providers.base import ModelInfo, ProviderError
from core.text import one_line
from tui.backend import EngineFailed, EngineLoop, JobsRefreshed, JobsSnapshot
from tui.commands import FactdeckCommands
from tui.modals import ErrorScreen
from tui.screens.jobs import JobsScreen
from tui.themes import DEFAULT_THEME, load_themes, packaged_theme_dir

log = logging.getLogger(__name__)


def _models_screen() -> Screen:
    """Build the Models screen on first use, so a start on the Jobs screen skips its form widgets."""
    from tui.screens.models import ModelsScreen

    return ModelsScreen()


def _results_screen() -> Screen:
    """Build the Results screen on first use, because its module imports numpy and start-up should not wait for it."""
    from tui.screens.results import ResultsScreen

    return ResultsScreen()


class FactdeckApp(App):
    """Configure runs, watch their batch jobs, and review graded results."""

    TITLE = "factdeck"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {FactdeckCommands}
    MODES = {"models": _models_screen, "jobs": JobsScreen, "results": _results_screen}
    BINDINGS = [
        Binding("1", "switch_mode('models')", "Models", id="screen.models"),
        Binding("2", "switch_mode('jobs')", "Jobs", id="screen.jobs"),
        Binding("3", "switch_mode('results')", "Results", id="screen.results"),
        Binding("question_mark", "toggle_help", "Keys", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(
        self,
        paths: Paths | None = None,
        *,
        tick_seconds: float = 1.0,
        step_engine: bool = True,
        clock: Callable[[], float] = time.time,
        start_mode: str | None = None,
    ) -> None:
        paths = paths or resolve_paths()
        loaded = load_config(paths.config_file)
        # The first screen is the app's default mode, so no placeholder screen is built and replaced.
        self.DEFAULT_MODE = start_mode or ("models" if loaded.problems else "jobs")
        super().__init__()
        self.paths = paths
        self.clock = clock
        self.settings: Config = loaded.config
        self.config_problems = loaded.problems
        self.first_start = not loaded.exists
        self.jobs_snapshot: JobsSnapshot | None = None
        self.jobs_changed: Signal[JobsSnapshot] = Signal(self, "jobs-changed")
        self.model_cache: dict[tuple[str, str | None], list[ModelInfo]] = {}
        self.engine_loop = EngineLoop(self, self.paths, self.settings, tick_seconds, step_engine, clock)
        self._log_handlers: list[logging.Handler] = []
        self._callbacks: dict[Worker, tuple[Callable | None, Callable | None]] = {}
        self._theme_problems = self._register_themes()
        self._use_first_theme(self._saved_theme())

    # Start-up

    def _use_first_theme(self, name: str) -> None:
        """Set the theme before the first stylesheet parse, without the watcher's reparse.

        Assigning `self.theme` makes Textual parse every stylesheet again and restyle the screen
        once the app runs. Nothing is parsed yet here, so only the watcher's other effects are
        needed: the theme classes and the ANSI colour map.
        NOTE: this mirrors `App._watch_theme` of textual 8.2.8.
        """
        self.set_reactive(FactdeckApp.theme, name)
        dark = self.current_theme.dark
        self.update_classes({f"-theme-{name}": True, "-dark-mode": dark, "-light-mode": not dark}, update=False)
        self._refresh_truecolor_filter(self.ansi_theme)

    def _register_themes(self) -> list[str]:
        themes, problems = load_themes([packaged_theme_dir(), self.paths.config_dir / "themes"])
        for theme in themes:
            self.register_theme(theme)
        return [str(problem) for problem in problems]

    def on_mount(self) -> None:
        # core.workspace (and the engine it imports) loads in a worker, off the first frame's path.
        self.run_in_thread(self._start_logging, "start-logging")
        self._report_theme_problems()
        if self.config_problems:
            listing = "\n".join(str(problem) for problem in self.config_problems)
            self.notify(
                f"{listing}\nUsing the defaults; the file is left as it is until you save on the Models screen (ctrl+s).",
                title="Config file has problems", severity="error", timeout=20, markup=False,
            )
        # Subscribed after the first refresh, so applying the saved theme is not saved again.
        self.call_after_refresh(self._watch_theme_changes)
        # Started after the first frame: the thread's imports would hold the GIL while it is drawn.
        self.call_after_refresh(self._start_engine_loop)

    def _start_engine_loop(self) -> None:
        if self.is_running:
            self.run_worker(self.engine_loop.run, name="engine-loop", group="engine", thread=True, exit_on_error=False)

    def _watch_theme_changes(self) -> None:
        if self.is_running:
            self.theme_changed_signal.subscribe(self, self._save_theme)

    def _start_logging(self) -> None:
        from core.workspace import configure_logging

        before = set(logging.getLogger().handlers)
        configure_logging(self.paths)
        self._log_handlers = [handler for handler in logging.getLogger().handlers if handler not in before]
        log.info("factdeck TUI started; data in %s", self.paths.data_dir)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "engine")
        self.engine_loop.stop()
        root = logging.getLogger()
        for handler in self._log_handlers:
            root.removeHandler(handler)
            handler.close()

    def _saved_theme(self) -> str:
        """Return the config's theme, or the default (noting why) when no theme has that name."""
        wanted = self.settings.ui.theme
        if wanted in self.available_themes:
            return wanted
        self._theme_problems.append(f"config [ui] theme: no theme named {wanted!r}")
        return DEFAULT_THEME

    def _report_theme_problems(self) -> None:
        if self._theme_problems:
            self.notify(
                "\n".join(self._theme_problems) + f"\nUsing the {self.theme} theme instead.",
                title="Theme not loaded", severity="warning", timeout=15, markup=False,
            )

    # Settings

    def store_settings(self, config: Config) -> Path | None:
        """Write the settings to the config file and hand them to the engine loop.

        Returns the backup copy of the file when the one on disk had problems, else None.
        """
        backup = save_config(config, self.paths.config_file)
        self.settings = config
        self.config_problems = []
        self.first_start = False
        self.engine_loop.use_config(config)
        log.info("settings saved to %s", self.paths.config_file)
        return backup

    def use_settings(self, config: Config) -> None:
        """Use settings for this session without writing them (the file has problems)."""
        self.settings = config
        self.engine_loop.use_config(config)

    def _save_theme(self, theme: Theme) -> None:
        if theme.name == self.settings.ui.theme:
            return
        from core.config import with_changes

        changed = with_changes(self.settings, "ui", theme=theme.name)
        if self.config_problems:
            self.settings = changed
            self.notify(
                f"The {theme.name} theme is used until you quit; it is not saved because the config file has problems.",
                title="Theme not saved", severity="warning", markup=False,
            )
            return
        self.store_settings(changed)

    def choose_theme(self, name: str) -> None:
        self.theme = name

    # Engine loop

    def on_jobs_refreshed(self, message: JobsRefreshed) -> None:
        self.jobs_snapshot = message.snapshot
        self.jobs_changed.publish(message.snapshot)
        for event in message.events:
            if event.kind == "run_finished":
                self.bell()
                self.notify(one_line(event.message), title="Run finished", markup=False, timeout=10)
            elif event.kind in ("job_cancelled", "busy"):
                self.notify(one_line(event.message), title="Cancel", markup=False,
                            severity="warning" if event.kind == "busy" else "information")

    def on_engine_failed(self, message: EngineFailed) -> None:
        self.show_error(message.error, message.details)

    # Errors: the one place where failures of any worker are shown

    def run_in_thread(
        self,
        work: Callable[[], object],
        name: str,
        on_success: Callable[[object], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Worker:
        """Run blocking work in a thread worker; the callbacks run on the UI thread.

        A failure is always shown by `show_error`; `on_error` only lets the caller reset its state.
        """
        worker = self.run_worker(work, name=name, group="tasks", thread=True, exit_on_error=False)
        self._callbacks[worker] = (on_success, on_error)
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        on_success, on_error = self._callbacks.pop(worker, (None, None))
        if event.state == WorkerState.SUCCESS and on_success is not None:
            on_success(worker.result)
        elif event.state == WorkerState.ERROR and worker.error is not None:
            import traceback

            log.warning("worker %s failed: %s", worker.name, worker.error)
            if on_error is not None:
                on_error(worker.error)
            self.show_error(worker.error, "".join(traceback.format_exception(worker.error)))

    def show_error(self, error: BaseException, details: str = "") -> None:
        """Show a user-fixable error as a titled notification, anything else as a detail view."""
        if isinstance(error, ProviderError):
            title = f"Provider error ({error.kind})"
            if error.kind == "auth":
                # The Together adapter raises kind "auth" both for a rejected key and for no key at all.
                title = "API key missing" if "no together api key" in error.message.lower() else "API key rejected"
            self.notify(one_line(error.message), title=title, severity="error", timeout=15, markup=False)
            return
        if isinstance(error, FactdeckError):
            self.notify(one_line(str(error)), title="Cannot continue", severity="error", timeout=15, markup=False)
            return
        log.error("unexpected error: %s", details or error)
        title = f"Unexpected error: {one_line(f'{type(error).__name__}: {error}', 120)}"
        self.push_screen(ErrorScreen(title, details or repr(error), str(self.paths.log_file)))

    # Actions shared by the palette and the screens

    def action_toggle_help(self) -> None:
        from tui.modals import KeysScreen

        if isinstance(self.screen, KeysScreen):
            self.screen.dismiss(None)
        else:
            self.action_show_keys()

    def action_show_keys(self) -> None:
        """List the factdeck keys of the current screen, then the palette's key."""
        from tui.modals import KeysScreen

        keys: list[tuple[str, str]] = []
        seen: set[str] = set()
        # The whole chain, not `active_bindings`: a focused table's own enter would hide the screen's.
        for _node, bindings_map in self.screen._binding_chain:
            for bindings in bindings_map.key_to_bindings.values():
                for binding in bindings:
                    # Bindings without an id are Textual's own (cursor moves, copy), listed on one line.
                    if binding.id is None or binding.id in seen:
                        continue
                    seen.add(binding.id)
                    keys.append((self.get_key_display(binding), binding.tooltip or binding.description))
        keys.append(("^p", "command palette: every action, searchable by name"))
        self.push_screen(KeysScreen(f"Keys of the {self.screen.title or 'current'} screen (esc closes)", keys))

    def action_refresh_jobs(self) -> None:
        self.engine_loop.refresh()

    def action_cancel_jobs(self) -> None:
        self.switch_mode("jobs")
        self.call_later(self._call_screen, "action_cancel")

    def action_start_run(self) -> None:
        self.switch_mode("models")
        self.call_later(self._call_screen, "action_start_run")

    def action_save_settings(self) -> None:
        self.switch_mode("models")
        self.call_later(self._call_screen, "action_save")

    def screen_action(self, mode: str, method: str, *args: object) -> None:
        """Show the screen of `mode`, then call its `method`: how palette commands reach screen keys."""
        self.switch_mode(mode)
        self.call_later(self._call_screen, method, *args)

    def _call_screen(self, method: str, *args: object) -> None:
        action = getattr(self.screen, method, None)
        if action is not None:
            action(*args)

    def open_results(self, run_id: str) -> None:
        """Show one run on the Results screen."""
        self.switch_mode("results")
        screen = self.screen
        if hasattr(screen, "show_run"):
            screen.show_run(run_id)
        else:
            self.notify(f"The Results screen cannot show run {run_id} yet.", title="Results", markup=False)


def run_app() -> int:
    FactdeckApp().run()
    return 0
