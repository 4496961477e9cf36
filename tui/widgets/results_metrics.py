"""Headline metrics with 95% intervals, and a per-topic accuracy chart drawn with text bars."""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from core.report import format_interval, format_rate
from core.text import one_line
from tui.widgets.results_table import fit

HEADLINE = (("accuracy", "Accuracy"), ("accuracy_given_attempted", "Given attempted"), ("f_score", "F-score"))
BAR_FULL, BAR_EMPTY = "█", "░"


def _figure(metrics: dict, key: str) -> str:
    interval = metrics.get("ci95", {}).get(key)
    return f"{format_rate(metrics[key])} ({format_interval(interval)})"


def headline_table(metrics: dict) -> Table:
    """Build a table of accuracy, accuracy given attempted and F-score, judged and (if any) reviewed."""
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=False, header_style="bold")
    table.add_column("95% CI", no_wrap=True)
    for _, title in HEADLINE:
        table.add_column(title, no_wrap=True)
    table.add_row("Judge", *(_figure(metrics, key) for key, _ in HEADLINE))
    reviewed = metrics.get("reviewed")
    if reviewed:
        label = f"Reviewed ✎{reviewed['overrides']}"
        table.add_row(Text(label, style="italic"), *(_figure(reviewed, key) for key, _ in HEADLINE))
    return table


class ResultsMetrics(Static):
    """The headline figures of the run shown on the Results screen."""

    DEFAULT_CSS = """
    ResultsMetrics { height: auto; padding: 0 1; }
    """

    def show(self, metrics: dict | None) -> None:
        self.update(headline_table(metrics) if metrics else "")


def topic_chart(metrics: dict, width: int) -> Text:
    """Draw one bar per topic: judge accuracy with its interval and counts. Topic names stay literal."""
    by_topic: dict = metrics.get("by_topic", {})
    text = Text()
    text.append("Accuracy by topic (judge's grades; UNPARSED and FAILED not in the rate)\n\n", style="bold")
    if not by_topic:
        text.append("No graded questions yet.", style="dim")
        return text
    name_width = min(max(cell_len(one_line(name)) for name in by_topic), 22)
    figures_width = 36
    bar_width = max(width - name_width - figures_width - 3, 5)
    for name, group in by_topic.items():
        accuracy = group["accuracy"]
        filled = round((accuracy or 0) * bar_width)
        text.append(fit(one_line(name), name_width) + " ")
        text.append(BAR_FULL * filled, style="green")
        text.append(BAR_EMPTY * (bar_width - filled), style="dim")
        figures = f" {format_rate(accuracy):>6} ({format_interval(group['ci95']['accuracy'])})"
        text.append(fit(figures, 23))
        text.append(f" n={group['total']}\n")
    return text


class ResultsChart(Static):
    """The per-topic chart pane."""

    DEFAULT_CSS = """
    ResultsChart { height: 1fr; padding: 1 1; overflow-y: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.metrics: dict | None = None

    def show(self, metrics: dict | None) -> None:
        self.metrics = metrics
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if self.metrics is not None:
            self.update(topic_chart(self.metrics, self.size.width - 2 or 78))
