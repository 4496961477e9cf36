"""The subcommands: run, status, metrics, results, report, watch, cancel, orphans."""

from __future__ import annotations

import argparse
import json
import sys
import time

from cli.output import print_metrics, print_results_table, print_status
from core.batchfile import ShardLimits
from core.errors import FactdeckError
from core.grading import ALL_GRADES
from core.runs import FINISHED_STATUSES
from core.text import one_line
from core.workspace import Workspace, configure_logging


def add_subcommands(subparsers) -> None:
    run = subparsers.add_parser("run", help="start a SimpleQA run (one per --model) and optionally wait for it")
    run.add_argument("--provider", choices=("together", "mock"), help="batch provider (mock is simulated and offline)")
    run.add_argument("--model", action="append", dest="models", metavar="MODEL", help="student model; repeat for several runs")
    run.add_argument("--grader-model", metavar="MODEL", help="judge model that grades every answer")
    run.add_argument("--dataset", metavar="PATH_OR_URL", help="SimpleQA-shaped CSV (default: the official file, cached)")
    run.add_argument("--limit", type=_positive_int, metavar="N", help="sample N questions (default: all)")
    run.add_argument("--seed", type=int, metavar="S", help="seed of the sample (default 0)")
    run.add_argument("--poll-interval", type=_positive_float, metavar="SECONDS", help="seconds between status requests per batch job")
    run.add_argument("--max-tokens", type=_positive_int, metavar="N", help="maximum tokens per student answer")
    run.add_argument("--temperature", type=_temperature, metavar="T", help="student sampling temperature, 0 to 2 (default 0)")
    run.add_argument("--student-template", metavar="PATH", help="student prompt template with a {question} placeholder")
    run.add_argument("--judge-template", metavar="PATH", help="judge prompt template (default: the official SimpleQA grader prompt)")
    run.add_argument("--max-shard-requests", type=_positive_int, default=ShardLimits.max_requests, metavar="N", help=argparse.SUPPRESS)
    run.add_argument("--max-shard-bytes", type=_positive_int, default=ShardLimits.max_bytes, metavar="BYTES", help=argparse.SUPPRESS)
    run.add_argument("--wait", action="store_true", help="keep moving the run until it is graded")
    run.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")

    status = subparsers.add_parser("status", help="list runs and their batch jobs")
    status.add_argument("--json", action="store_true", help="print a JSON list of runs")

    metrics = subparsers.add_parser("metrics", help="show a run's metrics")
    metrics.add_argument("run_id", metavar="RUN_ID")
    metrics.add_argument("--json", action="store_true", help="print the metrics JSON")

    results = subparsers.add_parser("results", help="list a run's questions with their grades")
    results.add_argument("run_id", metavar="RUN_ID")
    results.add_argument("--grade", action="append", type=str.upper, choices=ALL_GRADES, help="keep only this grade (repeatable)")
    results.add_argument("--topic", action="append", help="keep only this topic (repeatable)")
    results.add_argument("--format", choices=("table", "csv", "jsonl"), default="table", help="output format (default table)")

    report = subparsers.add_parser("report", help="print a Markdown report of a run")
    report.add_argument("run_id", metavar="RUN_ID")

    watch = subparsers.add_parser("watch", help="keep moving every unfinished run forward")
    watch.add_argument("--until-done", action="store_true", help="exit once no unfinished run is left")

    cancel = subparsers.add_parser("cancel", help="cancel a run: stop its batches and submit nothing new (results already produced are kept)")
    cancel.add_argument("run_id", metavar="RUN_ID")

    orphans = subparsers.add_parser("orphans", help="list batches on the account that no run knows about, or adopt or ignore one")
    orphans.add_argument("action", nargs="?", choices=("list", "adopt", "ignore"), default="list", help="what to do (default list)")
    orphans.add_argument("batch_id", nargs="?", metavar="BATCH_ID", help="the batch to adopt or ignore")


