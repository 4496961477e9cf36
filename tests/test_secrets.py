"""The API key stays out of every file factdeck writes and everything it prints: after a full run,
after a rejected key, and in HTTP errors that echo an Authorization header."""

from __future__ import annotations

import re
import stat

import pytest

from core.secrets import find_api_key, redact, save_api_key
from tests.conftest import DATASET, run_cli
from tests.faultkit import files_under, start_run
from tests.standin import HttpFault, StandIn, StandInConfig

SECRET = "sk-factdeck-7f3a9c0e51d24b86-secret"
WRONG = "sk-factdeck-wrong-0c4e2a61b9f87d35"
MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
JUDGE = "Qwen/Qwen2.5-72B-Instruct-Turbo"
RUN_ARGS = [
    "run", "--provider", "together", "--model", MODEL, "--grader-model", JUDGE, "--dataset", str(DATASET),
    "--limit", "12", "--seed", "4", "--poll-interval", "0.05",
]


@pytest.fixture
def secret_standin(tmp_path, gold_by_question):
    config = StandInConfig(api_key=SECRET, validating_seconds=0.05, running_seconds=0.2, state_dir=tmp_path / "standin")
    with StandIn(config, gold_by_question=gold_by_question) as server:
        yield server


def files_containing(root, text: str) -> list[str]:
    needle = text.encode()
    return [str(path) for path in files_under(root) if needle in path.read_bytes()]


def test_key_absent_after_full_run(home, secret_standin):
    result = run_cli([*RUN_ARGS, "--wait", "--json"], home, secret_standin, TOGETHER_API_KEY=SECRET)
    assert result.returncode == 0, result.stderr
    run_id = result.json()["run_id"]
    outputs = [result.stdout, result.stderr]
    for args in (["status", "--json"], ["results", run_id, "--format", "csv"], ["report", run_id], ["metrics", run_id]):
        command = run_cli(args, home, secret_standin, TOGETHER_API_KEY=SECRET)
        assert command.returncode == 0, command.stderr
        outputs += [command.stdout, command.stderr]

    assert result.json()["status"] == "done"
    assert len(files_under(home)) > 5
    assert files_containing(home, SECRET) == []
    assert [output for output in outputs if SECRET in output] == []


def test_rejected_key_one_line_then_resume(home, secret_standin):
    """A 401 prints one clear line and stops; a restart with the right key finishes at once."""
    rejected = run_cli([*RUN_ARGS, "--wait"], home, secret_standin, TOGETHER_API_KEY=WRONG)

    assert rejected.returncode == 1
    assert rejected.stderr.splitlines()[-1] == "factdeck: error: Together rejected the API key (401) during upload"
    assert "Traceback" not in rejected.stderr
    assert [entry.status for entry in secret_standin.requests_log] == [401]
    assert files_containing(home, WRONG) == []
    assert WRONG not in rejected.stdout + rejected.stderr

    resumed = run_cli(["watch", "--until-done"], home, secret_standin, TOGETHER_API_KEY=SECRET)
    assert resumed.returncode == 0, resumed.stderr
    status = run_cli(["status", "--json"], home, secret_standin, TOGETHER_API_KEY=SECRET).json()
    assert [run["status"] for run in status] == ["done"]
    assert files_containing(home, SECRET) == []


def test_error_echoing_authorization_is_redacted(home, secret_standin):
    echoed = f"Bad request headers: Authorization: Bearer {SECRET}"
    secret_standin.add_fault(HttpFault(r"/v1/batches", method="POST", status=400, body={"error": {"message": echoed}}))
    harness = start_run(secret_standin, api_key=SECRET)

    harness.step()

    rejected = [message for message in harness.messages() if "batch creation rejected" in message]
    assert rejected == [
        f"run {harness.run_id} answers shard 1: batch creation rejected: Together returned 400 during create batch: "
        "Bad request headers: Authorization: [redacted]"
    ]
    assert files_containing(home, SECRET) == []


def test_credentials_file_mode_0600(tmp_path, monkeypatch):
    monkeypatch.delenv("TOGETHER_API_KEY", raising=False)
    credentials = tmp_path / "config" / "credentials.toml"
    credentials.parent.mkdir()
    credentials.write_text("old = 1\n")
    credentials.chmod(0o644)

    save_api_key(credentials, SECRET)

    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert find_api_key(credentials) == (SECRET, f"credentials file {credentials}")
    assert [path.name for path in credentials.parent.iterdir()] == ["credentials.toml"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {SECRET}", "Authorization: [redacted]"),
        ("{'authorization': 'Bearer abc.def'}", "{'authorization': '[redacted]'}"),
        ('"Authorization":"Bearer xyz"', '"Authorization":"[redacted]"'),
        (f"key {SECRET} leaked", "key [redacted] leaked"),
    ],
)
def test_redact_removes_key_and_header(text, expected):
    assert redact(text, SECRET) == expected
    assert not re.search(r"abc\.def|xyz|" + re.escape(SECRET), redact(text, SECRET))
