"""The command palette's provider of factdeck actions (ctrl+p): screens, refresh, cancel, start, themes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import FactdeckApp


@dataclass(frozen=True)
class PaletteCommand:
    title: str
    help: str
    callback: Callable[[], object]


def app_commands(app: FactdeckApp) -> list[PaletteCommand]:
    """List every action the app offers, so the palette reaches what the keys reach."""
    commands = [
        PaletteCommand("Go to Models", "Configure a run: provider, models, dataset, templates (key 1)", partial(app.switch_mode, "models")),
        PaletteCommand("Go to Jobs", "Live table of every batch job of every run (key 2)", partial(app.switch_mode, "jobs")),
        PaletteCommand("Go to Results", "Review the graded questions of a run (key 3)", partial(app.switch_mode, "results")),
        PaletteCommand("Refresh jobs now", "Step every unfinished run and reread the jobs (ctrl+r)", app.action_refresh_jobs),
        PaletteCommand("Cancel selected jobs", "Cancel the marked jobs, or the one under the cursor, on the Jobs screen (c)", app.action_cancel_jobs),
        PaletteCommand("Start run", "Start a run from the Models screen's settings after a pre-flight summary (ctrl+g)", app.action_start_run),
        PaletteCommand("Save settings", "Write the Models screen's settings to the config file (ctrl+s)", app.action_save_settings),
        PaletteCommand("Show keys", "List every key binding of this screen (?)", app.action_show_help_panel),
        PaletteCommand("Quit", "Quit factdeck; runs continue at the provider (q)", app.action_quit),
    ]
    for name in sorted(app.available_themes):
        commands.append(PaletteCommand(f"Theme: {name}", f"Switch to the {name} theme and save it in the config", partial(app.choose_theme, name)))
    return commands


class FactdeckCommands(Provider):
    """Offers `app_commands` in the command palette, fuzzy-matched on their titles."""

    async def discover(self) -> Hits:
        for command in app_commands(self.app):
            yield DiscoveryHit(command.title, command.callback, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in app_commands(self.app):
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.callback, help=command.help)
