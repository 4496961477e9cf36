"""Shared TUI fixtures: an isolated home, a tiny dataset, and a store filled with fixed jobs.

Times are fixed (`FIXED_NOW`, UTC) so ages, ETAs and the "Refreshed" line are the same in every
run, which snapshot tests need.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.paths import Paths, resolve_paths
from core.store import Store

FIXED_NOW = 1_764_880_000.0  # 2025-12-04 20:26:40 UTC
UNTRUSTED = ("closing [/] tag", "[bold red]X[/]", "[link=http://example.test]x[/link]", "\x1b[31mred")

DATASET_ROWS = [
    ("Science and technology", "Person", "Who received the IEEE Frank Rosenblatt Award in 2010?", "Michio Sugeno"),
    ("Geography", "Place", "In which country is the town of Tromsø?", "Norway"),
    ("Art", "Date", "In what year was the painting The Night Watch completed?", "1642"),
    ("Music", "Number", "How many symphonies did Beethoven complete?", "9"),
    ("History", "Person", "Who was the first president of Iceland?", "Sveinn Björnsson"),
    ("Sports", "Other", "Which club won the 1999 UEFA Champions League final?", "Manchester United"),
]


@pytest.fixture
def tui_paths(home, monkeypatch) -> Paths:
    """Paths under the test's FACTDECK_HOME, with UTC local time so clock text is fixed."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield resolve_paths()
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def small_dataset(tmp_path) -> Path:
    """A six-question SimpleQA-shaped CSV."""
    import csv

    path = tmp_path / "small.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["metadata", "problem", "answer"])
        for topic, answer_type, problem, gold in DATASET_ROWS:
            metadata = {"topic": topic, "answer_type": answer_type, "urls": ["https://example.test/" + gold.replace(" ", "_")]}
            writer.writerow([repr(metadata), problem, gold])
    return path


def insert_job(store: Store, run_id: str, **values: object) -> int:
    """Insert one batch job row with fixed times; `values` override the defaults."""
    row = {
        "run_id": run_id, "phase": "answers", "attempt": 1, "shard": 1, "n_requests": 100,
        "input_path": f"/data/{run_id}/shard.jsonl", "input_bytes": 1000, "stage": "submitted",
        "status": "IN_PROGRESS", "progress": 40.0, "created_at": FIXED_NOW - 600, "updated_at": FIXED_NOW - 30,
        "progress_history": json.dumps([[FIXED_NOW - 300, 10.0], [FIXED_NOW - 60, 40.0]]),
    }
    row.update(values)
    names = ", ".join(row)
    marks = ", ".join(f":{name}" for name in row)
    store.execute(f"INSERT INTO batch_jobs ({names}) VALUES ({marks})", row)
    return store.query("SELECT MAX(job_id) FROM batch_jobs")[0][0]


def insert_run(
    store: Store, run_id: str, model: str, status: str = "answering", simulated: bool = False, created_at: float = FIXED_NOW - 900
) -> None:
    """Insert a run row with no questions (the Jobs screen reads only runs and jobs)."""
    store.insert_run(
        {"run_id": run_id, "status": status, "provider": "mock" if simulated else "together", "simulated": int(simulated), "model": model,
         "grader_model": "judge/model-70b", "dataset": "simple_qa_test_set.csv", "sample_limit": 100, "seed": 0,
         "settings": {}},
        [],
    )
    store.execute("UPDATE runs SET created_at = ?, updated_at = ? WHERE run_id = ?", (created_at, created_at, run_id))


@pytest.fixture
def filled_store(tui_paths) -> Callable[[], dict[str, int]]:
    """Fill the store with two runs and five jobs in fixed states; return job ids by name."""

    def fill() -> dict[str, int]:
        store = Store(tui_paths.database)
        try:
            insert_run(store, "20251204-200000-aaaa", "meta-llama/Llama-3.3-70B-Instruct-Turbo")
            insert_run(store, "20251204-201000-bbbb", "mock/student-small", simulated=True, created_at=FIXED_NOW - 300)
            ids = {
                "running": insert_job(store, "20251204-200000-aaaa"),
                "stalled": insert_job(store, "20251204-200000-aaaa", shard=2, progress=5.0,
                                      progress_history=json.dumps([[FIXED_NOW - 7200, 5.0]])),
                "rate_limited": insert_job(store, "20251204-200000-aaaa", shard=3, status="VALIDATING", progress=0.0,
                                           progress_history="[]", last_error="rate limited, retrying in 40 s"),
                "done": insert_job(store, "20251204-201000-bbbb", stage="ingested", status="COMPLETED", progress=100.0,
                                   n_succeeded=98, n_failed=2, created_at=FIXED_NOW - 200),
                "judge": insert_job(store, "20251204-201000-bbbb", phase="judge", stage="prepared", status=None, progress=None,
                                    progress_history="[]", created_at=FIXED_NOW - 100),
            }
        finally:
            store.close()
        return ids

    return fill


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 4.0) -> None:
    """Let the app run until `condition()` holds; fail with a clear message after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s; screen {pilot.app.screen!r}, focused {pilot.app.focused!r}")
        await pilot.pause(0.05)
