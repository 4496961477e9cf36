"""Provider faults, one row each: the run still ends with every question graded exactly as a
correct client must grade it, nothing is submitted twice, and the user sees a clear message.

Each row runs a 20-question run (answers, judge and their retries) through the real `together`
SDK against the stand-in, with one fault injected. `replay_grades` gives the exact grade of every
question from what the stand-in processed and which results the fault lost.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from core.batchfile import Request, ShardLimits, check_batch_file, split_into_shards
from core.engine import Engine
from core.errors import BatchFileError
from core.grading import parse_grade
from core.providers.together import TogetherProvider
from tests.conftest import DATASET, run_cli
from tests.faultkit import JUDGE_MODEL, Harness, assert_nothing_sent_twice, faulted_custom_ids, replay_grades, start_run
from tests.standin import BatchFault, BatchFaultKind, HttpFault, StandIn, StandInConfig

CREATE = r"/v1/batches"
UPLOAD = r"/v1/files"
RETRIEVE = r"/v1/batches/[^/]+"
NO_JOB_WARNING = "Batch creation is paused for this model; try again later."


def nothing_lost(standin: StandIn) -> set[str]:
    return set()


def faulted_lines_lost(standin: StandIn) -> set[str]:
    return faulted_custom_ids(standin)


def first_batch_output_lost(standin: StandIn) -> set[str]:
    first = next(batch_id for batch_id, batch in standin.batches.items() if batch.ordinal == 1)
    return set(standin.processed_custom_ids(first))


@dataclass
class FaultCase:
    """One fault, what it costs (`lost`), and a pattern every run with it must show the user."""

    name: str
    message: str
    http_faults: list[HttpFault] = field(default_factory=list)
    batch_faults: list[BatchFault] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    lost: Callable[[StandIn], set[str]] = nothing_lost
    timeout: float | None = None
    run_status: str = "done"
    log: str | None = None
    """A pattern one of factdeck's log records must match, when the fault is only logged."""


