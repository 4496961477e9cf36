"""File records of the stand-in. Contents live on disk, so large batch files never sit in memory.

Callers hold the server lock around every method except `receive_upload`, which copies an upload
to disk outside the lock and touches only its own record.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

COPY_CHUNK_BYTES = 1024 * 1024


@dataclass
class StoredFile:
    """One file, uploaded by a client or written by a finished batch."""

    id: str
    filename: str
    purpose: str
    file_type: str
    created_at: int
    path: Path
    declared_checksum: str | None = None
    received_checksum: str | None = None
    size: int = 0
    processing_status: str = "PENDING"

    def to_json(self) -> dict[str, Any]:
        """Return the FileResponse JSON object."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.size,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "FileType": self.file_type,
            "processing_status": self.processing_status,
        }


class FileStore:
    """Files by id, and the index of preprocessed uploads by (checksum, purpose) for 409 responses."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, StoredFile] = {}
        self._uploads_by_checksum: dict[tuple[str, str], str] = {}

    def get(self, file_id: str) -> StoredFile | None:
        return self.files.get(file_id)

    def find_duplicate(self, checksum: str, purpose: str) -> StoredFile | None:
        """Return the preprocessed upload with this checksum and purpose, or None."""
        file_id = self._uploads_by_checksum.get((checksum, purpose))
        return self.files.get(file_id) if file_id else None

    def register(
        self, filename: str, purpose: str, file_type: str, now: float, checksum: str | None = None
    ) -> StoredFile:
        """Create the record of a file whose bytes are still to come."""
        file_id = f"file-{uuid.uuid4()}"
        stored = StoredFile(
            id=file_id,
            filename=filename,
            purpose=purpose,
            file_type=file_type,
            created_at=int(now),
            path=self.directory / f"{file_id}.{file_type}",
            declared_checksum=checksum,
        )
        self.files[file_id] = stored
        return stored

    def receive_upload(self, stored: StoredFile, stream: BinaryIO, length: int) -> None:
        """Copy `length` bytes from `stream` to the file's path, hashing them on the way."""
        partial_path = stored.path.with_suffix(".part")
        hasher = hashlib.sha256()
        remaining = length
        with open(partial_path, "wb") as output:
            while remaining > 0:
                chunk = stream.read(min(COPY_CHUNK_BYTES, remaining))
                if not chunk:
                    raise ConnectionError(f"upload of {stored.id} ended after {length - remaining} of {length} bytes")
                output.write(chunk)
                hasher.update(chunk)
                remaining -= len(chunk)
        os.replace(partial_path, stored.path)
        stored.size = length
        stored.received_checksum = hasher.hexdigest()

    def preprocess(self, stored: StoredFile) -> str | None:
        """Mark an upload COMPLETED and index it for duplicate detection; return an error message or None."""
        if stored.received_checksum is None:
            return f"File {stored.id} has no content: PUT its bytes to the upload URL first."
        if stored.declared_checksum and stored.declared_checksum != stored.received_checksum:
            stored.processing_status = "FAILED"
            return (
                f"Checksum mismatch for {stored.id}: declared {stored.declared_checksum}, "
                f"received {stored.received_checksum}."
            )
        stored.processing_status = "COMPLETED"
        checksum = stored.declared_checksum or stored.received_checksum
        self._uploads_by_checksum.setdefault((checksum, stored.purpose), stored.id)
        return None

    @contextmanager
    def create_output(self, filename: str, now: float) -> Iterator[tuple[StoredFile, IO[str]]]:
        """Open a new batch result file for writing; its size is recorded when the block ends."""
        stored = self.register(filename, "batch-api", "jsonl", now)
        with open(stored.path, "w", encoding="utf-8", newline="\n") as output:
            yield stored, output
        stored.size = stored.path.stat().st_size
        stored.processing_status = "COMPLETED"

    def delete(self, file_id: str) -> bool:
        """Forget a file and remove its bytes; return whether it existed."""
        stored = self.files.pop(file_id, None)
        if stored is None:
            return False
        for key, indexed_id in list(self._uploads_by_checksum.items()):
            if indexed_id == file_id:
                del self._uploads_by_checksum[key]
        stored.path.unlink(missing_ok=True)
        return True
