"""Tests of the Together stand-in, driven through the real `together` SDK over HTTP.

These pin down that the stand-in behaves as the SDK and the service facts expect, so product
tests that run against it can trust what they see. Most tests move batches forward with a
`ManualClock` instead of sleeping.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from pathlib import Path

import httpx
import pytest
from together import Together
import together

from tests.standin import BatchFault, BatchFaultKind, HttpFault, ManualClock, StandIn, StandInConfig
from tests.standin.oracle import (
    CORRECT,
    DONT_KNOW,
    FAILED,
    INCORRECT,
    JUDGE_TEMPLATE,
    NOT_ATTEMPTED,
    UNDECIDED_JUDGE_REPLY,
    UNPARSED,
    expected_final_grade,
    judge_reply,
    judge_style,
    load_gold_by_question,
    parse_judge_prompt,
    student_bucket,
    student_reply,
    wrong_answer,
)

DATASET_CSV = Path(__file__).parents[2] / "shared" / "data" / "simple_qa_test_set.csv"
STUDENT_TEMPLATE = "Answer the following question with a short, factual answer.\n\nQuestion: {question}\n"
MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
VALIDATING_SECONDS = 1.0
RUNNING_SECONDS = 10.0


@pytest.fixture(scope="module")
def gold_by_question() -> dict[str, str]:
    return load_gold_by_question(DATASET_CSV)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def standin(gold_by_question, clock, tmp_path):
    config = StandInConfig(
        validating_seconds=VALIDATING_SECONDS,
        running_seconds=RUNNING_SECONDS,
        clock=clock,
        state_dir=tmp_path / "state",
    )
    with StandIn(config, gold_by_question=gold_by_question) as server:
        yield server


@pytest.fixture
def client(standin) -> Together:
    return Together(api_key="test-key", base_url=standin.base_url, max_retries=0)


def questions_in_buckets(gold_by_question, low: int, high: int, count: int) -> list[str]:
    """Return the first `count` dataset questions whose student bucket is in [low, high)."""
    found = [problem for problem in gold_by_question if low <= student_bucket(problem) < high]
    return found[:count]


def fill(template: str, **values: str) -> str:
    pattern = re.compile("|".join(re.escape("{" + name + "}") for name in values))
    return pattern.sub(lambda match: values[match.group(0)[1:-1]], template)


def request_line(custom_id: str, content: str, model: str = MODEL) -> dict:
    body = {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 64}
    return {"custom_id": custom_id, "body": body}


def write_student_file(path: Path, questions: list[str], model: str = MODEL) -> list[str]:
    """Write one student request per question; return the custom_ids in file order."""
    custom_ids = [f"q{index:04d}" for index in range(len(questions))]
    with path.open("w", encoding="utf-8") as file:
        for custom_id, question in zip(custom_ids, questions):
            file.write(json.dumps(request_line(custom_id, fill(STUDENT_TEMPLATE, question=question), model)) + "\n")
    return custom_ids


def write_lines(path: Path, lines: list[dict | str]) -> Path:
    with path.open("w", encoding="utf-8") as file:
        for line in lines:
            file.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def upload(client: Together, path: Path) -> str:
    return client.files.upload(file=path, purpose="batch-api", check=False).id


def submit(client: Together, path: Path) -> str:
    """Upload a request file and create a batch from it; return the batch id."""
    created = client.batches.create(input_file_id=upload(client, path), endpoint="/v1/chat/completions")
    return created.job.id


def download_lines(client: Together, file_id: str) -> list[str]:
    with client.files.with_streaming_response.content(file_id) as response:
        data = b"".join(response.iter_bytes())
    return data.decode("utf-8").splitlines()


def replies_by_custom_id(lines: list[str]) -> dict[str, str]:
    replies = {}
    for line in lines:
        record = json.loads(line)
        replies[record["custom_id"]] = record["response"]["body"]["choices"][0]["message"]["content"]
    return replies


def custom_ids_of(lines: list[str]) -> list[str]:
    return [json.loads(line)["custom_id"] for line in lines]


def run_to_end(client: Together, clock: ManualClock, batch_id: str):
    clock.advance(VALIDATING_SECONDS + RUNNING_SECONDS)
    return client.batches.retrieve(batch_id)


# Oracle


def test_student_reply_per_bucket(gold_by_question):
    """Each bucket range gives the documented reply, so expected grades can be computed."""
    cases = [
        (0, 40, 1, lambda gold: gold),
        (40, 50, 1, lambda gold: f"The answer is {gold}."),
        (50, 60, 1, lambda gold: DONT_KNOW),
        (60, 96, 1, wrong_answer),
        (96, 98, 1, lambda gold: None),
        (96, 98, 2, lambda gold: gold),
        (98, 100, 1, lambda gold: None),
        (98, 100, 5, lambda gold: None),
    ]
    for low, high, attempt, expected in cases:
        problem = questions_in_buckets(gold_by_question, low, high, 1)[0]
        gold = gold_by_question[problem]
        assert student_reply(problem, gold, attempt) == expected(gold), (low, attempt)


def test_wrong_answer_never_contains_gold(gold_by_question):
    """Wrong answers must grade INCORRECT, even for one-letter golds such as "R"."""
    assert wrong_answer("R") == "Zyx"
    for gold in gold_by_question.values():
        assert gold.casefold() not in wrong_answer(gold).casefold()


def test_judge_reply_styles():
    """Every style names the same grade in its own format; style 9 names none at first."""
    questions = {}
    for number in range(1000):
        questions.setdefault(judge_style(f"question {number}"), f"question {number}")
    expected = {
        0: "A", 1: "A", 2: "A", 3: "A", 4: "a", 5: "**A**", 6: "A: CORRECT", 7: "CORRECT", 8: "CORRECT.",
    }
    for style, reply in expected.items():
        assert judge_reply(questions[style], "Paris", "Paris", 1) == reply
    assert judge_reply(questions[8], "Paris", DONT_KNOW, 1) == "NOT ATTEMPTED."
    assert judge_reply(questions[7], "Paris", "Lyon", 1) == "INCORRECT"
    assert judge_reply(questions[9], "Paris", "Lyon", 1) == UNDECIDED_JUDGE_REPLY
    assert judge_reply(questions[9], "Paris", "Lyon", 2) == "B"


def test_expected_final_grade_table(gold_by_question):
    """The final grade follows the student bucket and the retry budgets."""
    cases = [
        (0, 40, 1, 2, CORRECT),
        (50, 60, 1, 2, NOT_ATTEMPTED),
        (60, 96, 1, 2, INCORRECT),
        (96, 98, 1, 2, FAILED),
        (96, 98, 2, 2, CORRECT),
        (98, 100, 3, 2, FAILED),
    ]
    for low, high, answer_attempts, judge_attempts, grade in cases:
        problem = next(p for p in questions_in_buckets(gold_by_question, low, high, 50) if judge_style(p) != 9)
        assert expected_final_grade(problem, gold_by_question[problem], answer_attempts, judge_attempts) == grade

    undecided = next(p for p in questions_in_buckets(gold_by_question, 0, 40, 50) if judge_style(p) == 9)
    assert expected_final_grade(undecided, gold_by_question[undecided], 1, 1) == UNPARSED
    assert expected_final_grade(undecided, gold_by_question[undecided], 1, 2) == CORRECT


def test_parse_judge_prompt_round_trip():
    """Values with braces and brackets come back unchanged from a filled official prompt."""
    values = {
        "question": "What is {x} in [ Doki Doki☆Morning ]?",
        "target": "{target} 42",
        "predicted_answer": "It is 42.",
    }
    prompt = fill(JUDGE_TEMPLATE, **values)
    assert parse_judge_prompt(prompt) == (values["question"], values["target"], values["predicted_answer"])
    assert parse_judge_prompt("Question: what?") is None


# Upload protocol


def test_upload_three_step_protocol(client, standin, tmp_path):
    """The SDK's upload is POST (302), PUT to the Location, then preprocess."""
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    uploaded = client.files.upload(file=path, purpose="batch-api", check=False)

    assert re.fullmatch(r"file-[0-9a-f-]{36}", uploaded.id)
    assert uploaded.bytes == path.stat().st_size
    assert uploaded.filename == "requests.jsonl"
    assert uploaded.purpose == "batch-api"
    assert uploaded.file_type == "jsonl"
    assert uploaded.processing_status == "COMPLETED"
    assert standin.requests_log == [
        ("POST", "/v1/files", 302),
        ("PUT", f"/upload/{uploaded.id}", 200),
        ("POST", f"/v1/files/{uploaded.id}/preprocess", 200),
    ]


