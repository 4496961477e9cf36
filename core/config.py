"""The TOML config file: read with `tomllib`, validated strictly, written atomically with `tomli-w`.

A config that does not parse or has a wrong value never stops factdeck. The caller gets the
valid values (defaults where a key is wrong, all defaults when the file does not parse) and a list
of problems naming the file, line and key. The file is left untouched until the user saves, and
saving over a file with problems first keeps a copy of it. Unset values are left out of the file rather than written as "None".
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROVIDERS = ("together", "mock")
# Defined here rather than in core.dataset, whose CSV and hashing imports the TUI's start-up skips.
OFFICIAL_URL = "https://openaipublic.blob.core.windows.net/simple-evals/simple_qa_test_set.csv"


@dataclass(frozen=True)
class ProviderSettings:
    name: str = "together"
    """Batch provider: `together`, or `mock` for simulated offline runs."""
    base_url: str | None = None
    """API base URL; unset means `TOGETHER_BASE_URL` or the SDK's default."""


@dataclass(frozen=True)
class RunDefaults:
    models: tuple[str, ...] = ()
    """Student models; each starts its own run."""
    grader_model: str | None = None
    """Judge model that grades every answer."""
    dataset: str = OFFICIAL_URL
    """Path or http(s) URL of a SimpleQA-shaped CSV."""
    limit: int | None = None
    """Number of questions to sample; unset runs all of them."""
    seed: int = 0
    """Seed for the sample, so the same limit picks the same questions."""
    max_tokens: int | None = 256
    """Maximum tokens of each student answer."""
    temperature: float | None = 0.0
    """Student sampling temperature."""
    judge_max_tokens: int | None = 64
    """Maximum tokens of each judge reply."""
    student_template: str | None = None
    """Path of a student template with a {question} placeholder; unset uses the built-in one."""
    judge_template: str | None = None
    """Path of a judge template; unset uses the official SimpleQA grader prompt."""


@dataclass(frozen=True)
class JobSettings:
    poll_interval: float = 30.0
    """Seconds between two status requests for one batch job."""
    stall_minutes: float = 30.0
    """Minutes without progress before a job is marked stalled."""


@dataclass(frozen=True)
class UiSettings:
    theme: str = "factdeck-dark"
    """Theme name: a file in themes/ or one of Textual's built-in themes."""


@dataclass(frozen=True)
class Config:
    provider: ProviderSettings = field(default_factory=ProviderSettings)
    run: RunDefaults = field(default_factory=RunDefaults)
    jobs: JobSettings = field(default_factory=JobSettings)
    ui: UiSettings = field(default_factory=UiSettings)


SECTIONS = {"provider": ProviderSettings, "run": RunDefaults, "jobs": JobSettings, "ui": UiSettings}


@dataclass(frozen=True)
class ConfigProblem:
    path: Path
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


@dataclass
class LoadedConfig:
    config: Config
    problems: list[ConfigProblem]
    exists: bool

    @property
    def ok(self) -> bool:
        return not self.problems


def load_config(path: Path) -> LoadedConfig:
    """Read the config file; on any problem return the defaults and the problems found."""
    if not path.exists():
        return LoadedConfig(Config(), [], exists=False)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return LoadedConfig(Config(), [ConfigProblem(path, None, None, f"cannot read the file: {exc.strerror}")], True)

    problem = _text_problem(path, raw)
    if problem:
        return LoadedConfig(Config(), [problem], True)
    text = raw.decode("utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        return LoadedConfig(
            Config(), [ConfigProblem(path, int(line.group(1)) if line else None, None, f"not valid TOML: {exc}")], True
        )

    problems: list[ConfigProblem] = []
    config = _validate(data, text, path, problems)
    return LoadedConfig(config, problems, True)


def _text_problem(path: Path, raw: bytes) -> ConfigProblem | None:
    if not raw.strip():
        return ConfigProblem(path, None, None, "the file is empty; delete it to start from the defaults")
    if b"\x00" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\x00")) + 1
        return ConfigProblem(path, line, None, "the file contains NUL bytes; it is not a TOML text file")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return ConfigProblem(path, line, None, "the file is not valid UTF-8")
    return None


