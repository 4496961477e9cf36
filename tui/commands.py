"""The command palette's provider of factdeck actions (ctrl+p): screens, jobs, results, settings, themes."""

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
        PaletteCommand("Cancel whole runs", "Cancel every batch of the runs of the marked jobs and submit nothing new for them (C)",
                       partial(app.screen_action, "jobs", "action_cancel_runs")),
        PaletteCommand("Filter jobs", "Show only the jobs whose row contains some text (/)", partial(app.screen_action, "jobs", "action_start_filter")),
        PaletteCommand("Sort jobs", "Sort the Jobs table by the next column (s)", partial(app.screen_action, "jobs", "action_sort_next")),
        PaletteCommand("Open the job's results", "Show the run of the job under the cursor on the Results screen (enter)",
                       partial(app.screen_action, "jobs", "action_open_results")),
        PaletteCommand("Export results", "Write the rows shown as CSV or JSONL, or a Markdown report (e)", partial(app.screen_action, "results", "action_export")),
        PaletteCommand("Review the grade", "Override the grade of the question under the cursor (r)", partial(app.screen_action, "results", "action_review")),
        PaletteCommand("Chart by topic", "Switch between the results table and the per-topic chart (m)",
                       partial(app.screen_action, "results", "action_toggle_chart")),
        PaletteCommand("Open another run", "Pick the run the Results screen shows (p)", partial(app.screen_action, "results", "action_pick_run")),
        PaletteCommand("Filter results by topic", "Choose the topics to show (t)", partial(app.screen_action, "results", "action_choose_topics")),
        PaletteCommand("Filter results by answer type", "Choose the answer types to show (a)",
                       partial(app.screen_action, "results", "action_choose_answer_types")),
        PaletteCommand("Search results", "Search the question, gold target and answer (/)", partial(app.screen_action, "results", "action_search")),
        PaletteCommand("Clear result filters", "Show every question again (x)", partial(app.screen_action, "results", "action_clear_filters")),
        PaletteCommand("Sort results", "Sort the results by the next column (s)", partial(app.screen_action, "results", "action_next_sort")),
        PaletteCommand("Reload the run", "Read the run from the store again; filters are kept (R)", partial(app.screen_action, "results", "action_reload")),
    ]
    for key, grade in (("c", "CORRECT"), ("i", "INCORRECT"), ("n", "NOT_ATTEMPTED"), ("u", "UNPARSED"), ("f", "FAILED")):
        commands.append(PaletteCommand(f"Grade filter: {grade}", f"Add {grade} to the grade filter, or remove it ({key})",
                                       partial(app.screen_action, "results", "action_toggle_grade", grade)))
    for key, grade in (("I", "INCORRECT"), ("U", "UNPARSED")):
        commands.append(PaletteCommand(f"Next {grade} question", f"Move the cursor to the next {grade} question ({key})",
                                       partial(app.screen_action, "results", "action_jump", grade)))
    commands += [
        PaletteCommand("Start run", "Start a run from the Models screen's settings after a pre-flight summary (ctrl+g)", app.action_start_run),
        PaletteCommand("Save settings", "Write the Models screen's settings to the config file (ctrl+s)", app.action_save_settings),
        PaletteCommand("Show keys", "List every key binding of this screen (?)", app.action_show_keys),
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
