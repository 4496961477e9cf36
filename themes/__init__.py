"""Theme files (`*.toml`) loaded by the TUI at start-up, next to Textual's built-in themes."""
