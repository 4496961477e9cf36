"""The local work of a full 4,326-question run, against the pandas notebook approach.

Both sides start from the same inputs: the real dataset already parsed (factdeck's questions, the
notebook's DataFrame; parsing is not timed), and answer and judge output files shaped like the
stand-in's, in shuffled order. factdeck's side is its real code path: record the run,
`plan_jobs` (build and write the request shards, insert the jobs), `ingest_job` (read outputs,
join by custom_id, store), the judge round the same way, then `compute_metrics` over the store.
The baseline is how a hand-written notebook does it with pandas: `read_csv`, `iterrows` to write requests,
`read_json(lines=True)` and `merge` on custom_id to join answers, `iterrows` to build judge
requests, and a line-by-line count of judge replies.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from bench.common import DATASET, JUDGE_MODEL, STUDENT_MODEL, figure, timed
from bench.synthetic import write_answer_outputs, write_judge_outputs
from tests.standin.oracle import judge_grade, judge_style

RUN_ID = "20261204-000000-beef"
TARGET_RATIO = 0.1
TARGET_SECONDS = 0.5


class Fixture:
    """The dataset, settings and output files both sides read."""

    def __init__(self, folder: Path) -> None:
        from core.dataset import load_dataset
        from core.prompts import builtin_template
        from core.runs import RunSettings

        import pandas

        self.folder = folder
        self.frame = pandas.read_csv(DATASET, keep_default_na=False)
        self.dataset = load_dataset(DATASET)
        self.questions = self.dataset.sample(None, 0)
        self.settings = RunSettings(
            model=STUDENT_MODEL,
            grader_model=JUDGE_MODEL,
            student_template=builtin_template("student").text,
            judge_template=builtin_template("judge").text,
        )
        self.answers_output = folder / "answers-output.jsonl"
        self.answers_errors = folder / "answers-errors.jsonl"
        self.judge_output = folder / "judge-output.jsonl"
        answers = write_answer_outputs(self.questions, RUN_ID, STUDENT_MODEL, self.answers_output, self.answers_errors)
        write_judge_outputs(self.questions, answers, RUN_ID, JUDGE_MODEL, self.judge_output)
        self.expected_grades = Counter(
            judge_grade(q.problem, q.gold, answers[q.question_id])
            for q in self.questions
            if q.question_id in answers and judge_style(q.problem) != 9
        )


def factdeck_pipeline(fixture: Fixture, home: Path) -> dict:
    """Run factdeck's local work for one answer round and one judge round; return the metrics."""
    from core.ingest import ingest_job
    from core.metrics import compute_metrics
    from core.paths import Paths
    from core.planner import ANSWERS, JUDGE, plan_jobs
    from core.store import Store

    paths = Paths(config_dir=home, data_dir=home, state_dir=home / "state")
    store = Store(paths.database)
    try:
        _insert_run(store, paths, fixture, fixture.questions)
        for phase, output, errors in (
            (ANSWERS, fixture.answers_output, fixture.answers_errors),
            (JUDGE, fixture.judge_output, None),
        ):
            for job_id in plan_jobs(store, paths, RUN_ID, fixture.settings, phase):
                store.update_job(job_id, batch_id=f"batch-{phase}-{job_id}", status="COMPLETED", stage="downloading")
                ingest_job(store, store.job(job_id), output, errors, fixture.settings)
        return compute_metrics(store.grade_rows(RUN_ID))
    finally:
        store.close()


def _insert_run(store, paths, fixture: Fixture, questions) -> None:
    """Record the run as `core.runs.create_run` does, under a fixed run_id the output files use."""
    paths.run_dir(RUN_ID).mkdir(parents=True, exist_ok=True)
    store.insert_run(
        {
            "run_id": RUN_ID,
            "status": "answering",
            "provider": "together",
            "simulated": 0,
            "model": fixture.settings.model,
            "grader_model": fixture.settings.grader_model,
            "dataset": str(DATASET),
            "sample_limit": None,
            "seed": 0,
            "settings": fixture.settings.to_json(),
        },
        [
            {
                "question_id": q.question_id,
                "problem": q.problem,
                "gold": q.gold,
                "topic": q.topic,
                "answer_type": q.answer_type,
                "urls": json.dumps(list(q.urls)),
            }
            for q in questions
        ],
    )


