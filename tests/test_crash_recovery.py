"""`kill -9` at each step that touches the provider, then a restart: the run finishes with every
question graded once and no batch created twice.

The kill is deterministic: `FACTDECK_TEST_CRASH_AT=POINT` makes factdeck SIGKILL itself at that
point (see core/crashpoints.py). Restarts are `watch`, and once the TUI's engine loop, which moves
runs with the same `Engine.step`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from types import SimpleNamespace

import pytest

from core import crashpoints
from core.batchfile import ShardLimits
from core.store import Store
from tests.conftest import API_KEY, DATASET, REPO, run_cli
from tests.faultkit import start_run
from tests.standin.oracle import expected_final_grade

MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
JUDGE = "Qwen/Qwen2.5-72B-Instruct-Turbo"
RUN_ARGS = [
    "run", "--provider", "together", "--model", MODEL, "--grader-model", JUDGE, "--dataset", str(DATASET),
    "--limit", "20", "--seed", "2", "--poll-interval", "0.05",
]

# What the store shows right after the kill at each point: (phase, stage) of the newest job.
STAGE_AT_KILL = {
    crashpoints.AFTER_UPLOAD: "uploading",
    crashpoints.AFTER_CREATE: "submitting",
    crashpoints.DURING_POLL: "submitted",
    crashpoints.DURING_DOWNLOAD: "downloading",
    crashpoints.DURING_INGEST: "downloading",
    crashpoints.AFTER_JUDGE_CREATE: "submitting",
}


def open_store(home) -> Store:
    return Store(home / "factdeck.sqlite3")


def check_finished_once(home, standin) -> None:
    """Every question has the oracle's final grade, and no input file or request was sent twice."""
    store = open_store(home)
    [run] = store.runs()
    assert run["status"] == "done"
    rows = store.questions(run["run_id"])
    assert len(rows) == 20
    assert {row["question_id"]: row["grade"] for row in rows} == {
        row["question_id"]: expected_final_grade(row["problem"], row["gold"], 3, 2) for row in rows
    }
    recorded = sorted(job["batch_id"] for job in store.jobs(run["run_id"]))
    assert recorded == sorted(batch_id for batch_id, _ in standin.creations)
    input_files = [input_file for _, input_file in standin.creations]
    assert len(input_files) == len(set(input_files))
    sent = Counter(custom_id for batch in standin.batches.values() for custom_id in batch.scan.custom_ids)
    assert [custom_id for custom_id, count in sent.items() if count > 1] == []
    store.close()


def all_jobs(home):
    store = open_store(home)
    jobs = store.jobs()
    store.close()
    return jobs


@pytest.mark.parametrize("point", crashpoints.POINTS)
def test_kill_run_wait_then_watch(point, home, standin):
    killed = run_cli([*RUN_ARGS, "--wait", "--json"], home, standin, FACTDECK_TEST_CRASH_AT=point)

    assert killed.returncode == -signal.SIGKILL
    assert killed.stdout == ""
    job = all_jobs(home)[-1]
    assert job["stage"] == STAGE_AT_KILL[point]
    assert job["phase"] == ("judge" if point == crashpoints.AFTER_JUDGE_CREATE else "answers")

    restarted = run_cli(["watch", "--until-done"], home, standin, timeout=120)
    assert restarted.returncode == 0, restarted.stderr
    check_finished_once(home, standin)


@pytest.mark.parametrize("point", [crashpoints.AFTER_CREATE, crashpoints.DURING_INGEST, crashpoints.AFTER_JUDGE_CREATE])
def test_kill_watch_then_watch(point, home, standin):
    started = run_cli(RUN_ARGS, home, standin)
    assert started.returncode == 0, started.stderr

    killed = run_cli(["watch", "--until-done"], home, standin, FACTDECK_TEST_CRASH_AT=point)
    assert killed.returncode == -signal.SIGKILL
    assert STAGE_AT_KILL[point] in {job["stage"] for job in all_jobs(home)}

    restarted = run_cli(["watch", "--until-done"], home, standin, timeout=120)
    assert restarted.returncode == 0, restarted.stderr
    check_finished_once(home, standin)


def test_kill_during_download_leaves_partial_file(home, standin):
    """The killed download leaves only a `.part` file, which the restart replaces with the full one."""
    run_cli([*RUN_ARGS, "--wait"], home, standin, FACTDECK_TEST_CRASH_AT=crashpoints.DURING_DOWNLOAD)
    outputs = sorted(path.name for path in home.glob("runs/*/outputs/*"))
    assert len(outputs) == 1
    assert re.fullmatch(r"job1-output\.jsonl\.\d+\.part", outputs[0])

    run_cli(["watch", "--until-done"], home, standin, timeout=120)
    outputs = sorted(path.name for path in home.glob("runs/*/outputs/*"))
    assert "job1-output.jsonl" in outputs
    assert [name for name in outputs if name.endswith(".part")] == []
    check_finished_once(home, standin)


def test_two_watchers_submit_each_shard_once(home, standin):
    """Two processes moving the same run at once (TUI and `watch`) create each batch exactly once."""
    # The run is recorded but not stepped, so both watchers race for its very first uploads too.
    harness = start_run(standin, limits=ShardLimits(max_requests=4))
    harness.store.close()
    environment = {
        **{key: value for key, value in os.environ.items() if not key.startswith("TOGETHER_")},
        "FACTDECK_HOME": str(home), "TOGETHER_API_KEY": API_KEY, "TOGETHER_BASE_URL": standin.base_url,
    }
    watchers = [
        subprocess.Popen([sys.executable, "-m", "cli.main", "watch", "--until-done"], cwd=REPO, env=environment,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [watcher.communicate(timeout=120) for watcher in watchers]

    assert [watcher.returncode for watcher in watchers] == [0, 0], [stderr for _, stderr in outputs]
    jobs = all_jobs(home)
    assert len([job for job in jobs if job["phase"] == "answers" and job["attempt"] == 1]) == 5
    check_finished_once(home, standin)


def test_tui_engine_loop_finishes_killed_run(home, standin, monkeypatch):
    """The TUI's engine loop moves runs with the same Engine.step, so it too finishes a killed run."""
    from core.config import Config
    from core.paths import resolve_paths
    from tui.backend import EngineFailed, EngineLoop, open_workspace

    killed = run_cli([*RUN_ARGS, "--wait"], home, standin, FACTDECK_TEST_CRASH_AT=crashpoints.AFTER_CREATE)
    assert killed.returncode == -signal.SIGKILL
    monkeypatch.setenv("TOGETHER_API_KEY", API_KEY)
    monkeypatch.setenv("TOGETHER_BASE_URL", standin.base_url)
    posted: list = []
    app = SimpleNamespace(post_message=posted.append)
    paths = resolve_paths()
    loop = EngineLoop(app, paths, Config(), tick_seconds=0.05)
    workspace = open_workspace(paths, Config())

    deadline = time.monotonic() + 60
    while workspace.store.unfinished_run_ids():
        assert time.monotonic() < deadline, posted[-1:]
        loop._tick(workspace, "tick", None)
        time.sleep(0.05)
    workspace.store.close()

    assert [message for message in posted if isinstance(message, EngineFailed)] == []
    check_finished_once(home, standin)
