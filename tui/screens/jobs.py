"""The Jobs screen (placeholder until it is built)."""

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class JobsScreen(Screen):
    TITLE = "Jobs"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Jobs")
        yield Footer()
