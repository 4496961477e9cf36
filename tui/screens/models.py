"""The Models screen (placeholder until it is built)."""

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class ModelsScreen(Screen):
    TITLE = "Models"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Models")
        yield Footer()
