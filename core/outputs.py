"""Read a batch's output and error files into one result per custom_id.

Lines are read one at a time, so a large output is never held whole. Output order is not input
order, so results are keyed by custom_id only. Both files are defensive about shape: the error
file's format is not documented, and a line that cannot be read becomes a warning naming the file
and line, never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RequestResult:
    """What one request produced: `content` on success, otherwise `error` says why it failed."""

    content: str | None = None
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.content is not None


@dataclass
class ReadResults:
    results: dict[str, RequestResult]
    warnings: list[str]


def read_results(output: Path | None, errors: Path | None, expected: set[str]) -> ReadResults:
    """Collect results for the `expected` custom_ids from the output file, then the error file.

    A success is never replaced: a custom_id repeated in the output keeps its first success, and
    an error-file entry for a custom_id that already succeeded is ignored with a warning.
    """
    read = ReadResults(results={}, warnings=[])
    if output is not None:
        for line_number, record in _records(output, read.warnings):
            _take(read, output, line_number, record, expected, _output_result(record))
    if errors is not None:
        for line_number, record in _records(errors, read.warnings):
            _take(read, errors, line_number, record, expected, RequestResult(error=_error_reason(record)))
    return read


def _take(read: ReadResults, path: Path, line: int, record: dict, expected: set[str], result: RequestResult) -> None:
    custom_id = record.get("custom_id")
    if not isinstance(custom_id, str) or custom_id not in expected:
        read.warnings.append(f"{path}:{line}: custom_id {custom_id!r} was not sent in this batch; line ignored")
        return
    previous = read.results.get(custom_id)
    if previous is not None:
        read.warnings.append(f"{path}:{line}: custom_id {custom_id!r} appears again; the first result is kept")
        if previous.succeeded or not result.succeeded:
            return
    read.results[custom_id] = result


def _records(path: Path, warnings: list[str]) -> Iterator[tuple[int, dict]]:
    with path.open("rb") as lines:
        for line_number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                warnings.append(f"{path}:{line_number}: not valid JSON; line ignored")
                continue
            if not isinstance(record, dict):
                warnings.append(f"{path}:{line_number}: not a JSON object; line ignored")
                continue
            yield line_number, record


def _output_result(record: dict) -> RequestResult:
    response = record.get("response")
    if not isinstance(response, dict):
        return RequestResult(error=_error_reason(record))
    status = response.get("status_code")
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    if status != 200:
        return RequestResult(error=f"HTTP {status}: {_error_reason(body) if body else 'no body'}")

    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    prompt_tokens, completion_tokens = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
    content = _message_content(body)
    if content is None or not content.strip():
        return RequestResult(
            error="the model returned empty content",
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
    return RequestResult(content=content, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)


def _message_content(body: dict) -> str | None:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else None


def _error_reason(record: dict) -> str:
    """Find a human-readable reason in an error record of unknown shape."""
    response = record.get("response") if isinstance(record.get("response"), dict) else {}
    body = response.get("body") if isinstance(response.get("body"), dict) else {}
    for candidate in (record.get("error"), body.get("error"), record.get("message")):
        if isinstance(candidate, dict) and isinstance(candidate.get("message"), str):
            return candidate["message"]
        if isinstance(candidate, str) and candidate:
            return candidate
    return "the provider reported a failure without a reason"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
