"""A one-line list of the screen's active key bindings, drawn as text.

It replaces Textual's `Footer`, which builds one widget per key and rebuilds them whenever focus
moves. Removing the Footer from the Jobs screen cut its headless cold start from about 410 ms to
300 ms (median of 7 runs, Textual 8.2.8, on a 2-core Linux VM). The keys here
are not clickable.

A screen may set `KEY_BAR`, its most important keys first as (keys, label) pairs, so that the
line fits 80 columns. Every other key is one `?` away.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    """The screen's `KEY_BAR`, or else its active bindings that have `show=True`; then help and palette."""

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen:
            self.update(self.describe_keys())

    def describe_keys(self) -> Text:
        """Return the keys and their descriptions as one line, in `KEY_BAR` or binding order."""
        line = Text(no_wrap=True, overflow="ellipsis")
        chosen: tuple[tuple[str, str], ...] | None = getattr(self.screen, "KEY_BAR", None)
        if chosen is not None:
            for keys, label in chosen:
                line.append(f" {keys} ", style="bold reverse")
                line.append(f" {label} ")
            line.append(" ? ", style="bold reverse")
            line.append(" keys ")
            line.append(" ^p ", style="bold reverse")
            line.append(" palette")
            return line
        seen_actions: set[str] = set()
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            style = "bold" if enabled else "dim"
            line.append(f" {self.app.get_key_display(binding)} ", style=f"{style} reverse")
            line.append(f" {binding.description} ", style="" if enabled else "dim")
        line.append(" ^p ", style="bold reverse")
        line.append(" palette")
        return line
