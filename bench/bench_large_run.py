"""A 100,000-question run end to end through the stand-in, within 300 MB.

The dataset is the real one repeated, each repeat's questions ending in a unique suffix, written
to a temporary CSV. `factdeck run --provider together --wait --json` runs in a child process
through the real SDK against the stand-in with short batch timings; its peak memory (max RSS)
comes from `os.wait4`. The baseline is the peak memory of a process that only imports factdeck's
CLI and the Together SDK. The run must make at least 7 judge shards under the default 95 MB
shard limit, and every question's grade must be the oracle's.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from bench.common import DATASET, JUDGE_MODEL, STUDENT_MODEL, figure
from bench.factdeck_process import run_factdeck, run_python
from bench.synthetic import write_repeated_dataset

QUESTIONS = 100_000
QUICK_QUESTIONS = 20_000
TARGET_MB = 300.0
MIN_JUDGE_SHARDS = 7


def expected_grades(dataset: Path) -> Counter:
    from tests.standin.oracle import expected_final_grade

    with dataset.open(encoding="utf-8", newline="") as file:
        return Counter(expected_final_grade(row["problem"], row["answer"], 3, 2) for row in csv.DictReader(file))


def run(quick: bool = False) -> list[dict]:
    from tests.standin import StandIn, StandInConfig
    from tests.standin.oracle import load_gold_by_question

    questions = QUICK_QUESTIONS if quick else QUESTIONS
    folder = Path(tempfile.mkdtemp(prefix="factdeck-bench-large-"))
    try:
        dataset = folder / "simple_qa_repeated.csv"
        write_repeated_dataset(DATASET, dataset, questions)
        config = StandInConfig(validating_seconds=0.1, running_seconds=0.3, state_dir=folder / "standin")
        with StandIn(config, gold_by_question=load_gold_by_question(dataset)) as standin:
            result = run_factdeck(
                ["run", "--provider", "together", "--model", STUDENT_MODEL, "--grader-model", JUDGE_MODEL,
                 "--dataset", str(dataset), "--poll-interval", "0.5", "--wait", "--json"],
                folder / "home",
                standin,
            )
            if result.returncode != 0:
                raise RuntimeError(f"factdeck run failed ({result.returncode}):\n{result.stderr[-3000:]}")
            metrics = result.json()
            status = json.loads(run_factdeck(["status", "--json"], folder / "home").stdout)
        expected = expected_grades(dataset)
        baseline = run_python(["-c", "import cli.main, core.providers.together, together"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    counted = {grade: metrics[grade.lower()] for grade in expected}
    if metrics["total"] != questions or counted != dict(expected):
        raise AssertionError(f"grades {counted} of {metrics['total']} differ from the oracle's {dict(expected)}")
    judge_shards = sum(1 for job in status[0]["jobs"] if job["phase"] == "judge" and job["attempt"] == 1)
    shard_target = MIN_JUDGE_SHARDS if not quick else 1
    return [
        figure(
            f"peak memory (max RSS), {questions:,}-question run",
            result.max_rss_mb,
            "MB",
            baseline.max_rss_mb,
            f"< {TARGET_MB:.0f} MB (baseline: importing the CLI and SDK)",
            result.max_rss_mb < TARGET_MB,
        ),
        figure(
            f"judge shards (first attempt), {questions:,} questions",
            judge_shards,
            "",
            None,
            f">= {shard_target} under the 95,000,000-byte limit",
            judge_shards >= shard_target,
        ),
        figure(
            f"wall time, {questions:,}-question run (CPU: {result.cpu_seconds:.1f} s)",
            result.wall_seconds,
            "s",
            None,
            "reported",
            True,
        ),
    ]
