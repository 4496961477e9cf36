"""Theme files: TOML tables with the fields of `textual.theme.Theme`, checked before use.

factdeck ships `themes/*.toml` as package data; users may add more under `CONFIG/themes/`. A file
that does not parse or contains a wrong field is skipped and named in one problem line, so a bad
theme never stops the app.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "factdeck-dark"
COLOR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent", "foreground", "background", "surface", "panel", "boost")
NUMBER_FIELDS = ("luminosity_spread", "text_alpha")
BOOLEAN_FIELDS = ("dark", "ansi")
KNOWN_FIELDS = {item.name for item in fields(Theme)}


@dataclass(frozen=True)
class ThemeProblem:
    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class InvalidTheme(ValueError):
    """A theme file's content breaks the Theme fields' rules."""


def packaged_theme_dir() -> Path:
    import themes

    return Path(themes.__file__).parent


def load_themes(folders: list[Path]) -> tuple[list[Theme], list[ThemeProblem]]:
    """Read every `*.toml` in `folders`, in name order, and return the valid themes and the problems."""
    themes: list[Theme] = []
    problems: list[ThemeProblem] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                themes.append(parse_theme(path))
            except InvalidTheme as error:
                problems.append(ThemeProblem(path, str(error)))
    return themes, problems


def parse_theme(path: Path) -> Theme:
    """Build a Theme from one file, raising InvalidTheme with the key that is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InvalidTheme(f"cannot read the file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidTheme("the file is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise InvalidTheme(f"not valid TOML: {error}") from None

    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise InvalidTheme(f"unknown key {unknown[0]!r}; known: {', '.join(sorted(KNOWN_FIELDS))}")
    for key in ("name", "primary"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise InvalidTheme(f"{key} is missing; it must be a non-empty string")
    for key in COLOR_FIELDS:
        if key in data:
            _check_color(key, data[key])
    for key in NUMBER_FIELDS:
        if key in data and (isinstance(data[key], bool) or not isinstance(data[key], (int, float))):
            raise InvalidTheme(f"{key} must be a number, got {data[key]!r}")
    for key in BOOLEAN_FIELDS:
        if key in data and not isinstance(data[key], bool):
            raise InvalidTheme(f"{key} must be true or false, got {data[key]!r}")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(isinstance(value, str) for value in variables.values()):
        raise InvalidTheme("variables must be a table of strings")
    return Theme(**data)


def _check_color(key: str, value: object) -> None:
    if not isinstance(value, str):
        raise InvalidTheme(f"{key} must be a colour string like \"#5FA8D3\", got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise InvalidTheme(f"{key} is not a colour: {value!r}") from None
