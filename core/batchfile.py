"""Build batch input files: one JSONL request per question, split into shards within limits.

Together accepts at most 50,000 requests and 100 MB per input file. The defaults keep a margin
under both; tests lower them to force many shards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
