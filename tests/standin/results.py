"""Result files of a finished batch: one output line per successful request, one error line per failure.

Lines are written in processing order, which is shuffled by batch id, and streamed to disk so a
50,000-request batch never sits in memory. Line faults change the first successful lines.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from tests.standin.batches import Batch, parse_request_line
from tests.standin.faults import BatchFaultKind
from tests.standin.files import FileStore
from tests.standin.oracle import Oracle, user_text

FAILED_REQUEST_MESSAGE = "Internal server error: the model failed to generate a response."
LINE_FAULT_KINDS = (
    BatchFaultKind.NON_JSON_LINE,
    BatchFaultKind.DUPLICATE_CUSTOM_ID,
    BatchFaultKind.ERROR_STATUS_CODE,
    BatchFaultKind.NULL_CONTENT,
    BatchFaultKind.EMPTY_CONTENT,
)


def _short_hash(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:24]


def success_line(batch_id: str, custom_id: str, body: dict[str, Any], reply: str, created: int) -> dict[str, Any]:
    """Return the output-file line of a successful request."""
    prompt_tokens = len(user_text(body["messages"])) // 4
    completion_tokens = len(reply) // 4 + 1
    return {
        "id": f"batch-req-{_short_hash(batch_id, custom_id)}",
        "custom_id": custom_id,
        "response": {
            "status_code": 200,
            "request_id": _short_hash("request", batch_id, custom_id),
            "body": {
                "id": f"chatcmpl-{_short_hash('completion', batch_id, custom_id)}",
                "object": "chat.completion",
                "created": created,
                "model": body["model"],
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        },
    }


def error_line(batch_id: str, custom_id: str, shape: str) -> dict[str, Any]:
    """Return the error-file line of a failed request, in the `error` or `response` shape."""
    line_id = f"batch-req-{_short_hash(batch_id, custom_id)}"
    if shape == "response":
        error_body = {"error": {"message": FAILED_REQUEST_MESSAGE, "type": "server_error"}}
        response = {"status_code": 500, "request_id": _short_hash("request", batch_id, custom_id), "body": error_body}
        return {"id": line_id, "custom_id": custom_id, "response": response}
    return {"id": line_id, "custom_id": custom_id, "error": {"message": FAILED_REQUEST_MESSAGE, "code": 500}}


class ResultWriter:
    """Streams the lines of one batch into an output file and an error file, each created on first use."""

    def __init__(self, batch: Batch, store: FileStore, now: float) -> None:
        self.batch = batch
        self.store = store
        self.now = now
        self.successes = 0
        self._handles: dict[str, IO[str]] = {}
        self._files = ExitStack()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._files.close()

    def write(self, kind: str, line: dict[str, Any] | str) -> None:
        """Append one line to the `output` or `error` file of the batch."""
        if kind not in self._handles:
            output = self.store.create_output(f"{self.batch.id}_{kind}.jsonl", self.now)
            stored, handle = self._files.enter_context(output)
            self._handles[kind] = handle
            setattr(self.batch, f"{kind}_file_id", stored.id)
        text = line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
        self._handles[kind].write(text + "\n")

    def write_success(self, line: dict[str, Any]) -> None:
        """Write one success line, changed by every line fault whose `lines` it falls within."""
        self.successes += 1
        faults = [
            fault for fault in self.batch.faults if fault.kind in LINE_FAULT_KINDS and self.successes <= fault.lines
        ]
        if faults:
            self.batch.faulted_custom_ids.append(line["custom_id"])
        kinds = {fault.kind: fault for fault in faults}
        body = line["response"]["body"]
        if BatchFaultKind.NULL_CONTENT in kinds:
            body["choices"][0]["message"]["content"] = None
        if BatchFaultKind.EMPTY_CONTENT in kinds:
            body["choices"][0]["message"]["content"] = ""
        if BatchFaultKind.ERROR_STATUS_CODE in kinds:
            line["response"]["status_code"] = kinds[BatchFaultKind.ERROR_STATUS_CODE].status_code
            line["response"]["body"] = {"error": {"message": FAILED_REQUEST_MESSAGE, "type": "server_error"}}

        text = json.dumps(line, ensure_ascii=False)
        if BatchFaultKind.NON_JSON_LINE in kinds:
            text = text[: len(text) // 2]
        self.write("output", text)
        if BatchFaultKind.DUPLICATE_CUSTOM_ID in kinds:
            self.write("output", dict(line, id=line["id"] + "-copy"))

    def write_unknown_custom_ids(self, created: int) -> None:
        """Append the extra lines of UNKNOWN_CUSTOM_ID faults, naming custom_ids never sent."""
        for fault in self.batch.faults:
            if fault.kind is not BatchFaultKind.UNKNOWN_CUSTOM_ID:
                continue
            for number in range(1, fault.lines + 1):
                custom_id = f"never-sent-{number}"
                body = {"model": self.batch.scan.model_id, "messages": [{"role": "user", "content": "?"}]}
                self.write("output", success_line(self.batch.id, custom_id, body, "Unrequested answer.", created))
                self.batch.faulted_custom_ids.append(custom_id)


def write_results(
    batch: Batch, input_path: Path, done: int, oracle: Oracle, store: FileStore, now: float, error_shape: str
) -> None:
    """Run the first `done` requests of the batch through the oracle and write its result files.

    Sets `batch.output_file_id` and `batch.error_file_id` (None when a file has no lines) and
    `batch.processed_custom_ids`, then applies the file-id faults.
    """
    created = int(now)
    with ResultWriter(batch, store, now) as writer, open(input_path, "rb") as file:
        for index in batch.processing_order()[:done]:
            file.seek(batch.scan.offsets[index])
            custom_id, body = parse_request_line(file.readline())
            batch.processed_custom_ids.append(custom_id)
            reply = oracle.reply(body["messages"])
            if reply is None:
                writer.write("error", error_line(batch.id, custom_id, error_shape))
            else:
                writer.write_success(success_line(batch.id, custom_id, body, reply, created))
        if done:
            writer.write_unknown_custom_ids(created)

    if batch.has_fault(BatchFaultKind.NULL_OUTPUT_FILE):
        batch.output_file_id = None
    if batch.has_fault(BatchFaultKind.EMPTY_ERROR_FILE_ID):
        batch.error_file_id = ""