def command_run(args) -> int:
    from core.launch import load_questions, request_from_config, start_runs

    workspace = _workspace()
    if workspace.loaded.problems:
        raise FactdeckError(
            f"{workspace.paths.config_file} has problems (listed above); fix them before starting a run, "
            "because the run would otherwise use settings you did not choose"
        )
    request = request_from_config(
        workspace,
        provider=args.provider,
        models=tuple(args.models) if args.models else None,
        grader_model=args.grader_model,
        dataset=args.dataset,
        limit=args.limit,
        seed=args.seed,
        poll_interval=args.poll_interval,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        student_template=args.student_template,
        judge_template=args.judge_template,
        limits=ShardLimits(max_requests=args.max_shard_requests, max_bytes=args.max_shard_bytes),
    )
    dataset, questions = load_questions(workspace, request)
    for warning in dataset.warnings[:10]:
        _progress(f"warning: {warning}")
    if len(dataset.warnings) > 10:
        _progress(f"warning: {len(dataset.warnings) - 10} more dataset warnings in the log")

    provider = workspace.provider(request.provider)
    run_ids = start_runs(workspace, request, dataset, questions)
    label = " (SIMULATED: mock provider)" if provider.simulated else ""
    for run_id, model in zip(run_ids, request.models):
        _progress(f"run {run_id}: {model}, {len(questions)} questions{label}")

    engine = workspace.engine()
    for run_id in run_ids:
        _print_events(engine.step(run_id))
    if not args.wait:
        if args.json:
            print(json.dumps({"run_ids": run_ids}))
        else:
            print("\n".join(run_ids))
        return 0

    _wait(workspace, engine, run_ids)
    return _print_final_metrics(workspace, run_ids, args.json)


def _wait(workspace: Workspace, engine, run_ids: list[str]) -> None:
    while True:
        unfinished = [run_id for run_id in run_ids if workspace.store.run(run_id)["status"] not in FINISHED_STATUSES]
        if not unfinished:
            return
        for run_id in unfinished:
            _print_events(engine.step(run_id))
        time.sleep(_pause(workspace, unfinished))


def _pause(workspace: Workspace, run_ids: list[str]) -> float:
    """Sleep until the next job is due, between 0.05 s and 5 s, so short poll intervals work."""
    marks = ",".join("?" * len(run_ids))
    rows = workspace.store.query(
        f"SELECT MIN(next_poll_at) FROM batch_jobs WHERE run_id IN ({marks}) AND stage != 'ingested'", run_ids
    )
    due = rows[0][0]
    if due is None:
        return 0.05
    return min(max(due - time.time(), 0.05), 5.0)


def _print_final_metrics(workspace: Workspace, run_ids: list[str], as_json: bool) -> int:
    from core.report import metrics_json

    all_metrics = [metrics_json(workspace.store, run_id) for run_id in run_ids]
    if as_json:
        print(json.dumps(all_metrics[0] if len(all_metrics) == 1 else all_metrics, indent=2))
    else:
        for metrics in all_metrics:
            print_metrics(metrics)
    return 0


def command_status(args) -> int:
    workspace = _workspace()
    runs = workspace.store.runs()
    listing = []
    for run in runs:
        jobs = workspace.store.jobs(run["run_id"])
        listing.append({
            "run_id": run["run_id"],
            "status": run["status"],
            "model": run["model"],
            "grader_model": run["grader_model"],
            "provider": run["provider"],
            "simulated": bool(run["simulated"]),
            "created_at": _iso(run["created_at"]),
            "finished_at": _iso(run["finished_at"]),
            "jobs": [
                {
                    "job_id": job["job_id"],
                    "batch_id": job["batch_id"],
                    "phase": job["phase"],
                    "attempt": job["attempt"],
                    "shard": job["shard"],
                    "stage": job["stage"],
                    "status": job["status"],
                    "progress": job["progress"],
                    "requests": job["n_requests"],
                    "succeeded": job["n_succeeded"],
                    "failed": job["n_failed"],
                    "last_error": job["last_error"],
                }
                for job in jobs
            ],
        })
    if args.json:
        print(json.dumps(listing, indent=2))
    else:
        print_status(listing)
    orphans = _list_orphans(workspace)
    if orphans and args.json:
        _progress(f"{len(orphans)} batch(es) on the account belong to no run; `factdeck orphans` lists them")
    elif orphans:
        _print_orphans(orphans)
    return 0


def command_orphans(args) -> int:
    from core import orphans

    workspace = _workspace()
    if args.action == "list":
        found = _list_orphans(workspace)
        if found is None:
            raise FactdeckError("could not list the batches on the account (see the warning above)")
        if found:
            _print_orphans(found)
        else:
            print("no orphan batches: every batch on the account belongs to a run or was ignored")
        return 0
    if not args.batch_id:
        raise FactdeckError(f"`factdeck orphans {args.action}` needs a BATCH_ID; `factdeck orphans` lists them")
    if args.action == "ignore":
        orphans.ignore(workspace.store, args.batch_id)
        _progress(f"batch {args.batch_id} is ignored; it is no longer listed as an orphan")
        return 0
    name, provider = _account_provider(workspace)
    if provider is None:
        raise FactdeckError(f"cannot reach the {name} account: no API key; set TOGETHER_API_KEY")
    job_id = orphans.adopt(workspace.store, provider, args.batch_id)
    job = workspace.store.job(job_id)
    _progress(f"batch {args.batch_id} adopted by run {job['run_id']} job {job_id}; `factdeck watch` finishes it")
    return 0