def test_reupload_returns_same_id(client, standin, tmp_path):
    """The same bytes uploaded again get a 409 and the SDK returns the existing file."""
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    first = client.files.upload(file=path, purpose="batch-api", check=False)
    second = client.files.upload(file=path, purpose="batch-api", check=False)

    assert second.id == first.id
    assert len(client.files.list().data) == 1
    assert standin.requests_log[3:5] == [("POST", "/v1/files", 409), ("GET", f"/v1/files/{first.id}", 200)]


def test_conflict_headers_stop_sdk_retry(tmp_path):
    """With x-should-retry false the SDK's default retries do not repeat the 409."""
    config = StandInConfig(conflict_headers={"x-should-retry": "false"}, state_dir=tmp_path / "state")
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    with StandIn(config) as server:
        client = Together(api_key="test-key", base_url=server.base_url)
        first = client.files.upload(file=path, purpose="batch-api", check=False)
        second = client.files.upload(file=path, purpose="batch-api", check=False)
        statuses = [status for method, path_, status in server.requests_log if path_ == "/v1/files"]

    assert second.id == first.id
    assert statuses == [302, 409]


def test_file_content_unknown_id_404(client):
    with pytest.raises(together.NotFoundError):
        client.files.content("file-00000000-0000-0000-0000-000000000000")


