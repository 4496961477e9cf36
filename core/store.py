"""The SQLite store: runs, batch jobs, one row per question, and reviewers' grade overrides.

WAL mode lets the TUI read while `factdeck watch` writes. Every change that belongs together
(a job planned with its questions, a job's output ingested with the job marked done) happens in
one transaction, so a crash leaves either all of it or none of it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from core.errors import StoreError

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    simulated INTEGER NOT NULL DEFAULT 0,
    model TEXT NOT NULL,
    grader_model TEXT NOT NULL,
    dataset TEXT NOT NULL,
    sample_limit INTEGER,
    seed INTEGER NOT NULL,
    settings TEXT NOT NULL,
    error TEXT,
    lease_owner TEXT,
    lease_expires REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS batch_jobs (
    job_id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    phase TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    n_requests INTEGER NOT NULL,
    input_path TEXT NOT NULL,
    input_bytes INTEGER NOT NULL,
    stage TEXT NOT NULL,
    input_file_id TEXT,
    batch_id TEXT UNIQUE,
    status TEXT,
    progress REAL,
    output_file_id TEXT,
    error_file_id TEXT,
    provider_error TEXT,
    warning TEXT,
    last_error TEXT,
    error_count INTEGER NOT NULL DEFAULT 0,
    error_since REAL,
    next_poll_at REAL NOT NULL DEFAULT 0,
    n_succeeded INTEGER,
    n_failed INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    submitted_at REAL,
    updated_at REAL NOT NULL,
    completed_at REAL,
    progress_history TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS batch_jobs_run ON batch_jobs(run_id);

CREATE TABLE IF NOT EXISTS questions (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    question_id INTEGER NOT NULL,
    problem TEXT NOT NULL,
    gold TEXT NOT NULL,
    topic TEXT NOT NULL,
    answer_type TEXT NOT NULL,
    urls TEXT NOT NULL,
    state TEXT NOT NULL,
    answer_job_id INTEGER,
    answer_attempts INTEGER NOT NULL DEFAULT 0,
    answer TEXT,
    answer_prompt_tokens INTEGER,
    answer_completion_tokens INTEGER,
    judge_job_id INTEGER,
    judge_attempts INTEGER NOT NULL DEFAULT 0,
    judge_reply TEXT,
    judge_prompt_tokens INTEGER,
    judge_completion_tokens INTEGER,
    grade TEXT,
    failure_reason TEXT,
    PRIMARY KEY (run_id, question_id)
);
CREATE INDEX IF NOT EXISTS questions_state ON questions(run_id, state);

CREATE TABLE IF NOT EXISTS reviews (
    run_id TEXT NOT NULL,
    question_id INTEGER NOT NULL,
    grade TEXT NOT NULL,
    note TEXT,
    reviewed_at REAL NOT NULL,
    PRIMARY KEY (run_id, question_id)
);

CREATE TABLE IF NOT EXISTS ignored_batches (
    batch_id TEXT PRIMARY KEY,
    ignored_at REAL NOT NULL
);
"""

# Question states, in the order a question moves through them.
ANSWER_PENDING = "answer_pending"
ANSWERING = "answering"
JUDGE_PENDING = "judge_pending"
JUDGING = "judging"
FINISHED = "finished"


