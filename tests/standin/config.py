"""Settings of the stand-in server, its clock and its model catalogue."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.standin.faults import BatchFault, HttpFault


def _chat_model(
    model_id: str, display_name: str, context_length: int, input_price: float, output_price: float
) -> dict[str, Any]:
    return {
        "id": model_id,
        "object": "model",
        "created": 1_733_000_000,
        "type": "chat",
        "display_name": display_name,
        "organization": model_id.split("/")[0],
        "context_length": context_length,
        "pricing": {"input": input_price, "output": output_price, "base": 0, "hourly": 0},
    }


def default_models() -> list[dict[str, Any]]:
    """Return a /v1/models catalogue shaped like Together's: five chat models and one embedding model.

    NOTE: the prices (USD per million tokens) are plausible examples, not Together's current prices.
    """
    embedding = {
        "id": "BAAI/bge-large-en-v1.5",
        "object": "model",
        "created": 1_733_000_000,
        "type": "embedding",
        "display_name": "BAAI-Bge-Large-1.5",
        "organization": "BAAI",
        "context_length": 512,
        "pricing": {"input": 0.02, "output": 0.02, "base": 0, "hourly": 0},
    }
    return [
        _chat_model("meta-llama/Llama-3.3-70B-Instruct-Turbo", "Meta Llama 3.3 70B Instruct Turbo", 131072, 0.88, 0.88),
        _chat_model(
            "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "Meta Llama 3.1 8B Instruct Turbo", 131072, 0.18, 0.18
        ),
        _chat_model("Qwen/Qwen2.5-72B-Instruct-Turbo", "Qwen2.5 72B Instruct Turbo", 32768, 1.2, 1.2),
        _chat_model("deepseek-ai/DeepSeek-V3", "DeepSeek V3", 131072, 1.25, 1.25),
        _chat_model("mistralai/Mistral-7B-Instruct-v0.3", "Mistral (7B) Instruct v0.3", 32768, 0.2, 0.2),
        embedding,
    ]


class ManualClock:
    """A clock that only moves when a test calls `advance`, for exact batch timelines.

    Returns seconds since the Unix epoch, starting at `start` (2025-06-15 12:00:00 UTC by default).
    """

    def __init__(self, start: float = 1_749_988_800.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds`."""
        with self._lock:
            self._now += seconds


@dataclass
class StandInConfig:
    """Behaviour of a `StandIn` server. Times are in seconds of `clock`."""

    api_key: str = "test-key"
    """The only key accepted in `Authorization: Bearer <key>` on /v1 paths."""
    validating_seconds: float = 0.2
    """How long a new batch stays VALIDATING."""
    running_seconds: float = 0.5
    """How long a batch stays IN_PROGRESS, with progress rising linearly from 0 to 100."""
    expire_after_seconds: float | None = None
    """If set, every batch not finished this long after its creation goes EXPIRED."""
    expire_batches: frozenset[int] = frozenset()
    """Batches (1-based creation order) that go EXPIRED when their progress reaches `expire_at_progress`."""
    expire_at_progress: float = 50.0
    """Progress (0..100) at which a batch in `expire_batches` expires."""
    response_delay_seconds: float = 0.0
    """Real seconds every /v1 request waits before it is handled, to model a slow server."""
    error_line_shape: Literal["error", "response"] = "error"
    """Error-file line shape: `{"error": {"message", "code"}}` or `{"response": {"status_code": 500, ...}}`."""
    conflict_headers: dict[str, str] = field(default_factory=dict)
    """Extra headers on the 409 response to a duplicate upload. The SDK retries a 409 with backoff
    (about 3 s with its default two retries); `{"x-should-retry": "false"}` stops that."""
    models: list[dict[str, Any]] = field(default_factory=default_models)
    """The JSON list GET /v1/models returns."""
    state_dir: Path | None = None
    """Directory for file contents; None uses a temporary directory removed by `StandIn.stop`."""
    clock: Callable[[], float] = time.time
    """Seconds since the Unix epoch; pass a `ManualClock` to move batches forward by hand."""
    http_faults: list[HttpFault] = field(default_factory=list)
    """HTTP fault rules, checked in order; see `HttpFault`. Their `times` count down as they are used."""
    batch_faults: list[BatchFault] = field(default_factory=list)
    """Batch fault rules; see `BatchFault`."""
