"""Apply a finished batch's results to its questions, in one transaction with the job's "ingested".

Because the job is marked ingested in the same transaction that records its results, an output
is never counted twice, even if the process dies half-way: then nothing of it was recorded and
the next step ingests it again from the downloaded files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from core.crashpoints import DURING_INGEST, crash_point
from core.grading import FAILED, UNPARSED, parse_grade
from core.outputs import RequestResult, read_results
from core.planner import ANSWERS, expected_custom_ids
from core.runs import RunSettings
from core.store import ANSWER_PENDING, ANSWERING, FINISHED, JUDGE_PENDING, JUDGING, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestSummary:
    succeeded: int
    failed: int
    retried: int
    warnings: int


def missing_reason(status: str | None, provider_error: str | None, cancel_requested: bool = False) -> str:
    """Why a request has no result when it is in neither file."""
    if status == "EXPIRED":
        return "the batch expired before this request ran"
    if status == "CANCELLED" and cancel_requested:
        return "the batch was cancelled before this request ran"
    if status == "CANCELLED":
        return "the batch was cancelled at the provider (not by factdeck) before this request ran"
    if status == "FAILED":
        return f"the batch failed: {provider_error or 'no reason given'}"
    return "missing from both the output and the error file"


def ingest_job(store: Store, job, output: Path | None, errors: Path | None, settings: RunSettings) -> IngestSummary:
    """Record the results of `job` and move each of its questions to its next state."""
    expected = expected_custom_ids(store, job)
    read = read_results(output, errors, set(expected))
    for warning in read.warnings[:20]:
        log.warning("job %s (batch %s): %s", job["job_id"], job["batch_id"], warning)
    if len(read.warnings) > 20:
        log.warning("job %s: %d more warnings not shown", job["job_id"], len(read.warnings) - 20)

    phase = job["phase"]
    attempts_column = "answer_attempts" if phase == ANSWERS else "judge_attempts"
    attempts = {
        row[0]: row[1]
        for row in store.query(
            f"SELECT question_id, {attempts_column} FROM questions WHERE run_id = ? AND question_id IN "
            f"(SELECT value FROM json_each(?))",
            (job["run_id"], "[" + ",".join(str(q) for q in expected.values()) + "]"),
        )
    }
    fallback = RequestResult(error=missing_reason(job["status"], job["provider_error"], bool(job["cancel_requested"])))
    stop_retrying = job["status"] == "CANCELLED" or bool(job["cancel_requested"])

    updates: list[tuple] = []
    succeeded = failed = retried = 0
    for custom_id, question_id in expected.items():
        result = read.results.get(custom_id, fallback)
        if phase == ANSWERS:
            update = _answer_update(result, attempts[question_id], settings.max_answer_attempts, stop_retrying)
        else:
            update = _judge_update(result, attempts[question_id], settings.max_judge_attempts, stop_retrying)
        succeeded += result.succeeded
        failed += not result.succeeded
        retried += update["state"] == (ANSWER_PENDING if phase == ANSWERS else JUDGE_PENDING)
        updates.append((update, question_id))

    _write(store, job, phase, updates, succeeded, failed)
    return IngestSummary(succeeded, failed, retried, len(read.warnings))


def _answer_update(result: RequestResult, attempts: int, max_attempts: int, stop_retrying: bool) -> dict:
    tokens = {"prompt": result.prompt_tokens, "completion": result.completion_tokens}
    if result.succeeded:
        return {"state": JUDGE_PENDING, "text": result.content, "grade": None, "reason": None, **tokens}
    if attempts < max_attempts and not stop_retrying:
        return {"state": ANSWER_PENDING, "text": None, "grade": None, "reason": result.error, **tokens}
    reason = f"no answer after {attempts} attempt(s): {result.error}"
    return {"state": FINISHED, "text": None, "grade": FAILED, "reason": reason, **tokens}


def _judge_update(result: RequestResult, attempts: int, max_attempts: int, stop_retrying: bool) -> dict:
    tokens = {"prompt": result.prompt_tokens, "completion": result.completion_tokens}
    can_retry = attempts < max_attempts and not stop_retrying
    if result.succeeded:
        grade = parse_grade(result.content)
        if grade == UNPARSED and can_retry:
            reason = "the judge reply named no single grade; sent to the judge again"
            return {"state": JUDGE_PENDING, "text": result.content, "grade": None, "reason": reason, **tokens}
        reason = "the judge reply named no single grade" if grade == UNPARSED else None
        return {"state": FINISHED, "text": result.content, "grade": grade, "reason": reason, **tokens}
    if can_retry:
        return {"state": JUDGE_PENDING, "text": None, "grade": None, "reason": result.error, **tokens}
    reason = f"no judge reply after {attempts} attempt(s): {result.error}"
    return {"state": FINISHED, "text": None, "grade": FAILED, "reason": reason, **tokens}


def _write(store: Store, job, phase: str, updates: list[tuple], succeeded: int, failed: int) -> None:
    if phase == ANSWERS:
        columns = "answer = COALESCE(?, answer), answer_prompt_tokens = ?, answer_completion_tokens = ?"
    else:
        columns = "judge_reply = COALESCE(?, judge_reply), judge_prompt_tokens = ?, judge_completion_tokens = ?"
    queued_state, job_column = (ANSWERING, "answer_job_id") if phase == ANSWERS else (JUDGING, "judge_job_id")
    with store.transaction() as connection:
        marked = connection.execute(
            "UPDATE batch_jobs SET stage = 'ingested', n_succeeded = ?, n_failed = ?, updated_at = ? "
            "WHERE job_id = ? AND stage != 'ingested'",
            (succeeded, failed, time.time(), job["job_id"]),
        ).rowcount
        if not marked:
            # Another step ingested this job first; applying the results again would count them twice.
            log.warning("job %s was already ingested; its results are not applied again", job["job_id"])
            return
        # Only questions still waiting on this very job move, so a result is never applied twice.
        connection.executemany(
            f"""UPDATE questions SET state = ?, {columns}, grade = ?, failure_reason = ?
                WHERE run_id = ? AND question_id = ? AND state = ? AND {job_column} = ?""",
            [
                (u["state"], u["text"], u["prompt"], u["completion"], u["grade"], u["reason"], job["run_id"],
                 question_id, queued_state, job["job_id"])
                for u, question_id in updates
            ],
        )
        crash_point(DURING_INGEST)
