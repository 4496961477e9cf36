"""SimpleQA metrics from graded questions, in one pure function.

accuracy = correct / (correct + incorrect + not_attempted); accuracy given attempted =
correct / (correct + incorrect); F-score = their harmonic mean (Wei et al., 2024, "Measuring
short-form factuality in large language models"). UNPARSED and FAILED questions are counted
apart and are in no denominator. A rate whose denominator is zero is None ("n/a").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from core.grading import CORRECT, FAILED, INCORRECT, NOT_ATTEMPTED, UNPARSED

Z_95 = 1.959963984540054
BOOTSTRAP_SAMPLES = 2000


def rates(correct: int, incorrect: int, not_attempted: int) -> dict[str, float | None]:
    graded = correct + incorrect + not_attempted
    attempted = correct + incorrect
    accuracy = correct / graded if graded else None
    given_attempted = correct / attempted if attempted else None
    return {
        "accuracy": accuracy,
        "accuracy_given_attempted": given_attempted,
        "f_score": f_score(accuracy, given_attempted),
    }


def f_score(accuracy: float | None, given_attempted: float | None) -> float | None:
    if accuracy is None or given_attempted is None or accuracy + given_attempted == 0:
        return None
    return 2 * accuracy * given_attempted / (accuracy + given_attempted)


def wilson_interval(successes: int, trials: int) -> list[float] | None:
    """95% Wilson score interval, which stays inside [0, 1] for small or extreme samples."""
    if trials == 0:
        return None
    p = successes / trials
    denominator = 1 + Z_95**2 / trials
    centre = (p + Z_95**2 / (2 * trials)) / denominator
    half = Z_95 * math.sqrt(p * (1 - p) / trials + Z_95**2 / (4 * trials**2)) / denominator
    return [max(0.0, centre - half), min(1.0, centre + half)]


def f_score_interval(correct: int, incorrect: int, not_attempted: int) -> list[float] | None:
    """95% percentile interval of the F-score by a parametric bootstrap with a fixed seed.

    The F-score has no simple closed-form interval, so the three counts are resampled from
    their observed proportions; the fixed seed keeps the figure identical between calls.
    """
    graded = correct + incorrect + not_attempted
    if graded == 0 or correct == 0:
        return None
    import numpy

    draws = numpy.random.default_rng(0).multinomial(
        graded, [correct / graded, incorrect / graded, not_attempted / graded], size=BOOTSTRAP_SAMPLES
    )
    c, i = draws[:, 0].astype(float), draws[:, 1].astype(float)
    accuracy = c / graded
    attempted = numpy.where(c + i > 0, c + i, 1)
    given = c / attempted
    total = numpy.where(accuracy + given > 0, accuracy + given, 1)
    scores = 2 * accuracy * given / total
    low, high = numpy.percentile(scores, [2.5, 97.5])
    return [float(low), float(high)]


def group_metrics(counts: Mapping[str, int], with_intervals: bool = True) -> dict:
    """Counts, rates and (optionally) 95% intervals for one group of questions."""
    correct = counts.get(CORRECT, 0)
    incorrect = counts.get(INCORRECT, 0)
    not_attempted = counts.get(NOT_ATTEMPTED, 0)
    result: dict = {
        "total": sum(counts.values()),
        "correct": correct,
        "incorrect": incorrect,
        "not_attempted": not_attempted,
        "unparsed": counts.get(UNPARSED, 0),
        "failed": counts.get(FAILED, 0),
        **rates(correct, incorrect, not_attempted),
    }
    if with_intervals:
        result["ci95"] = {
            "accuracy": wilson_interval(correct, correct + incorrect + not_attempted),
            "accuracy_given_attempted": wilson_interval(correct, correct + incorrect),
            "f_score": f_score_interval(correct, incorrect, not_attempted),
        }
    return result


def compute_metrics(rows: Iterable[tuple[str, str, str | None]]) -> dict:
    """Compute overall and per-topic / per-answer-type metrics.

    `rows` contains one (topic, answer_type, grade) tuple per question; a question still waiting for
    its grade has grade None and counts only in `total` (as `pending`).
    """
    overall: Counter[str] = Counter()
    by_topic: dict[str, Counter[str]] = {}
    by_answer_type: dict[str, Counter[str]] = {}
    for topic, answer_type, grade in rows:
        key = grade or "PENDING"
        overall[key] += 1
        by_topic.setdefault(topic, Counter())[key] += 1
        by_answer_type.setdefault(answer_type, Counter())[key] += 1

    result = group_metrics(overall)
    result["pending"] = overall.get("PENDING", 0)
    result["by_topic"] = {name: _breakdown(counts) for name, counts in sorted(by_topic.items())}
    result["by_answer_type"] = {name: _breakdown(counts) for name, counts in sorted(by_answer_type.items())}
    return result


def _breakdown(counts: Counter[str]) -> dict:
    group = group_metrics(counts)
    group["pending"] = counts.get("PENDING", 0)
    return group