def notebook_pipeline(fixture: Fixture, folder: Path) -> Counter:
    """Do the notebook's work on the same files; return its count of each judge reply."""
    import pandas as pd

    from core.batchfile import make_custom_id

    student_template = fixture.settings.student_template
    judge_template = fixture.settings.judge_template
    df = fixture.frame.copy()
    df["question_id"] = range(len(df))
    df["custom_id"] = [make_custom_id(RUN_ID, "answers", 1, qid) for qid in df["question_id"]]
    with (folder / "notebook-answers.jsonl").open("w", encoding="utf-8") as out:
        for _, row in df.iterrows():
            body = {
                "model": STUDENT_MODEL,
                "messages": [{"role": "user", "content": student_template.replace("{question}", row["problem"])}],
                "max_tokens": 256,
                "temperature": 0.0,
            }
            out.write(json.dumps({"custom_id": row["custom_id"], "body": body}, ensure_ascii=False) + "\n")

    outputs = pd.read_json(fixture.answers_output, lines=True)
    outputs["predicted"] = outputs["response"].apply(lambda r: r["body"]["choices"][0]["message"]["content"])
    merged = df.merge(outputs[["custom_id", "predicted"]], on="custom_id")

    with (folder / "notebook-judge.jsonl").open("w", encoding="utf-8") as out:
        for _, row in merged.iterrows():
            prompt = (
                judge_template.replace("{question}", row["problem"])
                .replace("{target}", row["answer"])
                .replace("{predicted_answer}", row["predicted"])
            )
            custom_id = make_custom_id(RUN_ID, "judge", 1, row["question_id"])
            body = {"model": JUDGE_MODEL, "messages": [{"role": "user", "content": prompt}], "max_tokens": 64, "temperature": 0.0}
            out.write(json.dumps({"custom_id": custom_id, "body": body}, ensure_ascii=False) + "\n")

    letters: Counter = Counter()
    with fixture.judge_output.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            letters[record["response"]["body"]["choices"][0]["message"]["content"].strip()] += 1
    return letters


def run(quick: bool = False) -> list[dict]:
    import pandas  # noqa: F401  (imported untimed: only the notebook's work is measured, not its import)

    repeat = 3 if quick else 7
    folder = Path(tempfile.mkdtemp(prefix="factdeck-bench-pipeline-"))
    try:
        fixture = Fixture(folder)
        metrics: dict = {}
        factdeck_times, notebook_times = [], []
        # Alternate the two, so a burst of load on the shared machine hits both alike.
        for repetition in range(repeat):
            home = folder / f"home-{repetition}"
            factdeck_times.append(timed(lambda: metrics.update(factdeck_pipeline(fixture, home))))
            notebook_times.append(timed(lambda: notebook_pipeline(fixture, folder)))
        factdeck_seconds = statistics.median(factdeck_times)
        notebook_seconds = statistics.median(notebook_times)
        graded = {grade: metrics[grade.lower()] for grade in ("CORRECT", "INCORRECT", "NOT_ATTEMPTED")}
        if graded != dict(fixture.expected_grades):
            raise AssertionError(f"factdeck counted {graded}, the oracle expects {dict(fixture.expected_grades)}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    ratio = factdeck_seconds / notebook_seconds
    return [
        figure(
            f"local pipeline, 4,326 questions, factdeck vs notebook (median of {repeat})",
            factdeck_seconds,
            "s",
            notebook_seconds,
            f"<= {TARGET_RATIO}x baseline and < {TARGET_SECONDS} s",
            ratio <= TARGET_RATIO and factdeck_seconds < TARGET_SECONDS,
        )
    ]
