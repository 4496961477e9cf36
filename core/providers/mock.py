"""An offline provider for dry runs and demos. Everything it produces is simulated.

Its state lives in files under the data directory so that several factdeck processes (the TUI and
`factdeck watch`) see the same batches. Batches advance with wall time; answers and judge grades
are derived from a hash of the prompt, so a run is reproducible but says nothing about any model.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

from core.providers.base import BatchInfo, ModelInfo, ProviderError

SIMULATED_PREFIX = "[simulated] "
VALIDATING_SECONDS = 1.0
SECONDS_PER_THOUSAND_REQUESTS = 3.0
MODELS = (
    ModelInfo("mock/student-small", "Simulated student (small)", input_price=0.10, output_price=0.10),
    ModelInfo("mock/student-large", "Simulated student (large)", input_price=0.90, output_price=0.90),
    ModelInfo("mock/judge", "Simulated judge", input_price=0.20, output_price=0.20),
)


class MockProvider:
    name = "mock"
    simulated = True

    def __init__(self, state_dir: Path, speed: float = 1.0) -> None:
        self._files = state_dir / "files"
        self._batches = state_dir / "batches"
        self._speed = speed
        self._files.mkdir(parents=True, exist_ok=True)
        self._batches.mkdir(parents=True, exist_ok=True)

    def upload(self, path: Path) -> str:
        data = path.read_bytes()
        file_id = "mockfile-" + hashlib.sha256(data).hexdigest()[:24]
        target = self._files / f"{file_id}.jsonl"
        if not target.exists():
            _write_atomically(target, data)
        return file_id

    def create_batch(self, input_file_id: str, model: str) -> BatchInfo:
        source = self._files / f"{input_file_id}.jsonl"
        if not source.exists():
            raise ProviderError(f"simulated provider has no file {input_file_id}", kind="not_found")
        lines = source.read_bytes().count(b"\n")
        record = {
            "batch_id": "mockbatch-" + uuid.uuid4().hex[:16],
            "input_file_id": input_file_id,
            "model": model,
            "created_at": time.time(),
            "duration": VALIDATING_SECONDS + SECONDS_PER_THOUSAND_REQUESTS * max(lines, 1) / 1000 / self._speed,
            "status": None,
            "output_file_id": None,
        }
        self._save(record)
        return self._info(record)

    def retrieve(self, batch_id: str) -> BatchInfo:
        return self._info(self._load(batch_id))

    def list_batches(self) -> list[BatchInfo]:
        return [self._info(json.loads(path.read_text())) for path in sorted(self._batches.glob("*.json"))]

    def cancel(self, batch_id: str) -> BatchInfo:
        record = self._load(batch_id)
        info = self._info(record)
        if info.is_terminal:
            raise ProviderError(f"batch {batch_id} is already {info.status}", kind="bad_request")
        record["status"] = "CANCELLED"
        record["output_file_id"] = None
        record["completed_at"] = time.time()
        self._save(record)
        return self._info(record)

    def download(self, file_id: str, destination: Path) -> None:
        source = self._files / f"{file_id}.jsonl"
        if not source.exists():
            raise ProviderError(f"simulated provider has no file {file_id}", kind="not_found")
        with source.open("rb") as lines, destination.open("wb") as out:
            while chunk := lines.read(1 << 20):
                out.write(chunk)

    def list_models(self) -> list[ModelInfo]:
        return list(MODELS)

    def _info(self, record: dict) -> BatchInfo:
        elapsed = time.time() - record["created_at"]
        status = record["status"]
        if status is None and elapsed >= record["duration"]:
            record["status"] = status = "COMPLETED"
            record["completed_at"] = time.time()
            record["output_file_id"] = self._write_output(record)
            self._save(record)
        if status is None:
            running = record["duration"] - VALIDATING_SECONDS
            progress = max(0.0, min(99.0, 100 * (elapsed - VALIDATING_SECONDS) / running)) if running > 0 else 0.0
            status = "VALIDATING" if elapsed < VALIDATING_SECONDS else "IN_PROGRESS"
        else:
            progress = 100.0
        return BatchInfo(
            batch_id=record["batch_id"],
            status=status,
            progress=progress,
            input_file_id=record["input_file_id"],
            output_file_id=record.get("output_file_id"),
            created_at=record["created_at"],
            completed_at=record.get("completed_at"),
            model=record["model"],
        )

    def _write_output(self, record: dict) -> str:
        lines = []
        with (self._files / f"{record['input_file_id']}.jsonl").open("rb") as requests:
            for line in requests:
                request = json.loads(line)
                lines.append(_simulated_output(request))
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        file_id = "mockfile-out-" + record["batch_id"].removeprefix("mockbatch-")
        _write_atomically(self._files / f"{file_id}.jsonl", data)
        return file_id

    def _load(self, batch_id: str) -> dict:
        path = self._batches / f"{batch_id}.json"
        if not path.exists():
            raise ProviderError(f"simulated provider has no batch {batch_id}", kind="not_found")
        return json.loads(path.read_text())

    def _save(self, record: dict) -> None:
        _write_atomically(self._batches / f"{record['batch_id']}.json", json.dumps(record).encode())


def _simulated_output(request: dict) -> dict:
    prompt = request["body"]["messages"][-1]["content"]
    digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
    if "Gold target:" in prompt:
        content = "ABBBBBBC"[digest % 8]
    elif digest % 5 == 0:
        content = SIMULATED_PREFIX + "I don't know."
    else:
        content = SIMULATED_PREFIX + f"answer #{digest % 1000}"
    usage = {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4 + 1}
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {
        "id": "mockreq-" + uuid.uuid4().hex[:12],
        "custom_id": request["custom_id"],
        "response": {
            "status_code": 200,
            "body": {"choices": [{"message": {"role": "assistant", "content": content}}], "usage": usage},
        },
    }


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}.part")
    partial.write_bytes(data)
    partial.replace(path)
