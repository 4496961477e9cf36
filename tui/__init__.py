"""The factdeck terminal UI. It talks to the engine only through `core`'s public functions."""