class Store:
    """One connection to the factdeck database. Not shared between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.connection.row_factory = sqlite3.Row
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.execute("PRAGMA foreign_keys=ON")
            # Readers open a Store per worker thread, so skip the write transaction when the
            # schema is already in place: it would wait behind a long engine write.
            version = self.connection.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                with self.transaction():
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            self.connection.execute(statement)
                    if version == 1:
                        self.connection.execute("ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0")
                    self.connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the factdeck database: {exc}") from None
        except OSError as exc:
            raise StoreError(f"{path}: cannot create the database directory: {exc.strerror}") from None

    def close(self) -> None:
        self.connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one write transaction, taken at once (BEGIN IMMEDIATE) to avoid deadlocks.

        A failed write (disk full, read-only file) rolls everything back and raises StoreError.
        """
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot start a write: {exc}") from None
        try:
            yield self.connection
        except sqlite3.Error as exc:
            self.connection.execute("ROLLBACK")
            raise StoreError(f"{self.path}: write failed and was rolled back: {exc}") from None
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            try:
                self.connection.execute("COMMIT")
            except sqlite3.Error as exc:
                self.connection.execute("ROLLBACK")
                raise StoreError(f"{self.path}: write failed and was rolled back: {exc}") from None

    def query(self, sql: str, parameters: Iterable = ()) -> list[sqlite3.Row]:
        try:
            return self.connection.execute(sql, tuple(parameters)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: read failed: {exc}") from None

    def execute(self, sql: str, parameters: Iterable | Mapping = ()) -> int:
        """Run one write statement in its own transaction and return the number of rows changed."""
        values = parameters if isinstance(parameters, Mapping) else tuple(parameters)
        with self.transaction() as connection:
            return connection.execute(sql, values).rowcount

    # Runs

    def insert_run(self, run: dict, questions: list[dict]) -> None:
        now = time.time()
        with self.transaction() as connection:
            connection.execute(
                """INSERT INTO runs (run_id, created_at, updated_at, status, provider, simulated, model,
                   grader_model, dataset, sample_limit, seed, settings)
                   VALUES (:run_id, :now, :now, :status, :provider, :simulated, :model, :grader_model,
                   :dataset, :sample_limit, :seed, :settings)""",
                {**run, "now": now, "settings": json.dumps(run["settings"])},
            )
            connection.executemany(
                """INSERT INTO questions (run_id, question_id, problem, gold, topic, answer_type, urls, state)
                   VALUES (:run_id, :question_id, :problem, :gold, :topic, :answer_type, :urls, :state)""",
                [{**question, "run_id": run["run_id"], "state": ANSWER_PENDING} for question in questions],
            )

    def run(self, run_id: str) -> sqlite3.Row | None:
        rows = self.query("SELECT * FROM runs WHERE run_id = ?", (run_id,))
        return rows[0] if rows else None

    def runs(self) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM runs ORDER BY created_at DESC, run_id DESC")

    def unfinished_run_ids(self) -> list[str]:
        rows = self.query("SELECT run_id FROM runs WHERE status IN ('answering', 'grading') ORDER BY created_at")
        return [row["run_id"] for row in rows]

    # Batch jobs

    def jobs(self, run_id: str | None = None) -> list[sqlite3.Row]:
        if run_id is None:
            return self.query("SELECT * FROM batch_jobs ORDER BY job_id")
        return self.query("SELECT * FROM batch_jobs WHERE run_id = ? ORDER BY job_id", (run_id,))

    def job(self, job_id: int) -> sqlite3.Row:
        return self.query("SELECT * FROM batch_jobs WHERE job_id = ?", (job_id,))[0]

    def update_job(self, job_id: int, **fields: object) -> None:
        fields["updated_at"] = time.time()
        assignments = ", ".join(f"{name} = :{name}" for name in fields)
        self.execute(f"UPDATE batch_jobs SET {assignments} WHERE job_id = :job_id", {**fields, "job_id": job_id})

    def known_batch_ids(self) -> set[str]:
        return {row["batch_id"] for row in self.query("SELECT batch_id FROM batch_jobs WHERE batch_id IS NOT NULL")}

    # Questions

    def questions(self, run_id: str) -> list[sqlite3.Row]:
        return self.query("SELECT * FROM questions WHERE run_id = ? ORDER BY question_id", (run_id,))

    def grade_rows(self, run_id: str, reviewed: bool = False) -> list[tuple[str, str, str | None]]:
        """Return (topic, answer_type, grade) per question; with `reviewed`, overrides win."""
        grade = "COALESCE(r.grade, q.grade)" if reviewed else "q.grade"
        rows = self.query(
            f"""SELECT q.topic, q.answer_type, {grade} AS grade FROM questions q
                LEFT JOIN reviews r ON r.run_id = q.run_id AND r.question_id = q.question_id
                WHERE q.run_id = ?""",
            (run_id,),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    def review_count(self, run_id: str) -> int:
        return self.query("SELECT COUNT(*) FROM reviews WHERE run_id = ?", (run_id,))[0][0]

    def set_review(self, run_id: str, question_id: int, grade: str | None, note: str | None = None) -> None:
        """Store a reviewer's grade apart from the judge's, or remove it when `grade` is None."""
        if grade is None:
            self.execute("DELETE FROM reviews WHERE run_id = ? AND question_id = ?", (run_id, question_id))
            return
        self.execute(
            """INSERT INTO reviews (run_id, question_id, grade, note, reviewed_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (run_id, question_id) DO UPDATE SET grade = excluded.grade,
               note = excluded.note, reviewed_at = excluded.reviewed_at""",
            (run_id, question_id, grade, note, time.time()),
        )

    def result_index_rows(self, run_id: str) -> list[tuple]:
        """Return the columns a results browser indexes, one tuple per question in id order.

        Each tuple is (question_id, topic, answer_type, judge grade, reviewed grade, problem, gold,
        answer). Long fields the browser shows only for one question stay in `question_detail`.
        """
        rows = self.query(
            """SELECT q.question_id, q.topic, q.answer_type, q.grade, r.grade, q.problem, q.gold, q.answer
               FROM questions q
               LEFT JOIN reviews r ON r.run_id = q.run_id AND r.question_id = q.question_id
               WHERE q.run_id = ? ORDER BY q.question_id""",
            (run_id,),
        )
        return [tuple(row) for row in rows]

    def question_detail(self, run_id: str, question_id: int) -> sqlite3.Row | None:
        """Return one question's full row with its review (`reviewed_grade`, `review_note`, `reviewed_at`)."""
        rows = self.query(
            """SELECT q.*, r.grade AS reviewed_grade, r.note AS review_note, r.reviewed_at
               FROM questions q
               LEFT JOIN reviews r ON r.run_id = q.run_id AND r.question_id = q.question_id
               WHERE q.run_id = ? AND q.question_id = ?""",
            (run_id, question_id),
        )
        return rows[0] if rows else None

    def ignored_batch_ids(self) -> set[str]:
        return {row[0] for row in self.query("SELECT batch_id FROM ignored_batches")}

    def ignore_batch(self, batch_id: str) -> None:
        self.execute("INSERT OR IGNORE INTO ignored_batches (batch_id, ignored_at) VALUES (?, ?)", (batch_id, time.time()))
