"""The small interface every batch provider implements, and the errors it raises.

The engine only sees `BatchInfo` snapshots and `ProviderError`s, so a provider adapter stays a
thin translation of its SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "EXPIRED", "CANCELLED"})
KNOWN_STATUSES = frozenset({"VALIDATING", "IN_PROGRESS"}) | TERMINAL_STATUSES


@dataclass(frozen=True)
class BatchInfo:
    """A provider's view of one batch job at one moment."""

    batch_id: str
    status: str
    progress: float | None = None
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    error: str | None = None
    created_at: float | None = None
    completed_at: float | None = None
    model: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class ModelInfo:
    """A model offered by the provider; prices are USD per million tokens when known."""

    model_id: str
    display_name: str = ""
    kind: str = "chat"
    context_length: int | None = None
    input_price: float | None = None
    output_price: float | None = None


class ProviderError(Exception):
    """A provider call failed. `kind` tells the engine whether to retry.

    kinds: auth (key missing or rejected: never retried automatically), rate_limited, server,
    network, timeout (all retried with backoff), not_found, bad_request, no_job (create returned
    no job), unexpected.
    """

    RETRYABLE = frozenset({"rate_limited", "server", "network", "timeout", "no_job", "unexpected"})

    def __init__(self, message: str, kind: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in self.RETRYABLE


class Provider(Protocol):
    name: str
    simulated: bool

    def upload(self, path: Path) -> str:
        """Upload a batch input file and return its file id (the same id for identical bytes)."""

    def create_batch(self, input_file_id: str, model: str) -> BatchInfo:
        """Start a batch on an uploaded file."""

    def retrieve(self, batch_id: str) -> BatchInfo: ...

    def list_batches(self) -> list[BatchInfo]: ...

    def cancel(self, batch_id: str) -> BatchInfo: ...

    def download(self, file_id: str, destination: Path) -> None:
        """Stream a file's content to `destination` without holding it whole in memory."""

    def list_models(self) -> list[ModelInfo]: ...
