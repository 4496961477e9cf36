"""The Models screen's text fields and how each maps to a config key, both ways.

Every field is typed text. `read_fields` turns the values into a `Config` and names each invalid
field with its label and the value, so the user knows what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config, with_changes


@dataclass(frozen=True)
class Field:
    widget_id: str
    section: str
    key: str
    label: str
    kind: str
    """text, optional_text, models, count (int >= 1 or blank), integer, number (or blank), positive."""
    placeholder: str = ""


FIELDS = (
    Field("base-url", "provider", "base_url", "Base URL", "optional_text", "blank: TOGETHER_BASE_URL or the SDK default"),
    Field("student-models", "run", "models", "Student models", "models", "model ids, comma-separated (ctrl+l to pick)"),
    Field("judge-model", "run", "grader_model", "Judge model", "optional_text", "model id (ctrl+l to pick)"),
    Field("max-tokens", "run", "max_tokens", "Max tokens", "count", "blank: provider default"),
    Field("temperature", "run", "temperature", "Temperature", "number", "blank: provider default"),
    Field("dataset", "run", "dataset", "Dataset", "text", "path or http(s) URL of a SimpleQA CSV"),
    Field("limit", "run", "limit", "Sample size", "count", "blank: all questions"),
    Field("seed", "run", "seed", "Seed", "integer", "0"),
    Field("student-template", "run", "student_template", "Student template", "optional_text", "blank: built-in; or a file path"),
    Field("judge-template", "run", "judge_template", "Judge template", "optional_text", "blank: official SimpleQA grader; or a file path"),
    Field("poll-interval", "jobs", "poll_interval", "Poll interval (s)", "positive", "seconds between status requests"),
)


def field_text(config: Config, field: Field) -> str:
    """Show a config value as the text of its field."""
    value = getattr(getattr(config, field.section), field.key)
    if value is None:
        return ""
    if field.kind == "models":
        return ", ".join(value)
    if isinstance(value, float) and value.is_integer() and field.kind == "positive":
        return str(int(value))
    return str(value)


def read_fields(base: Config, values: dict[str, str]) -> tuple[Config, list[str]]:
    """Apply the fields' text to `base`; return the new config and one message per invalid field."""
    config = base
    problems: list[str] = []
    for field in FIELDS:
        text = values.get(field.widget_id, "").strip()
        try:
            value = _parse(field, text)
        except ValueError as error:
            problems.append(f"{field.label}: {error}")
            continue
        config = with_changes(config, field.section, **{field.key: value})
    return config, problems


def _parse(field: Field, text: str) -> object:
    if field.kind == "text":
        if not text:
            raise ValueError("must not be empty")
        return text
    if field.kind == "optional_text":
        return text or None
    if field.kind == "models":
        return tuple(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))
    if field.kind == "count":
        if not text:
            return None
        number = _integer(text)
        if number < 1:
            raise ValueError(f"must be at least 1, got {text!r}")
        return number
    if field.kind == "integer":
        return _integer(text or "0")
    if field.kind == "number":
        return _number(text) if text else None
    if field.kind == "positive":
        number = _number(text)
        if number <= 0:
            raise ValueError(f"must be more than 0, got {text!r}")
        return number
    raise AssertionError(f"unhandled field kind {field.kind}")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, got {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"must be a number, got {text!r}") from None
