"""Turn a run in the store into the JSON, CSV, JSONL and Markdown that users and tools read."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from core.grading import ALL_GRADES
from core.metrics import compute_metrics
from core.store import Store

RESULT_FIELDS = (
    "question_id", "problem", "gold", "answer", "grade", "judge_grade", "reviewed_grade", "review_note", "reviewed_at", "topic",
    "answer_type", "judge_reply", "failure_reason", "urls", "answer_prompt_tokens",
    "answer_completion_tokens", "judge_prompt_tokens", "judge_completion_tokens",
)


def metrics_json(store: Store, run_id: str) -> dict:
    """The metrics contract: run fields, counts, rates, intervals and breakdowns.

    `reviewed` contains the same figures with reviewers' overrides applied, when there are any.
    """
    run = store.run(run_id)
    result = {
        "run_id": run_id,
        "status": run["status"],
        "provider": run["provider"],
        "simulated": bool(run["simulated"]),
        "model": run["model"],
        "grader_model": run["grader_model"],
        "dataset": run["dataset"],
        "sample": _sample_settings(run),
        **compute_metrics(store.grade_rows(run_id)),
    }
    if store.review_count(run_id):
        reviewed = compute_metrics(store.grade_rows(run_id, reviewed=True))
        result["reviewed"] = {key: value for key, value in reviewed.items() if key not in ("by_topic", "by_answer_type")}
        result["reviewed"]["overrides"] = store.review_count(run_id)
    return result


def result_rows(store: Store, run_id: str, grades: set[str] | None = None, topics: set[str] | None = None) -> Iterator[dict]:
    """Yield one dict per question, filtered by final grade (the reviewer's when there is one) and topic."""
    rows = store.query(
        """SELECT q.*, r.grade AS reviewed_grade, r.note AS review_note, r.reviewed_at FROM questions q
           LEFT JOIN reviews r ON r.run_id = q.run_id AND r.question_id = q.question_id
           WHERE q.run_id = ? ORDER BY q.question_id""",
        (run_id,),
    )
    wanted_topics = {topic.casefold() for topic in topics or ()}
    for row in rows:
        final = row["reviewed_grade"] or row["grade"]
        if grades and final not in grades:
            continue
        if wanted_topics and row["topic"].casefold() not in wanted_topics:
            continue
        yield {
            "question_id": row["question_id"],
            "problem": row["problem"],
            "gold": row["gold"],
            "answer": row["answer"],
            "grade": final,
            "judge_grade": row["grade"],
            "reviewed_grade": row["reviewed_grade"],
            "review_note": row["review_note"],
            "reviewed_at": _iso(row["reviewed_at"]),
            "topic": row["topic"],
            "answer_type": row["answer_type"],
            "judge_reply": row["judge_reply"],
            "failure_reason": row["failure_reason"],
            "urls": json.loads(row["urls"]),
            "answer_prompt_tokens": row["answer_prompt_tokens"],
            "answer_completion_tokens": row["answer_completion_tokens"],
            "judge_prompt_tokens": row["judge_prompt_tokens"],
            "judge_completion_tokens": row["judge_completion_tokens"],
        }


def _sample_settings(run) -> dict:
    """Return the settings that decide which questions were asked and how, so a run can be repeated."""
    settings = json.loads(run["settings"])
    return {
        "limit": run["sample_limit"],
        "seed": run["seed"],
        "max_tokens": settings.get("max_tokens"),
        "temperature": settings.get("temperature"),
        "judge_max_tokens": settings.get("judge_max_tokens"),
        "student_template_sha256": _sha256(settings.get("student_template", "")),
        "judge_template_sha256": _sha256(settings.get("judge_template", "")),
    }


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def to_jsonl(rows: Iterator[dict]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def to_csv(rows: Iterator[dict]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_FIELDS, lineterminator="\n")
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow({**row, "urls": " ".join(row["urls"])})
        yield buffer.getvalue()


def format_rate(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_interval(interval: list[float] | None) -> str:
    return "n/a" if interval is None else f"{100 * interval[0]:.1f}-{100 * interval[1]:.1f}%"


def markdown_report(store: Store, run_id: str) -> str:
    """Build a Markdown summary of a run: settings, headline metrics, and per-topic figures."""
    metrics = metrics_json(store, run_id)
    simulated = " (SIMULATED: mock provider, not a real model)" if metrics["simulated"] else ""
    lines = [
        f"# SimpleQA run {run_id}{simulated}",
        "",
        f"- Model: `{metrics['model']}`",
        f"- Judge: `{metrics['grader_model']}`",
        f"- Provider: {metrics['provider']}",
        f"- Dataset: {metrics['dataset']}",
        f"- Status: {metrics['status']}",
        f"- Sample: {metrics['sample']['limit'] or 'all'} questions, seed {metrics['sample']['seed']}; "
        f"max tokens {metrics['sample']['max_tokens']}, temperature {metrics['sample']['temperature']}",
        "",
        "| Metric | Value | 95% interval |",
        "|---|---|---|",
    ]
    for key, label in (("accuracy", "Accuracy"), ("accuracy_given_attempted", "Accuracy given attempted"), ("f_score", "F-score")):
        lines.append(f"| {label} | {format_rate(metrics[key])} | {format_interval(metrics['ci95'][key])} |")
    lines += ["", "| Grade | Count |", "|---|---|"]
    for grade in ALL_GRADES:
        lines.append(f"| {grade} | {metrics[grade.lower()]} |")
    if "reviewed" in metrics:
        reviewed = metrics["reviewed"]
        lines += [
            "",
            f"With {reviewed['overrides']} reviewer override(s): accuracy {format_rate(reviewed['accuracy'])}, "
            f"accuracy given attempted {format_rate(reviewed['accuracy_given_attempted'])}, "
            f"F-score {format_rate(reviewed['f_score'])}.",
        ]
    for label, key in (("Topic", "by_topic"), ("Answer type", "by_answer_type")):
        lines += [
            "",
            f"| {label} | n | Correct | Incorrect | Not attempted | Unparsed | Failed | Accuracy | F-score |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, group in metrics[key].items():
            lines.append(
                f"| {_markdown_cell(name)} | {group['total']} | {group['correct']} | {group['incorrect']} | "
                f"{group['not_attempted']} | {group['unparsed']} | {group['failed']} | "
                f"{format_rate(group['accuracy'])} | {format_rate(group['f_score'])} |"
            )
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
