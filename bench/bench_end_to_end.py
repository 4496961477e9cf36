"""The local work inside a real 4,326-question run through the stand-in.

`factdeck run --provider together --wait --json` runs in a child process against the stand-in
with the test suite's timings (batches take 0.4 s). A wrapper wraps a few functions in wall-clock
timers before calling the CLI. Local work is the time in `Engine.step` minus the provider calls
inside it (upload, create, retrieve, list, cancel, download: the waits for the stand-in), plus
loading the dataset, recording the run and computing the final metrics. SDK start-up (its first
import, about 0.4 s) happens inside the first provider call, so it is not counted either. The
process's CPU time is given as a second figure, beside the CPU time of a process that only
imports the CLI and the SDK.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from bench.common import DATASET, JUDGE_MODEL, STUDENT_MODEL, figure
from bench.factdeck_process import run_factdeck, run_python

# Runs `cli.main.main(argv[2:])` with timers around the functions named in TIMED; writes their
# total seconds to argv[1] as JSON when the command returns.
TIMED_CLI = """
import json, sys, time
from collections import Counter

totals = Counter()

def timed(owner, name, key):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start
    setattr(owner, name, wrapper)

import cli.commands, core.launch
from core.engine import Engine
from core.providers.together import TogetherProvider

timed(Engine, "step", "step")
for name in ("upload", "create_batch", "retrieve", "list_batches", "cancel", "download"):
    timed(TogetherProvider, name, "provider")
timed(core.launch, "load_questions", "start")
timed(core.launch, "start_runs", "start")
timed(cli.commands, "_print_final_metrics", "metrics")

from cli.main import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump(totals, out)
sys.exit(code)
"""


def run(quick: bool = False) -> list[dict]:
    from tests.standin import StandIn, StandInConfig
    from tests.standin.oracle import load_gold_by_question

    folder = Path(tempfile.mkdtemp(prefix="factdeck-bench-e2e-"))
    arguments = [
        "run", "--provider", "together", "--model", STUDENT_MODEL, "--grader-model", JUDGE_MODEL,
        "--dataset", str(DATASET), "--poll-interval", "0.2", "--wait", "--json",
    ]
    try:
        timers = folder / "timers.json"
        config = StandInConfig(validating_seconds=0.1, running_seconds=0.3, state_dir=folder / "standin")
        with StandIn(config, gold_by_question=load_gold_by_question(DATASET)) as standin:
            result = run_factdeck(["-c", TIMED_CLI, str(timers), *arguments], folder / "home", standin, module=False)
        if result.returncode != 0:
            raise RuntimeError(f"factdeck run failed ({result.returncode}):\n{result.stderr[-3000:]}")
        if result.json()["total"] != 4326:
            raise AssertionError(f"the run graded {result.json()['total']} questions, not 4,326")
        totals = json.loads(timers.read_text())
        imports = run_python(["-c", "import cli.main, cli.commands, core.launch, core.providers.together, together"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    local = totals["step"] - totals["provider"] + totals["start"] + totals["metrics"]
    return [
        figure(
            f"end-to-end 4,326-question run: local work (wall {result.wall_seconds:.1f} s, provider calls {totals['provider']:.2f} s)",
            local,
            "s",
            None,
            "reported (no target: includes 3 answer and 2 judge rounds and parsing the CSV)",
            True,
        ),
        figure(
            "end-to-end 4,326-question run: process CPU time",
            result.cpu_seconds,
            "s",
            imports.cpu_seconds,
            "reported (baseline: a process that only imports the CLI and SDK)",
            True,
        ),
    ]
