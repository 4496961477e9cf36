"""The factdeck Textual app: three screens (Models, Jobs, Results) on keys 1, 2, 3."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from tui.screens.jobs import JobsScreen
from tui.screens.models import ModelsScreen
from tui.screens.results import ResultsScreen


class FactdeckApp(App):
    """Configure runs, watch their batch jobs, and review graded results."""

    TITLE = "factdeck"
    MODES = {"models": ModelsScreen, "jobs": JobsScreen, "results": ResultsScreen}
    BINDINGS = [
        Binding("1", "switch_mode('models')", "Models", id="screen.models"),
        Binding("2", "switch_mode('jobs')", "Jobs", id="screen.jobs"),
        Binding("3", "switch_mode('results')", "Results", id="screen.results"),
        Binding("question_mark", "show_help_panel", "Keys", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def on_mount(self) -> None:
        self.switch_mode("jobs")


def run_app() -> int:
    FactdeckApp().run()
    return 0
