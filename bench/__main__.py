"""Run every benchmark module and print each figure beside its baseline and target.

    python -m bench                     # all modules, full length
    python -m bench --quick             # fewer repetitions and smaller inputs
    python -m bench --only pipeline     # modules whose name contains "pipeline"
    python -m bench --markdown docs/performance.md
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

import bench
from bench.report import format_table, write_markdown


# The order of the table: the local pipeline first, the large run last; other modules follow.
ORDER = ("bench_pipeline", "bench_end_to_end", "bench_startup", "bench_results_browser", "bench_polling", "bench_large_run")


def discover(only: list[str] | None) -> list[str]:
    """Return the names of the `bench_*` modules in table order, filtered by `only` substrings."""
    found = [info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")]
    names = sorted(found, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))
    if only:
        names = [name for name in names if any(part in name for part in only)]
    return names


def machine() -> str:
    """Describe the machine the figures were measured on."""
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run factdeck's benchmarks.")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and smaller inputs")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only modules whose name contains NAME (repeatable)")
    parser.add_argument("--markdown", type=Path, metavar="PATH", help="also write the table as a Markdown page to PATH")
    args = parser.parse_args(argv)

    names = discover(args.only)
    if not names:
        print("no benchmark module matches --only", file=sys.stderr)
        return 2

    rows: list[dict] = []
    failures: list[str] = []
    for name in names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            results = module.run(quick=args.quick)
        except Exception:
            failures.append(name)
            print(f"{name} failed:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        for row in results:
            rows.append({"module": name, **row})
        print(f"{name} took {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)

    print(format_table(rows))
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    if args.markdown:
        write_markdown(args.markdown, rows, command, machine(), failures)
        print(f"wrote {args.markdown}", file=sys.stderr)
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