def test_file_content_range_request(client, standin, tmp_path):
    """A `Range` request gets 206 and the requested bytes, for clients that resume downloads."""
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    file_id = upload(client, path)
    response = httpx.get(
        f"{standin.base_url}/v1/files/{file_id}/content",
        headers={"Authorization": "Bearer test-key", "Range": "bytes=10-"},
    )

    assert response.status_code == 206
    assert response.content == path.read_bytes()[10:]
    assert response.headers["Content-Range"] == f"bytes 10-{path.stat().st_size - 1}/{path.stat().st_size}"


# Batch lifecycle


def test_batch_completes_in_real_time(gold_by_question, tmp_path):
    """With the wall clock, polling reaches COMPLETED, and output order differs from input order."""
    questions = list(gold_by_question)[:50]
    custom_ids = write_student_file(tmp_path / "requests.jsonl", questions)
    config = StandInConfig(validating_seconds=0.05, running_seconds=0.2, state_dir=tmp_path / "state")
    with StandIn(config, gold_by_question=gold_by_question) as server:
        client = Together(api_key="test-key", base_url=server.base_url, max_retries=0)
        batch_id = submit(client, tmp_path / "requests.jsonl")
        deadline = time.monotonic() + 5
        while (job := client.batches.retrieve(batch_id)).status != "COMPLETED" and time.monotonic() < deadline:
            time.sleep(0.02)
        output_ids = custom_ids_of(download_lines(client, job.output_file_id))
        error_ids = custom_ids_of(download_lines(client, job.error_file_id)) if job.error_file_id else []

    failing = {cid for cid, q in zip(custom_ids, questions) if student_bucket(q) >= 96}
    assert job.status == "COMPLETED"
    assert job.progress == 100.0
    assert sorted(output_ids + error_ids) == custom_ids
    assert set(error_ids) == failing
    assert output_ids != [cid for cid in custom_ids if cid not in failing]


def test_status_timeline(client, clock, tmp_path, gold_by_question):
    """VALIDATING, then IN_PROGRESS with linear progress, then COMPLETED with timestamps."""
    write_student_file(tmp_path / "requests.jsonl", list(gold_by_question)[:4])
    file_id = upload(client, tmp_path / "requests.jsonl")
    batch_id = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions").job.id

    job = client.batches.retrieve(batch_id)
    assert (job.status, job.progress, job.completed_at) == ("VALIDATING", 0.0, None)
    clock.advance(VALIDATING_SECONDS)
    assert client.batches.retrieve(batch_id).status == "IN_PROGRESS"
    clock.advance(RUNNING_SECONDS / 4)
    job = client.batches.retrieve(batch_id)
    assert (job.status, job.progress) == ("IN_PROGRESS", 25.0)
    clock.advance(RUNNING_SECONDS)
    job = client.batches.retrieve(batch_id)

    assert job.status == "COMPLETED"
    assert job.progress == 100.0
    assert (job.completed_at - job.created_at).total_seconds() == VALIDATING_SECONDS + RUNNING_SECONDS
    assert (job.job_deadline - job.created_at).total_seconds() == 24 * 3600
    assert job.x_model_id == MODEL
    assert job.input_file_id == file_id
    assert job.endpoint == "/v1/chat/completions"
    assert job.file_size_bytes == (tmp_path / "requests.jsonl").stat().st_size


