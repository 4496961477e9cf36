"""Helpers shared by the benchmark modules: the figure record, timers and the shared data."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DATASET = SHARED_DATA / "simple_qa_test_set.csv"

STUDENT_MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
JUDGE_MODEL = "Qwen/Qwen2.5-72B-Instruct-Turbo"


def figure(
    name: str,
    value: float,
    unit: str,
    baseline: float | None,
    target: str,
    met: bool,
) -> dict:
    """Build one result row; `ratio` is value / baseline, or None when there is no baseline."""
    ratio = value / baseline if baseline else None
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "target": target,
        "met": bool(met),
    }


def timed(function: Callable[[], object]) -> float:
    """Return the wall time of one call in seconds, with the garbage collector run beforehand."""
    gc.collect()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start
