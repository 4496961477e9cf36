"""The Results screen (placeholder until it is built)."""

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class ResultsScreen(Screen):
    TITLE = "Results"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Results")
        yield Footer()
