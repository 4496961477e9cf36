"""Reusable widgets of the factdeck TUI."""
