"""Database work of the Results screen. Every function here runs in a worker thread.

A `Store` is one SQLite connection bound to the thread that opened it, so each function opens its
own and closes it before returning. Nothing here imports Textual or Rich.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy

from core.report import markdown_report, metrics_json, result_rows, to_csv, to_jsonl
from core.store import Store
from tui.results_index import ResultsIndex

EXPORT_FORMATS = ("csv", "jsonl", "md")


@dataclass(frozen=True)
class RunSummary:
    """One line of the run picker."""

    run_id: str
    model: str
    grader_model: str
    status: str
    simulated: bool
    questions: int
    created_at: float


@dataclass(frozen=True)
class LoadedRun:
    run: RunSummary
    index: ResultsIndex
    metrics: dict


@dataclass(frozen=True)
class QuestionDetail:
    """Everything the detail pane shows for one question, read from its stored row."""

    question_id: int
    problem: str
    gold: str
    answer: str | None
    topic: str
    answer_type: str
    urls: list[str]
    state: str
    grade: str | None
    judge_reply: str | None
    failure_reason: str | None
    answer_attempts: int
    judge_attempts: int
    answer_prompt_tokens: int | None
    answer_completion_tokens: int | None
    judge_prompt_tokens: int | None
    judge_completion_tokens: int | None
    reviewed_grade: str | None
    review_note: str | None
    reviewed_at: float | None


class RunNotFound(LookupError):
    pass


def list_runs(database: Path) -> list[RunSummary]:
    """Return every run, newest first, with its question count."""
    store = Store(database)
    try:
        counts = dict(store.query("SELECT run_id, COUNT(*) FROM questions GROUP BY run_id"))
        return [_summary(row, counts.get(row["run_id"], 0)) for row in store.runs()]
    finally:
        store.close()


def load_run(database: Path, run_id: str) -> LoadedRun:
    """Read a run's questions into a `ResultsIndex` and compute its metrics."""
    store = Store(database)
    try:
        row = store.run(run_id)
        if row is None:
            raise RunNotFound(f"run {run_id} not found in {database}")
        rows = store.result_index_rows(run_id)
        index = ResultsIndex.from_rows(run_id, rows)
        index.prepare_orders()
        return LoadedRun(_summary(row, len(rows)), index, metrics_json(store, run_id))
    finally:
        store.close()


def load_detail(database: Path, run_id: str, question_id: int) -> QuestionDetail | None:
    store = Store(database)
    try:
        row = store.question_detail(run_id, question_id)
    finally:
        store.close()
    if row is None:
        return None
    values = dict(row)
    values["urls"] = _parse_urls(values["urls"])
    return QuestionDetail(**{name: values[name] for name in QuestionDetail.__dataclass_fields__})


def save_review(database: Path, run_id: str, question_id: int, grade: str | None, note: str | None) -> dict:
    """Store a reviewer's grade (None removes it) and return the run's metrics after the change."""
    store = Store(database)
    try:
        store.set_review(run_id, question_id, grade, note)
        return metrics_json(store, run_id)
    finally:
        store.close()


def export_rows(database: Path, run_id: str, question_ids: numpy.ndarray, fmt: str, target: Path) -> int:
    """Write the given questions, in the given order, as CSV or JSONL; return the number of rows.

    With `fmt` "md" the run's Markdown report is written instead and the return value is 0.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    store = Store(database)
    try:
        if fmt == "md":
            chunks: Iterator[str] = iter([markdown_report(store, run_id)])
            count = 0
        else:
            by_id = {row["question_id"]: row for row in result_rows(store, run_id)}
            ordered = [by_id[int(question_id)] for question_id in question_ids if int(question_id) in by_id]
            chunks = to_csv(iter(ordered)) if fmt == "csv" else to_jsonl(iter(ordered))
            count = len(ordered)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8", newline="") as file:
            file.writelines(chunks)
        return count
    finally:
        store.close()


def _summary(row, questions: int) -> RunSummary:
    return RunSummary(
        run_id=row["run_id"],
        model=row["model"],
        grader_model=row["grader_model"],
        status=row["status"],
        simulated=bool(row["simulated"]),
        questions=questions,
        created_at=row["created_at"],
    )


def _parse_urls(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except json.JSONDecodeError:
        return [text or ""]
    return [str(url) for url in value] if isinstance(value, list) else [str(value)]
