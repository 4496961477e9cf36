"""Polling 50 active batch jobs from the TUI against a stand-in that responds in 300 ms.

The real app runs in this process (`FactdeckApp.run_test`, Jobs screen) with its engine-loop
thread stepping every run, against the Together stand-in (real SDK over HTTP on 127.0.0.1). A
task on the app's event loop sleeps 10 ms at a time and records how late it wakes up: the largest
lateness is the longest stall of the UI. `Engine.step_all` is wrapped to cut the stand-in's
request log into poll cycles, so each cycle's requests can be counted per batch.

The stand-in runs in this process too, so its threads compete for the GIL with the UI: the
measured lag is, if anything, higher than against a remote server. The baseline is the same app
with no runs, idle for a few seconds.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from io import StringIO
from pathlib import Path

from bench.common import DATASET, JUDGE_MODEL, STUDENT_MODEL, figure

ACTIVE_JOBS = 50
RESPONSE_DELAY = 0.3
TARGET_LAG_MS = 50.0
BATCH_PATH = re.compile(r"/v1/batches/([^/]+)")


class LagMonitor:
    """Measures how late 10 ms sleeps on the running event loop wake up."""

    def __init__(self) -> None:
        self.max_lag = 0.0
        self.samples = 0
        self.started = time.perf_counter()
        self.stalls: list[tuple[float, float]] = []

    async def watch(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            lag = time.perf_counter() - start - 0.01
            self.max_lag = max(self.max_lag, lag)
            self.samples += 1
            if lag > 0.02:
                self.stalls.append((round(start - self.started, 2), round(lag * 1000, 1)))


async def app_lag(home: Path, until, timeout: float) -> LagMonitor:
    """Run the app headless until `until()` is true (or `timeout` passes); return its lag monitor."""
    from core.paths import Paths
    from tui.app import FactdeckApp

    app = FactdeckApp(Paths(config_dir=home, data_dir=home, state_dir=home / "state"), start_mode="jobs")
    monitor = LagMonitor()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        task = asyncio.create_task(monitor.watch())
        deadline = time.monotonic() + timeout
        while not until() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        task.cancel()
    return monitor


def start_jobs(home: Path, standin) -> None:
    """Submit one run of `ACTIVE_JOBS` one-question shards through the CLI, with no delay yet."""
    from cli.main import main

    os.environ.update(FACTDECK_HOME=str(home), TOGETHER_API_KEY=standin.config.api_key, TOGETHER_BASE_URL=standin.base_url)
    arguments = [
        "run", "--provider", "together", "--model", STUDENT_MODEL, "--grader-model", JUDGE_MODEL,
        "--dataset", str(DATASET), "--limit", str(ACTIVE_JOBS), "--max-shard-requests", "1", "--poll-interval", "1",
    ]
    with redirect_stdout(StringIO()), redirect_stderr(StringIO()):
        if main(arguments) != 0:
            raise RuntimeError("factdeck run failed to start the polling benchmark's jobs")


def cycle_counts(log, cycles: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return (requests, largest count for one batch) for each complete poll cycle.

    A cycle with no request is one where no job's next poll was due yet.
    """
    counts = []
    for start, end in cycles:
        window = log[start:end]
        per_batch = Counter(
            match.group(1) for entry in window if entry.method == "GET" and (match := BATCH_PATH.fullmatch(entry.path))
        )
        counts.append((len(window), max(per_batch.values(), default=0)))
    return counts


def run(quick: bool = False) -> list[dict]:
    from core.engine import Engine
    from tests.standin import StandIn, StandInConfig
    from tests.standin.oracle import load_gold_by_question

    wanted_cycles = 1 if quick else 2
    saved_environment = dict(os.environ)
    original_step_all = Engine.step_all
    folder = Path(tempfile.mkdtemp(prefix="factdeck-bench-polling-"))
    config = StandInConfig(validating_seconds=3600, running_seconds=3600, state_dir=folder / "standin")
    try:
        with StandIn(config, gold_by_question=load_gold_by_question(DATASET)) as standin:
            idle = asyncio.run(app_lag(folder / "idle-home", lambda: False, timeout=3.0))

            start_jobs(folder / "home", standin)
            standin.config.response_delay_seconds = RESPONSE_DELAY
            cycles: list[tuple[int, int]] = []

            def counted_step_all(engine):
                start = len(standin.requests_log)
                events = original_step_all(engine)
                cycles.append((start, len(standin.requests_log)))
                return events

            Engine.step_all = counted_step_all
            busy_timeout = wanted_cycles * (ACTIVE_JOBS * RESPONSE_DELAY + 10) + 20
            time.sleep(1.1)  # Let every job's next poll come due, so the first cycle polls all of them.

            def polled_cycles() -> int:
                return sum(1 for start, end in list(cycles) if end > start)

            busy = asyncio.run(app_lag(folder / "home", lambda: polled_cycles() >= wanted_cycles, timeout=busy_timeout))
            counts = cycle_counts(standin.requests_log, cycles)
            statuses = Counter(batch.status for batch in standin.batches.values())
    finally:
        Engine.step_all = original_step_all
        os.environ.clear()
        os.environ.update(saved_environment)
        shutil.rmtree(folder, ignore_errors=True)

    polled = sum(1 for requests, _ in counts if requests)
    if polled < wanted_cycles:
        raise RuntimeError(f"only {polled} of {wanted_cycles} poll cycles with requests finished in time")
    if len(statuses) != 1 or None not in statuses:
        raise RuntimeError(f"the {ACTIVE_JOBS} batches were not all still running: {dict(statuses)}")
    most_requests = max(requests for requests, _ in counts)
    most_per_batch = max(per_batch for _, per_batch in counts)
    return [
        figure(
            f"UI event-loop max lag, {ACTIVE_JOBS} jobs polled at {RESPONSE_DELAY * 1000:.0f} ms per request",
            busy.max_lag * 1000,
            "ms",
            idle.max_lag * 1000,
            f"<= {TARGET_LAG_MS:.0f} ms",
            busy.max_lag * 1000 <= TARGET_LAG_MS,
        ),
        figure(
            f"requests per poll cycle, {ACTIVE_JOBS} active jobs (max of {len(counts)} cycles, {polled} with requests)",
            most_requests,
            "",
            ACTIVE_JOBS,
            f"<= 1 per active job ({ACTIVE_JOBS}); at most 1 per batch (seen: {most_per_batch})",
            most_requests <= ACTIVE_JOBS and most_per_batch <= 1,
        ),
    ]
