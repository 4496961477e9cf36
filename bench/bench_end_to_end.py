"""The local work inside a real 4,326-question run through the stand-in.

`factdeck run --provider together --wait --json` runs in a child process under cProfile, against
the stand-in with the test suite's timings (batches take 0.4 s). Local work is the time spent in
`Engine.step` minus the provider calls inside it (upload, create, retrieve, list, download: the
waits for the stand-in), plus starting the runs (`load_questions`, `start_runs`) and the final
`compute_metrics`. cProfile slows Python code down, so this figure overstates the real cost; the
process's CPU time (no profiler, a second run) is given beside it, with the CPU time of a process
that only imports the CLI and the SDK as its baseline.
"""

from __future__ import annotations

import pstats
import shutil
import tempfile
from pathlib import Path

from bench.common import DATASET, JUDGE_MODEL, STUDENT_MODEL, figure
from bench.factdeck_process import run_factdeck, run_python

PROVIDER_CALLS = ("upload", "create_batch", "retrieve", "list_batches", "cancel", "download", "list_models")
TARGET_SECONDS = 0.5


def local_seconds(profile: Path) -> float:
    """Sum the profiled local work of one run; see the module docstring for what counts."""
    stats = pstats.Stats(str(profile)).stats  # {(file, line, function): (calls, primitive, tottime, cumtime, callers)}

    def cumulative(file_suffix: str, names: tuple[str, ...]) -> float:
        return sum(
            entry[3]
            for (file, _, function), entry in stats.items()
            if file.endswith(file_suffix) and function in names
        )

    engine = cumulative("core/engine.py", ("step",))
    provider = cumulative("core/providers/together.py", PROVIDER_CALLS)
    start = cumulative("core/launch.py", ("load_questions", "start_runs"))
    metrics = cumulative("core/metrics.py", ("compute_metrics",))
    return engine - provider + start + metrics


def run(quick: bool = False) -> list[dict]:
    from tests.standin import StandIn, StandInConfig
    from tests.standin.oracle import load_gold_by_question

    folder = Path(tempfile.mkdtemp(prefix="factdeck-bench-e2e-"))
    arguments = [
        "run", "--provider", "together", "--model", STUDENT_MODEL, "--grader-model", JUDGE_MODEL,
        "--dataset", str(DATASET), "--poll-interval", "0.2", "--wait", "--json",
    ]
    try:
        gold = load_gold_by_question(DATASET)
        profile = folder / "run.prof"
        config = StandInConfig(validating_seconds=0.1, running_seconds=0.3, state_dir=folder / "standin-1")
        with StandIn(config, gold_by_question=gold) as standin:
            profiled = run_factdeck(["-m", "cProfile", "-o", str(profile), "-m", "cli.main"] + arguments, folder / "home-1", standin, module=False)
        config = StandInConfig(validating_seconds=0.1, running_seconds=0.3, state_dir=folder / "standin-2")
        with StandIn(config, gold_by_question=gold) as standin:
            plain = run_factdeck(arguments, folder / "home-2", standin)
        for result in (profiled, plain):
            if result.returncode != 0:
                raise RuntimeError(f"factdeck run failed ({result.returncode}):\n{result.stderr[-3000:]}")
            if result.json()["total"] != 4326:
                raise AssertionError(f"the run graded {result.json()['total']} questions, not 4,326")
        local = local_seconds(profile)
        imports = run_python(["-c", "import cli.main, cli.commands, core.launch, core.providers.together, together"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    return [
        figure(
            "end-to-end 4,326-question run: local work in engine code (profiled)",
            local,
            "s",
            None,
            f"< {TARGET_SECONDS} s",
            local < TARGET_SECONDS,
        ),
        figure(
            f"end-to-end 4,326-question run: process CPU time (wall {plain.wall_seconds:.1f} s)",
            plain.cpu_seconds,
            "s",
            imports.cpu_seconds,
            "reported (baseline: a process that only imports the CLI and SDK)",
            True,
        ),
    ]