CASES = [
    FaultCase(
        "429 with Retry-After on create",
        r"answers shard 1: rate limited, retrying in 1 s$",
        http_faults=[HttpFault(CREATE, method="POST", status=429, headers={"Retry-After": "1"})],
    ),
    FaultCase(
        "429 without Retry-After on upload",
        r"answers shard 1: rate limited, retrying in 1 s$",
        http_faults=[HttpFault(UPLOAD, method="POST", status=429)],
    ),
    FaultCase(
        "500 on create",
        r"answers shard 1: Together returned 500 during create batch: .*Injected fault: status 500.* \(retrying in 1 s\)$",
        http_faults=[HttpFault(CREATE, method="POST", status=500)],
    ),
    FaultCase(
        "502 on upload",
        r"answers shard 1: Together returned 502 during upload: .*\(retrying in 1 s\)$",
        http_faults=[HttpFault(UPLOAD, method="POST", status=502)],
    ),
    FaultCase(
        # The SDK retries a GET twice itself, so three 503s in a row reach the engine as one.
        "503 on every poll try",
        r"answers shard 1: Together returned 503 during retrieve batch: .*\(retrying in 1 s\)$",
        http_faults=[HttpFault(RETRIEVE, method="GET", status=503, times=3)],
    ),
    FaultCase(
        # The stand-in creates the batch after the client gave up: the engine must adopt it.
        "timeout on create",
        r"answers shard 1: adopted batch [0-9a-f-]{36}$",
        http_faults=[HttpFault(CREATE, method="POST", delay_seconds=0.8)],
        timeout=0.3,
    ),
    FaultCase(
        # Three tries because the SDK retries a GET twice itself; the engine then downloads again.
        "timeout on every download try",
        r"answers shard 1: offline since \d\d:\d\d, retrying in 1 s$",
        http_faults=[HttpFault(r"/v1/files/[^/]+/content", method="GET", delay_seconds=0.8, times=3)],
        timeout=0.3,
    ),
    FaultCase(
        "connection dropped on create",
        r"answers shard 1: offline since \d\d:\d\d, retrying in 1 s$",
        http_faults=[HttpFault(CREATE, method="POST", drop_connection=True)],
    ),
    FaultCase(
        "create returns no job",
        rf"answers shard 1: Together created no batch for file-[0-9a-f-]+: {re.escape(NO_JOB_WARNING)} \(retrying in 1 s\)$",
        http_faults=[HttpFault(CREATE, method="POST", status=200, body={"job": None, "warning": NO_JOB_WARNING})],
    ),
    FaultCase(
        "400 on create",
        r"answers shard 1: batch creation rejected: Together returned 400 during create batch: .*Injected fault: status 400",
        http_faults=[HttpFault(CREATE, method="POST", status=400)],
    ),
    FaultCase(
        "batch FAILED with a message",
        r"answers shard 1 FAILED: 0 succeeded, 20 failed \(20 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.FAIL, message="Batch failed: the model is unavailable.")],
    ),
    FaultCase(
        "batch EXPIRED half done",
        r"answers shard 1 EXPIRED: \d+ succeeded, \d+ failed \(\d+ to retry\)$",
        config={"expire_batches": frozenset({1}), "expire_at_progress": 50.0},
    ),
    FaultCase(
        "COMPLETED with an error file of response lines",
        r"answers shard 1 COMPLETED: 19 succeeded, 1 failed \(1 to retry\)$",
        config={"error_line_shape": "response"},
    ),
    FaultCase(
        "COMPLETED with output_file_id null",
        r"answers shard 1 COMPLETED: 0 succeeded, 20 failed \(20 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.NULL_OUTPUT_FILE)],
        lost=first_batch_output_lost,
    ),
    FaultCase(
        "COMPLETED with error_file_id empty",
        r"answers shard 1 COMPLETED: 19 succeeded, 1 failed \(1 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.EMPTY_ERROR_FILE_ID)],
    ),
    FaultCase(
        "output lines that are not JSON",
        r"answers shard 1 COMPLETED: 16 succeeded, 4 failed \(4 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.NON_JSON_LINE, lines=3)],
        lost=faulted_lines_lost,
        log=r"job 1 \(batch [0-9a-f-]+\): .*job1-output\.jsonl:\d+: not valid JSON; line ignored$",
    ),
    FaultCase(
        "output lines naming unsent custom_ids",
        r"answers shard 1 COMPLETED: 19 succeeded, 1 failed \(1 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.UNKNOWN_CUSTOM_ID, lines=2)],
        log=r"job1-output\.jsonl:\d+: custom_id 'never-sent-2' was not sent in this batch; line ignored$",
    ),
    FaultCase(
        "output lines repeating a custom_id",
        r"answers shard 1 COMPLETED: 19 succeeded, 1 failed \(1 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.DUPLICATE_CUSTOM_ID, lines=3)],
        log=r"job1-output\.jsonl:\d+: custom_id '[\w-]+' appears again; the first result is kept$",
    ),
    FaultCase(
        "output lines with status_code 500",
        r"answers shard 1 COMPLETED: 16 succeeded, 4 failed \(4 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.ERROR_STATUS_CODE, lines=3)],
        lost=faulted_lines_lost,
    ),
    FaultCase(
        "output lines with null content",
        r"answers shard 1 COMPLETED: 17 succeeded, 3 failed \(3 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.NULL_CONTENT, lines=2)],
        lost=faulted_lines_lost,
    ),
    FaultCase(
        "judge lines with empty content",
        # A faulted line may also be one whose first judge reply names no grade: 3 or 4 retries.
        r"judge shard 1 COMPLETED: 17 succeeded, 2 failed \([34] to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.EMPTY_CONTENT, lines=2, model_pattern=re.escape(JUDGE_MODEL))],
        lost=faulted_lines_lost,
    ),
    FaultCase(
        "status the SDK does not know",
        r"answers shard 1 COMPLETED: 19 succeeded, 1 failed \(1 to retry\)$",
        batch_faults=[BatchFault(BatchFaultKind.UNKNOWN_STATUS, status="QUEUED")],
        log=r"job 1: batch [0-9a-f-]+ reports status 'QUEUED', which factdeck does not know; it is polled until it ends$",
    ),
]


