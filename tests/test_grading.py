"""parse_grade: strict and robust reading of judge replies."""

import pytest

from core.grading import CORRECT, INCORRECT, NOT_ATTEMPTED, UNPARSED, parse_grade


@pytest.mark.parametrize(
    ("reply", "grade"),
    [
        ("A", CORRECT),
        ("B", INCORRECT),
        ("C", NOT_ATTEMPTED),
        ("a", CORRECT),
        ("b", INCORRECT),
        (" c \n", NOT_ATTEMPTED),
        ("**A**", CORRECT),
        ("`B`", INCORRECT),
        ('"C".', NOT_ATTEMPTED),
        ("(A)", CORRECT),
        ("A: CORRECT", CORRECT),
        ("B: INCORRECT", INCORRECT),
        ("C: NOT_ATTEMPTED", NOT_ATTEMPTED),
        ("C) NOT ATTEMPTED", NOT_ATTEMPTED),
        ("CORRECT", CORRECT),
        ("INCORRECT", INCORRECT),
        ("NOT_ATTEMPTED", NOT_ATTEMPTED),
        ("NOT ATTEMPTED", NOT_ATTEMPTED),
        ("not attempted.", NOT_ATTEMPTED),
        ("**INCORRECT**", INCORRECT),
        ("Grade: INCORRECT", INCORRECT),
        ("Answer: C", NOT_ATTEMPTED),
        ("The grade is B", INCORRECT),
    ],
)
def test_reply_names_grade(reply, grade):
    assert parse_grade(reply) == grade


@pytest.mark.parametrize(
    "reply",
    [
        "",
        None,
        "I cannot decide.",
        "CORRECT or INCORRECT",
        "A: INCORRECT",
        "The answer is not correct",
        "A or B",
        "Maybe",
    ],
)
def test_reply_without_single_grade_is_unparsed(reply):
    assert parse_grade(reply) == UNPARSED


def test_reference_implementation_misreadings_avoided():
    # The reference takes the first capital A/B/C anywhere: "CORRECT" -> C, "NOT_ATTEMPTED" -> A.
    assert parse_grade("CORRECT") == CORRECT
    assert parse_grade("NOT_ATTEMPTED") == NOT_ATTEMPTED
