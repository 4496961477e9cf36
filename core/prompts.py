"""Student and judge prompt templates.

The judge template is the SimpleQA reference implementation's grader prompt (openai/simple-evals,
MIT licence), shipped as package data and filled by plain substitution so its bytes are used
exactly: published SimpleQA numbers are only comparable when this exact text is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from core.errors import TemplateError

STUDENT_PLACEHOLDERS = ("{question}",)
JUDGE_PLACEHOLDERS = ("{question}", "{target}", "{predicted_answer}")


@dataclass(frozen=True)
class Template:
    text: str
    origin: str

    def fill(self, **values: str) -> str:
        """Substitute `{name}` placeholders in one pass, so other braces stay literal and a value
        that itself contains `{target}` is never substituted again."""
        pattern = re.compile("|".join(re.escape("{" + name + "}") for name in values))
        return pattern.sub(lambda match: values[match.group(0)[1:-1]], self.text)


def builtin_template(name: str) -> Template:
    """Return a packaged template: `student` or `judge`."""
    text = resources.files("core").joinpath("templates", f"{name}.txt").read_text(encoding="utf-8")
    return Template(text=text, origin=f"built-in {name} template")


def load_template(path: str | Path | None, kind: str) -> Template:
    """Load a template file, or the built-in one when `path` is None, and check its placeholders."""
    placeholders = STUDENT_PLACEHOLDERS if kind == "student" else JUDGE_PLACEHOLDERS
    if path is None:
        template = builtin_template(kind)
    else:
        file = Path(path).expanduser()
        try:
            template = Template(text=file.read_text(encoding="utf-8"), origin=str(file))
        except FileNotFoundError:
            raise TemplateError(f"{file}: {kind} template not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{file}: cannot read the {kind} template: {exc}") from None

    missing = [name for name in placeholders if name not in template.text]
    if missing:
        raise TemplateError(
            f"{template.origin}: the {kind} template is missing the placeholder(s) {', '.join(missing)}"
        )
    return template
