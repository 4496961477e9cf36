"""Run the `factdeck` command in a child process and read its own resource usage.

A small launcher process starts the command and reads its rusage with `os.wait4`, so the peak
memory (max RSS) and CPU time are the command's alone. Spawning it straight from the benchmark
process would not do: Linux carries the parent's peak RSS over into a child's `ru_maxrss` at
fork and exec, and the benchmark process holds the stand-in and its data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stdout: str
    stderr: str
    wall_seconds: float
    cpu_seconds: float
    max_rss_mb: float

    def json(self):
        return json.loads(self.stdout)


def run_factdeck(args: list[str], home: Path, standin=None, module: bool = True) -> ProcessResult:
    """Run `python -m cli.main ARGS` with FACTDECK_HOME=home, against the stand-in if given.

    With `module=False`, `args` are the Python arguments themselves (to run under a profiler).
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith("TOGETHER_")}
    environment["FACTDECK_HOME"] = str(home)
    if standin is not None:
        environment["TOGETHER_API_KEY"] = standin.config.api_key
        environment["TOGETHER_BASE_URL"] = standin.base_url
    return run_python(["-m", "cli.main", *args] if module else args, environment)


LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
report = {
    "returncode": os.waitstatus_to_exitcode(status),
    "wall_seconds": time.perf_counter() - start,
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "max_rss_kb": usage.ru_maxrss,
}
with open(sys.argv[1], "w") as out:
    json.dump(report, out)
"""


def run_python(args: list[str], environment: dict[str, str] | None = None) -> ProcessResult:
    """Run the venv's Python with `args` from the repository root; stdout and stderr go to files."""
    with tempfile.TemporaryDirectory(prefix="factdeck-bench-process-") as folder:
        usage_path = Path(folder) / "usage.json"
        with open(Path(folder) / "stdout", "w+") as stdout, open(Path(folder) / "stderr", "w+") as stderr:
            subprocess.run(
                [sys.executable, "-c", LAUNCHER, str(usage_path), sys.executable, *args],
                cwd=REPO, env=environment, stdout=stdout, stderr=stderr, check=True,
            )
            stdout.seek(0)
            stderr.seek(0)
            output, errors = stdout.read(), stderr.read()
        usage = json.loads(usage_path.read_text())
    # Linux reports ru_maxrss in kilobytes (macOS in bytes).
    max_rss_bytes = usage["max_rss_kb"] * (1 if sys.platform == "darwin" else 1024)
    return ProcessResult(
        returncode=usage["returncode"],
        stdout=output,
        stderr=errors,
        wall_seconds=usage["wall_seconds"],
        cpu_seconds=usage["cpu_seconds"],
        max_rss_mb=max_rss_bytes / 1_000_000,
    )



