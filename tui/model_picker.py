"""A searchable list of the provider's models, for the student models (several) or the judge (one).

| Key | Action |
|---|---|
| typing | narrow the list to ids and names containing the text |
| down, up | move in the list |
| space / enter | toggle a student model / choose the judge |
| ctrl+s | done: keep the checked models |
| escape | close without changes |
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList
from textual.widgets.selection_list import Selection

from core.providers.base import ModelInfo
from core.text import one_line


def model_label(model: ModelInfo) -> Content:
    """Describe a model on one plain line: id, name, and list price (before the batch discount) when known."""
    line = one_line(model.model_id, 60)
    if model.display_name and model.display_name != model.model_id:
        line += f"  {one_line(model.display_name, 40)}"
    if model.input_price is not None and model.output_price is not None:
        line += f"  ${model.input_price:g}/${model.output_price:g} per M tokens"
    return Content(line)


class ModelPickerScreen(ModalScreen[tuple[str, ...] | None]):
    """Dismisses with the chosen model ids, or None when closed with escape."""

    BINDINGS = [
        Binding("ctrl+s", "done", "Done", id="picker.done"),
        Binding("escape", "close", "Close", id="picker.close"),
        Binding("down", "focus_list", "List", show=False, id="picker.list"),
    ]

    def __init__(self, title: str, chosen: tuple[str, ...], multiple: bool) -> None:
        super().__init__()
        self.title_text = title
        self.chosen = dict.fromkeys(chosen)
        self.multiple = multiple
        self.models: list[ModelInfo] | None = None
        self._shown_count = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog picker-dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Input(placeholder="search model ids and names", id="picker-search", compact=True)
            yield Label("Loading the provider's models…", id="picker-state", markup=False)
            yield SelectionList[str](id="picker-list", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Done (ctrl+s)", id="done", variant="primary", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def set_models(self, models: list[ModelInfo]) -> None:
        """Fill the list once the worker has fetched the models; only chat models can answer or grade."""
        self.models = sorted((model for model in models if model.kind == "chat"), key=lambda model: model.model_id.lower())
        self._fill()

    def show_failure(self, message: str) -> None:
        """Say the list could not be fetched; typing a model id by hand still works."""
        self.query_one("#picker-state", Label).update(Content(f"Could not list the models: {one_line(message, 200)}. Close and type the id instead."))

    def on_mount(self) -> None:
        self._fill()
        self.query_one("#picker-search", Input).focus()

    def _fill(self) -> None:
        if self.models is None or not self.is_mounted:
            return
        needle = self.query_one("#picker-search", Input).value.strip().lower()
        shown = [
            model for model in self.models
            if not needle or needle in model.model_id.lower() or needle in model.display_name.lower()
        ]
        listing = self.query_one("#picker-list", SelectionList)
        listing.clear_options()
        listing.add_options([Selection(model_label(model), model.model_id, model.model_id in self.chosen) for model in shown])
        self._shown_count = len(shown)
        self._show_state()

    def _show_state(self) -> None:
        state = f"{self._shown_count} of {len(self.models or [])} models"
        if self.chosen:
            state += " · chosen: " + ", ".join(self.chosen)
        self.query_one("#picker-state", Label).update(Content(state))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_focus_list()

    def on_selection_list_selection_toggled(self, event: SelectionList.SelectionToggled) -> None:
        event.stop()
        model_id = event.selection.value
        if not self.multiple:
            self.dismiss((model_id,))
            return
        if model_id in self.chosen:
            del self.chosen[model_id]
        else:
            self.chosen[model_id] = None
        self._show_state()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "done":
            self.action_done()
        else:
            self.action_close()

    def action_focus_list(self) -> None:
        listing = self.query_one("#picker-list", SelectionList)
        if listing.highlighted is None and listing.option_count:
            listing.highlighted = 0
        listing.focus()

    def action_done(self) -> None:
        self.dismiss(tuple(self.chosen))

    def action_close(self) -> None:
        self.dismiss(None)
