"""Build batch input files: one JSONL request per question, split into shards within limits.

Together accepts at most 50,000 requests and 100 MB per input file. The defaults keep a margin
under both; tests lower them to force many shards.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import BinaryIO

from core.errors import BatchFileError

MAX_CUSTOM_ID_LENGTH = 64
ENDPOINT = "/v1/chat/completions"


@dataclass(frozen=True)
class ShardLimits:
    max_requests: int = 49_000
    max_bytes: int = 95_000_000


@dataclass(frozen=True)
class Request:
    custom_id: str
    question_id: int
    body: dict


@dataclass(frozen=True)
class Shard:
    """Serialized requests for one input file; `question_ids` follow the line order."""

    lines: list[bytes]
    question_ids: list[int]

    @property
    def size_bytes(self) -> int:
        return sum(len(line) for line in self.lines)


def make_custom_id(run_id: str, phase: str, attempt: int, question_id: int) -> str:
    """Build `RUN-a1-QID` (answers) or `RUN-j2-QID` (judge): unique per file, stable per attempt.

    The attempt number makes a retry file differ from the first one, so the provider never
    deduplicates a retry upload into the file of the failed batch.
    """
    return f"{run_id}-{phase[0]}{attempt}-{question_id}"


def parse_custom_id(custom_id: str) -> tuple[str, str, int, int] | None:
    """Split a custom_id into (run_id, phase letter, attempt, question_id), or None if foreign."""
    parts = custom_id.rsplit("-", 2)
    if len(parts) != 3:
        return None
    run_id, phase_attempt, question_id = parts
    if len(phase_attempt) < 2 or phase_attempt[0] not in "aj" or not phase_attempt[1:].isdigit():
        return None
    if not question_id.isdigit():
        return None
    return run_id, phase_attempt[0], int(phase_attempt[1:]), int(question_id)


def chat_body(model: str, prompt: str, max_tokens: int | None, temperature: float | None) -> dict:
    body: dict = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return body


def split_into_shards(requests: list[Request], limits: ShardLimits) -> list[Shard]:
    """Serialize requests and cut a new shard before either limit would be crossed.

    Raises BatchFileError naming the request's line when a custom_id is too long or repeated,
    or when one request alone is larger than a whole shard may be.
    """
    shards: list[Shard] = []
    lines: list[bytes] = []
    question_ids: list[int] = []
    size = 0
    seen: dict[str, int] = {}

    for line_number, request in enumerate(requests, start=1):
        _check_custom_id(request.custom_id, line_number, seen)
        line = (
            json.dumps({"custom_id": request.custom_id, "body": request.body}, ensure_ascii=False) + "\n"
        ).encode()
        if len(line) > limits.max_bytes:
            raise BatchFileError(
                f"request on line {line_number} ({request.custom_id}) is {len(line)} bytes, "
                f"more than the {limits.max_bytes}-byte shard limit"
            )
        if lines and (len(lines) >= limits.max_requests or size + len(line) > limits.max_bytes):
            shards.append(Shard(lines, question_ids))
            lines, question_ids, size = [], [], 0
        lines.append(line)
        question_ids.append(request.question_id)
        size += len(line)

    if lines:
        shards.append(Shard(lines, question_ids))
    return shards


def _check_custom_id(custom_id: str, line_number: int, seen: dict[str, int]) -> None:
    if not custom_id:
        raise BatchFileError(f"line {line_number}: custom_id is empty")
    if len(custom_id) > MAX_CUSTOM_ID_LENGTH:
        raise BatchFileError(
            f"line {line_number}: custom_id {custom_id!r} has {len(custom_id)} characters, "
            f"more than the provider's maximum of {MAX_CUSTOM_ID_LENGTH}"
        )
    if custom_id in seen:
        raise BatchFileError(
            f"line {line_number}: custom_id {custom_id!r} repeats the one on line {seen[custom_id]}"
        )
    seen[custom_id] = line_number


def write_shard(shard: Shard, path: Path) -> None:
    """Write a shard completely under a temporary name, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out:
        out.writelines(shard.lines)
    partial.replace(path)


def check_batch_file(path: Path, limits: ShardLimits) -> int:
    """Check an input file against the limits before upload; return its number of requests.

    Raises BatchFileError naming the file and line for a malformed line, a missing, over-long or
    repeated custom_id, or a file over the request or size limit.
    """
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise BatchFileError(f"{path}: {size} bytes is over the {limits.max_bytes}-byte limit")

    seen: dict[str, int] = {}
    count = 0
    with path.open("rb") as lines:
        for line_number, line in enumerate(lines, start=1):
            try:
                custom_id = json.loads(line)["custom_id"]
            except (ValueError, KeyError, TypeError):
                raise BatchFileError(f"{path}:{line_number}: not a JSON request with a custom_id") from None
            try:
                _check_custom_id(str(custom_id), line_number, seen)
            except BatchFileError as exc:
                raise BatchFileError(f"{path}:{exc}") from None
            count += 1

    if count > limits.max_requests:
        raise BatchFileError(f"{path}: {count} requests is over the {limits.max_requests}-request limit")
    return count


