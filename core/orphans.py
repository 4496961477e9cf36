"""Batches on the provider account that no run knows about, and how to adopt or ignore them.

An orphan appears when a process died after the provider created a batch and before the store
recorded it, or when someone made batches outside factdeck. The engine adopts the first kind on
its own (a job in "submitting" looks for its batch by input file id); this module lets the Jobs
screen and `factdeck orphans` show the rest and attach or hide them by hand.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core import lease
from core.batchfile import parse_custom_id
from core.errors import FactdeckError
from core.planner import ANSWERS, JUDGE, expected_custom_ids
from core.providers.base import BatchInfo, Provider
from core.store import Store

# A batch can only be attached to a job that has no batch yet and may already have made one.
WAITING_STAGES = ("uploaded", "submitting")
_PHASE_BY_LETTER = {"a": ANSWERS, "j": JUDGE}


class OrphanError(FactdeckError):
    """An orphan batch cannot be adopted; the message says why and how to ignore it."""


@dataclass(frozen=True)
class Orphan:
    """A batch no job records, with the waiting job whose input file it was made from, if any."""

    batch: BatchInfo
    job_id: int | None = None
    run_id: str | None = None


def find_orphans(store: Store, provider: Provider) -> list[Orphan]:
    """List the account's batches that no job records and the user has not ignored, newest first."""
    known = store.known_batch_ids() | store.ignored_batch_ids()
    waiting = {
        job["input_file_id"]: job
        for job in store.query(
            f"SELECT * FROM batch_jobs WHERE batch_id IS NULL AND input_file_id IS NOT NULL "
            f"AND stage IN ({', '.join('?' * len(WAITING_STAGES))})",
            WAITING_STAGES,
        )
    }
    orphans = []
    for info in provider.list_batches():
        if info.batch_id in known:
            continue
        job = waiting.get(info.input_file_id)
        orphans.append(Orphan(info, job["job_id"] if job else None, job["run_id"] if job else None))
    return sorted(orphans, key=lambda orphan: orphan.batch.created_at or 0, reverse=True)


def ignore(store: Store, batch_id: str) -> None:
    """Hide a batch from the orphan list for good; nothing is changed at the provider."""
    store.ignore_batch(batch_id)


def adopt(store: Store, provider: Provider, batch_id: str) -> int:
    """Attach an orphan batch to the waiting job it was made for; return that job's id.

    The job is found by the batch's input file id, or else by reading the input file's custom_ids
    and matching them to a job waiting in "uploaded" or "submitting". Raises OrphanError when no
    job matches.
    """
    owner = next((job for job in store.jobs() if job["batch_id"] == batch_id), None)
    if owner is not None:
        raise OrphanError(f"batch {batch_id} already belongs to job {owner['job_id']} of run {owner['run_id']}")
    info = provider.retrieve(batch_id)
    job = _job_by_input_file(store, info.input_file_id) or _job_by_custom_ids(store, provider, info)
    if job is None:
        raise OrphanError(
            f"batch {batch_id} matches no job waiting for a batch, so it cannot be adopted; "
            f"`factdeck orphans ignore {batch_id}` hides it"
        )

    adopter = lease.new_owner()
    if not lease.acquire(store, job["run_id"], adopter):
        raise OrphanError(f"run {job['run_id']} is busy in another process; try again in a moment")
    try:
        now = time.time()
        store.update_job(
            job["job_id"], batch_id=batch_id, input_file_id=info.input_file_id, stage="submitted",
            submitted_at=now, next_poll_at=0, last_error=None, error_count=0, error_since=None,
        )
    finally:
        lease.release(store, job["run_id"], adopter)
    return job["job_id"]


def _job_by_input_file(store: Store, input_file_id: str | None):
    if not input_file_id:
        return None
    rows = store.query(
        f"SELECT * FROM batch_jobs WHERE input_file_id = ? AND batch_id IS NULL "
        f"AND stage IN ({', '.join('?' * len(WAITING_STAGES))})",
        (input_file_id, *WAITING_STAGES),
    )
    return rows[0] if rows else None


def _job_by_custom_ids(store: Store, provider: Provider, info: BatchInfo):
    """Read the batch's input file and find the waiting job that sent exactly its custom_ids."""
    if not info.input_file_id:
        return None
    custom_ids = _input_custom_ids(provider, info.input_file_id)
    parsed = {parse_custom_id(custom_id) for custom_id in custom_ids}
    if not custom_ids or None in parsed:
        return None
    owners = {(run_id, letter) for run_id, letter, _, _ in parsed}
    if len(owners) != 1:
        return None
    [(run_id, letter)] = owners
    candidates = store.query(
        f"SELECT * FROM batch_jobs WHERE run_id = ? AND phase = ? AND batch_id IS NULL "
        f"AND stage IN ({', '.join('?' * len(WAITING_STAGES))})",
        (run_id, _PHASE_BY_LETTER[letter], *WAITING_STAGES),
    )
    return next((job for job in candidates if set(expected_custom_ids(store, job)) == custom_ids), None)


def _input_custom_ids(provider: Provider, file_id: str) -> set[str]:
    with tempfile.TemporaryDirectory(prefix="factdeck-orphan-") as folder:
        path = Path(folder) / "input.jsonl"
        provider.download(file_id, path)
        custom_ids = set()
        with path.open("rb") as lines:
            for line in lines:
                try:
                    custom_id = json.loads(line).get("custom_id")
                except (ValueError, AttributeError):
                    return set()
                if not isinstance(custom_id, str):
                    return set()
                custom_ids.add(custom_id)
        return custom_ids
