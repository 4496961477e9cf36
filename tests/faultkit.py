"""Helpers for the fault and crash tests: start a small run in-process against the stand-in, drive
it to the end, and compute the grade every question must end with from what the stand-in did.

The stand-in's oracle counts attempts per question on the server, so a request that reached it but
whose result the client never got (a faulted line, a lost output file) still moves that count.
`replay_grades` walks each question's custom_ids the way a correct client sends them and uses the
stand-in's own record of what it processed, so a fault row's expected grades are exact.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.engine import Engine, StepEvent
from core.launch import load_questions, request_from_config, start_runs
from core.providers.base import Provider
from core.providers.together import TogetherProvider
from core.runs import FINISHED_STATUSES
from core.workspace import Workspace
from tests.conftest import DATASET
from tests.standin import StandIn
from tests.standin.oracle import UNDECIDED_JUDGE_REPLY, judge_grade, judge_reply, student_reply

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
JUDGE_MODEL = "Qwen/Qwen2.5-72B-Instruct-Turbo"
LIMIT = 20
# Seed 2 samples one question whose first answer fails, two whose first judge reply names no grade
# and two "I don't know" answers, so every row also runs the answer and judge retry paths.
SEED = 2
POLL_INTERVAL = 0.05


@dataclass
class Harness:
    """One run of `LIMIT` questions in a fresh FACTDECK_HOME, moved by an in-process engine."""

    workspace: Workspace
    standin: StandIn
    run_id: str
    engine: Engine
    events: list[StepEvent] = field(default_factory=list)

    @property
    def store(self):
        return self.workspace.store

    def step(self) -> list[StepEvent]:
        events = self.engine.step(self.run_id)
        self.events.extend(events)
        return events

    def drive(self, timeout: float = 30.0, until: Callable[[], bool] | None = None) -> None:
        """Step until the run finishes (or `until` holds); fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not (until() if until else self.store.run(self.run_id)["status"] in FINISHED_STATUSES):
            assert time.monotonic() < deadline, f"run {self.run_id} did not finish: {self.messages()[-5:]}"
            self.step()
            time.sleep(0.02)

    def messages(self) -> list[str]:
        return [event.message for event in self.events]

    def grades(self) -> dict[int, str | None]:
        return {row["question_id"]: row["grade"] for row in self.store.questions(self.run_id)}


def start_run(
    standin: StandIn,
    api_key: str = "test-key",
    provider_for: Callable[[str], Provider] | None = None,
    limit: int = LIMIT,
    **overrides,
) -> Harness:
    """Record a run in the FACTDECK_HOME the `home` fixture set, without stepping it yet."""
    workspace = Workspace()
    request = request_from_config(
        workspace,
        provider="together",
        models=(MODEL,),
        grader_model=JUDGE_MODEL,
        dataset=str(DATASET),
        limit=limit,
        seed=SEED,
        poll_interval=POLL_INTERVAL,
        **overrides,
    )
    dataset, questions = load_questions(workspace, request)
    provider = TogetherProvider(api_key=api_key, base_url=standin.base_url)
    workspace._providers["together"] = provider
    [run_id] = start_runs(workspace, request, dataset, questions)
    engine = Engine(workspace.store, workspace.paths, provider_for or (lambda name: provider))
    return Harness(workspace, standin, run_id, engine)


def submitted_custom_ids(standin: StandIn) -> Counter[str]:
    """Count how many batches each custom_id was sent in."""
    return Counter(custom_id for batch in standin.batches.values() for custom_id in batch.scan.custom_ids)


def processed_custom_ids(standin: StandIn) -> set[str]:
    return {custom_id for batch_id in standin.batches for custom_id in standin.processed_custom_ids(batch_id)}


def faulted_custom_ids(standin: StandIn) -> set[str]:
    return {custom_id for batch_id in standin.batches for custom_id in standin.faulted_custom_ids(batch_id)}


def replay_grades(
    harness: Harness, lost: set[str], max_answer_attempts: int = 3, max_judge_attempts: int = 2
) -> dict[int, str]:
    """Return the grade each question must end with, given the custom_ids whose result was `lost`.

    A custom_id the stand-in processed moves the oracle's attempt count; its reply reaches the
    client unless it is in `lost`. One never processed (expired, failed batch) is a failure too.
    """
    processed = processed_custom_ids(harness.standin)
    expected = {}
    for row in harness.store.questions(harness.run_id):
        problem, gold, question_id = row["problem"], row["gold"], row["question_id"]
        predicted, server_attempts = None, 0
        for attempt in range(1, max_answer_attempts + 1):
            custom_id = f"{harness.run_id}-a{attempt}-{question_id}"
            if custom_id not in processed:
                continue
            server_attempts += 1
            reply = student_reply(problem, gold, server_attempts)
            if reply is not None and custom_id not in lost:
                predicted = reply
                break
        if predicted is None:
            expected[question_id] = "FAILED"
            continue

        grade, server_attempts = "FAILED", 0
        for attempt in range(1, max_judge_attempts + 1):
            custom_id = f"{harness.run_id}-j{attempt}-{question_id}"
            if custom_id not in processed:
                continue
            server_attempts += 1
            if custom_id in lost:
                grade = "FAILED"
                continue
            if judge_reply(problem, gold, predicted, server_attempts) == UNDECIDED_JUDGE_REPLY:
                grade = "UNPARSED"
                continue
            grade = judge_grade(problem, gold, predicted)
            break
        expected[question_id] = grade
    return expected


def assert_nothing_sent_twice(harness: Harness) -> None:
    """Every batch at the stand-in is one job in the store, and no request went in two batches."""
    standin, store = harness.standin, harness.store
    created = [batch_id for batch_id, _ in standin.creations]
    recorded = [job["batch_id"] for job in store.jobs(harness.run_id) if job["batch_id"]]
    assert sorted(created) == sorted(recorded)
    input_files = [input_file for _, input_file in standin.creations]
    assert len(input_files) == len(set(input_files))
    repeated = {custom_id: count for custom_id, count in submitted_custom_ids(standin).items() if count > 1}
    assert repeated == {}


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]
