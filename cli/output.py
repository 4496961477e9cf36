"""Plain-text tables for the terminal. Untrusted text is cleaned of control sequences first."""

from __future__ import annotations

import shutil
from collections.abc import Iterable

from core.report import format_interval, format_rate
from core.text import one_line


def print_metrics(metrics: dict) -> None:
    simulated = "  [SIMULATED: mock provider, not a real model]" if metrics.get("simulated") else ""
    print(f"run {metrics['run_id']} ({metrics['status']}){simulated}")
    print(f"  model {one_line(metrics['model'])}, judge {one_line(metrics['grader_model'])}")
    print(
        f"  {metrics['total']} questions: {metrics['correct']} correct, {metrics['incorrect']} incorrect, "
        f"{metrics['not_attempted']} not attempted, {metrics['unparsed']} unparsed, {metrics['failed']} failed"
        + (f", {metrics['pending']} pending" if metrics.get("pending") else "")
    )
    for key, label in (("accuracy", "accuracy"), ("accuracy_given_attempted", "accuracy given attempted"), ("f_score", "F-score")):
        print(f"  {label:<26} {format_rate(metrics[key]):>6}  (95% {format_interval(metrics['ci95'][key])})")
    if "reviewed" in metrics:
        reviewed = metrics["reviewed"]
        print(
            f"  reviewed ({reviewed['overrides']} overrides): accuracy {format_rate(reviewed['accuracy'])}, "
            f"given attempted {format_rate(reviewed['accuracy_given_attempted'])}, F-score {format_rate(reviewed['f_score'])}"
        )
    if metrics["by_topic"]:
        print("  by topic:")
        for topic, group in metrics["by_topic"].items():
            print(f"    {one_line(topic, 24):<24} n={group['total']:<5} accuracy {format_rate(group['accuracy']):>6}  F-score {format_rate(group['f_score']):>6}")


def print_results_table(rows: Iterable[dict]) -> None:
    width = shutil.get_terminal_size((120, 24)).columns
    text_width = max((width - 6 - 14 - 12 - 6) // 3, 10)
    print(f"{'id':>5} {'grade':<13} {'topic':<11} {'question':<{text_width}} {'gold':<{text_width}} answer")
    for row in rows:
        print(
            f"{row['question_id']:>5} {row['grade'] or 'pending':<13} {one_line(row['topic'], 11):<11} "
            f"{one_line(row['problem'], text_width):<{text_width}} {one_line(row['gold'], text_width):<{text_width}} "
            f"{one_line(row['answer'], text_width)}"
        )


def print_status(listing: list[dict]) -> None:
    if not listing:
        print("no runs yet; start one with `factdeck run` or in the TUI")
        return
    for run in listing:
        simulated = " [SIMULATED]" if run["simulated"] else ""
        print(f"{run['run_id']}  {run['status']:<10} {one_line(run['model'])}  judge {one_line(run['grader_model'])}{simulated}")
        for job in run["jobs"]:
            progress = "" if job["progress"] is None else f"{job['progress']:.0f}%"
            phase = job["phase"] if job["attempt"] == 1 else f"{job['phase']} retry {job['attempt'] - 1}"
            print(
                f"    {phase:<16} shard {job['shard']:<3} {job['batch_id'] or '-':<38} "
                f"{job['status'] or job['stage']:<12} {progress:>5}  {job['requests']} requests"
                + (f"  ({one_line(job['last_error'])})" if job["last_error"] else "")
            )
