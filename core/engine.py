"""The engine: one idempotent step that moves a run forward, callable by any process at any time.

A run goes answering -> grading -> done (or cancelled). Each step plans batch jobs for questions
that wait, then advances every unfinished job by one stage:

    prepared -> uploading -> uploaded -> submitting -> submitted (polled) -> downloading -> ingested

Each stage is recorded before its provider call starts and its result the moment the call
returns, so after a crash the next step knows exactly what may already exist at the provider: a
re-upload returns the same file id, and a job found in "submitting" first looks for its batch on
the account (by input file id) and adopts it instead of creating a second one.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core import lease
from core.crashpoints import AFTER_CREATE, AFTER_JUDGE_CREATE, AFTER_UPLOAD, DURING_DOWNLOAD, DURING_POLL, crash_point
from core.errors import BatchFileError
from core.ingest import ingest_job
from core.paths import Paths
from core.planner import ANSWERS, JUDGE, plan_jobs
from core.providers.base import KNOWN_STATUSES, BatchInfo, Provider, ProviderError
from core.runs import ANSWERING, CANCELLED, DONE, FINISHED_STATUSES, GRADING, run_settings
from core.runs import FAILED as RUN_FAILED
from core.schedule import append_progress, backoff_delay, describe_error
from core.grading import FAILED as FAILED_GRADE
from core.store import ANSWER_PENDING, ANSWERING as Q_ANSWERING, FINISHED, JUDGE_PENDING, JUDGING, Store

log = logging.getLogger(__name__)

# Errors that repeating the same call cannot fix: the job is failed and its questions go into a
# new job (a new input file), so a bad file or a vanished upload costs one attempt, not a loop.
PERMANENT_KINDS = frozenset({"bad_request", "not_found"})

# (database, run_id) pairs this process has stepped. Process-wide, because the TUI builds a new
# Engine for every tick and must not lift a rejected key's backoff each time.
_RESUMED: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class StepEvent:
    """Something a step did that a display may want to show."""

    kind: str
    run_id: str
    message: str
    job_id: int | None = None


class Engine:
    """Moves runs forward against their providers. One instance per process and thread."""

    def __init__(self, store: Store, paths: Paths, provider_for: Callable[[str], Provider]) -> None:
        self.store = store
        self.paths = paths
        self.provider_for = provider_for
        self.owner = lease.new_owner()

    def step_all(self) -> list[StepEvent]:
        """Step every unfinished run once.

        A provider error in one run (a rejected key) does not stop the others. The first such
        error is raised after every run has had its step.
        """
        events: list[StepEvent] = []
        first_error: ProviderError | None = None
        for run_id in self.store.unfinished_run_ids():
            try:
                events.extend(self.step(run_id))
            except ProviderError as error:
                first_error = first_error or error
        if first_error is not None:
            raise first_error
        return events

    def step(self, run_id: str) -> list[StepEvent]:
        """Move one run as far as it can go now without waiting. Safe to call at any time."""
        if not lease.acquire(self.store, run_id, self.owner):
            return []
        events: list[StepEvent] = []
        try:
            run = self.store.run(run_id)
            if run["status"] in FINISHED_STATUSES:
                return events
            settings = run_settings(self.store, run_id)
            provider = self.provider_for(run["provider"])
            if (str(self.store.path), run_id) not in _RESUMED:
                # A new process tries at once whatever backoff an earlier one set, so a user who
                # fixed the key (or the network) and restarted does not wait fifteen minutes.
                _RESUMED.add((str(self.store.path), run_id))
                self.retry_now(run_id)

            for phase in () if run["cancel_requested"] else (ANSWERS, JUDGE):
                for job_id in self._plan(run_id, settings, phase):
                    job = self.store.job(job_id)
                    events.append(StepEvent("job_planned", run_id, _job_label(job) + f": {job['n_requests']} requests", job_id))

            for job in self.store.jobs(run_id):
                if job["stage"] != "ingested":
                    events.extend(self._advance(provider, job, settings))

            if run["cancel_requested"]:
                self._close_waiting_questions(run_id)
            events.extend(self._settle_run(run_id))
        finally:
            lease.release(self.store, run_id, self.owner)
        return events

    def _plan(self, run_id: str, settings, phase: str) -> list[int]:
        """Plan jobs; a request no shard can take fails the run, because every later step would too."""
        try:
            return plan_jobs(self.store, self.paths, run_id, settings, phase)
        except BatchFileError as error:
            message = f"run {run_id} cannot be submitted and is marked failed: {error}"
            log.error("%s", message)
            now = time.time()
            self.store.execute(
                "UPDATE runs SET status = ?, error = ?, updated_at = ?, finished_at = ? WHERE run_id = ?",
                (RUN_FAILED, message, now, now, run_id),
            )
            raise BatchFileError(message) from None

    def retry_now(self, run_id: str | None = None) -> int:
        """Make jobs waiting out an error backoff due now (e.g. after a new API key is saved).

        Returns the number of jobs made due.
        """
        sql = "UPDATE batch_jobs SET next_poll_at = 0 WHERE error_count > 0 AND stage != 'ingested'"
        if run_id is None:
            return self.store.execute(sql)
        return self.store.execute(sql + " AND run_id = ?", (run_id,))

    def cancel_run(self, run_id: str) -> list[StepEvent]:
        """Stop spending on a run: cancel its unfinished batches and submit nothing new for it.

        Answers and grades already produced are kept. Questions still waiting end as FAILED with a
        reason that names the cancel, and the run ends "cancelled" once its batches have been read.
        """
        self.store.execute("UPDATE runs SET cancel_requested = 1 WHERE run_id = ?", (run_id,))
        log.info("run %s: cancel requested", run_id)
        unfinished = [job["job_id"] for job in self.store.jobs(run_id) if job["stage"] != "ingested"]
        return self.cancel_jobs(unfinished)

    def cancel_jobs(self, job_ids: list[int]) -> list[StepEvent]:
        """Cancel batch jobs at the provider; the results they already produced are kept."""
        events = []
        for job_id in job_ids:
            job = self.store.job(job_id)
            if not lease.acquire(self.store, job["run_id"], self.owner):
                events.append(StepEvent("busy", job["run_id"], f"job {job_id}: run is busy in another process; try again", job_id))
                continue
            try:
                events.append(self._cancel(job))
            finally:
                lease.release(self.store, job["run_id"], self.owner)
        return events

    def _cancel(self, job) -> StepEvent:
        job_id, run_id = job["job_id"], job["run_id"]
        self.store.update_job(job_id, cancel_requested=1)
        provider = self.provider_for(self.store.run(run_id)["provider"])
        if job["stage"] == "submitting":
            # A create may have succeeded before a crash or a timeout: cancel that batch if it exists.
            found = self._adoptable_batch(provider, job)
            if found is not None:
                self.store.update_job(job_id, batch_id=found.batch_id, stage="submitted", submitted_at=time.time())
                job = self._record_status(self.store.job(job_id), found, time.time())
        if job["stage"] in ("prepared", "uploading", "uploaded", "submitting"):
            self.store.update_job(job_id, status="CANCELLED", stage="downloading")
            return StepEvent("job_cancelled", run_id, f"{_job_label(job)} cancelled before submission", job_id)
        if job["batch_id"] and not _is_terminal(job["status"]):
            try:
                info = provider.cancel(job["batch_id"])
            except ProviderError as error:
                if error.kind != "bad_request":
                    raise
                # The batch ended at the provider before this process saw it: keep what it made.
                info = provider.retrieve(job["batch_id"])
                log.info("run %s job %s: batch %s had already ended (%s)", run_id, job_id, job["batch_id"], info.status)
            self._record_status(job, info, time.time())
            return StepEvent("job_cancelled", run_id, f"{_job_label(job)} batch {job['batch_id']}: {info.status}", job_id)
        return StepEvent("job_cancelled", run_id, f"{_job_label(job)} is already {job['status'] or job['stage']}", job_id)

    # Stages

    def _advance(self, provider: Provider, job, settings) -> list[StepEvent]:
        now = time.time()
        if job["next_poll_at"] > now:
            return []
        try:
            return self._advance_stages(provider, job, settings)
        except ProviderError as error:
            job = self.store.job(job["job_id"])
            if error.kind in PERMANENT_KINDS and job["stage"] in ("uploading", "submitting"):
                return self._fail_submission(provider, job, settings, error)
            count = job["error_count"] + 1
            since = job["error_since"] or now
            delay = backoff_delay(error.kind, count, settings.poll_interval, error.retry_after)
            line = describe_error(error.kind, error.message, delay, since)
            self.store.update_job(job["job_id"], last_error=line, error_count=count, error_since=since, next_poll_at=now + delay)
            log.warning("run %s job %s (batch %s): %s: %s", job["run_id"], job["job_id"], job["batch_id"], error.kind, error.message)
            if error.kind == "auth":
                raise
            return [StepEvent("job_error", job["run_id"], f"{_job_label(job)}: {line}", job["job_id"])]

    def _advance_stages(self, provider: Provider, job, settings) -> list[StepEvent]:
        events: list[StepEvent] = []
        run_id, job_id = job["run_id"], job["job_id"]

        if job["stage"] in ("prepared", "uploading"):
            path = Path(job["input_path"])
            if not path.exists():
                self.store.update_job(job_id, status="FAILED", provider_error=f"input file {path} is missing", stage="downloading")
                return events + self._finish(provider, self.store.job(job_id), settings)
            self.store.update_job(job_id, stage="uploading")
            file_id = provider.upload(path)
            crash_point(AFTER_UPLOAD)
            self.store.update_job(job_id, input_file_id=file_id, stage="uploaded", **_cleared())
            log.info("run %s job %s: uploaded %s as %s", run_id, job_id, path.name, file_id)
            events.append(StepEvent("job_uploaded", run_id, f"{_job_label(job)}: uploaded as {file_id}", job_id))
            job = self.store.job(job_id)

        if job["stage"] in ("uploaded", "submitting"):
            info = self._adoptable_batch(provider, job) if job["stage"] == "submitting" else None
            if info is None:
                if job["cancel_requested"]:
                    self.store.update_job(job_id, status="CANCELLED", stage="downloading")
                    return events + self._finish(provider, self.store.job(job_id), settings)
                # Renew the lease right before creating: a step that outlived its lease must not
                # create a batch another process may be creating too.
                if not lease.acquire(self.store, run_id, self.owner):
                    return events
                self.store.update_job(job_id, stage="submitting")
                info = provider.create_batch(job["input_file_id"], settings.grader_model if job["phase"] == JUDGE else settings.model)
                crash_point(AFTER_JUDGE_CREATE if job["phase"] == JUDGE else AFTER_CREATE)
                verb = "submitted"
            else:
                verb = "adopted"
            now = time.time()
            self.store.update_job(job_id, batch_id=info.batch_id, stage="submitted", submitted_at=now, next_poll_at=now + settings.poll_interval, **_cleared())
            log.info("run %s job %s: %s batch %s", run_id, job_id, verb, info.batch_id)
            events.append(StepEvent("job_submitted", run_id, f"{_job_label(job)}: {verb} batch {info.batch_id}", job_id))
            job = self._record_status(self.store.job(job_id), info, now)

        if job["stage"] == "submitted" and not _is_terminal(job["status"]) and job["next_poll_at"] <= time.time():
            try:
                info = provider.retrieve(job["batch_id"])
            except ProviderError as error:
                if error.kind != "not_found":
                    raise
                info = BatchInfo(job["batch_id"], "FAILED", error="the provider no longer knows this batch")
            crash_point(DURING_POLL)
            now = time.time()
            job = self._record_status(job, info, now)
            self.store.update_job(job_id, next_poll_at=now + settings.poll_interval, **_cleared())

        if job["stage"] == "submitted" and _is_terminal(job["status"]):
            self.store.update_job(job_id, stage="downloading")
            job = self.store.job(job_id)

        if job["stage"] == "downloading":
            # A long step may have outlived its lease; only the holder downloads and ingests.
            if not lease.acquire(self.store, run_id, self.owner):
                return events
            events.extend(self._finish(provider, job, settings))
        return events

    def _adoptable_batch(self, provider: Provider, job) -> BatchInfo | None:
        """Find a batch created for this job's file before a crash hid it from the store."""
        known = self.store.known_batch_ids()
        candidates = [
            info for info in provider.list_batches()
            if info.input_file_id == job["input_file_id"] and info.batch_id not in known
        ]
        return max(candidates, key=lambda info: info.created_at or 0, default=None)

    def _record_status(self, job, info: BatchInfo, now: float):
        """Store a provider snapshot; a terminal status already stored is never overwritten."""
        if _is_terminal(job["status"]):
            return job
        history = append_progress(json.loads(job["progress_history"]), now, info.progress)
        self.store.update_job(
            job["job_id"],
            status=info.status,
            progress=info.progress,
            output_file_id=info.output_file_id,
            error_file_id=info.error_file_id,
            provider_error=info.error,
            completed_at=info.completed_at if info.is_terminal else None,
            progress_history=json.dumps(history),
        )
        if info.status != job["status"] and info.status not in KNOWN_STATUSES:
            log.warning(
                "run %s job %s: batch %s reports status %r, which factdeck does not know; it is polled until it ends",
                job["run_id"], job["job_id"], info.batch_id, info.status,
            )
        elif info.status != job["status"]:
            log.info("run %s job %s: batch %s is %s", job["run_id"], job["job_id"], info.batch_id, info.status)
        return self.store.job(job["job_id"])

    def _finish(self, provider: Provider, job, settings) -> list[StepEvent]:
        """Download the output and error files (both, always) and ingest them."""
        folder = self.paths.run_dir(job["run_id"]) / "outputs"
        folder.mkdir(parents=True, exist_ok=True)
        output = self._download(provider, job["output_file_id"], folder / f"job{job['job_id']}-output.jsonl")
        errors = self._download(provider, job["error_file_id"], folder / f"job{job['job_id']}-errors.jsonl")
        summary = ingest_job(self.store, job, output, errors, settings)
        message = (
            f"{_job_label(job)} {job['status']}: {summary.succeeded} succeeded, {summary.failed} failed"
            f" ({summary.retried} to retry)"
        )
        log.info("run %s job %s (batch %s): %s", job["run_id"], job["job_id"], job["batch_id"], message)
        return [StepEvent("job_ingested", job["run_id"], message, job["job_id"])]

    @staticmethod
    def _download(provider: Provider, file_id: str | None, target: Path) -> Path | None:
        if not file_id:
            return None
        if target.exists():
            return target
        # Each process writes its own partial file, so a second downloader can never write into
        # the file the first one renamed into place. Partial files of dead processes go first.
        for stale in target.parent.glob(f"{target.name}.*.part"):
            stale.unlink(missing_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            provider.download(file_id, partial)
        except ProviderError as error:
            if error.kind != "not_found":
                raise
            log.warning("file %s is gone at the provider; its requests count as missing", file_id)
            return None
        crash_point(DURING_DOWNLOAD)
        partial.replace(target)
        return target

    def _fail_submission(self, provider: Provider, job, settings, error: ProviderError) -> list[StepEvent]:
        """Fail a job whose upload or create was rejected; its questions are retried in a new job."""
        action = "upload" if job["stage"] == "uploading" else "batch creation"
        reason = f"{action} rejected: {error.message}"
        log.warning("run %s job %s: %s", job["run_id"], job["job_id"], reason)
        self.store.update_job(job["job_id"], status="FAILED", provider_error=reason, stage="downloading", **_cleared())
        events = [StepEvent("job_error", job["run_id"], f"{_job_label(job)}: {reason}", job["job_id"])]
        return events + self._finish(provider, self.store.job(job["job_id"]), settings)

    def _close_waiting_questions(self, run_id: str) -> None:
        """End the questions of a cancelled run that no batch will answer or grade now."""
        with self.store.transaction() as connection:
            for state, reason in (
                (ANSWER_PENDING, "the run was cancelled before this question was answered"),
                (JUDGE_PENDING, "the run was cancelled before this answer was graded"),
            ):
                connection.execute(
                    "UPDATE questions SET state = ?, grade = ?, failure_reason = ? WHERE run_id = ? AND state = ?",
                    (FINISHED, FAILED_GRADE, reason, run_id, state),
                )

    def _settle_run(self, run_id: str) -> list[StepEvent]:
        """Set the run's status from its questions; report when it has just finished."""
        states = {row[0]: row[1] for row in self.store.query(
            "SELECT state, COUNT(*) FROM questions WHERE run_id = ? GROUP BY state", (run_id,))}
        if states.get(ANSWER_PENDING) or states.get(Q_ANSWERING):
            status = ANSWERING
        elif states.get(JUDGE_PENDING) or states.get(JUDGING):
            status = GRADING
        else:
            cancelled = self.store.query(
                "SELECT COUNT(*) FROM batch_jobs WHERE run_id = ? AND (cancel_requested = 1 OR status = 'CANCELLED')",
                (run_id,),
            )[0][0]
            status = CANCELLED if cancelled or self.store.run(run_id)["cancel_requested"] else DONE

        run = self.store.run(run_id)
        if status == run["status"]:
            return []
        finished_at = time.time() if status in FINISHED_STATUSES else None
        self.store.execute(
            "UPDATE runs SET status = ?, updated_at = ?, finished_at = ? WHERE run_id = ?",
            (status, time.time(), finished_at, run_id),
        )
        log.info("run %s is %s", run_id, status)
        kind = "run_finished" if finished_at else "run_status"
        return [StepEvent(kind, run_id, f"run {run_id} is {status}")]


def _cleared() -> dict:
    return {"last_error": None, "error_count": 0, "error_since": None}


def _is_terminal(status: str | None) -> bool:
    return status in ("COMPLETED", "FAILED", "EXPIRED", "CANCELLED")


def _job_label(job) -> str:
    phase = job["phase"] if job["attempt"] == 1 else f"{job['phase']} retry {job['attempt'] - 1}"
    return f"run {job['run_id']} {phase} shard {job['shard']}"
