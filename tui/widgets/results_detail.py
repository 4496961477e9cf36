"""The detail pane: one question in full, with the judge's raw reply, sources, tokens and review."""

from __future__ import annotations

import time

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.text import strip_control
from tui.results_data import QuestionDetail
from tui.widgets.results_grades import REVIEWED_MARK, grade_label

LABEL_STYLE = "bold"


def _tokens(prompt: int | None, completion: int | None) -> str:
    if prompt is None and completion is None:
        return "none recorded"
    return f"{prompt or 0} prompt + {completion or 0} completion"


def detail_text(detail: QuestionDetail) -> Text:
    """Lay out a question's fields. Stored text is appended as plain Text, never parsed as markup."""
    text = Text()

    def field(label: str, value: str | None, empty: str = "(none)") -> None:
        text.append(f"{label}\n", style=LABEL_STYLE)
        shown = strip_control(value) if value else ""
        text.append(shown if shown else empty, style="" if shown else "dim")
        text.append("\n\n")

    judge_grade = grade_label(detail.grade) if detail.grade else "… PENDING"
    text.append(f"Question {detail.question_id}", style=LABEL_STYLE)
    text.append("  ·  ")
    text.append(strip_control(detail.topic))
    text.append("  ·  ")
    text.append(strip_control(detail.answer_type))
    text.append("\n")
    text.append(f"Judge's grade: {judge_grade}")
    if detail.reviewed_grade:
        text.append(f"   Reviewed: {grade_label(detail.reviewed_grade)} {REVIEWED_MARK}", style="bold")
    text.append("\n")
    if detail.reviewed_grade:
        reviewed_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(detail.reviewed_at or 0))
        text.append(f"Reviewed at {reviewed_at}. Note: ")
        note = strip_control(detail.review_note)
        text.append(note if note else "(none)", style="" if note else "dim")
        text.append("\n")
    text.append("\n")

    field("Question", detail.problem)
    field("Gold target", detail.gold)
    field("Predicted answer", detail.answer, "(no answer)")
    field("Judge's reply", detail.judge_reply, "(no reply)")
    if detail.failure_reason:
        field("Failure reason", detail.failure_reason)

    text.append("Sources\n", style=LABEL_STYLE)
    for url in detail.urls or ["(none)"]:
        text.append(f"{strip_control(url)}\n")
    text.append("\n")
    text.append("Tokens\n", style=LABEL_STYLE)
    text.append(f"answer: {_tokens(detail.answer_prompt_tokens, detail.answer_completion_tokens)}"
                f" ({detail.answer_attempts} attempt(s))\n")
    text.append(f"judge: {_tokens(detail.judge_prompt_tokens, detail.judge_completion_tokens)}"
                f" ({detail.judge_attempts} attempt(s))\n")
    text.append(f"state: {detail.state}\n")
    return text


class ResultsDetail(VerticalScroll, can_focus=True):
    """A scrollable pane showing one question's `detail_text`."""

    DEFAULT_CSS = """
    ResultsDetail {
        height: 50%;
        border-top: solid $primary;
        padding: 0 1;
        display: none;
    }
    ResultsDetail.-open { display: block; }
    ResultsDetail > Static { width: 1fr; }
    """

    def compose(self):
        yield Static(Text("Loading…"), id="detail-body")

    def show(self, detail: QuestionDetail | None) -> None:
        body = self.query_one("#detail-body", Static)
        body.update(detail_text(detail) if detail else Text("This question is no longer in the store."))
        self.scroll_home(animate=False)
