"""Cancelling a run: no new batch afterwards, what was produced is kept, and a batch that has
already ended at the provider is read rather than reported as an error."""

import json
import time

import pytest

from tests.conftest import DATASET, run_cli
from tests.standin import StandIn, StandInConfig
from tests.standin.oracle import student_reply

START = ["run", "--provider", "together", "--model", "m/student", "--grader-model", "m/judge",
         "--dataset", str(DATASET), "--limit", "12", "--seed", "2", "--poll-interval", "0.1"]


@pytest.fixture
def slow_standin(tmp_path, gold_by_question):
    config = StandInConfig(validating_seconds=0.1, running_seconds=600, state_dir=tmp_path / "standin")
    with StandIn(config, gold_by_question=gold_by_question) as server:
        yield server


def test_cancel_run_submits_nothing_new(home, slow_standin):
    started = run_cli([*START, "--json"], home, slow_standin)
    assert started.returncode == 0, started.stderr
    (run_id,) = started.json()["run_ids"]
    assert len(slow_standin.creations) == 1

    cancelled = run_cli(["cancel", run_id], home, slow_standin)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"run {run_id} is cancelled" in cancelled.stderr

    run_cli(["watch", "--until-done"], home, slow_standin)
    metrics = run_cli(["metrics", run_id, "--json"], home).json()
    assert metrics["status"] == "cancelled"
    assert metrics["failed"] + metrics["correct"] + metrics["incorrect"] + metrics["not_attempted"] == 12
    assert len(slow_standin.creations) == 1
    (batch_id, _) = slow_standin.creations[0]
    assert slow_standin.batches[batch_id].status == "CANCELLED"


def test_cancel_after_batch_ended_keeps_output(home, standin):
    started = run_cli([*START, "--json"], home, standin)
    assert started.returncode == 0, started.stderr
    (run_id,) = started.json()["run_ids"]
    # The stand-in finishes a batch in 0.4 s; factdeck has not polled it since it was submitted.
    time.sleep(1.0)

    cancelled = run_cli(["cancel", run_id], home, standin)
    assert cancelled.returncode == 0, cancelled.stderr
    assert "Traceback" not in cancelled.stderr
    assert f"run {run_id} is cancelled" in cancelled.stderr

    metrics = run_cli(["metrics", run_id, "--json"], home).json()
    rows = [json.loads(line) for line in run_cli(["results", run_id, "--format", "jsonl"], home).stdout.splitlines()]
    assert metrics["status"] == "cancelled"
    assert len(standin.creations) == 1
    assert len(rows) == 12
    for row in rows:
        assert bool(row["answer"]) == (student_reply(row["problem"], row["gold"], 1) is not None)
    assert all(row["grade"] == "FAILED" for row in rows)
    assert {row["failure_reason"] for row in rows if row["answer"]} == {"the run was cancelled before this answer was graded"}
