"""Cells of the Jobs table: every state carries a glyph and a word, so it reads without colour."""

from __future__ import annotations

from rich.text import Text

from core.text import one_line
from tui.backend import JobRow

# state -> (glyph, style); the word is the state itself.
STATE_LOOK = {
    "queued": ("·", "dim"),
    "uploading": ("↑", ""),
    "submitting": ("↑", ""),
    "validating": ("…", ""),
    "running": ("▶", "bold"),
    "downloading": ("↓", ""),
    "done": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "expired": ("✗", "red"),
    "cancelling": ("⊘", "yellow"),
    "cancelled": ("⊘", "yellow"),
}
BAR_WIDTH = 10
RUN_SUFFIX = 4
# (key, label, width). Ordered so that at 80 columns everything needed to follow a job shows
# without sideways scrolling: the run (its id's random suffix distinguishes two runs of one model),
# phase, shard, status, progress, done/total and ETA. Fixed widths keep columns still while
# values change.
COLUMNS = (
    ("mark", " ", 1),
    ("run", "Run", RUN_SUFFIX),
    ("phase", "Phase", 10),
    ("shard", "#", 2),
    ("state", "Status", 13),
    ("progress", "Progress", 15),
    ("requests", "Done/Total", 10),
    ("eta", "ETA", 5),
    ("model", "Model", 26),
    ("failed", "Fail", 5),
    ("age", "Age", 6),
    ("run_id", "Run id", 32),
    ("note", "Note", 60),
)
SORT_KEYS = ("run", "model", "phase", "state", "progress", "eta", "age")
MODEL_WIDTH = 26
NOTE_WIDTH = 60


def duration(seconds: float | None) -> str:
    """Format seconds as `<1m`, `12m`, `3h05m` or `2d04h`; None gives an empty cell.

    Whole minutes at best, because a cell that changes every tick makes the table repaint its
    row every tick, and a batch job takes minutes to hours anyway.
    """
    if seconds is None:
        return ""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return "<1m"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h{minutes % 60:02d}m"
    return f"{hours // 24}d{hours % 24:02d}h"


def progress_bar(percent: float | None) -> str:
    if percent is None:
        return "░" * BAR_WIDTH + "    "
    filled = round(max(0.0, min(percent, 100.0)) / 100 * BAR_WIDTH)
    return "█" * filled + "░" * (BAR_WIDTH - filled) + f" {percent:3.0f}%"


def state_cell(row: JobRow) -> Text:
    if row.stalled:
        # Only a validating or running job can stall, so the warning replaces its state.
        return Text("⚠ stalled", style="bold yellow")
    glyph, style = STATE_LOOK.get(row.state, ("?", ""))
    return Text(f"{glyph} {row.state}", style=style)


def phase_cell(phase: str) -> str:
    """Shorten `answers retry 2` to `answers r2` so the phase fits its narrow column."""
    return phase.replace(" retry ", " r")


def row_cells(row: JobRow, marked: bool, now: float) -> dict[str, Text | str]:
    """Return the cells of one row by column key; untrusted text goes in as plain Text."""
    model = one_line(row.model, MODEL_WIDTH)
    return {
        "mark": "●" if marked else " ",
        "run": Text(row.run_id[-RUN_SUFFIX:]),
        "phase": phase_cell(row.phase),
        "shard": str(row.shard),
        "state": state_cell(row),
        "progress": progress_bar(row.progress),
        "requests": f"{row.done}/{row.total}",
        "eta": "—" if row.stalled else duration(row.eta),
        "model": Text(model),
        "failed": str(row.failed),
        "age": duration(now - row.created_at),
        "run_id": Text(row.run_id + (" (simulated)" if row.simulated else "")),
        "note": Text(one_line(row.note, NOTE_WIDTH), style="red" if row.note else ""),
    }


def searchable_text(row: JobRow) -> str:
    """Return the text a `/` filter matches against: every visible value, lower-cased."""
    return " ".join(
        (row.run_id, row.model, row.phase, str(row.shard), row.state, "stalled" if row.stalled else "", one_line(row.note), str(row.job_id))
    ).lower()


def sort_value(row: JobRow, key: str, now: float) -> tuple:
    values = {
        "run": (row.run_id, row.job_id),
        "model": (row.model, row.job_id),
        "phase": (row.phase, row.shard),
        "state": (row.state, row.job_id),
        "progress": (row.progress if row.progress is not None else -1.0, row.job_id),
        "age": (now - row.created_at, row.job_id),
        "eta": (row.eta if row.eta is not None else float("inf"), row.job_id),
    }
    return values[key]
