"""Turn questions that wait for an answer or a grade into new batch jobs.

Input files are written completely before the job rows that point at them are inserted, and the
rows are inserted together with the questions' move to "answering" or "judging" in one
transaction. A crash in between leaves at most an unused file, never a job without its file or a
question counted in two jobs.
"""

from __future__ import annotations

import time
import uuid

from core.batchfile import Request, chat_body, make_custom_id, split_into_shards, write_shard
from core.paths import Paths
from core.runs import RunSettings, templates_of
from core.store import ANSWER_PENDING, ANSWERING, JUDGE_PENDING, JUDGING, Store

ANSWERS = "answers"
JUDGE = "judge"

_PHASES = {
    ANSWERS: (ANSWER_PENDING, ANSWERING, "answer_job_id", "answer_attempts"),
    JUDGE: (JUDGE_PENDING, JUDGING, "judge_job_id", "judge_attempts"),
}


def plan_jobs(store: Store, paths: Paths, run_id: str, settings: RunSettings, phase: str) -> list[int]:
    """Create batch jobs for every question of `run_id` waiting in `phase`; return their job ids."""
    waiting_state, queued_state, job_column, attempts_column = _PHASES[phase]
    rows = store.query(
        "SELECT * FROM questions WHERE run_id = ? AND state = ? ORDER BY question_id", (run_id, waiting_state)
    )
    if not rows:
        return []

    templates = templates_of(settings)
    requests = [_request(run_id, settings, templates, phase, row) for row in rows]
    shards = split_into_shards(requests, settings.limits)
    attempt = max(row[attempts_column] for row in rows) + 1
    folder = paths.run_dir(run_id) / "requests"
    batch_label = uuid.uuid4().hex[:6]
    planned = []
    for index, shard in enumerate(shards, start=1):
        path = folder / f"{phase}-a{attempt}-s{index}-{batch_label}.jsonl"
        write_shard(shard, path)
        planned.append((index, shard, path))

    now = time.time()
    job_ids = []
    with store.transaction() as connection:
        for index, shard, path in planned:
            cursor = connection.execute(
                """INSERT INTO batch_jobs (run_id, phase, attempt, shard, n_requests, input_path, input_bytes,
                   stage, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'prepared', ?, ?)""",
                (run_id, phase, attempt, index, len(shard.lines), str(path), shard.size_bytes, now, now),
            )
            job_id = cursor.lastrowid
            job_ids.append(job_id)
            moved = connection.executemany(
                f"""UPDATE questions SET state = ?, {job_column} = ?, {attempts_column} = {attempts_column} + 1
                    WHERE run_id = ? AND question_id = ? AND state = ?""",
                [(queued_state, job_id, run_id, question_id, waiting_state) for question_id in shard.question_ids],
            ).rowcount
            if moved != len(shard.question_ids):
                raise RuntimeError(f"run {run_id}: questions changed state while job {job_id} was planned")
    return job_ids


def _request(run_id: str, settings: RunSettings, templates: tuple, phase: str, row) -> Request:
    student_template, judge_template = templates
    if phase == ANSWERS:
        custom_id = make_custom_id(run_id, phase, row["answer_attempts"] + 1, row["question_id"])
        prompt = student_template.fill(question=row["problem"])
        body = chat_body(settings.model, prompt, settings.max_tokens, settings.temperature)
    else:
        custom_id = make_custom_id(run_id, phase, row["judge_attempts"] + 1, row["question_id"])
        prompt = judge_template.fill(question=row["problem"], target=row["gold"], predicted_answer=row["answer"])
        body = chat_body(settings.grader_model, prompt, settings.judge_max_tokens, 0.0)
    return Request(custom_id=custom_id, question_id=row["question_id"], body=body)


def expected_custom_ids(store: Store, job) -> dict[str, int]:
    """Map each custom_id sent in `job` to its question_id, rebuilt from the store."""
    _, queued_state, job_column, attempts_column = _PHASES[job["phase"]]
    rows = store.query(
        f"""SELECT question_id, {attempts_column} FROM questions
            WHERE run_id = ? AND {job_column} = ? AND state = ?""",
        (job["run_id"], job["job_id"], queued_state),
    )
    return {make_custom_id(job["run_id"], job["phase"], row[1], row[0]): row[0] for row in rows}