def test_output_line_shape(client, clock, tmp_path, gold_by_question):
    """A success line carries the chat completion and token usage the oracle defines."""
    question = questions_in_buckets(gold_by_question, 0, 40, 1)[0]
    write_student_file(tmp_path / "requests.jsonl", [question])
    job = run_to_end(client, clock, submit(client, tmp_path / "requests.jsonl"))
    [line] = download_lines(client, job.output_file_id)
    record = json.loads(line)
    body = record["response"]["body"]
    prompt = fill(STUDENT_TEMPLATE, question=question)
    gold = gold_by_question[question]

    assert record["custom_id"] == "q0000"
    assert record["response"]["status_code"] == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == MODEL
    assert body["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": gold},
        "finish_reason": "stop",
    }
    assert body["usage"] == {
        "prompt_tokens": len(prompt) // 4,
        "completion_tokens": len(gold) // 4 + 1,
        "total_tokens": len(prompt) // 4 + len(gold) // 4 + 1,
    }
    assert job.error_file_id is None


def test_failed_requests_and_retry(client, clock, tmp_path, gold_by_question):
    """Buckets 96-97 fail once and then return the gold; 98-99 fail on every attempt, across batches."""
    fail_once = questions_in_buckets(gold_by_question, 96, 98, 3)
    fail_always = questions_in_buckets(gold_by_question, 98, 100, 2)
    write_student_file(tmp_path / "first.jsonl", fail_once + fail_always)
    first = run_to_end(client, clock, submit(client, tmp_path / "first.jsonl"))
    retry = run_to_end(client, clock, submit(client, tmp_path / "first.jsonl"))

    assert first.output_file_id is None
    first_errors = custom_ids_of(download_lines(client, first.error_file_id))
    assert sorted(first_errors) == ["q0000", "q0001", "q0002", "q0003", "q0004"]
    assert replies_by_custom_id(download_lines(client, retry.output_file_id)) == {
        f"q{index:04d}": gold_by_question[question] for index, question in enumerate(fail_once)
    }
    assert sorted(custom_ids_of(download_lines(client, retry.error_file_id))) == ["q0003", "q0004"]


def test_error_line_response_shape(gold_by_question, tmp_path):
    """With error_line_shape "response" a failure is a status_code 500 response."""
    question = questions_in_buckets(gold_by_question, 98, 100, 1)[0]
    write_student_file(tmp_path / "requests.jsonl", [question])
    clock = ManualClock()
    config = StandInConfig(clock=clock, error_line_shape="response", state_dir=tmp_path / "state")
    with StandIn(config, gold_by_question=gold_by_question) as server:
        client = Together(api_key="test-key", base_url=server.base_url, max_retries=0)
        batch_id = submit(client, tmp_path / "requests.jsonl")
        clock.advance(1)
        [line] = download_lines(client, client.batches.retrieve(batch_id).error_file_id)

    record = json.loads(line)
    assert record["custom_id"] == "q0000"
    assert record["response"]["status_code"] == 500
    assert "error" in record["response"]["body"]


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("not json", "line 2: not valid JSON"),
        (request_line("a", "hello"), "line 2: custom_id 'a' appears more than once"),
        (request_line("x" * 65, "hello"), "line 2: custom_id has 65 characters, more than 64"),
        (
            {"custom_id": "b", "body": {"messages": [{"role": "user", "content": "hi"}]}},
            "line 2: body.model is missing",
        ),
        ({"custom_id": "b", "body": {"model": MODEL}}, "line 2: body.messages is missing"),
    ],
)
def test_invalid_input_fails_batch(client, clock, tmp_path, bad_line, message):
    """A bad line still creates the batch, which goes FAILED naming the line."""
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello"), bad_line])
    batch_id = submit(client, path)
    clock.advance(VALIDATING_SECONDS)
    job = client.batches.retrieve(batch_id)

    assert job.status == "FAILED"
    assert message in job.error
    assert job.output_file_id is None
    assert job.error_file_id is None


