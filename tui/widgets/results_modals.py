"""Small dialogs of the Results screen: pick a run, choose filter values, review a grade, export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from core.grading import JUDGE_GRADES
from core.text import one_line
from tui.results_data import RunSummary
from tui.widgets.results_grades import grade_label

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 76; max-width: 100%; height: auto; max-height: 90%;
    border: round $accent; background: $panel; padding: 0 1;
}}
{name} .modal-title {{ text-style: bold; width: 1fr; }}
{name} .modal-hint {{ color: $text-muted; width: 1fr; }}
{name} OptionList, {name} SelectionList {{ height: auto; max-height: 16; }}
{name} Input {{ margin: 0; }}
"""


def run_label(run: RunSummary) -> Text:
    """Build one picker line, labelling a mock-provider run SIMULATED.

    The run id starts with its UTC creation time, so the line shows no other date.
    """
    text = Text(f"{run.run_id}  {run.status}  {run.questions:,} q  ")
    if run.simulated:
        text.append("SIMULATED", style="bold reverse")
        text.append(" ")
    text.append(one_line(run.model, 40))
    return text


class RunPicker(ModalScreen[str | None]):
    """Choose a run from the store; returns its run_id, or None when closed."""

    DEFAULT_CSS = MODAL_CSS.format(name="RunPicker")
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, runs: list[RunSummary], current: str | None) -> None:
        super().__init__()
        self.runs = runs
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Open a run", classes="modal-title")
            options = [Option(run_label(run), id=run.run_id) for run in self.runs]
            yield OptionList(*options, id="runs")
            yield Label("enter opens · escape closes", classes="modal-hint")

    def on_mount(self) -> None:
        runs = self.query_one("#runs", OptionList)
        ids = [run.run_id for run in self.runs]
        if self.current in ids:
            runs.highlighted = ids.index(self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ChoiceModal(ModalScreen[None]):
    """Pick any number of values (topics or answer types); each change applies at once."""

    DEFAULT_CSS = MODAL_CSS.format(name="ChoiceModal")
    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, title: str, values: list[str], selected: frozenset[str], apply: Callable[[frozenset[str]], None]) -> None:
        super().__init__()
        self.title_text = title
        self.values = values
        self.selected = selected
        self.apply = apply

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="modal-title")
            yield SelectionList[str](
                *((Text(one_line(value)), value, value in self.selected) for value in self.values), id="choices"
            )
            yield Label("space or enter toggles · none ticked shows all · escape closes", classes="modal-hint")

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.apply(frozenset(event.selection_list.selected))


class ReviewModal(ModalScreen[tuple[str | None, str] | None]):
    """Override a question's grade: returns (grade, note), (None, "") to remove the override, or None."""

    DEFAULT_CSS = MODAL_CSS.format(name="ReviewModal")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]
    REMOVE = "remove"

    def __init__(self, question_id: int, judge_grade: str, reviewed_grade: str | None) -> None:
        super().__init__()
        self.question_id = question_id
        self.judge_grade = judge_grade
        self.reviewed_grade = reviewed_grade

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Review question {self.question_id}", classes="modal-title")
            current = f"Judge's grade: {grade_label(self.judge_grade)}"
            if self.reviewed_grade:
                current += f" · reviewed: {grade_label(self.reviewed_grade)}"
            yield Static(current, markup=False)
            options = [Option(grade_label(grade), id=grade) for grade in JUDGE_GRADES]
            if self.reviewed_grade:
                options.append(Option("Remove the override (back to the judge's grade)", id=self.REMOVE))
            yield OptionList(*options, id="grades")
            yield Input(placeholder="Note (optional)", id="note")
            yield Label("enter on a grade goes to the note · enter in the note saves · escape cancels",
                        classes="modal-hint")

    def on_mount(self) -> None:
        grades = self.query_one("#grades", OptionList)
        preset = self.reviewed_grade or self.judge_grade
        if preset in JUDGE_GRADES:
            grades.highlighted = JUDGE_GRADES.index(preset)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#note", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        grades = self.query_one("#grades", OptionList)
        if grades.highlighted is None:
            self.notify("Choose a grade first.", severity="warning")
            grades.focus()
            return
        choice = grades.get_option_at_index(grades.highlighted).id
        if choice == self.REMOVE:
            self.dismiss((None, ""))
        else:
            self.dismiss((choice, event.value.strip()))


EXPORT_CHOICES = (("csv", "CSV of the rows shown"), ("jsonl", "JSONL of the rows shown"), ("md", "Markdown report of the run"))


class ExportModal(ModalScreen[tuple[str, Path] | None]):
    """Choose a format and a file path; returns (format, path) or None."""

    DEFAULT_CSS = MODAL_CSS.format(name="ExportModal")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, default_paths: dict[str, Path], row_count: int) -> None:
        super().__init__()
        self.default_paths = default_paths
        self.row_count = row_count
        self.format = "csv"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Export ({self.row_count:,} rows shown)", classes="modal-title")
            yield OptionList(*(Option(label, id=fmt) for fmt, label in EXPORT_CHOICES), id="formats")
            yield Input(str(self.default_paths["csv"]), id="path")
            yield Label("enter on a format goes to the path · enter in the path writes · escape cancels",
                        classes="modal-hint")

    def on_mount(self) -> None:
        self.query_one("#formats", OptionList).highlighted = 0

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        path_input = self.query_one("#path", Input)
        # Follow the format with the default path unless the user typed a path of their own.
        if path_input.value == str(self.default_paths[self.format]):
            path_input.value = str(self.default_paths[event.option.id])
        self.format = event.option.id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self.notify("Enter a file path.", severity="warning")
            return
        self.dismiss((self.format, Path(text).expanduser()))
