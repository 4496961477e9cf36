"""Fault rules that make the stand-in misbehave on request, the way the real service sometimes does.

An `HttpFault` changes the HTTP response to the next `times` requests that match it. A `BatchFault`
changes the fate or the output file of the next `times` batches created that match it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class HttpFault:
    """A rule for the next `times` requests whose method and path match.

    `method` is an HTTP method or None for any. `path_pattern` is a regular expression that must
    match the whole path without the query string, e.g. r"/v1/batches/[^/]+".

    The effects apply in this order:
    - `delay_seconds`: sleep before responding, e.g. longer than the client timeout to cause one.
    - `drop_connection`: close the connection without sending a response.
    - `status`: respond with this status, `headers` (e.g. {"Retry-After": "1"}) and `body` (a JSON
      value; default `{"error": {...}}` naming the status). The request is not handled, so
      `status=200, body={"job": None, "warning": "..."}` on POST /v1/batches creates no batch.
    A rule with only `delay_seconds` delays the request and then handles it normally.
    """

    path_pattern: str
    method: str | None = None
    times: int = 1
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay_seconds: float = 0.0
    drop_connection: bool = False

    def matches(self, method: str, path: str) -> bool:
        """Return whether the rule still applies to a request with this method and path."""
        if self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return re.fullmatch(self.path_pattern, path) is not None


class BatchFaultKind(enum.Enum):
    """What a `BatchFault` does to a batch."""

    FAIL = "fail"
    """The batch goes FAILED when validation ends, with `BatchFault.message` as its `error`."""
    NULL_OUTPUT_FILE = "null_output_file"
    """The batch completes with `output_file_id` null although requests succeeded."""
    EMPTY_ERROR_FILE_ID = "empty_error_file_id"
    """The batch completes with `error_file_id` "" instead of null or a file id."""
    UNKNOWN_STATUS = "unknown_status"
    """The batch reports `BatchFault.status` (default "QUEUED") instead of VALIDATING."""
    NON_JSON_LINE = "non_json_line"
    """The first `lines` output lines are cut in half, so they are not JSON."""
    UNKNOWN_CUSTOM_ID = "unknown_custom_id"
    """`lines` extra output lines name custom_ids that were never sent."""
    DUPLICATE_CUSTOM_ID = "duplicate_custom_id"
    """The first `lines` output lines are written twice, each copy with its own line id."""
    ERROR_STATUS_CODE = "error_status_code"
    """The first `lines` output lines carry `response.status_code` `BatchFault.status_code`."""
    NULL_CONTENT = "null_content"
    """The first `lines` output lines have `message.content` null."""
    EMPTY_CONTENT = "empty_content"
    """The first `lines` output lines have `message.content` ""."""


@dataclass
class BatchFault:
    """A rule for the next `times` batches created whose model matches `model_pattern`.

    `model_pattern` is a regular expression that must match the whole model id of the batch (the
    `body.model` of its first line), or None for any batch. "First lines" are counted in the
    output file's order, which `StandIn.faulted_custom_ids` reports after the batch ends.
    """

    kind: BatchFaultKind
    times: int = 1
    model_pattern: str | None = None
    lines: int = 1
    message: str = "Batch failed: the model is unavailable."
    status: str = "QUEUED"
    status_code: int = 500

    def matches(self, model_id: str | None) -> bool:
        """Return whether the rule still applies to a new batch of this model."""
        if self.times <= 0:
            return False
        if self.model_pattern is None:
            return True
        return model_id is not None and re.fullmatch(self.model_pattern, model_id) is not None


def take_http_fault(faults: list[HttpFault], method: str, path: str) -> HttpFault | None:
    """Return the first rule matching the request and use up one of its `times`, or None."""
    for fault in faults:
        if fault.matches(method, path):
            fault.times -= 1
            return fault
    return None


def take_batch_faults(faults: list[BatchFault], model_id: str | None) -> list[BatchFault]:
    """Return every rule matching a new batch and use up one of the `times` of each."""
    matched = []
    for fault in faults:
        if fault.matches(model_id):
            fault.times -= 1
            matched.append(fault)
    return matched
