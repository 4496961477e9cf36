"""Speed and memory benchmarks of factdeck, run with `python -m bench` from the repository root.

Each `bench_*.py` module exposes `run(quick: bool = False) -> list[dict]`; every dict is one
figure with its baseline measured in the same run (see `bench.common.figure`). Benchmarks are
not part of the test suite, because timings on a shared machine would make tests flaky.
"""
