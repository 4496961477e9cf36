"""Build graded runs straight into a store, for Results screen tests and snapshots.

Rows are written with `Store.insert_run` and then updated with SQL as the engine's ingest would
leave them, so a test controls every grade and every string without running any provider.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from core.store import FINISHED, Store


@dataclass
class GradedQuestion:
    question_id: int
    problem: str
    gold: str
    topic: str
    answer_type: str
    grade: str
    answer: str | None = None
    judge_reply: str | None = None
    failure_reason: str | None = None
    urls: list[str] = field(default_factory=list)
    tokens: tuple[int, int, int, int] = (50, 8, 400, 2)


def insert_graded_run(
    store: Store,
    run_id: str,
    questions: list[GradedQuestion],
    *,
    simulated: bool = True,
    model: str = "mock/student-small",
    grader_model: str = "mock/judge",
    created_at: float = 1_764_880_000.0,
) -> None:
    """Insert a finished run whose questions carry the given answers and grades."""
    store.insert_run(
        {
            "run_id": run_id,
            "status": "done",
            "provider": "mock" if simulated else "together",
            "simulated": int(simulated),
            "model": model,
            "grader_model": grader_model,
            "dataset": "simple_qa_test_set.csv",
            "sample_limit": None,
            "seed": 0,
            "settings": {},
        },
        [
            {
                "question_id": question.question_id,
                "problem": question.problem,
                "gold": question.gold,
                "topic": question.topic,
                "answer_type": question.answer_type,
                "urls": json.dumps(question.urls),
            }
            for question in questions
        ],
    )
    with store.transaction() as connection:
        connection.execute("UPDATE runs SET created_at = ?, updated_at = ? WHERE run_id = ?", (created_at, created_at, run_id))
        connection.executemany(
            """UPDATE questions SET state = ?, answer = ?, grade = ?, judge_reply = ?, failure_reason = ?,
               answer_attempts = 1, judge_attempts = 1,
               answer_prompt_tokens = ?, answer_completion_tokens = ?, judge_prompt_tokens = ?,
               judge_completion_tokens = ?
               WHERE run_id = ? AND question_id = ?""",
            [
                (FINISHED, question.answer, question.grade, question.judge_reply, question.failure_reason,
                 *question.tokens, run_id, question.question_id)
                for question in questions
            ],
        )


# Answers that look like Rich markup or carry terminal escapes; the screen must show them literally.
UNTRUSTED_ANSWERS = (
    "closing [/] tag",
    "[bold red]X[/]",
    "[link=http://example.test]x[/link]",
    "[ Doki Doki☆Morning ]",
)

TOPICS = ("Art", "Geography", "History", "Music", "Science and technology")
ANSWER_TYPES = ("Date", "Number", "Person", "Place")
GRADE_CYCLE = ("CORRECT", "INCORRECT", "CORRECT", "NOT_ATTEMPTED", "UNPARSED", "CORRECT", "FAILED", "INCORRECT")


def sample_questions(count: int = 24) -> list[GradedQuestion]:
    """A fixed, varied run: grades cycle through GRADE_CYCLE, topics and answer types rotate."""
    questions = []
    for number in range(count):
        grade = GRADE_CYCLE[number % len(GRADE_CYCLE)]
        answer = f"answer {number}"
        if number < len(UNTRUSTED_ANSWERS):
            answer = UNTRUSTED_ANSWERS[number]
        failed = grade == "FAILED"
        questions.append(
            GradedQuestion(
                question_id=number,
                problem=f"Question number {number}: which value is {number * 7}?\nSecond line of the question.",
                gold=f"gold {number}",
                topic=TOPICS[number % len(TOPICS)],
                answer_type=ANSWER_TYPES[number % len(ANSWER_TYPES)],
                grade=grade,
                answer=None if failed else answer,
                judge_reply=None if failed else {"CORRECT": "A", "INCORRECT": "B", "NOT_ATTEMPTED": "C"}.get(grade, "maybe?"),
                failure_reason="answer request failed 3 times: HTTP 500 [red]boom[/red]" if failed else None,
                urls=[f"https://en.wikipedia.org/wiki/Item_{number}", "https://example.test/[b]x[/b]"],
            )
        )
    return questions


def build_sample_store(database: Path, run_id: str = "20261204-120000-abcd", count: int = 24) -> str:
    store = Store(database)
    try:
        insert_graded_run(store, run_id, sample_questions(count))
    finally:
        store.close()
    return run_id
