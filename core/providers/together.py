"""Together AI batch provider over the `together` SDK 3.x.

The SDK is imported on first use so that start-up stays fast. Every SDK exception is turned into
a ProviderError whose text never contains the API key or an Authorization header.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from core.batchfile import ENDPOINT
from core.providers.base import BatchInfo, ModelInfo, ProviderError
from core.secrets import redact

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 120.0
DOWNLOAD_CHUNK_BYTES = 1 << 20


class TogetherProvider:
    name = "together"
    simulated = False

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        max_retries: int = 2,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not api_key:
            raise ProviderError(
                "No Together API key: set TOGETHER_API_KEY or save a key from the Models screen",
                kind="auth",
            )
        self._api_key = api_key
        self._base_url = base_url or None
        self._max_retries = max_retries
        self._timeout = timeout
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from together import Together

            self._client = Together(
                api_key=self._api_key,
                base_url=self._base_url,
                max_retries=self._max_retries,
                timeout=self._timeout,
            )
        return self._client

    def upload(self, path: Path) -> str:
        # check=False: factdeck validates its own files (custom_id, limits) before upload, and the
        # SDK's checker is written for fine-tuning files. No SDK retries: it retries the 409 that
        # answers a repeated upload, which only delays getting the existing file id.
        client = self.client.with_options(max_retries=0)
        response = self._call("upload", lambda: client.files.upload(file=path, purpose="batch-api", check=False))
        return response.id

    def create_batch(self, input_file_id: str, model: str) -> BatchInfo:
        # No SDK retries: a create that timed out may still have made a batch, and a blind retry
        # would make a second one. The engine retries instead, after looking for the first.
        client = self.client.with_options(max_retries=0)
        response = self._call(
            "create batch", lambda: client.batches.create(input_file_id=input_file_id, endpoint=ENDPOINT)
        )
        if response.job is None:
            warning = redact(response.warning or "no warning given", self._api_key)
            raise ProviderError(f"Together created no batch for {input_file_id}: {warning}", kind="no_job")
        if response.warning:
            log.warning("batch %s created with a warning: %s", response.job.id, redact(response.warning, self._api_key))
        return _batch_info(response.job)

    def retrieve(self, batch_id: str) -> BatchInfo:
        return _batch_info(self._call("retrieve batch", lambda: self.client.batches.retrieve(batch_id)))

    def list_batches(self) -> list[BatchInfo]:
        return [_batch_info(job) for job in self._call("list batches", self.client.batches.list)]

    def cancel(self, batch_id: str) -> BatchInfo:
        return _batch_info(self._call("cancel batch", lambda: self.client.batches.cancel(batch_id)))

    def download(self, file_id: str, destination: Path) -> None:
        def stream() -> None:
            with self.client.files.with_streaming_response.content(file_id) as response:
                with destination.open("wb") as out:
                    for chunk in response.iter_bytes(DOWNLOAD_CHUNK_BYTES):
                        out.write(chunk)

        self._call(f"download file {file_id}", stream)

    def list_models(self) -> list[ModelInfo]:
        # SDK 3.x has no wrapper for the serverless model list, so the raw GET is used.
        payload = self._call("list models", lambda: self.client.get("/v1/models", cast_to=object))
        items = payload.get("data", []) if isinstance(payload, dict) else payload
        return [_model_info(item) for item in items or [] if isinstance(item, dict) and item.get("id")]

    def _call(self, action: str, function: Any) -> Any:
        import together

        try:
            return function()
        except together.APITimeoutError:
            raise ProviderError(f"Together timed out during {action}", kind="timeout") from None
        except together.APIConnectionError:
            raise ProviderError(f"Could not connect to Together during {action}", kind="network") from None
        except together.APIStatusError as exc:
            raise self._status_error(action, exc) from None
        except together.APIError as exc:
            raise ProviderError(self._message(action, None, exc), kind="unexpected") from None
        except OSError as exc:
            raise ProviderError(f"{action} failed: {exc}", kind="network") from None

    def _status_error(self, action: str, exc: Any) -> ProviderError:
        """Classify by HTTP status, not exception class: the SDK's upload raises a plain
        APIStatusError for a 429 or 5xx, and rewrites every 401 into a note about free credits."""
        status = exc.status_code
        if status == 401:
            return ProviderError(f"Together rejected the API key (401) during {action}", kind="auth")
        if status == 403:
            return ProviderError(self._message(action, status, exc), kind="auth")
        if status == 429:
            return ProviderError(self._message(action, status, exc), kind="rate_limited", retry_after=_retry_after(exc.response))
        if status == 404:
            return ProviderError(self._message(action, status, exc), kind="not_found")
        if status in (400, 422):
            return ProviderError(self._message(action, status, exc), kind="bad_request")
        kind = "server" if status >= 500 else "unexpected"
        return ProviderError(self._message(action, status, exc), kind=kind)

    def _message(self, action: str, status: int | None, exc: Any) -> str:
        return redact(f"Together returned {status} during {action}: {_error_detail(exc)}", self._api_key)


def _error_detail(exc: Any) -> str:
    """Find the service's own error message; never the SDK's dump of the response headers."""
    body = getattr(exc, "body", None)
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            pass
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message:
            return message
    detail = str(getattr(exc, "message", None) or exc)
    return detail.split(", headers: ", 1)[0]


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _timestamp(value: Any) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _batch_info(job: Any) -> BatchInfo:
    return BatchInfo(
        batch_id=job.id,
        status=str(job.status or "UNKNOWN"),
        progress=job.progress,
        input_file_id=job.input_file_id,
        output_file_id=job.output_file_id or None,
        error_file_id=job.error_file_id or None,
        error=job.error,
        created_at=_timestamp(job.created_at),
        completed_at=_timestamp(job.completed_at),
        model=getattr(job, "x_model_id", None),
    )


def _model_info(item: dict) -> ModelInfo:
    pricing = item.get("pricing") if isinstance(item.get("pricing"), dict) else {}
    return ModelInfo(
        model_id=str(item["id"]),
        display_name=str(item.get("display_name") or ""),
        kind=str(item.get("type") or "chat"),
        context_length=item.get("context_length") if isinstance(item.get("context_length"), int) else None,
        input_price=_price(pricing.get("input")),
        output_price=_price(pricing.get("output")),
    )


def _price(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and value > 0 else None
