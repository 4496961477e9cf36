"""The TUI's cold start to its first frame, and what the entry points import.

Both apps start in fresh processes, headless, and report the moment their first screen has been
composed, mounted and refreshed (an autopilot waits for the app to go idle, then exits). The
baseline is a bare Textual app that renders one `Static`. The runs alternate between the two so
machine noise falls on both alike; the figure is the median time from spawning the process to that moment.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench.common import REPO, figure

TARGET_RATIO = 1.3
HEAVY_MODULES = ("pandas", "together", "numpy", "pyarrow")
ENTRY_POINTS = ("tui.app", "cli.main", "core.workspace")

AUTOPILOT = """
import sys, time

async def first_frame(pilot):
    await pilot.pause()
    print(time.time(), file=sys.stderr)
    pilot.app.exit()
"""

BARE_APP = AUTOPILOT + """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("factdeck")

Bare().run(headless=True, size=(120, 40), auto_pilot=first_frame)
"""

FACTDECK_APP = AUTOPILOT + """
from tui.app import FactdeckApp

FactdeckApp().run(headless=True, size=(120, 40), auto_pilot=first_frame)
"""

HEAVY_PROBE = """
import sys, {module}
print(" ".join(sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))))
"""


def start_seconds(source: str, home: str) -> float:
    """Return the seconds from spawning a Python process running `source` to its first frame.

    The child prints the wall-clock time of its first frame on the last line of stderr, so the
    time the app takes to shut down afterwards is not counted.
    """
    environment = dict(os.environ, FACTDECK_HOME=home)
    start = time.time()
    completed = subprocess.run(
        [sys.executable, "-c", source], cwd=REPO, env=environment, check=True, capture_output=True, text=True
    )
    return float(completed.stderr.strip().splitlines()[-1]) - start


def heavy_imports(module: str) -> list[str]:
    """Return which heavy top-level packages `import module` loads in a fresh process."""
    source = HEAVY_PROBE.format(module=module, heavy=HEAVY_MODULES)
    completed = subprocess.run(
        [sys.executable, "-c", source], cwd=REPO, check=True, capture_output=True, text=True
    )
    return completed.stdout.split()


def run(quick: bool = False) -> list[dict]:
    repeat = 5 if quick else 15
    bare: list[float] = []
    factdeck: list[float] = []
    with tempfile.TemporaryDirectory(prefix="factdeck-bench-startup-") as home:
        start_seconds(BARE_APP, home)  # Warm the file cache for both.
        start_seconds(FACTDECK_APP, home)
        for _ in range(repeat):
            bare.append(start_seconds(BARE_APP, home))
            factdeck.append(start_seconds(FACTDECK_APP, home))

    bare_median, factdeck_median = statistics.median(bare), statistics.median(factdeck)
    rows = [
        figure(
            f"TUI cold start to first frame (median of {repeat})",
            factdeck_median,
            "s",
            bare_median,
            f"<= {TARGET_RATIO}x a bare one-widget Textual app",
            factdeck_median <= TARGET_RATIO * bare_median,
        )
    ]
    for module in ENTRY_POINTS:
        loaded = heavy_imports(module)
        rows.append(
            figure(
                f"heavy packages loaded by `import {module}`" + (f" ({', '.join(loaded)})" if loaded else ""),
                len(loaded),
                "",
                None,
                f"0 of {', '.join(HEAVY_MODULES)}",
                not loaded,
            )
        )
    return rows
