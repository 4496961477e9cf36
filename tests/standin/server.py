"""A local stand-in for the Together AI Files and Batch APIs, driven over HTTP by the real SDK.

It implements what `together` 3.1.x calls for batch inference. Uploads take three steps: POST
/v1/files returns a 302 to a presigned URL, the client PUTs the bytes there, then POSTs
.../preprocess. It also serves the 409 response to a duplicate upload, batches with a
time-driven status, result files, cancel, and GET /v1/models. The fake model in `oracle.py`
generates the replies.
"""

from __future__ import annotations

import functools
import logging
import socket
import tempfile
import threading
import uuid
from http.server import ThreadingHTTPServer
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from tests.standin.batches import CANCELLED, CHAT_ENDPOINT, FAILED, Batch, scan_input
from tests.standin.config import StandInConfig
from tests.standin.faults import BatchFault, HttpFault, take_batch_faults, take_http_fault
from tests.standin.files import FileStore
from tests.standin.handler import Reply, StandInHandler, error_reply
from tests.standin.oracle import Oracle
from tests.standin.results import write_results

logger = logging.getLogger("tests.standin")

FILE_PURPOSES = ("fine-tune", "calibration", "eval", "batch-api")
FILE_TYPES = ("csv", "jsonl", "parquet")
BATCH_ENDPOINTS = (CHAT_ENDPOINT, "/v1/audio/transcriptions", "/v1/audio/translations")


class LoggedRequest(NamedTuple):
    """One request the server received; `status` is None when a fault dropped the connection."""

    method: str
    path: str
    status: int | None


