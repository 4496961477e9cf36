"""HTTP layer of the stand-in: request parsing, routing, fault rules, auth and responses.

The handler speaks HTTP/1.1 with keep-alive, as httpx expects. Every response carries a
Content-Length, and a response sent before the request body was read closes the connection,
so unread body bytes are never taken for the next request.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import logging
import re
import socket
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tests.standin.faults import HttpFault

if TYPE_CHECKING:
    from tests.standin.server import StandIn

logger = logging.getLogger("tests.standin")

STREAM_CHUNK_BYTES = 1024 * 1024
ROUTES = [
    ("GET", r"/v1/models", "list_models"),
    ("POST", r"/v1/files", "start_upload"),
    ("GET", r"/v1/files", "list_files"),
    ("GET", r"/v1/files/(?P<file_id>[^/]+)", "retrieve_file"),
    ("DELETE", r"/v1/files/(?P<file_id>[^/]+)", "delete_file"),
    ("GET", r"/v1/files/(?P<file_id>[^/]+)/content", "file_content"),
    ("POST", r"/v1/files/(?P<file_id>[^/]+)/preprocess", "preprocess_file"),
    ("POST", r"/v1/batches", "create_batch"),
    ("GET", r"/v1/batches", "list_batches"),
    ("GET", r"/v1/batches/(?P<batch_id>[^/]+)", "retrieve_batch"),
    ("POST", r"/v1/batches/(?P<batch_id>[^/]+)/cancel", "cancel_batch"),
    ("PUT", r"/upload/(?P<file_id>[^/]+)", "receive_upload"),
]


@dataclass
class Reply:
    """The response of an API operation: a JSON body, or a file streamed from disk when `file_path` is set."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    file_path: Path | None = None


def error_reply(status: int, message: str, error_type: str = "invalid_request_error") -> Reply:
    """Return an error in Together's shape: {"error": {"message", "type"}}."""
    return Reply(status, {"error": {"message": message, "type": error_type}})


def parse_multipart_form(content_type: str, body: bytes) -> dict[str, str]:
    """Return the text fields of a multipart/form-data body, or raise ValueError if it is not one."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError(f"expected a multipart/form-data body, got Content-Type {content_type!r}")
    form = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            form[str(name)] = part.get_payload(decode=True).decode("utf-8")
    return form


def parse_byte_range(header: str, size: int) -> tuple[int, int] | None:
    """Return the inclusive (first, last) byte positions of a `Range: bytes=...` header, or None if invalid."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or not (match[1] or match[2]):
        return None
    if not match[1]:
        first, last = max(0, size - int(match[2])), size - 1
    else:
        first = int(match[1])
        last = min(int(match[2]), size - 1) if match[2] else size - 1
    return (first, last) if first <= last else None