def _account_provider(workspace: Workspace):
    """Return (name, provider) for the account orphans are looked for on, or (name, None) without a key.

    Listing must stay quick in `status`, so the Together client gets a short timeout and no retries.
    """
    name = workspace.config.provider.name
    if name == "mock":
        return name, workspace.provider("mock")
    from core.providers.together import TogetherProvider
    from core.secrets import find_api_key

    key, _ = find_api_key(workspace.paths.credentials_file)
    if not key:
        return name, None
    return name, TogetherProvider(api_key=key, base_url=workspace.config.provider.base_url, max_retries=0, timeout=5.0)


def _list_orphans(workspace: Workspace) -> list | None:
    """Return the orphan batches, or None when the account could not be listed."""
    from core.orphans import find_orphans
    from core.providers.base import ProviderError

    name, provider = _account_provider(workspace)
    if provider is None:
        return []
    try:
        return find_orphans(workspace.store, provider)
    except ProviderError as error:
        _progress(f"warning: could not list the batches on the {name} account: {error}")
        return None


def _print_orphans(found: list) -> None:
    print("orphan batches (on the account, in no run; `factdeck orphans adopt|ignore BATCH_ID`):")
    for orphan in found:
        info = orphan.batch
        match = f"  made for run {orphan.run_id} job {orphan.job_id}" if orphan.job_id else ""
        print(f"    {info.batch_id:<38} {one_line(info.status):<12} input {one_line(info.input_file_id or '-')}{match}")


def command_metrics(args) -> int:
    from core.report import metrics_json

    workspace = _workspace()
    _require_run(workspace, args.run_id)
    metrics = metrics_json(workspace.store, args.run_id)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print_metrics(metrics)
    return 0


def command_results(args) -> int:
    from core.report import result_rows, to_csv, to_jsonl

    workspace = _workspace()
    _require_run(workspace, args.run_id)
    rows = result_rows(workspace.store, args.run_id, set(args.grade or ()), set(args.topic or ()))
    if args.format == "jsonl":
        sys.stdout.writelines(to_jsonl(rows))
    elif args.format == "csv":
        sys.stdout.writelines(to_csv(rows))
    else:
        print_results_table(rows)
    return 0


def command_report(args) -> int:
    from core.report import markdown_report

    workspace = _workspace()
    _require_run(workspace, args.run_id)
    sys.stdout.write(markdown_report(workspace.store, args.run_id))
    return 0


def command_watch(args) -> int:
    workspace = _workspace()
    engine = workspace.engine()
    _progress("watching unfinished runs; Ctrl-C stops watching (runs continue at the provider)")
    while True:
        run_ids = workspace.store.unfinished_run_ids()
        if not run_ids and args.until_done:
            _progress("no unfinished run left")
            return 0
        for run_id in run_ids:
            _print_events(engine.step(run_id))
        time.sleep(_pause(workspace, run_ids) if run_ids else workspace.config.jobs.poll_interval)


def command_cancel(args) -> int:
    workspace = _workspace()
    _require_run(workspace, args.run_id)
    if workspace.store.run(args.run_id)["status"] in FINISHED_STATUSES:
        _progress(f"run {args.run_id} is already {workspace.store.run(args.run_id)['status']}")
        return 0
    engine = workspace.engine()
    _print_events(engine.cancel_run(args.run_id))
    _print_events(engine.step(args.run_id))
    return 0


COMMANDS = {
    "run": command_run,
    "status": command_status,
    "metrics": command_metrics,
    "results": command_results,
    "report": command_report,
    "watch": command_watch,
    "cancel": command_cancel,
    "orphans": command_orphans,
}


def _workspace() -> Workspace:
    workspace = Workspace()
    configure_logging(workspace.paths)
    for problem in workspace.loaded.problems:
        consequence = "this setting is ignored" if problem.key else "using the defaults"
        _progress(f"warning: {problem} ({consequence})")
    return workspace


def _require_run(workspace: Workspace, run_id: str) -> None:
    if workspace.store.run(run_id) is None:
        raise FactdeckError(f"no run {run_id!r}; `factdeck status` lists the runs")


def _print_events(events) -> None:
    for event in events:
        _progress(event.message)


def _progress(message: str) -> None:
    print(f"factdeck: {message}", file=sys.stderr, flush=True)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return value