class StandIn:
    """A Together API stand-in on 127.0.0.1, serving from a daemon thread.

    `gold_by_question` maps question text to gold answer so the oracle can play the student.
    Use as a context manager, or call `start` and `stop`. All state is in memory except file
    contents, which are on disk under `config.state_dir` (or a temporary directory).
    """

    def __init__(
        self,
        config: StandInConfig | None = None,
        *,
        gold_by_question: Mapping[str, str] | None = None,
        port: int = 0,
    ) -> None:
        self.config = config or StandInConfig()
        self.oracle = Oracle(gold_by_question)
        self.requests_log: list[LoggedRequest] = []
        self.creations: list[tuple[str, str]] = []
        self.batches: dict[str, Batch] = {}
        self.http_faults: list[HttpFault] = list(self.config.http_faults)
        self.batch_faults: list[BatchFault] = list(self.config.batch_faults)
        self._port = port
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._temporary_dir: tempfile.TemporaryDirectory[str] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.files: FileStore | None = None

    # Lifecycle

    def start(self) -> StandIn:
        """Bind 127.0.0.1 (port 0 picks a free one) and serve in a daemon thread."""
        if self.config.state_dir is None:
            self._temporary_dir = tempfile.TemporaryDirectory(prefix="standin-")
            self.files = FileStore(Path(self._temporary_dir.name))
        else:
            self.files = FileStore(Path(self.config.state_dir))
        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), StandInHandler)
        self._server.standin = self  # type: ignore[attr-defined]
        # serve_forever notices shutdown() only between polls, so a short interval keeps stop() fast.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, name="standin", daemon=True)
        self._thread.start()
        logger.info("stand-in serving at %s, files in %s", self.base_url, self.files.directory)
        return self

    def stop(self) -> None:
        """Stop serving, close open keep-alive connections and remove the temporary directory."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # The client already closed it.
        if self._thread is not None:
            self._thread.join()
        if self._temporary_dir is not None:
            self._temporary_dir.cleanup()
        logger.info("stand-in stopped")

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to pass as `Together(base_url=...)`, e.g. http://127.0.0.1:8765."""
        if self._server is None:
            raise RuntimeError("the stand-in is not started; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def track_connection(self, connection: socket.socket, is_open: bool) -> None:
        with self._lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds` of real time; return True if the server began stopping meanwhile."""
        return self._stopping.wait(seconds)

    # Test controls

    def add_fault(self, fault: HttpFault | BatchFault) -> None:
        """Add a fault rule after existing ones. Its `times` counts down as it is used."""
        with self._lock:
            if isinstance(fault, HttpFault):
                self.http_faults.append(fault)
            else:
                self.batch_faults.append(fault)

    def take_http_fault(self, method: str, path: str) -> HttpFault | None:
        with self._lock:
            return take_http_fault(self.http_faults, method, path)

    def log_request(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self.requests_log.append(LoggedRequest(method, path, status))

    def cancel_externally(self, batch_id: str) -> None:
        """Cancel a batch as if someone else did, e.g. in Together's web console.

        Raises KeyError for an unknown batch id and ValueError if the batch has already ended.
        """
        with self._lock:
            now = self._advance()
            batch = self.batches[batch_id]
            if batch.status is not None:
                raise ValueError(f"batch {batch_id} is {batch.status} and cannot be cancelled")
            self._finish(batch, CANCELLED, now, None)

    def processed_custom_ids(self, batch_id: str) -> list[str]:
        """Return the custom_ids of the requests a batch processed, in processing order, once it ended."""
        with self._lock:
            self._advance()
            return list(self.batches[batch_id].processed_custom_ids)

    def faulted_custom_ids(self, batch_id: str) -> list[str]:
        """Return the custom_ids of the output lines that line faults changed or added, once it ended."""
        with self._lock:
            self._advance()
            return list(self.batches[batch_id].faulted_custom_ids)

    # Batch timeline

    def _advance(self) -> float:
        """End every batch whose planned end has passed, oldest end first; return the current time.

        Ending in time order keeps the oracle's attempt counts the same however clients poll.
        """
        now = self.config.clock()
        due = [batch for batch in self.batches.values() if batch.status is None and batch.planned_end <= now]
        for batch in sorted(due, key=lambda batch: (batch.planned_end, batch.ordinal)):
            self._finish(batch, batch.planned_status, batch.planned_end, batch.planned_error)
        return now

    def _finish(self, batch: Batch, status: str, at: float, error: str | None) -> None:
        """Give the batch its terminal status and write its result files."""
        stored = self.files.get(batch.input_file_id)
        if stored is None and status != FAILED:
            status, error = FAILED, f"Input file {batch.input_file_id} was deleted before the batch ran."
        done = batch.done_count(status, at)
        batch.end(status, at, error)
        if done:
            write_results(batch, stored.path, done, self.oracle, self.files, at, self.config.error_line_shape)
        logger.info("batch %s ended %s with %d of %d requests done", batch.id, status, done, len(batch.scan.offsets))

    # Models and files

    def list_models(self, request: dict[str, Any]) -> Reply:
        return Reply(200, self.config.models)

    def start_upload(self, form: dict[str, str]) -> Reply:
        """Handle step 1 of an upload: respond with a 302 to the presigned PUT URL, or a 409 for a known checksum."""
        missing = [name for name in ("purpose", "file_name", "file_type", "checksum") if not form.get(name)]
        if missing:
            return error_reply(400, f"Missing form field(s): {', '.join(missing)}")
        if form["purpose"] not in FILE_PURPOSES:
            return error_reply(400, f"Invalid purpose {form['purpose']!r}; expected one of {', '.join(FILE_PURPOSES)}")
        if form["file_type"] not in FILE_TYPES:
            return error_reply(400, f"Invalid file_type {form['file_type']!r}; expected one of {', '.join(FILE_TYPES)}")

        with self._lock:
            duplicate = self.files.find_duplicate(form["checksum"], form["purpose"])
            if duplicate is not None:
                body = {"file_id": duplicate.id, "message": f"A file with checksum {form['checksum']} already exists."}
                return Reply(409, body, dict(self.config.conflict_headers))
            now = self.config.clock()
            stored = self.files.register(form["file_name"], form["purpose"], form["file_type"], now, form["checksum"])
        headers = {"Location": f"{self.base_url}/upload/{stored.id}", "X-Together-File-Id": stored.id}
        return Reply(302, None, headers)

    def receive_upload(self, file_id: str, stream: BinaryIO, content_length: str | None) -> Reply:
        """Store the bytes PUT to a presigned upload URL; the body is read only when the response is 200."""
        with self._lock:
            stored = self.files.get(file_id)
        if stored is None or stored.processing_status != "PENDING":
            return error_reply(404, f"No upload is pending for file {file_id}")
        if content_length is None:
            return error_reply(411, "The upload needs a Content-Length header")
        self.files.receive_upload(stored, stream, int(content_length))
        return Reply(200, None, {"ETag": f'"{stored.received_checksum}"'})

    def preprocess_file(self, request: dict[str, Any], file_id: str) -> Reply:
        with self._lock:
            stored = self.files.get(file_id)
            if stored is None:
                return error_reply(404, f"File {file_id} not found")
            problem = self.files.preprocess(stored)
            if problem is not None:
                return error_reply(400, problem)
            return Reply(200, stored.to_json())

    def list_files(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self._advance()
            return Reply(200, {"object": "list", "data": [stored.to_json() for stored in self.files.files.values()]})

    def retrieve_file(self, request: dict[str, Any], file_id: str) -> Reply:
        with self._lock:
            self._advance()
            stored = self.files.get(file_id)
            return Reply(200, stored.to_json()) if stored else error_reply(404, f"File {file_id} not found")

    def delete_file(self, request: dict[str, Any], file_id: str) -> Reply:
        with self._lock:
            if not self.files.delete(file_id):
                return error_reply(404, f"File {file_id} not found")
            return Reply(200, {"id": file_id, "deleted": True})

    def file_content(self, request: dict[str, Any], file_id: str) -> Reply:
        """Return the file's bytes, streamed from disk by the handler after the lock is released."""
        with self._lock:
            self._advance()
            stored = self.files.get(file_id)
            if stored is None:
                return error_reply(404, f"File {file_id} not found")
            if not stored.path.exists():
                return error_reply(404, f"File {file_id} has no content yet")
            return Reply(200, file_path=stored.path)

    # Batches

    def create_batch(self, request: dict[str, Any]) -> Reply:
        """Create a batch; an invalid input file still creates it, and it goes FAILED after validation."""
        input_file_id = request.get("input_file_id")
        endpoint = request.get("endpoint")
        if not isinstance(input_file_id, str) or not input_file_id:
            return error_reply(400, "input_file_id is missing")
        if endpoint not in BATCH_ENDPOINTS:
            return error_reply(400, f"Invalid endpoint {endpoint!r}; expected one of {', '.join(BATCH_ENDPOINTS)}")
        with self._lock:
            stored = self.files.get(input_file_id)
        if stored is None:
            return error_reply(404, f"File {input_file_id} not found")
        if not stored.path.exists():
            return error_reply(400, f"File {input_file_id} has no content: finish its upload first")

        scan = scan_input(stored.path)
        with self._lock:
            now = self._advance()
            batch = Batch(
                id=str(uuid.uuid4()),
                ordinal=len(self.batches) + 1,
                input_file_id=input_file_id,
                endpoint=endpoint,
                file_size_bytes=stored.size,
                created_at=now,
                validating_seconds=self.config.validating_seconds,
                running_seconds=self.config.running_seconds,
                scan=scan,
                faults=take_batch_faults(self.batch_faults, scan.model_id),
            )
            batch.plan(self.config.expire_batches, self.config.expire_at_progress, self.config.expire_after_seconds)
            self.batches[batch.id] = batch
            self.creations.append((batch.id, input_file_id))
            logger.info(
                "batch %s created from %s: %d requests, planned to end %s",
                batch.id, input_file_id, len(scan.offsets), batch.planned_status,
            )
            return Reply(200, {"job": batch.to_json(now), "warning": None})

    def list_batches(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            now = self._advance()
            return Reply(200, [batch.to_json(now) for batch in self.batches.values()])

    def retrieve_batch(self, request: dict[str, Any], batch_id: str) -> Reply:
        with self._lock:
            now = self._advance()
            batch = self.batches.get(batch_id)
            return Reply(200, batch.to_json(now)) if batch else error_reply(404, f"Batch {batch_id} not found")

    def cancel_batch(self, request: dict[str, Any], batch_id: str) -> Reply:
        """Cancel a VALIDATING or IN_PROGRESS batch, keeping the results of the requests already done."""
        with self._lock:
            now = self._advance()
            batch = self.batches.get(batch_id)
            if batch is None:
                return error_reply(404, f"Batch {batch_id} not found")
            if batch.status is not None:
                return error_reply(400, f"Batch {batch_id} is {batch.status} and can no longer be cancelled")
            self._finish(batch, CANCELLED, now, None)
            return Reply(200, batch.to_json(now))
