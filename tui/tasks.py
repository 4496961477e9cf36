"""Work the Models screen runs in thread workers: model lists, key status, templates, launches.

Each function opens its own Workspace (and so its own store connection) in the calling thread
and returns plain values. None of them may run on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Config
from core.paths import Paths
from core.providers.base import ModelInfo, ProviderError
from tui.backend import thread_workspace

if TYPE_CHECKING:
    from core.dataset import Dataset, Question
    from core.launch import Preflight, RunRequest


@dataclass(frozen=True)
class KeyStatus:
    """The place where the API key was found. The key itself never leaves the worker."""

    found: bool
    where: str
    credentials_file: Path


@dataclass(frozen=True)
class PreparedLaunch:
    """Everything the confirmation shows and `start_prepared` needs, computed before any submission."""

    request: RunRequest
    dataset: Dataset
    questions: list[Question]
    preflight: Preflight
    simulated: bool
    price_note: str | None


def key_status(paths: Paths) -> KeyStatus:
    from core.secrets import find_api_key

    key, where = find_api_key(paths.credentials_file)
    return KeyStatus(bool(key), where, paths.credentials_file)


def save_key(paths: Paths, key: str) -> KeyStatus:
    from core.secrets import save_api_key

    save_api_key(paths.credentials_file, key)
    return key_status(paths)


def fetch_models(paths: Paths, config: Config) -> list[ModelInfo]:
    """Ask the configured provider for its models (a network call for Together)."""
    with thread_workspace(paths, config) as workspace:
        return workspace.provider(config.provider.name).list_models()


def read_template(path: str | None, kind: str) -> str:
    """Return a template's text, or raise TemplateError naming the file."""
    from core.prompts import load_template

    return load_template(path, kind).text


def prepare_launch(paths: Paths, config: Config, known_models: list[ModelInfo] | None) -> PreparedLaunch:
    """Load the dataset sample and estimate the runs; nothing is recorded or submitted yet."""
    from core.launch import load_questions, preflight, request_from_config

    with thread_workspace(paths, config) as workspace:
        request = request_from_config(workspace)
        dataset, questions = load_questions(workspace, request)
        provider = workspace.provider(request.provider)
        price_note = None
        models = known_models
        if models is None:
            try:
                models = provider.list_models()
            except ProviderError as error:
                price_note = f"prices unknown: the model list failed ({error.message})"
        return PreparedLaunch(request, dataset, questions, preflight(request, questions, models), provider.simulated, price_note)


def start_prepared(paths: Paths, config: Config, prepared: PreparedLaunch) -> list[str]:
    """Record one run per student model; the engine loop submits their batches on its next tick."""
    from core.launch import start_runs

    with thread_workspace(paths, config) as workspace:
        return start_runs(workspace, prepared.request, prepared.dataset, prepared.questions)
