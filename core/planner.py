"""Turn questions that wait for an answer or a grade into new batch jobs.

Input files are written completely before the job rows that point at them are inserted, and the
rows are inserted together with the questions' move to "answering" or "judging" in one
transaction. A crash in between leaves at most an unused file, never a job without its file or a
question counted in two jobs.
"""

from __future__ import annotations

import json
import time
import uuid

from core.batchfile import RequestEncoder, ShardWriter, make_custom_id
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
    """Create batch jobs for every question of `run_id` waiting in `phase`; return their job ids.

    Request lines are streamed into the shard files as they are built, so memory stays flat
    however many questions wait (a 100,000-question judge phase writes about 600 MB).
    """
    waiting_state, queued_state, job_column, attempts_column = _PHASES[phase]
    rows = store.query(
        f"""SELECT question_id, problem, gold, answer, {attempts_column} FROM questions
            WHERE run_id = ? AND state = ? ORDER BY question_id""",
        (run_id, waiting_state),
    )
    if not rows:
        return []

    attempt = max(row[4] for row in rows) + 1
    folder = paths.run_dir(run_id) / "requests"
    batch_label = uuid.uuid4().hex[:6]
    writer = ShardWriter(settings.limits, lambda index: folder / f"{phase}-a{attempt}-s{index}-{batch_label}.jsonl")
    try:
        _write_requests(writer, run_id, settings, phase, rows)
    except BaseException:
        writer.discard()
        raise
    shards = writer.close()
    del rows

    now = time.time()
    job_ids = []
    with store.transaction() as connection:
        for index, shard in enumerate(shards, start=1):
            cursor = connection.execute(
                """INSERT INTO batch_jobs (run_id, phase, attempt, shard, n_requests, input_path, input_bytes,
                   stage, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'prepared', ?, ?)""",
                (run_id, phase, attempt, index, len(shard.question_ids), str(shard.path), shard.size_bytes, now, now),
            )
            job_id = cursor.lastrowid
            job_ids.append(job_id)
            moved = connection.execute(
                f"""UPDATE questions SET state = ?, {job_column} = ?, {attempts_column} = {attempts_column} + 1
                    WHERE run_id = ? AND state = ? AND question_id IN (SELECT value FROM json_each(?))""",
                (queued_state, job_id, run_id, waiting_state, json.dumps(shard.question_ids)),
            ).rowcount
            if moved != len(shard.question_ids):
                raise RuntimeError(f"run {run_id}: questions changed state while job {job_id} was planned")
    return job_ids


def _write_requests(writer: ShardWriter, run_id: str, settings: RunSettings, phase: str, rows: list) -> None:
    """Build one request per row, as `Template.fill` and `chat_body` would, straight into `writer`."""
    student_template, judge_template = templates_of(settings)
    if phase == ANSWERS:
        encoder = RequestEncoder(
            student_template.text, ("question",), settings.model, settings.max_tokens, settings.temperature
        )
        for question_id, problem, _, _, attempts in rows:
            custom_id = make_custom_id(run_id, phase, attempts + 1, question_id)
            writer.add(custom_id, question_id, encoder.encode(custom_id, {"question": problem}))
        return

    encoder = RequestEncoder(
        judge_template.text, ("question", "target", "predicted_answer"), settings.grader_model, settings.judge_max_tokens, 0.0
    )
    for question_id, problem, gold, answer, attempts in rows:
        custom_id = make_custom_id(run_id, phase, attempts + 1, question_id)
        values = {"question": problem, "target": gold, "predicted_answer": answer}
        writer.add(custom_id, question_id, encoder.encode(custom_id, values))


def expected_custom_ids(store: Store, job) -> dict[str, int]:
    """Map each custom_id sent in `job` to its question_id, rebuilt from the store."""
    _, queued_state, job_column, attempts_column = _PHASES[job["phase"]]
    rows = store.query(
        f"""SELECT question_id, {attempts_column} FROM questions
            WHERE run_id = ? AND {job_column} = ? AND state = ?""",
        (job["run_id"], job["job_id"], queued_state),
    )
    return {make_custom_id(job["run_id"], job["phase"], row[1], row[0]): row[0] for row in rows}
