"""Start runs: load the dataset, build the settings, estimate the cost, record one run per model."""

from __future__ import annotations

from dataclasses import dataclass

from core.batchfile import Request, ShardLimits, chat_body, make_custom_id, split_into_shards
from core.dataset import Dataset, Question, load_dataset
from core.errors import FactdeckError
from core.prompts import load_template
from core.providers.base import ModelInfo
from core.runs import RunSettings, create_run, new_run_id, templates_of
from core.workspace import Workspace

# A judge reply is one letter; a short factual answer is around this many tokens.
ESTIMATED_ANSWER_TOKENS = 20
ESTIMATED_JUDGE_REPLY_TOKENS = 2
CHARACTERS_PER_TOKEN = 4
# NOTE: Together gives "up to 50%" off on selected batch models and lists no per-model discount,
# so the cost estimate assumes the full 50% for every model.
BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class RunRequest:
    """A user's request to start runs: one run per student model, all sharing the judge."""

    provider: str
    models: tuple[str, ...]
    grader_model: str
    dataset: str
    limit: int | None
    seed: int
    max_tokens: int | None
    temperature: float | None
    judge_max_tokens: int | None
    poll_interval: float
    student_template: str | None = None
    judge_template: str | None = None
    limits: ShardLimits = ShardLimits()


@dataclass(frozen=True)
class Preflight:
    """An estimate of what starting the runs would send, made before anything is submitted."""

    questions: int
    runs: int
    requests: int
    answer_shards: int
    judge_shards_estimate: int
    estimated_tokens: int
    estimated_cost: float | None
    warnings: tuple[str, ...]


def request_from_config(workspace: Workspace, **overrides) -> RunRequest:
    """Build a RunRequest from the config file, with command-line values taking precedence."""
    run, jobs = workspace.config.run, workspace.config.jobs
    values = {
        "provider": workspace.config.provider.name,
        "models": run.models,
        "grader_model": run.grader_model,
        "dataset": run.dataset,
        "limit": run.limit,
        "seed": run.seed,
        "max_tokens": run.max_tokens,
        "temperature": run.temperature,
        "judge_max_tokens": run.judge_max_tokens,
        "poll_interval": jobs.poll_interval,
        "student_template": run.student_template,
        "judge_template": run.judge_template,
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    if not values["models"]:
        raise FactdeckError("no student model: pass --model or set run.models in the config file")
    if not values["grader_model"]:
        raise FactdeckError("no judge model: pass --grader-model or set run.grader_model in the config file")
    return RunRequest(**values)


def load_questions(workspace: Workspace, request: RunRequest) -> tuple[Dataset, list[Question]]:
    dataset = load_dataset(request.dataset, workspace.paths.cache_dir)
    return dataset, dataset.sample(request.limit, request.seed)


def settings_for(request: RunRequest, model: str) -> RunSettings:
    return RunSettings(
        model=model,
        grader_model=request.grader_model,
        student_template=load_template(request.student_template, "student").text,
        judge_template=load_template(request.judge_template, "judge").text,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        judge_max_tokens=request.judge_max_tokens,
        poll_interval=request.poll_interval,
        limits=request.limits,
    )


def preflight(request: RunRequest, questions: list[Question], models: list[ModelInfo] | None = None) -> Preflight:
    """Estimate requests, shards, tokens and cost (batch discount applied) before starting."""
    settings = settings_for(request, request.models[0])
    student_template, _ = templates_of(settings)
    # Real custom_ids carry the run id, which does not exist yet; one of the same length stands in.
    placeholder_run_id = new_run_id()
    student = [
        Request(
            make_custom_id(placeholder_run_id, "answers", 1, q.question_id),
            q.question_id,
            chat_body(settings.model, student_template.fill(question=q.problem), settings.max_tokens, settings.temperature),
        )
        for q in questions
    ]
    answer_shards = len(split_into_shards(student, request.limits))
    # Estimate: the template, the question and gold target, plus about 400 bytes for the predicted
    # answer, the custom_id and the JSON around them.
    judge_bytes = sum(len(settings.judge_template) + len(q.problem) + len(q.gold) + 400 for q in questions)
    judge_shards = max(1, -(-judge_bytes // request.limits.max_bytes), -(-len(questions) // request.limits.max_requests))

    prices = {model.model_id: model for model in models or []}
    student_prompt_tokens = sum(len(r.body["messages"][0]["content"]) for r in student) // CHARACTERS_PER_TOKEN
    judge_prompt_tokens = judge_bytes // CHARACTERS_PER_TOKEN
    n = len(questions)
    tokens_per_run = student_prompt_tokens + n * ESTIMATED_ANSWER_TOKENS + judge_prompt_tokens + n * ESTIMATED_JUDGE_REPLY_TOKENS

    warnings = []
    cost: float | None = 0.0
    for model in request.models:
        student_price, judge_price = prices.get(model), prices.get(request.grader_model)
        if student_price is None or judge_price is None or None in (
            student_price.input_price, student_price.output_price, judge_price.input_price, judge_price.output_price
        ):
            cost = None
            warnings.append(f"no price known for {model if student_price is None else request.grader_model}; cost not estimated")
            break
        cost += (
            student_prompt_tokens * student_price.input_price + n * ESTIMATED_ANSWER_TOKENS * student_price.output_price
            + judge_prompt_tokens * judge_price.input_price + n * ESTIMATED_JUDGE_REPLY_TOKENS * judge_price.output_price
        ) / 1_000_000 * BATCH_DISCOUNT

    return Preflight(
        questions=n,
        runs=len(request.models),
        requests=2 * n * len(request.models),
        answer_shards=answer_shards * len(request.models),
        judge_shards_estimate=judge_shards * len(request.models),
        estimated_tokens=tokens_per_run * len(request.models),
        estimated_cost=cost,
        warnings=tuple(warnings),
    )


def start_runs(workspace: Workspace, request: RunRequest, dataset: Dataset, questions: list[Question]) -> list[str]:
    """Record one run per student model; the engine submits their batches on its next step."""
    provider = workspace.provider(request.provider)
    return [
        create_run(
            workspace.store,
            workspace.paths,
            provider=request.provider,
            simulated=provider.simulated,
            dataset=dataset.source,
            questions=questions,
            sample_limit=request.limit,
            seed=request.seed,
            settings=settings_for(request, model),
        )
        for model in request.models
    ]