def test_unknown_input_file_404(client, standin):
    with pytest.raises(together.NotFoundError):
        client.batches.create(
            input_file_id="file-00000000-0000-0000-0000-000000000000", endpoint="/v1/chat/completions"
        )
    assert standin.creations == []


def test_retrieve_unknown_batch_404(client):
    with pytest.raises(together.NotFoundError):
        client.batches.retrieve("00000000-0000-0000-0000-000000000000")


def test_list_batches_in_creation_order(client, standin, tmp_path, gold_by_question):
    paths = [tmp_path / f"requests{number}.jsonl" for number in range(3)]
    for number, path in enumerate(paths):
        write_student_file(path, list(gold_by_question)[number : number + 2])
    batch_ids = [submit(client, path) for path in paths]

    assert [job.id for job in client.batches.list()] == batch_ids
    assert [batch_id for batch_id, _ in standin.creations] == batch_ids


def test_cancel_keeps_done_requests(client, standin, clock, tmp_path, gold_by_question):
    """Cancelling at 40 % keeps exactly the first 40 % of requests in processing order."""
    questions = questions_in_buckets(gold_by_question, 0, 96, 20)
    write_student_file(tmp_path / "requests.jsonl", questions)
    batch_id = submit(client, tmp_path / "requests.jsonl")
    clock.advance(VALIDATING_SECONDS + RUNNING_SECONDS * 0.4)
    cancelled = client.batches.cancel(batch_id)
    output_ids = custom_ids_of(download_lines(client, cancelled.output_file_id))

    assert cancelled.status == "CANCELLED"
    assert cancelled.progress == pytest.approx(40.0)
    assert len(output_ids) == 8
    assert output_ids == standin.processed_custom_ids(batch_id)
    clock.advance(RUNNING_SECONDS)
    assert client.batches.retrieve(batch_id).status == "CANCELLED"
    with pytest.raises(together.BadRequestError):
        client.batches.cancel(batch_id)


def test_cancel_while_validating_has_no_output(client, clock, tmp_path, gold_by_question):
    write_student_file(tmp_path / "requests.jsonl", list(gold_by_question)[:3])
    cancelled = client.batches.cancel(submit(client, tmp_path / "requests.jsonl"))

    assert cancelled.status == "CANCELLED"
    assert cancelled.output_file_id is None
    assert cancelled.error_file_id is None


def test_cancel_externally(client, standin, clock, tmp_path, gold_by_question):
    write_student_file(tmp_path / "requests.jsonl", list(gold_by_question)[:3])
    batch_id = submit(client, tmp_path / "requests.jsonl")
    standin.cancel_externally(batch_id)

    assert client.batches.retrieve(batch_id).status == "CANCELLED"
    with pytest.raises(ValueError, match="CANCELLED"):
        standin.cancel_externally(batch_id)


def test_expire_batches_by_ordinal(gold_by_question, tmp_path):
    """Only the second batch expires, at 50 % progress, with half of its requests done."""
    clock = ManualClock()
    config = StandInConfig(
        validating_seconds=1,
        running_seconds=10,
        clock=clock,
        expire_batches=frozenset({2}),
        state_dir=tmp_path / "state",
    )
    questions = questions_in_buckets(gold_by_question, 0, 96, 10)
    with StandIn(config, gold_by_question=gold_by_question) as server:
        client = Together(api_key="test-key", base_url=server.base_url, max_retries=0)
        batch_ids = []
        for number in range(2):
            write_student_file(tmp_path / f"requests{number}.jsonl", questions[number * 5 : number * 5 + 5])
            batch_ids.append(submit(client, tmp_path / f"requests{number}.jsonl"))
        clock.advance(6)
        expired = client.batches.retrieve(batch_ids[1])
        clock.advance(5)
        completed = client.batches.retrieve(batch_ids[0])
        expired_lines = download_lines(client, expired.output_file_id)

    assert completed.status == "COMPLETED"
    assert expired.status == "EXPIRED"
    assert expired.progress == 50.0
    assert len(expired_lines) == math.floor(0.5 * 5)