class StandInHandler(BaseHTTPRequestHandler):
    """Handles one connection; `server.standin` is the `StandIn` that owns the state."""

    protocol_version = "HTTP/1.1"
    server_version = "TogetherStandIn/1.0"
    # Headers and body go out in separate writes. With Nagle's algorithm on, the body then waits
    # for the client's delayed ACK, which cost about 40 ms per request on Linux.
    disable_nagle_algorithm = True

    @property
    def standin(self) -> StandIn:
        return self.server.standin  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self.standin.track_connection(self.connection, is_open=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.standin.track_connection(self.connection, is_open=False)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_PUT(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def dispatch(self) -> None:
        """Apply a matching fault rule, the auth check and the route, then send the reply."""
        self.body_consumed = False
        method, path = self.command, urlsplit(self.path).path
        try:
            fault = self.standin.take_http_fault(method, path)
            if fault is not None and self.apply_fault(fault, method, path):
                return
            try:
                reply = self.handle_api(method, path)
            except ConnectionError:
                raise
            except Exception:
                # A bug in the stand-in: respond with 500 so the test gets a status, and log the traceback.
                logger.exception("stand-in failed to handle %s %s", method, path)
                reply = error_reply(500, f"Stand-in error while handling {method} {path}; see its log.", "server_error")
            if reply.status >= 400:
                logger.info("%s %s failed with %d: %s", method, path, reply.status, reply.body)
            # Logged before sending, so a client that reads requests_log after the response finds it.
            self.standin.log_request(method, path, reply.status)
            self.send_reply(reply)
        except ConnectionError as exc:
            logger.debug("client went away during %s %s: %s", method, path, exc)
            self.close_connection = True

    def apply_fault(self, fault: HttpFault, method: str, path: str) -> bool:
        """Apply a fault rule. Return True if the rule sent the response, so the request must not be handled."""
        logger.info("applying fault %s to %s %s", fault, method, path)
        if fault.delay_seconds and self.standin.sleep(fault.delay_seconds):
            self.close_connection = True
            return True
        if fault.drop_connection:
            self.close_connection = True
            self.standin.log_request(method, path, None)
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status is None:
            return False
        if fault.body is not None:
            reply = Reply(fault.status, fault.body, dict(fault.headers))
        else:
            reply = error_reply(fault.status, f"Injected fault: status {fault.status}", "server_error")
            reply.headers.update(fault.headers)
        self.standin.log_request(method, path, reply.status)
        self.send_reply(reply)
        return True

    def handle_api(self, method: str, path: str) -> Reply:
        """Check auth on /v1 paths and call the operation of the matching route."""
        if path.startswith("/v1/"):
            if self.standin.config.response_delay_seconds:
                self.standin.sleep(self.standin.config.response_delay_seconds)
            if self.headers.get("Authorization") != f"Bearer {self.standin.config.api_key}":
                return error_reply(401, "Invalid API key provided")

        path_matched = False
        for route_method, pattern, operation in ROUTES:
            match = re.fullmatch(pattern, path)
            if match is None:
                continue
            path_matched = True
            if route_method == method:
                return self.call_operation(operation, match.groupdict())
        if path_matched:
            return error_reply(405, f"Method {method} is not allowed on {path}")
        return error_reply(404, f"Unknown endpoint: {method} {path}")

    def call_operation(self, operation: str, params: dict[str, str]) -> Reply:
        try:
            if operation == "receive_upload":
                reply = self.standin.receive_upload(params["file_id"], self.rfile, self.headers.get("Content-Length"))
                self.body_consumed = reply.status == 200
                return reply
            return getattr(self.standin, operation)(self.read_request(), **params)
        except ValueError as exc:
            return error_reply(400, f"Invalid request: {exc}")

    def read_request(self) -> dict[str, Any]:
        """Read the body and return it as a dict: JSON object, form fields, or {} when empty."""
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            raise ValueError("chunked request bodies are not supported; send a Content-Length")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.body_consumed = True
        content_type = self.headers.get("Content-Type", "")
        if not body:
            return {}
        if content_type.startswith("multipart/form-data"):
            return parse_multipart_form(content_type, body)
        try:
            request = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ValueError(f"body is not valid JSON ({exc})") from None
        if not isinstance(request, dict):
            raise ValueError("body is not a JSON object")
        return request

    def send_reply(self, reply: Reply) -> None:
        if reply.file_path is not None:
            self.send_file(reply)
            return
        payload = b"" if reply.body is None else json.dumps(reply.body).encode("utf-8")
        self.send_response(reply.status)
        if reply.body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_common_headers(reply, len(payload))
        self.wfile.write(payload)

    def send_file(self, reply: Reply) -> None:
        """Stream a file in chunks, honouring a `Range` header with a 206 response."""
        size = reply.file_path.stat().st_size
        first, last, status = 0, size - 1, reply.status
        if self.headers.get("Range") and size:
            byte_range = parse_byte_range(self.headers["Range"], size)
            if byte_range is None:
                reply = Reply(416, headers={"Content-Range": f"bytes */{size}"})
                self.send_reply(reply)
                return
            first, last, status = *byte_range, 206
            reply.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_common_headers(reply, last - first + 1)
        with open(reply.file_path, "rb") as file:
            file.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = file.read(min(STREAM_CHUNK_BYTES, remaining))
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def send_common_headers(self, reply: Reply, length: int) -> None:
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        if not self.body_consumed and int(self.headers.get("Content-Length") or 0):
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