@pytest.fixture
def make_standin(tmp_path, gold_by_question):
    servers: list[StandIn] = []

    def make(**config) -> StandIn:
        config = StandInConfig(**{"validating_seconds": 0.05, "running_seconds": 0.2, "state_dir": tmp_path / "standin", **config})
        server = StandIn(config, gold_by_question=gold_by_question).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fault(case: FaultCase, home, make_standin, caplog):
    standin = make_standin(http_faults=list(case.http_faults), batch_faults=list(case.batch_faults), **case.config)
    provider_for = None
    if case.timeout is not None:
        provider = TogetherProvider("test-key", base_url=standin.base_url, timeout=case.timeout)
        provider_for = lambda name: provider  # noqa: E731
    harness = start_run(standin, provider_for=provider_for)

    harness.drive()

    assert harness.store.run(harness.run_id)["status"] == case.run_status
    assert [message for message in harness.messages() if re.search(case.message, message)] != [], harness.messages()
    assert harness.grades() == replay_grades(harness, case.lost(standin))
    assert_nothing_sent_twice(harness)
    assert all(fault.times == 0 for fault in standin.http_faults + standin.batch_faults)
    if case.log:
        logged = [record.getMessage() for record in caplog.records if record.name.startswith("core.")]
        assert [line for line in logged if re.search(case.log, line)] != [], logged


def test_baseline_grades_match_oracle(home, make_standin):
    """With no fault the replay agrees with the oracle's own end-to-end answer, so rows compare to truth."""
    from tests.standin.oracle import expected_final_grade

    harness = start_run(make_standin())
    harness.drive()

    expected = {row["question_id"]: expected_final_grade(row["problem"], row["gold"], 3, 2) for row in harness.store.questions(harness.run_id)}
    assert harness.grades() == expected
    assert replay_grades(harness, set()) == expected
    assert sorted(expected.values()).count("CORRECT") == 11


def test_cancelled_outside_factdeck(home, make_standin):
    """A batch cancelled in the provider's console is respected: done requests are kept and graded."""
    standin = make_standin(running_seconds=0.6)
    harness = start_run(standin)
    harness.drive(until=lambda: (harness.store.jobs(harness.run_id) or [{"status": None}])[0]["status"] == "IN_PROGRESS")
    time.sleep(0.3)
    standin.cancel_externally(harness.store.jobs(harness.run_id)[0]["batch_id"])

    harness.drive()

    processed = {custom_id.rsplit("-", 1)[1] for custom_id in standin.processed_custom_ids(harness.store.jobs(harness.run_id)[0]["batch_id"])}
    rows = harness.store.questions(harness.run_id)
    unanswered = [row for row in rows if str(row["question_id"]) not in processed]
    assert harness.store.run(harness.run_id)["status"] == "cancelled"
    assert 0 < len(processed) < 20
    assert {row["grade"] for row in unanswered} == {"FAILED"}
    assert {row["failure_reason"] for row in unanswered} == {
        "no answer after 1 attempt(s): the batch was cancelled at the provider (not by factdeck) before this request ran"
    }
    answered = {row["question_id"]: row["grade"] for row in rows if str(row["question_id"]) in processed}
    expected = replay_grades(harness, set(), max_answer_attempts=1)
    assert answered == {question_id: expected[question_id] for question_id in answered}
    assert_nothing_sent_twice(harness)


def test_connection_refused_then_back(home, make_standin):
    """With nothing listening the job waits "offline" and loses nothing; it finishes once the API is back."""
    standin = make_standin()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    current = [TogetherProvider("test-key", base_url=f"http://127.0.0.1:{dead_port}", max_retries=0)]
    harness = start_run(standin, provider_for=lambda name: current[0])

    harness.step()
    job = harness.store.jobs(harness.run_id)[0]
    assert (job["stage"], job["error_count"]) == ("uploading", 1)
    assert re.fullmatch(r"offline since \d\d:\d\d, retrying in 1 s", job["last_error"])
    current[0] = TogetherProvider("test-key", base_url=standin.base_url)
    harness.drive()

    assert harness.grades() == replay_grades(harness, set())
    assert_nothing_sent_twice(harness)


def test_rejected_key_stops_without_retry_storm(home, make_standin):
    """A 401 is raised to the caller once; the same process does not call again for 15 minutes."""
    from core.providers.base import ProviderError

    standin = make_standin()
    harness = start_run(standin, api_key="wrong-key")

    with pytest.raises(ProviderError) as raised:
        harness.step()
    for _ in range(5):
        harness.step()

    assert raised.value.kind == "auth"
    assert str(raised.value) == "Together rejected the API key (401) during upload"
    assert [(entry.method, entry.path, entry.status) for entry in standin.requests_log] == [("POST", "/v1/files", 401)]
    job = harness.store.jobs(harness.run_id)[0]
    assert job["last_error"] == "Together rejected the API key (401) during upload"
    assert job["next_poll_at"] - time.time() > 800

    # Once a right key is saved, retry_now makes the job due at once.
    provider = TogetherProvider("test-key", base_url=standin.base_url)
    restarted = Harness(harness.workspace, standin, harness.run_id, Engine(harness.store, harness.workspace.paths, lambda name: provider))
    assert restarted.engine.retry_now(harness.run_id) == 1
    restarted.drive()
    assert restarted.store.run(harness.run_id)["status"] == "done"
    assert restarted.grades() == replay_grades(restarted, set())