def test_expire_after_seconds(gold_by_question, tmp_path):
    clock = ManualClock()
    config = StandInConfig(
        validating_seconds=1,
        running_seconds=10,
        expire_after_seconds=8.5,
        clock=clock,
        state_dir=tmp_path / "state",
    )
    write_student_file(tmp_path / "requests.jsonl", questions_in_buckets(gold_by_question, 0, 96, 10))
    with StandIn(config, gold_by_question=gold_by_question) as server:
        client = Together(api_key="test-key", base_url=server.base_url, max_retries=0)
        batch_id = submit(client, tmp_path / "requests.jsonl")
        clock.advance(100)
        job = client.batches.retrieve(batch_id)
        lines = download_lines(client, job.output_file_id)

    assert job.status == "EXPIRED"
    assert job.progress == 75.0
    assert (job.completed_at - job.created_at).total_seconds() == 8.5
    assert len(lines) == 7


def test_judge_requests_graded_by_oracle(client, clock, tmp_path):
    """A request carrying the official judge prompt gets the judge's reply, attempt by attempt."""
    questions = {}
    for number in range(1000):
        questions.setdefault(judge_style(f"Which city is number {number}?"), f"Which city is number {number}?")
    lines = []
    for style, question in sorted(questions.items()):
        prompt = fill(JUDGE_TEMPLATE, question=question, target="Paris", predicted_answer="It is Paris.")
        lines.append(request_line(f"j{style}", prompt))
    path = write_lines(tmp_path / "judge.jsonl", lines)
    first_job = run_to_end(client, clock, submit(client, path))
    first = replies_by_custom_id(download_lines(client, first_job.output_file_id))
    retry_path = write_lines(tmp_path / "judge-retry.jsonl", [lines[9]])
    retry_job = run_to_end(client, clock, submit(client, retry_path))
    retry = replies_by_custom_id(download_lines(client, retry_job.output_file_id))

    expected = {f"j{style}": judge_reply(question, "Paris", "It is Paris.", 1) for style, question in questions.items()}
    assert first == expected
    assert first["j9"] == UNDECIDED_JUDGE_REPLY
    assert retry == {"j9": "A"}


def test_unknown_question_gets_unsure_reply(client, clock, tmp_path):
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "What is the airspeed of an unladen swallow?")])
    job = run_to_end(client, clock, submit(client, path))
    assert replies_by_custom_id(download_lines(client, job.output_file_id)) == {"a": "I am not sure."}


def test_models_list(client):
    """SDK 3.1.1 has no method for GET /v1/models, so clients call it through `client.get`."""
    models = client.get("/v1/models", cast_to=object)
    chat_ids = [model["id"] for model in models if model["type"] == "chat"]

    assert len(chat_ids) == 5
    assert MODEL in chat_ids
    assert [model["type"] for model in models].count("embedding") == 1
    assert models[0]["pricing"] == {"input": 0.88, "output": 0.88, "base": 0, "hourly": 0}


def test_concurrent_batch_creation(client, standin, tmp_path, gold_by_question):
    """Parallel creations each get their own batch and ordinal."""
    path = tmp_path / "requests.jsonl"
    write_student_file(path, list(gold_by_question)[:5])
    file_id = upload(client, path)
    batch_ids = []

    def create() -> None:
        batch_ids.append(client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions").job.id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(batch_ids)) == 8
    assert sorted(batch.ordinal for batch in standin.batches.values()) == list(range(1, 9))
    assert len(standin.creations) == 8


# Auth and HTTP faults


def test_wrong_key_401(standin, tmp_path):
    client = Together(api_key="wrong-key", base_url=standin.base_url, max_retries=0)
    with pytest.raises(together.AuthenticationError) as raised:
        client.batches.list()
    assert raised.value.body == {"error": {"message": "Invalid API key provided", "type": "invalid_request_error"}}


def test_wrong_key_on_upload_raises_credit_message(standin, tmp_path):
    """The SDK rewrites any 401 on POST /v1/files into a message about free trial credits."""
    client = Together(api_key="wrong-key", base_url=standin.base_url, max_retries=0)
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    with pytest.raises(together.AuthenticationError, match="free trial credits"):
        client.files.upload(file=path, purpose="batch-api", check=False)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (429, together.RateLimitError),
        (500, together.InternalServerError),
        (502, together.InternalServerError),
        (503, together.InternalServerError),
        (401, together.AuthenticationError),
    ],
)
def test_status_fault_raises(client, standin, status, error_class):
    standin.add_fault(HttpFault(r"/v1/batches", method="GET", status=status))
    with pytest.raises(error_class):
        client.batches.list()
    assert client.batches.list() == []
    assert [entry.status for entry in standin.requests_log] == [status, 200]


