"""compute_metrics and its parts: the SimpleQA rates, intervals and breakdowns."""

import pytest

from core.metrics import compute_metrics, f_score_interval, group_metrics, rates, wilson_interval


def test_seed_notebook_figures():
    metrics = group_metrics({"CORRECT": 919, "INCORRECT": 3333, "NOT_ATTEMPTED": 74})
    assert round(100 * metrics["accuracy"], 1) == 21.2
    assert round(100 * metrics["accuracy_given_attempted"], 1) == 21.6
    assert metrics["accuracy"] == 919 / 4326
    assert metrics["accuracy_given_attempted"] == 919 / 4252
    expected_f = 2 * (919 / 4326) * (919 / 4252) / (919 / 4326 + 919 / 4252)
    assert metrics["f_score"] == pytest.approx(expected_f, rel=1e-12)


def test_unparsed_and_failed_outside_denominators():
    metrics = group_metrics({"CORRECT": 3, "INCORRECT": 1, "NOT_ATTEMPTED": 1, "UNPARSED": 4, "FAILED": 5})
    assert metrics["total"] == 14
    assert metrics["unparsed"] == 4
    assert metrics["failed"] == 5
    assert metrics["accuracy"] == 3 / 5
    assert metrics["accuracy_given_attempted"] == 3 / 4


def test_empty_groups_have_no_rates():
    assert rates(0, 0, 0) == {"accuracy": None, "accuracy_given_attempted": None, "f_score": None}
    assert rates(0, 0, 5) == {"accuracy": 0.0, "accuracy_given_attempted": None, "f_score": None}
    assert rates(0, 3, 0) == {"accuracy": 0.0, "accuracy_given_attempted": 0.0, "f_score": None}
    assert wilson_interval(0, 0) is None
    assert f_score_interval(0, 0, 0) is None


def test_wilson_interval_contains_rate():
    low, high = wilson_interval(919, 4326)
    assert low < 919 / 4326 < high
    assert round(low, 4) == 0.2005
    assert round(high, 4) == 0.2249
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 10)[0] == 0.0


def test_f_score_interval_is_reproducible():
    first = f_score_interval(919, 3333, 74)
    assert first == f_score_interval(919, 3333, 74)
    assert first[0] < rates(919, 3333, 74)["f_score"] < first[1]


def test_breakdowns_by_topic_and_answer_type():
    rows = [
        ("Art", "Person", "CORRECT"),
        ("Art", "Date", "INCORRECT"),
        ("Music", "Date", "NOT_ATTEMPTED"),
        ("Music", "Date", None),
    ]
    metrics = compute_metrics(rows)
    assert metrics["total"] == 4
    assert metrics["pending"] == 1
    assert metrics["by_topic"]["Art"]["accuracy"] == 0.5
    assert metrics["by_topic"]["Music"]["accuracy"] == 0.0
    assert metrics["by_topic"]["Music"]["accuracy_given_attempted"] is None
    assert metrics["by_answer_type"]["Date"]["total"] == 3
    assert metrics["by_answer_type"]["Person"]["correct"] == 1