# Bad input: through the CLI where a user meets it, one clear line, no traceback, nothing changed.

MOCK_RUN = ["run", "--provider", "mock", "--model", "mock/student-small", "--grader-model", "mock/judge", "--limit", "3"]
NOT_UTF8 = b'metadata,problem,answer\n"{}",Caf\xe9 owner?,Ann\n'
NOT_UTF8_OFFSET = NOT_UTF8.index(b"\xe9")


@dataclass
class BadInput:
    """Files to write (under the test's FACTDECK_HOME), the command, and its one expected stderr line."""

    name: str
    files: dict[str, bytes]
    args: list[str]
    returncode: int
    line: str


BAD_INPUTS = [
    BadInput("dataset missing a column", {"data.csv": b"problem,answer\nWho?,Ann\n"}, [*MOCK_RUN, "--dataset", "{data.csv}"], 1,
             "factdeck: error: {data.csv}: missing column(s) metadata; found problem, answer"),
    BadInput("dataset empty", {"data.csv": b""}, [*MOCK_RUN, "--dataset", "{data.csv}"], 1,
             "factdeck: error: {data.csv}: the file is empty"),
    BadInput("dataset not UTF-8", {"data.csv": NOT_UTF8}, [*MOCK_RUN, "--dataset", "{data.csv}"], 1,
             f"factdeck: error: {{data.csv}}:2: the file is not valid UTF-8 (byte 0xe9 at offset {NOT_UTF8_OFFSET})"),
    BadInput("dataset metadata not a dict",
             {"data.csv": b'metadata,problem,answer\n"{\'topic\': \'Art\'}",Who?,Ann\n"[1, 2]",Where?,Oslo\n'},
             [*MOCK_RUN, "--dataset", "{data.csv}"], 0,
             "factdeck: warning: {data.csv}:3: metadata is not a Python dict literal; topic and answer type set to unknown"),
    BadInput("dataset duplicate question", {"data.csv": b'metadata,problem,answer\n{},Who?,Ann\n{},Who?,Bob\n'},
             [*MOCK_RUN, "--dataset", "{data.csv}"], 0,
             "factdeck: warning: {data.csv}:3: duplicate of the question on line 2"),
    BadInput("student template without placeholder",
             {"data.csv": b'metadata,problem,answer\n{},Who?,Ann\n', "student.txt": b"Answer briefly.\n"},
             [*MOCK_RUN, "--dataset", "{data.csv}", "--student-template", "{student.txt}"], 1,
             "factdeck: error: {student.txt}: the student template is missing the placeholder(s) {question}"),
    BadInput("judge template without target",
             {"data.csv": b'metadata,problem,answer\n{},Who?,Ann\n', "judge.txt": b"Q: {question}\nA: {predicted_answer}\n"},
             [*MOCK_RUN, "--dataset", "{data.csv}", "--judge-template", "{judge.txt}"], 1,
             "factdeck: error: {judge.txt}: the judge template is missing the placeholder(s) {target}"),
    BadInput("config not TOML", {"config.toml": b"[jobs\n"}, ["status"], 0,
             "factdeck: warning: {config.toml}:1: not valid TOML: Expected ']' at the end of a table declaration "
             "(at line 1, column 6) (using the defaults)"),
    BadInput("config wrong type", {"config.toml": b'[jobs]\npoll_interval = "fast"\n'}, ["status"], 0,
             "factdeck: warning: {config.toml}:2: jobs.poll_interval: expected a number, got 'fast' (this setting is ignored)"),
    BadInput("config unknown key", {"config.toml": b"[jobs]\npoll_intervall = 5\n"}, ["status"], 0,
             "factdeck: warning: {config.toml}:2: jobs.poll_intervall: unknown key; did you mean 'poll_interval'? (this setting is ignored)"),
    BadInput("config empty", {"config.toml": b""}, ["status"], 0,
             "factdeck: warning: {config.toml}: the file is empty; delete it to start from the defaults (using the defaults)"),
    BadInput("config of NUL bytes", {"config.toml": b"\x00" * 64}, ["status"], 0,
             "factdeck: warning: {config.toml}:1: the file contains NUL bytes; it is not a TOML text file (using the defaults)"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.name for case in BAD_INPUTS])