def _validate(data: dict, text: str, path: Path, problems: list[ConfigProblem]) -> Config:
    sections = {}
    for name, value in data.items():
        if name not in SECTIONS:
            problems.append(ConfigProblem(path, _line_of(text, name), name, f"unknown section{_suggest(name, SECTIONS)}"))
            continue
        if not isinstance(value, dict):
            problems.append(ConfigProblem(path, _line_of(text, name), name, "must be a table like [" + name + "]"))
            continue
        sections[name] = _section(SECTIONS[name], name, value, text, path, problems)
    return Config(**sections)


def _section(cls: type, section: str, values: dict, text: str, path: Path, problems: list[ConfigProblem]):
    known = {item.name: item for item in fields(cls)}
    accepted = {}
    for key, value in values.items():
        where = _line_of(text, key, section)
        if key not in known:
            problems.append(ConfigProblem(path, where, f"{section}.{key}", f"unknown key{_suggest(key, known)}"))
            continue
        expected = known[key].type
        checked = _check_type(value, expected)
        if checked is _INVALID:
            problems.append(ConfigProblem(path, where, f"{section}.{key}", f"expected {_type_name(expected)}, got {value!r}"))
            continue
        accepted[key] = checked

    for key in list(accepted):
        problem = _range_problem(section, key, accepted[key])
        if problem:
            problems.append(ConfigProblem(path, _line_of(text, key, section), f"{section}.{key}", problem))
            del accepted[key]
    return cls(**accepted)


def _range_problem(section: str, key: str, value: object) -> str | None:
    """Say what is wrong with a well-typed value that is out of range, or return None."""
    if section == "provider" and key == "name" and value not in PROVIDERS:
        return f"must be one of {', '.join(PROVIDERS)}, got {value!r}"
    if key in ("limit", "max_tokens", "judge_max_tokens") and value < 1:
        return f"must be at least 1, got {value}"
    if key in ("poll_interval", "stall_minutes") and value <= 0:
        return f"must be more than 0, got {value}"
    if key == "temperature" and not 0 <= value <= 2:
        return f"must be between 0 and 2, got {value}"
    return None


_INVALID = object()


def _check_type(value: object, expected: str) -> object:
    """Return the value converted to the field's type, or _INVALID. Types are the annotations' text."""
    base = expected.replace(" | None", "")
    if base == "str":
        return value if isinstance(value, str) else _INVALID
    if base == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else _INVALID
    if base == "float":
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _INVALID
    if base == "tuple[str, ...]":
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        return _INVALID
    raise AssertionError(f"unhandled config type {expected}")


def _type_name(expected: str) -> str:
    return {
        "str": "a string", "str | None": "a string", "int": "an integer", "int | None": "an integer",
        "float": "a number", "float | None": "a number", "tuple[str, ...]": "a list of strings",
    }[expected]


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(choices)}"


def _line_of(text: str, key: str, section: str | None = None) -> int | None:
    """Find the line of `key` (or of a `[key]` header), looking inside `section` when given."""
    start = 0
    if section is not None:
        header = re.search(rf"^\s*\[\s*{re.escape(section)}\s*\]", text, re.MULTILINE)
        start = header.end() if header else 0
    pattern = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|\"?{re.escape(key)}\"?\s*=)", re.MULTILINE)
    match = pattern.search(text, start)
    return text.count("\n", 0, match.start()) + 1 if match else None


def config_to_toml(config: Config) -> dict:
    """Convert the config to TOML data: unset values are left out, tuples become lists."""
    data: dict = {}
    for name in SECTIONS:
        section = getattr(config, name)
        values = {}
        for item in fields(section):
            value = getattr(section, item.name)
            if value is None:
                continue
            values[item.name] = list(value) if isinstance(value, tuple) else value
        data[name] = values
    return data


def save_config(config: Config, path: Path) -> Path | None:
    """Write the config atomically: a temporary file in the same folder, then a rename.

    When the file on disk has problems (a typo, a wrong type), it is first copied to
    `config.toml.broken-TIMESTAMP`, so nothing the user wrote is lost. Returns that copy's path.
    """
    import shutil
    import time

    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if path.exists() and load_config(path).problems:
        backup = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(path, backup)
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.write_text(tomli_w.dumps(config_to_toml(config)), encoding="utf-8")
    partial.replace(path)
    return backup


def with_changes(config: Config, section: str, **changes: object) -> Config:
    return replace(config, **{section: replace(getattr(config, section), **changes)})