def test_rate_limit_retried_after_header(standin):
    """The SDK honours retry-after-ms, so one 429 costs a client with retries only 10 ms."""
    standin.add_fault(HttpFault(r"/v1/batches", status=429, headers={"retry-after-ms": "10"}))
    client = Together(api_key="test-key", base_url=standin.base_url, max_retries=1)
    started = time.monotonic()

    assert client.batches.list() == []
    assert time.monotonic() - started < 0.5
    assert [entry.status for entry in standin.requests_log] == [429, 200]


def test_delay_fault_times_out(standin):
    standin.add_fault(HttpFault(r"/v1/batches", delay_seconds=2.0))
    client = Together(api_key="test-key", base_url=standin.base_url, max_retries=0, timeout=0.2)
    with pytest.raises(together.APITimeoutError):
        client.batches.list()


def test_dropped_connection_fault(client, standin):
    standin.add_fault(HttpFault(r"/v1/batches/.+", drop_connection=True))
    with pytest.raises(together.APIConnectionError):
        client.batches.retrieve("any-batch")
    assert standin.requests_log == [("GET", "/v1/batches/any-batch", None)]


def test_upload_put_fault(client, standin, tmp_path):
    """A failed PUT to the presigned URL surfaces as APIStatusError, with no retry."""
    standin.add_fault(HttpFault(r"/upload/.+", method="PUT", status=503))
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    with pytest.raises(together.APIStatusError, match="Error during file upload"):
        client.files.upload(file=path, purpose="batch-api", check=False)


def test_create_job_null_with_warning(client, standin, tmp_path):
    """A create that returns job null and a warning creates nothing on the server."""
    warning = "Batch not created: the model is not available for batch inference."
    standin.add_fault(HttpFault(r"/v1/batches", method="POST", status=200, body={"job": None, "warning": warning}))
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    created = client.batches.create(input_file_id=upload(client, path), endpoint="/v1/chat/completions")

    assert created.job is None
    assert created.warning == warning
    assert standin.creations == []


def test_create_retry_after_timeout_duplicates(standin, tmp_path):
    """The stand-in ignores the SDK's Idempotency-Key, so a create retried after a timeout makes two batches.

    Whether Together honours that header is not documented, so product code must not rely on it.
    """
    standin.add_fault(HttpFault(r"/v1/batches", method="POST", delay_seconds=0.3))
    client = Together(api_key="test-key", base_url=standin.base_url, max_retries=1, timeout=0.2)
    path = write_lines(tmp_path / "requests.jsonl", [request_line("a", "hello")])
    file_id = upload(client, path)
    created = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions")

    assert len(standin.creations) == 2
    assert standin.creations[1] == (created.job.id, file_id)


def test_response_delay_seconds(tmp_path):
    config = StandInConfig(response_delay_seconds=0.3, state_dir=tmp_path / "state")
    with StandIn(config) as server:
        client = Together(api_key="test-key", base_url=server.base_url, max_retries=0)
        started = time.monotonic()
        client.batches.list()
        elapsed = time.monotonic() - started

    assert 0.3 <= elapsed < 1.0


# Batch faults


@pytest.fixture
def run_with_fault(client, standin, clock, tmp_path, gold_by_question):
    """Return a function that runs one batch of four always-answered questions under a fault."""

    def run(fault: BatchFault):
        standin.add_fault(fault)
        write_student_file(tmp_path / "requests.jsonl", questions_in_buckets(gold_by_question, 0, 96, 4))
        return run_to_end(client, clock, submit(client, tmp_path / "requests.jsonl"))

    return run