def test_bad_input(case: BadInput, home):
    home.mkdir()
    paths = {name: home / name for name in case.files}
    for name, content in case.files.items():
        paths[name].write_bytes(content)
    fill = lambda text: re.sub(r"\{([\w.]+\.(?:csv|txt|toml))\}", lambda match: str(paths[match.group(1)]), text)  # noqa: E731

    result = run_cli([fill(arg) for arg in case.args], home)

    assert result.returncode == case.returncode, result.stderr
    assert fill(case.line) in result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert {name: paths[name].read_bytes() for name in case.files} == case.files
    if case.returncode:
        assert result.stderr.splitlines() == [fill(case.line)]
        assert run_cli(["status", "--json"], home).json() == []


def test_answers_like_na_stay_text(home):
    home.mkdir()
    dataset = home / "data.csv"
    dataset.write_text("metadata,problem,answer\n{},Q one?,NA\n{},Q two?,None\n{},Q three?,42\n{},Q four?,\n")

    started = run_cli([*MOCK_RUN, "--dataset", str(dataset), "--limit", "4", "--json"], home)
    assert started.returncode == 0, started.stderr
    [run_id] = started.json()["run_ids"]
    rows = [json.loads(line) for line in run_cli(["results", run_id, "--format", "jsonl"], home).stdout.splitlines()]

    assert [row["gold"] for row in rows] == ["NA", "None", "42", ""]


def test_request_over_shard_limit_fails_run(home):
    home.mkdir()
    result = run_cli([*MOCK_RUN, "--dataset", str(DATASET), "--max-shard-bytes", "100"], home)

    [run] = run_cli(["status", "--json"], home).json()
    assert result.returncode == 1
    [line] = result.stderr.splitlines()[-1:]
    assert re.fullmatch(
        rf"factdeck: error: run {run['run_id']} cannot be submitted and is marked failed: request on line 1 "
        rf"\({run['run_id']}-a1-\d+\) is \d+ bytes, more than the 100-byte shard limit",
        line,
    )
    assert run["status"] == "failed"
    assert run["jobs"] == []


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: split_into_shards([Request("x-a1-1", 1, {}), Request("x-a1-1", 2, {})], ShardLimits()),
         "line 2: custom_id 'x-a1-1' repeats the one on line 1"),
        (lambda: split_into_shards([Request("r" * 65, 1, {})], ShardLimits()),
         f"line 1: custom_id {'r' * 65!r} has 65 characters, more than the provider's maximum of 64"),
    ],
    ids=["duplicate custom_id", "over-long custom_id"],
)
def test_bad_batch_requests(build, message):
    with pytest.raises(BatchFileError) as raised:
        build()
    assert str(raised.value) == message


def test_batch_file_over_limits(tmp_path):
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(json.dumps({"custom_id": f"x-a1-{n}", "body": {}}) + "\n" for n in range(3)))

    with pytest.raises(BatchFileError) as too_many:
        check_batch_file(path, ShardLimits(max_requests=2))
    with pytest.raises(BatchFileError) as too_big:
        check_batch_file(path, ShardLimits(max_bytes=10))

    assert str(too_many.value) == f"{path}: 3 requests is over the 2-request limit"
    assert str(too_big.value) == f"{path}: {path.stat().st_size} bytes is over the 10-byte limit"


@pytest.mark.parametrize(
    "reply",
    ["I cannot decide.", "A or B", "CORRECT, not INCORRECT", "", "The grade is D"],
)
def test_judge_reply_without_single_grade(reply):
    assert parse_grade(reply) == "UNPARSED"


def test_unwritable_home_one_line(tmp_path):
    """A FACTDECK_HOME that cannot be created is one clear line, not a traceback."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be\n")

    result = run_cli(["status"], blocker / "home")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"factdeck: error: {blocker / 'home' / 'state' / 'factdeck.log'}: cannot open the log file: Not a directory"
    ]


def test_database_not_a_file_one_line(home):
    (home / "factdeck.sqlite3").mkdir(parents=True)

    result = run_cli(["status"], home)

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"factdeck: error: {home / 'factdeck.sqlite3'}: cannot open the factdeck database: unable to open database file"
    ]
