"""The engine loop the TUI runs in one long-lived worker thread, and the job snapshots it posts.

The thread owns its own `Workspace` (so its own SQLite connection, because a `Store` must stay in
the thread that opened it). Every tick it moves unfinished runs forward with `Engine.step_all()`,
reads every batch job, and posts a `JobsRefreshed` message. The UI thread never touches the
store or a provider. Commands (refresh now, cancel jobs, new settings) reach it through a queue.
"""

from __future__ import annotations

import gc
import json
import logging
import queue
import time
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from textual.message import Message
from textual.worker import get_current_worker

from core.config import Config, LoadedConfig
from core.paths import Paths
from core.schedule import eta_seconds, is_stalled

# The same as core.runs.FINISHED_STATUSES; importing core.runs would pull the dataset and store
# modules into start-up.
RUN_FINISHED_STATUSES = ("done", "failed", "cancelled")

if TYPE_CHECKING:
    from textual.app import App

    from core.engine import StepEvent
    from core.workspace import Workspace

log = logging.getLogger(__name__)

TERMINAL = ("COMPLETED", "FAILED", "EXPIRED", "CANCELLED")


@dataclass(frozen=True)
class JobRow:
    """One batch job as the Jobs table shows it, computed in the engine thread."""

    job_id: int
    run_id: str
    model: str
    simulated: bool
    phase: str
    shard: int
    state: str
    progress: float | None
    done: int
    failed: int
    total: int
    created_at: float
    eta: float | None
    stalled: bool
    note: str
    run_finished: bool = False


@dataclass(frozen=True)
class JobsSnapshot:
    """Every batch job of every run at `taken_at` (seconds since the epoch)."""

    taken_at: float
    rows: tuple[JobRow, ...]
    run_count: int


class JobsRefreshed(Message):
    """Posted by the engine loop after each tick with fresh job rows and what the step did."""

    def __init__(self, snapshot: JobsSnapshot, events: list[StepEvent]) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.events = events


class EngineFailed(Message):
    """Posted by the engine loop when a tick raised; the loop keeps running."""

    def __init__(self, error: BaseException, details: str) -> None:
        super().__init__()
        self.error = error
        self.details = details


def job_state(job) -> str:
    """Name a job's state in one word, from its stage and the provider's status."""
    stage, status = job["stage"], job["status"]
    if stage == "ingested" or status in TERMINAL:
        return {"FAILED": "failed", "EXPIRED": "expired", "CANCELLED": "cancelled"}.get(status, "done" if stage == "ingested" else "downloading")
    if job["cancel_requested"]:
        return "cancelling"
    if stage == "prepared":
        return "queued"
    if stage in ("uploading", "uploaded"):
        return "uploading"
    if stage == "submitting":
        return "submitting"
    if stage == "downloading":
        return "downloading"
    return "running" if status == "IN_PROGRESS" else "validating"


def read_snapshot(workspace: Workspace, now: float) -> JobsSnapshot:
    """Read every job of every run and compute its ETA and stalled mark at `now`."""
    runs = {run["run_id"]: run for run in workspace.store.runs()}
    stall_seconds = workspace.config.jobs.stall_minutes * 60
    rows = []
    for job in workspace.store.jobs():
        run = runs[job["run_id"]]
        history = json.loads(job["progress_history"] or "[]")
        state = job_state(job)
        active = state in ("validating", "running")
        progress = job["progress"]
        if job["n_succeeded"] is not None:
            done = job["n_succeeded"]
        else:
            done = int((progress or 0) / 100 * job["n_requests"])
        phase = job["phase"] if job["attempt"] == 1 else f"{job['phase']} retry {job['attempt'] - 1}"
        note = job["last_error"] or job["provider_error"] or job["warning"] or ""
        rows.append(JobRow(
            job_id=job["job_id"],
            run_id=job["run_id"],
            model=run["grader_model"] if job["phase"] == "judge" else run["model"],
            simulated=bool(run["simulated"]),
            phase=phase,
            shard=job["shard"],
            state=state,
            progress=progress,
            done=done,
            failed=job["n_failed"] or 0,
            total=job["n_requests"],
            created_at=job["created_at"],
            eta=eta_seconds(history, now) if active else None,
            stalled=active and is_stalled(history, now, stall_seconds),
            note=note,
            run_finished=run["status"] in RUN_FINISHED_STATUSES or bool(run["cancel_requested"]),
        ))
    return JobsSnapshot(taken_at=now, rows=tuple(rows), run_count=len(runs))


