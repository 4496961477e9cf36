"""Templates: the official judge prompt byte for byte, placeholders checked, single-pass filling."""

import pytest

from core.errors import TemplateError
from core.prompts import builtin_template, load_template
from tests.conftest import SHARED_DATA


def test_judge_template_is_official_bytes():
    official = (SHARED_DATA / "simpleqa_grader_template.txt").read_text(encoding="utf-8")
    assert builtin_template("judge").text == official


def test_judge_template_filled_exactly():
    template = load_template(None, "judge")
    filled = template.fill(question="Q?", target="T", predicted_answer="P")
    official = (SHARED_DATA / "simpleqa_grader_template.txt").read_text(encoding="utf-8")
    assert filled == official.replace("{question}", "Q?").replace("{target}", "T").replace("{predicted_answer}", "P")


def test_fill_does_not_substitute_inside_values():
    template = load_template(None, "judge")
    filled = template.fill(question="about {target} and {x}", target="GOLD", predicted_answer="{question}")
    assert "Question: about {target} and {x}" in filled
    assert "Predicted answer: {question}" in filled


def test_template_missing_placeholder_rejected(tmp_path):
    path = tmp_path / "student.txt"
    path.write_text("Answer this: {questoin}", encoding="utf-8")
    with pytest.raises(TemplateError) as error:
        load_template(path, "student")
    assert str(error.value) == f"{path}: the student template is missing the placeholder(s) {{question}}"


def test_judge_template_needs_all_placeholders(tmp_path):
    path = tmp_path / "judge.txt"
    path.write_text("{question} {target}", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"missing the placeholder\(s\) \{predicted_answer\}"):
        load_template(path, "judge")


def test_missing_template_file(tmp_path):
    with pytest.raises(TemplateError, match="student template not found"):
        load_template(tmp_path / "none.txt", "student")
