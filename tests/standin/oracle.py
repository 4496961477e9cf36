"""Deterministic model behaviour for the stand-in server: one fake model plays student and judge.

Every reply is a pure function of the question text, the gold target and the attempt number, so
an end-to-end test can compute each question's final grade with `expected_final_grade`.

Student rule, by `student_bucket(problem)` (0..99):
    0-39 the gold answer, 40-49 "The answer is {gold}.", 50-59 "I don't know.", 60-95 a wrong
    answer that does not contain the gold, 96-97 the request fails on the first attempt and
    returns the gold answer on later ones, 98-99 the request fails on every attempt.
Judge rule: "I don't know." is NOT_ATTEMPTED, a prediction containing the gold target
(case-insensitive) is CORRECT, anything else INCORRECT. The reply format depends on
`judge_style(question)` (0..9); style 9 names no grade on the first attempt.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

JUDGE_TEMPLATE_PATH = Path(__file__).parents[3] / "shared" / "data" / "simpleqa_grader_template.txt"
JUDGE_TEMPLATE = JUDGE_TEMPLATE_PATH.read_text(encoding="utf-8")
JUDGE_MARKER = "Your job is to look at a question, a gold target, and a predicted answer"

DONT_KNOW = "I don't know."
UNKNOWN_QUESTION_REPLY = "I am not sure."
UNDECIDED_JUDGE_REPLY = "I cannot decide."
# "Unknown Person" and "Zyx" share no character, so a non-empty gold is never in both.
WRONG_ANSWERS = ("Unknown Person", "Zyx")

CORRECT = "CORRECT"
INCORRECT = "INCORRECT"
NOT_ATTEMPTED = "NOT_ATTEMPTED"
FAILED = "FAILED"
UNPARSED = "UNPARSED"
GRADE_LETTERS = {CORRECT: "A", INCORRECT: "B", NOT_ATTEMPTED: "C"}


def _digest_int(text: str) -> int:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)


def student_bucket(problem: str) -> int:
    """Return the student behaviour bucket (0..99) of a question."""
    return _digest_int(problem) % 100


def judge_style(question: str) -> int:
    """Return the judge reply style (0..9) of a question."""
    return _digest_int(question) % 10


def wrong_answer(gold: str) -> str:
    """Return a wrong answer that does not contain the gold target, so the judge grades it INCORRECT."""
    for candidate in WRONG_ANSWERS:
        if gold.casefold() not in candidate.casefold():
            return candidate
    raise AssertionError(f"every wrong answer contains the gold target {gold!r}")


def student_reply(problem: str, gold: str, attempt: int) -> str | None:
    """Return the student's reply to a question on the given 1-based attempt, or None if it fails."""
    bucket = student_bucket(problem)
    if bucket < 40:
        return gold
    if bucket < 50:
        return f"The answer is {gold}."
    if bucket < 60:
        return DONT_KNOW
    if bucket < 96:
        return wrong_answer(gold)
    if bucket < 98:
        return None if attempt == 1 else gold
    return None


def judge_grade(question: str, target: str, predicted: str) -> str:
    """Return the grade the judge gives: CORRECT, INCORRECT or NOT_ATTEMPTED."""
    if predicted == DONT_KNOW:
        return NOT_ATTEMPTED
    if target.casefold() in predicted.casefold():
        return CORRECT
    return INCORRECT


def judge_reply(question: str, target: str, predicted: str, attempt: int) -> str:
    """Return the judge's reply text on the given 1-based attempt, in the question's style."""
    grade = judge_grade(question, target, predicted)
    letter = GRADE_LETTERS[grade]
    style = judge_style(question)
    if style <= 3:
        return letter
    if style == 4:
        return letter.lower()
    if style == 5:
        return f"**{letter}**"
    if style == 6:
        return f"{letter}: {grade}"
    if style == 7:
        return grade
    if style == 8:
        return grade.replace("_", " ") + "."
    return UNDECIDED_JUDGE_REPLY if attempt == 1 else letter


