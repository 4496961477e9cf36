"""The fast request encoder and the streaming shard writer give the same bytes as the plain path."""

import json

import pytest

from core.batchfile import Request, RequestEncoder, ShardLimits, ShardWriter, chat_body, split_into_shards
from core.errors import BatchFileError
from core.prompts import Template, builtin_template

JUDGE_NAMES = ("question", "target", "predicted_answer")
AWKWARD_VALUES = [
    {"question": "plain", "target": "42", "predicted_answer": "42"},
    {"question": 'quote " and back\\slash', "target": "tab\there", "predicted_answer": "new\nline"},
    {"question": "[ Doki Doki☆Morning ]", "target": "東京", "predicted_answer": "emoji 🎉 \u2028 sep"},
    {"question": "{target} inside", "target": "{predicted_answer}", "predicted_answer": "{question}"},
    {"question": "control \x00\x1b[31m", "target": "", "predicted_answer": "{{braces}}"},
]


def plain_line(custom_id: str, body: dict) -> bytes:
    return (json.dumps({"custom_id": custom_id, "body": body}, ensure_ascii=False) + "\n").encode()


@pytest.mark.parametrize("values", AWKWARD_VALUES)
def test_judge_line_matches_json_dumps(values):
    template = builtin_template("judge")
    encoder = RequestEncoder(template.text, JUDGE_NAMES, "Qwen/Qwen2.5-72B-Instruct-Turbo", 64, 0.0)
    body = chat_body("Qwen/Qwen2.5-72B-Instruct-Turbo", template.fill(**values), 64, 0.0)
    assert encoder.encode("run-j1-7", values) == plain_line("run-j1-7", body)


@pytest.mark.parametrize(("max_tokens", "temperature"), [(256, 0.0), (None, None), (10, 0.7)])
def test_student_line_matches_json_dumps(max_tokens, temperature):
    template = Template('Say "{question}" back. {not_a_placeholder}', "test")
    encoder = RequestEncoder(template.text, ("question",), "m/ü", max_tokens, temperature)
    body = chat_body("m/ü", template.fill(question='a "b" \\ c'), max_tokens, temperature)
    assert encoder.encode("run-a1-0", {"question": 'a "b" \\ c'}) == plain_line("run-a1-0", body)


def test_writer_cuts_shards_like_split_into_shards(tmp_path):
    limits = ShardLimits(max_requests=4, max_bytes=700)
    requests = [
        Request(f"run-a1-{i}", i, chat_body("m", "x" * (i * 37 % 150), 8, 0.0)) for i in range(23)
    ]
    expected = split_into_shards(requests, limits)
    writer = ShardWriter(limits, lambda index: tmp_path / f"s{index}.jsonl")
    for request in requests:
        writer.add(request.custom_id, request.question_id, plain_line(request.custom_id, request.body))
    written = writer.close()

    assert [shard.question_ids for shard in written] == [shard.question_ids for shard in expected]
    assert [shard.path.read_bytes() for shard in written] == [b"".join(shard.lines) for shard in expected]
    assert [shard.size_bytes for shard in written] == [shard.size_bytes for shard in expected]
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"s{i}.jsonl" for i in range(1, len(expected) + 1)]


def test_writer_rejects_repeated_custom_id(tmp_path):
    writer = ShardWriter(ShardLimits(), lambda index: tmp_path / f"s{index}.jsonl")
    writer.add("run-a1-1", 1, b"{}\n")
    with pytest.raises(BatchFileError, match="line 2: custom_id 'run-a1-1' repeats the one on line 1"):
        writer.add("run-a1-1", 1, b"{}\n")
    writer.discard()
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_request_over_shard_size(tmp_path):
    writer = ShardWriter(ShardLimits(max_bytes=10), lambda index: tmp_path / f"s{index}.jsonl")
    with pytest.raises(BatchFileError, match=r"request on line 1 \(run-a1-1\) is 11 bytes"):
        writer.add("run-a1-1", 1, b"0123456789\n")
