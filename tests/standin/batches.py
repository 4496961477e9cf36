"""Batch jobs of the stand-in: input validation and a status timeline computed from timestamps.

A batch's fate (status and end time) is planned when it is created. Its status is worked out
from the clock on every request, and `StandIn` writes its result files once, when the end time
has passed or a cancel arrives. A terminal status never changes after that.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.standin.faults import BatchFault, BatchFaultKind

VALIDATING = "VALIDATING"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
EXPIRED = "EXPIRED"
CANCELLED = "CANCELLED"

CHAT_ENDPOINT = "/v1/chat/completions"
MAX_CUSTOM_ID_LENGTH = 64
JOB_WINDOW = timedelta(hours=24)
USER_ID = "user-standin"


class InvalidLine(ValueError):
    """An input line that is not a valid batch request."""


@dataclass
class InputScan:
    """What validation learned from an input file: line offsets for later reads, or the first error."""

    offsets: list[int] = field(default_factory=list)
    custom_ids: list[str] = field(default_factory=list)
    model_id: str | None = None
    error: str | None = None


def parse_request_line(raw: bytes) -> tuple[str, dict[str, Any]]:
    """Return (custom_id, body) of one input line, or raise InvalidLine saying what is wrong."""
    try:
        request = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidLine(f"not valid JSON ({exc})") from None
    if not isinstance(request, dict):
        raise InvalidLine("not a JSON object")

    custom_id = request.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise InvalidLine("custom_id is missing or not a non-empty string")
    if len(custom_id) > MAX_CUSTOM_ID_LENGTH:
        raise InvalidLine(f"custom_id has {len(custom_id)} characters, more than {MAX_CUSTOM_ID_LENGTH}")

    body = request.get("body")
    if not isinstance(body, dict):
        raise InvalidLine("body is missing or not an object")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise InvalidLine("body.model is missing or not a string")
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise InvalidLine("body.messages is missing or not a non-empty list")
    return custom_id, body


def scan_input(path: Path) -> InputScan:
    """Validate every line of an input file and record where each line starts."""
    scan = InputScan()
    seen: set[str] = set()
    offset = 0
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                custom_id, body = parse_request_line(raw)
                if custom_id in seen:
                    raise InvalidLine(f"custom_id {custom_id!r} appears more than once")
            except InvalidLine as exc:
                scan.error = f"Invalid input file: line {number}: {exc}"
                return scan
            seen.add(custom_id)
            scan.offsets.append(offset)
            scan.custom_ids.append(custom_id)
            scan.model_id = scan.model_id or body["model"]
            offset += len(raw)
    if not scan.offsets:
        scan.error = "Invalid input file: the file has no requests"
    return scan


def iso_time(seconds: float) -> str:
    """Format seconds since the Unix epoch as an ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class Batch:
    """One batch job. `status` is None until the batch reaches a terminal status."""

    id: str
    ordinal: int
    input_file_id: str
    endpoint: str
    file_size_bytes: int
    created_at: float
    validating_seconds: float
    running_seconds: float
    scan: InputScan
    faults: list[BatchFault]
    planned_status: str = COMPLETED
    planned_end: float = 0.0
    planned_error: str | None = None
    status: str | None = None
    ended_at: float | None = None
    final_progress: float = 0.0
    error: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    processed_custom_ids: list[str] = field(default_factory=list)
    faulted_custom_ids: list[str] = field(default_factory=list)

    @property
    def validation_end(self) -> float:
        return self.created_at + self.validating_seconds

    def has_fault(self, kind: BatchFaultKind) -> BatchFault | None:
        return next((fault for fault in self.faults if fault.kind is kind), None)

    def plan(
        self, expire_batches: frozenset[int], expire_at_progress: float, expire_after_seconds: float | None
    ) -> None:
        """Decide how and when the batch ends, from its input, its faults and the expiry settings."""
        failing = self.has_fault(BatchFaultKind.FAIL)
        if self.scan.error is not None or failing is not None:
            self.planned_status, self.planned_end = FAILED, self.validation_end
            self.planned_error = self.scan.error or failing.message
        elif self.ordinal in expire_batches:
            self.planned_status = EXPIRED
            self.planned_end = self.validation_end + self.running_seconds * expire_at_progress / 100
        else:
            self.planned_status, self.planned_end = COMPLETED, self.validation_end + self.running_seconds

        if expire_after_seconds is not None and self.created_at + expire_after_seconds < self.planned_end:
            self.planned_status, self.planned_end = EXPIRED, self.created_at + expire_after_seconds
            self.planned_error = None

    def progress_at(self, now: float) -> float:
        """Return the progress (0..100) at `now`, rising linearly while the batch runs."""
        if now < self.validation_end:
            return 0.0
        if self.running_seconds <= 0:
            return 100.0
        return min(100.0, (now - self.validation_end) / self.running_seconds * 100)

    def processing_order(self) -> list[int]:
        """Return input line indices in the order requests are processed, shuffled by the batch id."""
        order = list(range(len(self.scan.offsets)))
        random.Random(self.id).shuffle(order)
        return order

    def done_count(self, status: str, at: float) -> int:
        """Return how many requests are done when the batch ends with `status` at time `at`."""
        total = len(self.scan.offsets)
        if status == COMPLETED:
            return total
        if status == FAILED:
            return 0
        # The epsilon keeps float noise (e.g. 49.99999 % of 100) from losing a finished request.
        return math.floor(self.progress_at(at) * total / 100 + 1e-9)

    def end(self, status: str, at: float, error: str | None) -> None:
        """Record the terminal status; result file ids are set by the caller."""
        self.status = status
        self.ended_at = at
        self.error = error
        self.final_progress = {COMPLETED: 100.0, FAILED: 0.0}.get(status, self.progress_at(at))

    def current_status(self, now: float) -> str:
        if self.status is not None:
            return self.status
        if now >= self.validation_end:
            return IN_PROGRESS
        unknown = self.has_fault(BatchFaultKind.UNKNOWN_STATUS)
        return unknown.status if unknown else VALIDATING

    def to_json(self, now: float) -> dict[str, Any]:
        """Return the BatchJob JSON object as seen at `now`."""
        return {
            "id": self.id,
            "user_id": USER_ID,
            "input_file_id": self.input_file_id,
            "file_size_bytes": self.file_size_bytes,
            "status": self.current_status(now),
            "job_deadline": iso_time(self.created_at + JOB_WINDOW.total_seconds()),
            "created_at": iso_time(self.created_at),
            "endpoint": self.endpoint,
            "progress": self.final_progress if self.status is not None else self.progress_at(now),
            "model_id": self.scan.model_id,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "error": self.error,
            "completed_at": iso_time(self.ended_at) if self.ended_at is not None else None,
        }
