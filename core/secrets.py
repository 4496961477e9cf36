"""API keys: where they come from, how they are saved, and how they are kept out of text.

A key is read from `TOGETHER_API_KEY` first, then from factdeck's credentials file (mode 0600,
separate from the config file). It is never written to the config, the database or a log.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ENV_VARIABLE = "TOGETHER_API_KEY"
_BEARER = re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer\s+)?[^\s'\",}]+")


def find_api_key(credentials_file: Path) -> tuple[str | None, str]:
    """Return (key, where it was found): the environment, the credentials file, or nowhere."""
    key = os.environ.get(ENV_VARIABLE)
    if key:
        return key, f"environment variable {ENV_VARIABLE}"
    try:
        data = tomllib.loads(credentials_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None, "missing"
    key = data.get("together", {}).get("api_key") if isinstance(data.get("together"), dict) else None
    if isinstance(key, str) and key:
        return key, f"credentials file {credentials_file}"
    return None, "missing"


def save_api_key(credentials_file: Path, key: str) -> None:
    """Write the key to the credentials file, readable only by the user, atomically."""
    import tomli_w

    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    partial = credentials_file.with_name(credentials_file.name + ".part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(tomli_w.dumps({"together": {"api_key": key}}))
    os.chmod(partial, 0o600)
    partial.replace(credentials_file)


def redact(text: str, *secrets: str | None) -> str:
    """Remove the given secrets and any Authorization header value from `text`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _BEARER.sub(lambda match: match.group(1) + "[redacted]", text)
