"""Entry point of the `factdeck` console script.

Without a subcommand it opens the TUI. Subcommands print results on stdout and progress on
stderr; a user mistake is one line on stderr and exit status 1 (2 for a bad flag), never a
traceback.
"""

from __future__ import annotations

import argparse
import sys

from cli.commands import COMMANDS, add_subcommands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factdeck",
        description="Run the SimpleQA benchmark through batch inference APIs, grade it with an LLM judge, "
        "and review the results. Run without a command to open the terminal UI.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_subcommands(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        from tui.app import run_app

        return run_app()

    from core.errors import FactdeckError
    from core.providers.base import ProviderError

    try:
        return COMMANDS[args.command](args)
    except (FactdeckError, ProviderError) as error:
        print(f"factdeck: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("factdeck: interrupted; unfinished runs continue with `factdeck watch`", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
