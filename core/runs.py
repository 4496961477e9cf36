"""Create runs: pick the sample, freeze the settings and templates, and record the questions.

A run keeps its own copy of the templates and generation settings, so it finishes the same way
even if the config file changes while its batches are running.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field

from core.batchfile import ShardLimits
from core.dataset import Question
from core.paths import Paths
from core.prompts import Template
from core.store import Store

ANSWERING = "answering"
GRADING = "grading"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"
FINISHED_STATUSES = (DONE, FAILED, CANCELLED)


@dataclass(frozen=True)
class RunSettings:
    """What a run sends: models, generation settings, templates, retry and shard limits."""

    model: str
    grader_model: str
    student_template: str
    judge_template: str
    max_tokens: int | None = 256
    temperature: float | None = 0.0
    judge_max_tokens: int | None = 64
    poll_interval: float = 30.0
    max_answer_attempts: int = 3
    max_judge_attempts: int = 2
    limits: ShardLimits = field(default_factory=ShardLimits)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> RunSettings:
        data = dict(data)
        data["limits"] = ShardLimits(**data.get("limits", {}))
        return cls(**data)


def new_run_id(now: float | None = None) -> str:
    """Return an id like `20261204-201530-3fa9`: sortable by time, short enough for custom_ids."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now or time.time()))
    return f"{stamp}-{secrets.token_hex(2)}"


def create_run(
    store: Store,
    paths: Paths,
    *,
    provider: str,
    simulated: bool,
    dataset: str,
    questions: list[Question],
    sample_limit: int | None,
    seed: int,
    settings: RunSettings,
) -> str:
    """Record a new run with its questions, all waiting for an answer; return its run_id."""
    run_id = new_run_id()
    paths.run_dir(run_id).mkdir(parents=True, exist_ok=True)
    store.insert_run(
        {
            "run_id": run_id,
            "status": ANSWERING,
            "provider": provider,
            "simulated": int(simulated),
            "model": settings.model,
            "grader_model": settings.grader_model,
            "dataset": dataset,
            "sample_limit": sample_limit,
            "seed": seed,
            "settings": settings.to_json(),
        },
        [
            {
                "question_id": question.question_id,
                "problem": question.problem,
                "gold": question.gold,
                "topic": question.topic,
                "answer_type": question.answer_type,
                "urls": json.dumps(list(question.urls)),
            }
            for question in questions
        ],
    )
    return run_id


def run_settings(store: Store, run_id: str) -> RunSettings:
    return RunSettings.from_json(json.loads(store.run(run_id)["settings"]))


def templates_of(settings: RunSettings) -> tuple[Template, Template]:
    return (
        Template(settings.student_template, "run's student template"),
        Template(settings.judge_template, "run's judge template"),
    )