class RequestEncoder:
    """Serialize requests that share a model, a prompt template and generation settings.

    Each line has exactly the bytes `split_into_shards` writes for the same request, but the
    template's fixed text (the judge prompt is about 6 KB) is JSON-escaped once instead of once per
    request: escaping is per character, so escaping the parts and joining them equals escaping the
    whole. Placeholders are found in one pass, as `Template.fill` does.
    """

    def __init__(self, template: str, names: tuple[str, ...], model: str, max_tokens: int | None, temperature: float | None) -> None:
        # Random markers stand in for the custom_id and the prompt, so no model name can contain them.
        id_marker, prompt_marker = uuid.uuid4().hex, uuid.uuid4().hex
        body = chat_body(model, prompt_marker, max_tokens, temperature)
        text = json.dumps({"custom_id": id_marker, "body": body}, ensure_ascii=False) + "\n"
        self._head, rest = text.split(id_marker)
        middle, self._tail = rest.split(prompt_marker)
        pattern = "(" + "|".join(re.escape("{" + name + "}") for name in names) + ")"
        pieces = re.split(pattern, template) if names else [template]
        # Even positions are fixed text, odd ones the placeholder names between them.
        self._fixed = [_escaped(piece) for piece in pieces[0::2]]
        self._names = [piece[1:-1] for piece in pieces[1::2]]
        self._fixed[0] = middle + self._fixed[0]

    def encode(self, custom_id: str, values: dict[str, str]) -> bytes:
        """Return one JSONL request line (with its newline) for `custom_id` and the template values."""
        parts = [self._head, _escaped(custom_id), self._fixed[0]]
        for name, fixed in zip(self._names, self._fixed[1:]):
            parts.append(_escaped(values[name]))
            parts.append(fixed)
        parts.append(self._tail)
        return "".join(parts).encode()


def _escaped(text: str) -> str:
    """JSON-escape a string without its quotes, as `json.dumps(..., ensure_ascii=False)` does."""
    return encode_basestring(text)[1:-1]


@dataclass(frozen=True)
class WrittenShard:
    """One complete input file: its path, size and the question of each line, in line order."""

    path: Path
    size_bytes: int
    question_ids: list[int]


class ShardWriter:
    """Stream request lines into shard files, starting a new file before either limit is crossed.

    Lines go to disk as they come and only their custom_ids and question ids stay in memory, so a
    100,000-question judge phase (about 600 MB of requests) never holds its lines. Each file is written under a `.part` name and renamed
    when complete; `close` must be called to finish the last one. Raises BatchFileError like
    `split_into_shards` for a bad custom_id or a request larger than a shard may be.
    """

    def __init__(self, limits: ShardLimits, path_for: Callable[[int], Path]) -> None:
        self.limits = limits
        self.path_for = path_for
        self.shards: list[WrittenShard] = []
        self._seen: dict[str, int] = {}
        self._file: BinaryIO | None = None
        self._question_ids: list[int] = []
        self._size = 0
        self._line_number = 0

    def add(self, custom_id: str, question_id: int, line: bytes) -> None:
        self._line_number += 1
        _check_custom_id(custom_id, self._line_number, self._seen)
        if len(line) > self.limits.max_bytes:
            raise BatchFileError(
                f"request on line {self._line_number} ({custom_id}) is {len(line)} bytes, "
                f"more than the {self.limits.max_bytes}-byte shard limit"
            )
        full = len(self._question_ids) >= self.limits.max_requests or self._size + len(line) > self.limits.max_bytes
        if self._file is not None and full:
            self._finish()
        if self._file is None:
            path = self.path_for(len(self.shards) + 1)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.with_name(path.name + ".part").open("wb")
        self._file.write(line)
        self._question_ids.append(question_id)
        self._size += len(line)

    def close(self) -> list[WrittenShard]:
        """Finish the last file and return every shard written."""
        if self._file is not None:
            self._finish()
        return self.shards

    def discard(self) -> None:
        """Close and remove the unfinished `.part` file after a failure; finished shards stay unused."""
        if self._file is not None:
            self._file.close()
            Path(self._file.name).unlink(missing_ok=True)
            self._file = None

    def _finish(self) -> None:
        partial = Path(self._file.name)
        self._file.close()
        path = partial.with_name(partial.name.removesuffix(".part"))
        partial.replace(path)
        self.shards.append(WrittenShard(path, self._size, self._question_ids))
        self._file, self._question_ids, self._size = None, [], 0
