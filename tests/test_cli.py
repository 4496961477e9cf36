"""The factdeck command as users and scripts call it: contracts, exports, and one-line errors."""

import csv
import io
import json

import pytest

from tests.conftest import DATASET, run_cli

MOCK_RUN = ["run", "--provider", "mock", "--model", "mock/student-small", "--grader-model", "mock/judge",
            "--dataset", str(DATASET), "--limit", "20", "--seed", "3", "--poll-interval", "0.2"]


@pytest.fixture(scope="module")
def finished_mock_run(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    result = run_cli([*MOCK_RUN, "--wait", "--json"], home)
    assert result.returncode == 0, result.stderr
    return home, result


def test_run_wait_json_prints_only_metrics(finished_mock_run):
    _, result = finished_mock_run
    metrics = result.json()
    assert set(metrics) >= {
        "run_id", "status", "model", "grader_model", "dataset", "total", "correct", "incorrect",
        "not_attempted", "unparsed", "failed", "accuracy", "accuracy_given_attempted", "f_score",
        "ci95", "by_topic", "by_answer_type",
    }
    assert metrics["status"] == "done"
    assert metrics["total"] == 20
    assert metrics["simulated"] is True
    assert metrics["correct"] + metrics["incorrect"] + metrics["not_attempted"] + metrics["unparsed"] + metrics["failed"] == 20
    assert "SIMULATED" in result.stderr


def test_metrics_json_matches_run_output(finished_mock_run):
    home, result = finished_mock_run
    run_id = result.json()["run_id"]
    again = run_cli(["metrics", run_id, "--json"], home)
    assert again.returncode == 0
    assert again.json() == result.json()


def test_results_formats_and_filters(finished_mock_run):
    home, result = finished_mock_run
    metrics = result.json()
    run_id = metrics["run_id"]

    rows = [json.loads(line) for line in run_cli(["results", run_id, "--format", "jsonl"], home).stdout.splitlines()]
    assert len(rows) == 20
    assert {"question_id", "problem", "gold", "answer", "grade", "topic", "answer_type", "judge_reply"} <= set(rows[0])
    assert all(row["answer"].startswith("[simulated] ") for row in rows if row["answer"])

    incorrect = run_cli(["results", run_id, "--grade", "incorrect", "--format", "csv"], home).stdout
    parsed = list(csv.DictReader(io.StringIO(incorrect)))
    assert len(parsed) == metrics["incorrect"]
    assert {row["grade"] for row in parsed} <= {"INCORRECT"}

    topic = rows[0]["topic"]
    by_topic = run_cli(["results", run_id, "--topic", topic, "--format", "jsonl"], home).stdout.splitlines()
    assert len(by_topic) == metrics["by_topic"][topic]["total"]

    table = run_cli(["results", run_id], home).stdout.splitlines()
    assert len(table) == 21


def test_status_json_lists_run_and_jobs(finished_mock_run):
    home, result = finished_mock_run
    listing = run_cli(["status", "--json"], home).json()
    assert [run["run_id"] for run in listing] == [result.json()["run_id"]]
    jobs = listing[0]["jobs"]
    assert [(job["phase"], job["status"]) for job in jobs] == [("answers", "COMPLETED"), ("judge", "COMPLETED")]
    assert all(job["batch_id"].startswith("mockbatch-") for job in jobs)


def test_report_is_markdown(finished_mock_run):
    home, result = finished_mock_run
    report = run_cli(["report", result.json()["run_id"]], home).stdout
    assert report.startswith(f"# SimpleQA run {result.json()['run_id']} (SIMULATED")
    assert "| Accuracy |" in report


def test_unknown_run_is_one_line_error(home):
    result = run_cli(["metrics", "nope", "--json"], home)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "factdeck: error: no run 'nope'; `factdeck status` lists the runs\n"


def test_bad_flag_value_is_usage_error(home):
    result = run_cli(["run", "--limit", "zero"], home)
    assert result.returncode == 2
    assert "argument --limit: expected a whole number, got 'zero'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_models_named(home):
    result = run_cli(["run", "--provider", "mock", "--dataset", str(DATASET)], home)
    assert result.returncode == 1
    assert result.stderr == "factdeck: error: no student model: pass --model or set run.models in the config file\n"


def test_missing_key_is_clear(home):
    result = run_cli(["run", "--provider", "together", "--model", "m", "--grader-model", "g", "--dataset", str(DATASET), "--limit", "2"], home)
    assert result.returncode == 1
    assert result.stderr == "factdeck: error: No Together API key: set TOGETHER_API_KEY or save a key from the Models screen\n"
    assert run_cli(["status", "--json"], home).json() == []


def test_run_then_watch_finishes(home):
    started = run_cli([*MOCK_RUN, "--limit", "5", "--json"], home)
    assert started.returncode == 0, started.stderr
    (run_id,) = started.json()["run_ids"]
    watched = run_cli(["watch", "--until-done"], home)
    assert watched.returncode == 0, watched.stderr
    assert f"run {run_id} is done" in watched.stderr
    assert run_cli(["metrics", run_id, "--json"], home).json()["total"] == 5


def test_run_refuses_broken_config(home):
    home.mkdir()
    config = home / "config.toml"
    config.write_text('[provider]\nname = "mock"\n\n[run]\nlimit = 10\ntemprature = 0.7\n')
    result = run_cli([*MOCK_RUN, "--wait"], home)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"factdeck: warning: {config}:6: run.temprature: unknown key; did you mean 'temperature'? (this setting is ignored)",
        f"factdeck: error: {config} has problems (listed above); fix them before starting a run, "
        "because the run would otherwise use settings you did not choose",
    ]
    assert run_cli(["status", "--json"], home).json() == []


def test_temperature_out_of_range_rejected(home):
    result = run_cli([*MOCK_RUN, "--temperature", "9"], home)
    assert result.returncode == 2
    assert "argument --temperature: must be between 0 and 2, got 9.0" in result.stderr


def test_report_lists_sample_settings(finished_mock_run):
    home, result = finished_mock_run
    metrics = result.json()
    assert metrics["sample"]["limit"] == 20
    assert metrics["sample"]["seed"] == 3
    assert metrics["sample"]["temperature"] == 0.0
    report = run_cli(["report", metrics["run_id"]], home).stdout
    assert "- Sample: 20 questions, seed 3; max tokens 256, temperature 0.0" in report
    assert "| Answer type | n |" in report
