"""Batch input files: custom_ids, request bodies, sharding within limits, file checks."""

import json

import pytest

from core.batchfile import (
    Request,
    ShardLimits,
    check_batch_file,
    make_custom_id,
    parse_custom_id,
    split_into_shards,
    write_shard,
)
from core.errors import BatchFileError


def requests(count: int, text: str = "x") -> list[Request]:
    return [
        Request(make_custom_id("20261204-201530-3fa9", "answers", 1, i), i, {"model": "m", "messages": [{"role": "user", "content": text}]})
        for i in range(count)
    ]


def test_custom_id_round_trip():
    custom_id = make_custom_id("20261204-201530-3fa9", "judge", 2, 4325)
    assert custom_id == "20261204-201530-3fa9-j2-4325"
    assert parse_custom_id(custom_id) == ("20261204-201530-3fa9", "j", 2, 4325)
    assert parse_custom_id("never-sent-1") is None
    assert parse_custom_id("garbage") is None


def test_shards_split_by_request_count():
    shards = split_into_shards(requests(10), ShardLimits(max_requests=4, max_bytes=10**6))
    assert [len(shard.lines) for shard in shards] == [4, 4, 2]
    assert shards[2].question_ids == [8, 9]


def test_shards_split_by_bytes():
    line_size = len(split_into_shards(requests(1), ShardLimits())[0].lines[0])
    shards = split_into_shards(requests(7), ShardLimits(max_requests=100, max_bytes=3 * line_size))
    assert [len(shard.lines) for shard in shards] == [3, 3, 1]
    assert all(shard.size_bytes <= 3 * line_size for shard in shards)


def test_judge_sized_requests_need_two_shards_past_fifteen_thousand():
    judge_like = requests(15_000, "j" * 6_700)
    shards = split_into_shards(judge_like, ShardLimits())
    assert len(shards) == 2
    assert shards[0].size_bytes <= 95_000_000
    assert sum(len(shard.lines) for shard in shards) == 15_000


def test_duplicate_custom_id_rejected_with_line():
    duplicated = requests(3) + [requests(3)[1]]
    with pytest.raises(BatchFileError) as error:
        split_into_shards(duplicated, ShardLimits())
    assert str(error.value) == "line 4: custom_id '20261204-201530-3fa9-a1-1' repeats the one on line 2"


def test_long_custom_id_rejected_with_line():
    long_id = Request("x" * 65, 0, {"model": "m", "messages": []})
    with pytest.raises(BatchFileError) as error:
        split_into_shards(requests(2) + [long_id], ShardLimits())
    assert str(error.value).startswith("line 3: custom_id 'xxx")
    assert "has 65 characters, more than the provider's maximum of 64" in str(error.value)


def test_request_larger_than_shard_rejected():
    with pytest.raises(BatchFileError, match="request on line 1 .* more than the 100-byte shard limit"):
        split_into_shards(requests(1, "y" * 500), ShardLimits(max_bytes=100))


def test_written_file_passes_check(tmp_path):
    shard = split_into_shards(requests(5), ShardLimits())[0]
    path = tmp_path / "shard.jsonl"
    write_shard(shard, path)
    assert check_batch_file(path, ShardLimits()) == 5
    first = json.loads(path.read_text().splitlines()[0])
    assert first == {"custom_id": "20261204-201530-3fa9-a1-0", "body": {"model": "m", "messages": [{"role": "user", "content": "x"}]}}


def test_check_rejects_bad_files(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"custom_id": "a", "body": {}}\n{"custom_id": "a", "body": {}}\n')
    with pytest.raises(BatchFileError, match=rf"{path}:line 2: custom_id 'a' repeats the one on line 1"):
        check_batch_file(path, ShardLimits())
    path.write_text('{"custom_id": "a"}\nnot json\n')
    with pytest.raises(BatchFileError, match=rf"{path}:2: not a JSON request with a custom_id"):
        check_batch_file(path, ShardLimits())
    path.write_text('{"custom_id": "a"}\n{"custom_id": "b"}\n{"custom_id": "c"}\n')
    with pytest.raises(BatchFileError, match="3 requests is over the 2-request limit"):
        check_batch_file(path, ShardLimits(max_requests=2))
    with pytest.raises(BatchFileError, match="bytes is over the 10-byte limit"):
        check_batch_file(path, ShardLimits(max_bytes=10))
