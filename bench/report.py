"""Format benchmark figures as a terminal table and as the Markdown page docs/performance.md."""

from __future__ import annotations

import re
import time
from pathlib import Path

COLUMNS = ("figure", "value", "baseline", "ratio", "target", "met")
TABLE_START = "<!-- bench:table:start -->"
TABLE_END = "<!-- bench:table:end -->"


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    if float(value).is_integer():
        return f"{int(value):,} {unit}".strip()
    return f"{value:.3g} {unit}".strip()


def cells(row: dict) -> list[str]:
    ratio = row.get("ratio")
    return [
        row["name"],
        format_value(row["value"], row["unit"]),
        format_value(row.get("baseline"), row["unit"]),
        "-" if ratio is None else f"{ratio:.3f}x",
        row["target"],
        "yes" if row["met"] else "NO",
    ]


def format_table(rows: list[dict]) -> str:
    """Return a plain-text table with aligned columns."""
    table = [list(COLUMNS)] + [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells(row)) + " |")
    return "\n".join(lines)


def write_markdown(path: Path, rows: list[dict], command: str, machine: str, failures: list[str]) -> None:
    """Put the latest table into `path` between the table markers, keeping the rest of the page.

    A page without the markers gets them appended, so hand-written notes around the table survive
    every run of the benchmarks.
    """
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = [
        TABLE_START,
        f"Measured {stamp} with `{command}` on {machine}.",
        "",
        markdown_table(rows),
    ]
    if failures:
        block += ["", f"Modules that failed in this run: {', '.join(failures)}."]
    block.append(TABLE_END)
    text = "\n".join(block)

    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n\n"
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.DOTALL)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip() + "\n\n" + text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
