"""Run the stand-in from a shell: `python -m tests.standin --port 8765 --dataset PATH`."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from tests.standin.config import StandInConfig
from tests.standin.oracle import load_gold_by_question
from tests.standin.server import StandIn


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = StandInConfig()
    parser = argparse.ArgumentParser(
        prog="python -m tests.standin", description="Serve a Together API stand-in on 127.0.0.1."
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="TCP port to bind on 127.0.0.1; 0 picks a free one (default: 8765)"
    )
    parser.add_argument("--dataset", help="SimpleQA-shaped CSV whose gold answers the student model returns")
    parser.add_argument("--api-key", default="test-key", help="API key clients must send (default: test-key)")
    parser.add_argument(
        "--validating-seconds", type=float, default=defaults.validating_seconds,
        help=f"seconds a batch stays VALIDATING (default: {defaults.validating_seconds})",
    )
    parser.add_argument(
        "--running-seconds", type=float, default=defaults.running_seconds,
        help=f"seconds a batch stays IN_PROGRESS (default: {defaults.running_seconds})",
    )
    parser.add_argument(
        "--response-delay-seconds", type=float, default=0.0, help="seconds every /v1 request waits (default: 0)"
    )
    parser.add_argument("--state-dir", help="directory for file contents (default: a temporary directory)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = StandInConfig(
        api_key=args.api_key,
        validating_seconds=args.validating_seconds,
        running_seconds=args.running_seconds,
        response_delay_seconds=args.response_delay_seconds,
        state_dir=Path(args.state_dir) if args.state_dir else None,
    )
    gold_by_question = load_gold_by_question(args.dataset) if args.dataset else None
    with StandIn(config, gold_by_question=gold_by_question, port=args.port) as standin:
        print(standin.base_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
