"""The factdeck evaluation engine: dataset, prompts, batch files, providers, store, engine, metrics.

Nothing in this package imports Textual or Rich, so the CLI and other tools can use it headless.
"""