def test_fault_fail(run_with_fault):
    fault = BatchFault(BatchFaultKind.FAIL, message="Model out of capacity")
    job = run_with_fault(fault)

    assert (job.status, job.error, job.output_file_id) == ("FAILED", "Model out of capacity", None)
    assert fault.times == 0


def test_fault_only_matching_model(run_with_fault):
    """A batch fault with a model pattern leaves batches of other models alone."""
    fault = BatchFault(BatchFaultKind.FAIL, model_pattern="judge/.*")
    job = run_with_fault(fault)

    assert job.status == "COMPLETED"
    assert fault.times == 1


def test_fault_null_output_file(run_with_fault):
    job = run_with_fault(BatchFault(BatchFaultKind.NULL_OUTPUT_FILE))
    assert (job.status, job.output_file_id, job.error_file_id) == ("COMPLETED", None, None)


def test_fault_empty_error_file_id(run_with_fault, client):
    job = run_with_fault(BatchFault(BatchFaultKind.EMPTY_ERROR_FILE_ID))
    assert job.status == "COMPLETED"
    assert job.error_file_id == ""
    assert len(download_lines(client, job.output_file_id)) == 4


def test_fault_unknown_status(client, standin, clock, tmp_path, gold_by_question):
    """The SDK passes a status outside its Literal through as a plain string."""
    standin.add_fault(BatchFault(BatchFaultKind.UNKNOWN_STATUS, status="QUEUED"))
    write_student_file(tmp_path / "requests.jsonl", list(gold_by_question)[:2])
    batch_id = submit(client, tmp_path / "requests.jsonl")

    assert client.batches.retrieve(batch_id).status == "QUEUED"
    assert run_to_end(client, clock, batch_id).status == "COMPLETED"


def test_fault_non_json_line(run_with_fault, client, standin):
    job = run_with_fault(BatchFault(BatchFaultKind.NON_JSON_LINE))
    lines = download_lines(client, job.output_file_id)
    faulted = standin.faulted_custom_ids(job.id)

    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])
    assert len(faulted) == 1
    assert f'"custom_id": "{faulted[0]}"' in lines[0]
    assert len(replies_by_custom_id(lines[1:])) == 3


def test_fault_unknown_custom_id(run_with_fault, client, standin):
    fault = BatchFault(BatchFaultKind.UNKNOWN_CUSTOM_ID, lines=2)
    job = run_with_fault(fault)
    output_ids = custom_ids_of(download_lines(client, job.output_file_id))

    assert sorted(output_ids) == ["never-sent-1", "never-sent-2", "q0000", "q0001", "q0002", "q0003"]
    assert standin.faulted_custom_ids(job.id) == ["never-sent-1", "never-sent-2"]


def test_fault_duplicate_custom_id(run_with_fault, client, standin):
    job = run_with_fault(BatchFault(BatchFaultKind.DUPLICATE_CUSTOM_ID))
    records = [json.loads(line) for line in download_lines(client, job.output_file_id)]
    [duplicated] = standin.faulted_custom_ids(job.id)

    assert len(records) == 5
    assert [record["custom_id"] for record in records].count(duplicated) == 2
    assert records[0]["id"] != records[1]["id"]


def test_fault_error_status_code(run_with_fault, client, standin):
    fault = BatchFault(BatchFaultKind.ERROR_STATUS_CODE, lines=2, status_code=503)
    job = run_with_fault(fault)
    records = [json.loads(line) for line in download_lines(client, job.output_file_id)]

    assert [record["response"]["status_code"] for record in records] == [503, 503, 200, 200]
    assert [record["custom_id"] for record in records[:2]] == standin.faulted_custom_ids(job.id)


@pytest.mark.parametrize(("kind", "content"), [(BatchFaultKind.NULL_CONTENT, None), (BatchFaultKind.EMPTY_CONTENT, "")])
def test_fault_content(run_with_fault, client, standin, kind, content):
    job = run_with_fault(BatchFault(kind, lines=3))
    replies = replies_by_custom_id(download_lines(client, job.output_file_id))
    faulted = standin.faulted_custom_ids(job.id)

    assert len(faulted) == 3
    assert [replies[custom_id] for custom_id in faulted] == [content] * 3
    assert all(replies[custom_id] for custom_id in set(replies) - set(faulted))
