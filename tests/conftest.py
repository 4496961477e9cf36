"""Shared fixtures: an isolated FACTDECK_HOME, the real dataset, and the Together stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.standin import StandIn, StandInConfig
from tests.standin.oracle import load_gold_by_question

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DATASET = SHARED_DATA / "simple_qa_test_set.csv"
API_KEY = "test-key"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty FACTDECK_HOME for this test, with no API key or base URL leaking in."""
    path = tmp_path / "home"
    monkeypatch.setenv("FACTDECK_HOME", str(path))
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
    return path


@pytest.fixture(scope="session")
def gold_by_question() -> dict[str, str]:
    return load_gold_by_question(DATASET)


@pytest.fixture
def standin(tmp_path, gold_by_question):
    config = StandInConfig(validating_seconds=0.1, running_seconds=0.3, state_dir=tmp_path / "standin")
    with StandIn(config, gold_by_question=gold_by_question) as server:
        yield server


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def run_cli(args: list[str], home: Path, standin: StandIn | None = None, timeout: float = 600, **env: str) -> CliResult:
    """Run `factdeck ARGS` in a child process, as a user would, against the stand-in if given."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("TOGETHER_")}
    environment["FACTDECK_HOME"] = str(home)
    if standin is not None:
        environment["TOGETHER_API_KEY"] = API_KEY
        environment["TOGETHER_BASE_URL"] = standin.base_url
    environment.update(env)
    completed = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)
