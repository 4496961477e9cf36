"""The benchmark package imports and formats its table; the benchmarks themselves never run here."""

import importlib
import inspect

from bench.__main__ import discover
from bench.common import figure
from bench.report import TABLE_END, TABLE_START, format_table, write_markdown


def test_every_module_exposes_run():
    names = discover(None)
    assert {"bench_pipeline", "bench_startup", "bench_polling", "bench_large_run", "bench_end_to_end"} <= set(names)
    for name in names:
        run = importlib.import_module(f"bench.{name}").run
        assert list(inspect.signature(run).parameters) == ["quick"], name


def test_figure_ratio_and_table():
    row = figure("pipeline", 0.25, "s", 1.0, "<= 0.5x", True)
    assert row["ratio"] == 0.25
    table = format_table([row])
    assert "250.0 ms" in table
    assert "1.00 s" in table
    assert "0.250x" in table


def test_markdown_keeps_text_around_table(tmp_path):
    page = tmp_path / "performance.md"
    page.write_text(f"# Performance\n\nIntro.\n\n{TABLE_START}\nold\n{TABLE_END}\n\nNotes stay.\n")
    write_markdown(page, [figure("x", 3, "MB", 1, "< 4 MB", True)], "python -m bench", "test machine", [])
    text = page.read_text()
    assert text.startswith("# Performance\n\nIntro.\n\n")
    assert text.endswith("\n\nNotes stay.\n")
    assert "old" not in text
    assert "| x | 3.0 MB | 1.0 MB | 3.000x | < 4 MB | yes |" in text
    assert "with `python -m bench` on test machine" in text