def open_workspace(paths: Paths, config: Config) -> Workspace:
    """Build a Workspace for the calling thread, with the settings the UI uses right now."""
    from core.workspace import Workspace

    return Workspace(paths, LoadedConfig(config, [], exists=True))


@contextmanager
def thread_workspace(paths: Paths, config: Config) -> Iterator[Workspace]:
    """Open a Workspace and close its store, if it was opened, in the same thread."""
    workspace = open_workspace(paths, config)
    try:
        yield workspace
    finally:
        if "store" in workspace.__dict__:
            workspace.store.close()


class EngineLoop:
    """Moves runs forward and reads job snapshots in one worker thread; see the module docstring."""

    def __init__(
        self,
        app: App,
        paths: Paths,
        config: Config,
        tick_seconds: float = 1.0,
        step: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.paths = paths
        self.config = config
        self.tick_seconds = tick_seconds
        self.step = step
        self.clock = clock
        self._commands: queue.Queue[tuple[str, object]] = queue.Queue()
        self._last_failure = ""

    def refresh(self) -> None:
        self._commands.put(("refresh", None))

    def cancel(self, job_ids: list[int]) -> None:
        self._commands.put(("cancel", list(job_ids)))

    def cancel_runs(self, run_ids: list[str]) -> None:
        """Stop whole runs: every batch, and nothing new submitted for them (no judge batch)."""
        self._commands.put(("cancel_runs", list(run_ids)))

    def use_config(self, config: Config) -> None:
        self._commands.put(("config", config))

    def use_new_key(self) -> None:
        """Reopen the provider with the newly saved key and poll jobs backing off an error now."""
        self._commands.put(("key", None))

    def stop(self) -> None:
        """Wake the loop so it exits now rather than after the current tick's wait."""
        self._commands.put(("stop", None))

    def run(self) -> None:
        """Run until the worker is cancelled; called in a thread worker."""
        worker = get_current_worker()
        workspace = open_workspace(self.paths, self.config)
        try:
            # Show the jobs before the first step, which may wait on the provider for a while.
            self._post_snapshot(workspace, [])
            self._tick(workspace, "tick", None)
            # A full garbage collection scans every object in the process while holding the GIL,
            # which stalled the UI for 60 ms or more. Objects alive after start-up and the first
            # step (Textual, the provider SDK, the app) are kept out of those scans until the loop
            # ends; unfreezing then lets a process that runs many apps (the tests) free them.
            gc.freeze()
            while not worker.is_cancelled:
                command, argument = self._next_command()
                if command == "stop" or worker.is_cancelled:
                    break
                if command in ("config", "key"):
                    # A new workspace also builds the provider again, so it reads the key anew.
                    if "store" in workspace.__dict__:
                        workspace.store.close()
                    if command == "config":
                        self.config = argument
                    workspace = open_workspace(self.paths, self.config)
                self._tick(workspace, command, argument)
        finally:
            gc.unfreeze()
            if "store" in workspace.__dict__:
                workspace.store.close()

    def _next_command(self) -> tuple[str, object]:
        try:
            return self._commands.get(timeout=self.tick_seconds)
        except queue.Empty:
            return "tick", None

    def _tick(self, workspace: Workspace, command: str, argument: object) -> None:
        events: list[StepEvent] = []
        try:
            if command == "cancel":
                events.extend(workspace.engine().cancel_jobs(argument))
            if command == "cancel_runs":
                for run_id in argument:
                    events.extend(workspace.engine().cancel_run(run_id))
            if command == "key":
                retried = workspace.engine().retry_now()
                log.info("new API key: %d job(s) backing off an error are due now", retried)
            if self.step:
                events.extend(workspace.engine().step_all())
        except Exception as error:  # noqa: BLE001 - every failure goes to the app's one error handler
            self._report(error)
            return
        self._post_snapshot(workspace, events)

    def _post_snapshot(self, workspace: Workspace, events: list[StepEvent]) -> None:
        try:
            snapshot = read_snapshot(workspace, self.clock())
        except Exception as error:  # noqa: BLE001 - every failure goes to the app's one error handler
            self._report(error)
            return
        self._last_failure = ""
        self.app.post_message(JobsRefreshed(snapshot, events))

    def _report(self, error: Exception) -> None:
        """Post a failure once until a tick succeeds again, so a lasting fault is shown once."""
        text = f"{type(error).__name__}: {error}"
        log.warning("engine tick failed: %s", text)
        if text == self._last_failure:
            return
        self._last_failure = text
        self.app.post_message(EngineFailed(error, "".join(traceback.format_exception(error))))
