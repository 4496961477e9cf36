"""Modal dialogs shared by the screens: a yes/no confirmation, an error detail view, and the keys.

Both show their body as `rich.text.Text`, so provider errors and tracebacks are never read as
markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from core.text import strip_control


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something that costs money or cannot be undone; dismisses with a bool.

    | Key | Action |
    |---|---|
    | y, enter | confirm |
    | n, escape | go back |
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: Text | str, confirm_label: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.body = body if isinstance(body, Text) else Text(body)
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.body, markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.confirm_label} (y)", id="yes", variant="primary", compact=True)
                yield Button("No (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ErrorScreen(ModalScreen[None]):
    """Show an unexpected error with its traceback, which `c` copies to the clipboard.

    | Key | Action |
    |---|---|
    | c | copy the details |
    | escape, enter | close |
    """

    BINDINGS = [
        Binding("c", "copy", "Copy details", id="error.copy"),
        Binding("escape,enter", "close", "Close", id="error.close"),
    ]

    def __init__(self, title: str, details: str, log_file: str) -> None:
        super().__init__()
        self.title_text = title
        self.details = strip_control(details)
        self.log_file = log_file

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog error-dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Label(f"Also written to {self.log_file}", classes="dialog-hint", markup=False)
            with VerticalScroll(classes="dialog-body"):
                yield Static(Text(self.details), markup=False, id="details")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy (c)", id="copy")
                yield Button("Close (esc)", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.dismiss(None)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.details)
        self.notify("Error details copied to the clipboard", title="Copied")

    def action_close(self) -> None:
        self.dismiss(None)


class KeysScreen(ModalScreen[None]):
    """The factdeck keys of the screen below, most specific first; `?` or escape closes it.

    Textual's help panel lists the focused widget's cursor and editing keys first, which buried
    factdeck's own keys. So only bindings with a factdeck id are listed here.
    """

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="keys.close")]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = keys

    def compose(self) -> ComposeResult:
        width = max((len(key) for key, _ in self.keys), default=0) + 2
        body = Text()
        for key, meaning in self.keys:
            body.append(key.ljust(width), style="bold")
            body.append(f"{meaning}\n")
        body.append("arrows, pgup, pgdn, home, end move; tab moves between fields", style="dim")
        with Vertical(id="dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            with VerticalScroll(classes="dialog-body"):
                yield Static(body, markup=False, id="keys")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="close", variant="primary", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
