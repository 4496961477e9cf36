"""The `factdeck` command: headless subcommands over the engine, or the TUI with no arguments."""
