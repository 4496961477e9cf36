"""The whole product path: `factdeck run --provider together --wait --json` on all 4,326 questions,
through the real `together` SDK against the local stand-in, with every grade checked."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from core.metrics import rates
from tests.conftest import DATASET, run_cli
from tests.standin.oracle import expected_final_grade

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
JUDGE = "Qwen/Qwen2.5-72B-Instruct-Turbo"


def expected_grades() -> dict[int, str]:
    with DATASET.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return {index: expected_final_grade(row["problem"], row["answer"], 3, 2) for index, row in enumerate(rows)}


@pytest.mark.slow
def test_full_dataset_run_grades_every_question(home, standin):
    result = run_cli(
        ["run", "--provider", "together", "--model", MODEL, "--grader-model", JUDGE,
         "--dataset", str(DATASET), "--poll-interval", "0.2", "--wait", "--json"],
        home,
        standin,
    )
    assert result.returncode == 0, result.stderr
    metrics = result.json()
    expected = expected_grades()
    counts = Counter(expected.values())

    assert metrics["total"] == 4326
    assert metrics["status"] == "done"
    assert metrics["model"] == MODEL
    assert metrics["grader_model"] == JUDGE
    assert metrics["correct"] == counts["CORRECT"]
    assert metrics["incorrect"] == counts["INCORRECT"]
    assert metrics["not_attempted"] == counts["NOT_ATTEMPTED"]
    assert metrics["failed"] == counts["FAILED"]
    assert metrics["unparsed"] == counts["UNPARSED"]
    assert metrics["pending"] == 0
    assert metrics["accuracy"] == rates(counts["CORRECT"], counts["INCORRECT"], counts["NOT_ATTEMPTED"])["accuracy"]

    results = run_cli(["results", metrics["run_id"], "--format", "jsonl"], home)
    assert results.returncode == 0, results.stderr
    graded = {row["question_id"]: row["grade"] for row in map(json.loads, results.stdout.splitlines())}
    assert graded == expected

    # Every batch created at the stand-in is one job in the store, and no input file went twice.
    status = run_cli(["status", "--json"], home).json()
    jobs = status[0]["jobs"]
    assert sorted(job["batch_id"] for job in jobs) == sorted(batch_id for batch_id, _ in standin.creations)
    input_files = [input_file for _, input_file in standin.creations]
    assert len(input_files) == len(set(input_files))
    # Failed answers are retried twice (three attempts in all), each retry in a batch of its own.
    assert [job["attempt"] for job in jobs if job["phase"] == "answers"] == [1, 2, 3]
    assert all(job["status"] == "COMPLETED" for job in jobs)