def expected_final_grade(problem: str, gold: str, max_answer_attempts: int, max_judge_attempts: int) -> str:
    """Return the grade a correct client ends with for one question on a fresh stand-in.

    The client is assumed to retry a failed student request up to `max_answer_attempts` times in
    total and to re-grade an unparseable judge reply up to `max_judge_attempts` times in total.
    The result is CORRECT, INCORRECT, NOT_ATTEMPTED, FAILED (no answer) or UNPARSED (no judge
    reply named a grade).
    """
    predicted = None
    for attempt in range(1, max_answer_attempts + 1):
        predicted = student_reply(problem, gold, attempt)
        if predicted is not None:
            break
    if predicted is None:
        return FAILED

    for attempt in range(1, max_judge_attempts + 1):
        if judge_reply(problem, gold, predicted, attempt) != UNDECIDED_JUDGE_REPLY:
            return judge_grade(problem, gold, predicted)
    return UNPARSED


def parse_judge_prompt(text: str) -> tuple[str, str, str] | None:
    """Return (question, target, predicted answer) from a filled judge prompt, or None if it is not one."""
    head, rest = JUDGE_TEMPLATE.split("{question}", 1)
    after_question, rest = rest.split("{target}", 1)
    after_target, tail = rest.split("{predicted_answer}", 1)

    start = text.find(head)
    end = text.rfind(tail.rstrip())
    if start < 0 or end < 0:
        return None
    middle = text[start + len(head) : end]

    question, separator, rest = middle.partition(after_question)
    if not separator:
        return None
    target, separator, predicted = rest.partition(after_target)
    if not separator:
        return None
    return question, target, predicted


def load_gold_by_question(csv_path: str | Path) -> dict[str, str]:
    """Read a SimpleQA-shaped CSV (columns `problem` and `answer`) into {problem: gold answer}."""
    with open(csv_path, newline="", encoding="utf-8") as file:
        return {row["problem"]: row["answer"] for row in csv.DictReader(file)}


def message_text(content: Any) -> str:
    """Return the text of a chat message content: a string or a list of OpenAI-style parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def user_text(messages: Iterable[Mapping[str, Any]]) -> str:
    """Return the joined text of the user messages of a chat request."""
    return "\n".join(message_text(message.get("content")) for message in messages if message.get("role") == "user")


class QuestionIndex:
    """Finds which known question a prompt contains, in time linear in the prompt length.

    Questions are indexed by their first `key_length` characters, so a lookup checks each
    position of the prompt against the index instead of searching for every question.
    """

    def __init__(self, questions: Iterable[str], key_length: int = 24) -> None:
        questions = [question for question in questions if question]
        self.key_length = min([key_length, *(len(question) for question in questions)])
        self._by_key: dict[str, list[str]] = {}
        for question in questions:
            self._by_key.setdefault(question[: self.key_length], []).append(question)

    def find(self, text: str) -> str | None:
        """Return the longest known question contained in `text`, or None."""
        found = None
        for start in range(len(text) - self.key_length + 1):
            for question in self._by_key.get(text[start : start + self.key_length], ()):
                if text.startswith(question, start) and (found is None or len(question) > len(found)):
                    found = question
        return found


class Oracle:
    """The fake model: replies to chat requests and counts attempts per question on this server.

    Attempts are counted per question text across all batches, so a test that reuses one server
    for two runs of the same questions gets later attempts in the second run.
    """

    def __init__(self, gold_by_question: Mapping[str, str] | None = None) -> None:
        self.gold_by_question = dict(gold_by_question or {})
        self._index = QuestionIndex(self.gold_by_question)
        self.student_attempts: Counter[str] = Counter()
        self.judge_attempts: Counter[str] = Counter()

    def reply(self, messages: list[Mapping[str, Any]]) -> str | None:
        """Return the reply to one chat request, or None if the request fails."""
        text = user_text(messages)
        judged = parse_judge_prompt(text) if JUDGE_MARKER in text else None
        if judged is not None:
            question, target, predicted = judged
            self.judge_attempts[question] += 1
            return judge_reply(question, target, predicted, self.judge_attempts[question])

        problem = self._index.find(text) if self.gold_by_question else None
        if problem is None:
            return UNKNOWN_QUESTION_REPLY
        self.student_attempts[problem] += 1
        return student_reply(problem, self.gold_by_question[problem], self.student_attempts[problem])
