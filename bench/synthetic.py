"""Realistic batch output files and large datasets, built from the real SimpleQA file.

Output lines have exactly the shape the stand-in writes (`tests.standin.results`), and replies
come from its oracle, so factdeck's reader sees what a real run through the stand-in produces.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable
from pathlib import Path

from core.batchfile import chat_body, make_custom_id
from core.dataset import Question
from core.prompts import builtin_template
from tests.standin.oracle import judge_reply, student_reply
from tests.standin.results import error_line, success_line

BATCH_ID = "batch-bench"
CREATED = 1_765_000_000


def write_answer_outputs(
    questions: list[Question], run_id: str, model: str, output: Path, errors: Path, seed: int = 0
) -> dict[int, str]:
    """Write the output and error files of the first answer batch, in shuffled order.

    Returns the answer of each question that got one, for building the judge outputs.
    """
    student = builtin_template("student")
    answers: dict[int, str] = {}
    order = list(questions)
    random.Random(seed).shuffle(order)
    with output.open("w", encoding="utf-8") as out, errors.open("w", encoding="utf-8") as err:
        for question in order:
            custom_id = make_custom_id(run_id, "answers", 1, question.question_id)
            reply = student_reply(question.problem, question.gold, 1)
            if reply is None:
                err.write(json.dumps(error_line(BATCH_ID, custom_id, "error"), ensure_ascii=False) + "\n")
                continue
            answers[question.question_id] = reply
            body = chat_body(model, student.fill(question=question.problem), 256, 0.0)
            line = success_line(BATCH_ID, custom_id, body, reply, CREATED)
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    return answers


def write_judge_outputs(
    questions: list[Question], answers: dict[int, str], run_id: str, model: str, output: Path, seed: int = 1
) -> None:
    """Write the output file of the first judge batch (every answered question), in shuffled order."""
    judge = builtin_template("judge")
    order = [question for question in questions if question.question_id in answers]
    random.Random(seed).shuffle(order)
    with output.open("w", encoding="utf-8") as out:
        for question in order:
            predicted = answers[question.question_id]
            custom_id = make_custom_id(run_id, "judge", 1, question.question_id)
            reply = judge_reply(question.problem, question.gold, predicted, 1)
            prompt = judge.fill(question=question.problem, target=question.gold, predicted_answer=predicted)
            body = chat_body(model, prompt, 64, 0.0)
            out.write(json.dumps(success_line(BATCH_ID, custom_id, body, reply, CREATED), ensure_ascii=False) + "\n")


def write_repeated_dataset(source: Path, target: Path, rows: int) -> None:
    """Write a SimpleQA-shaped CSV of `rows` rows: the real rows repeated, each repeat's question
    text ending in a unique suffix so every question (and every oracle lookup) stays distinct."""
    with source.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        fieldnames = reader.fieldnames
        originals = list(reader)
    with target.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(_repeated(originals, rows))


def _repeated(originals: list[dict], rows: int) -> Iterable[dict]:
    for index in range(rows):
        row = dict(originals[index % len(originals)])
        repeat = index // len(originals)
        if repeat:
            row["problem"] = f"{row['problem']} (variant {repeat})"
        yield row
