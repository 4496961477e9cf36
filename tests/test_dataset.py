"""Dataset reading: text kept exactly, safe metadata parsing, clear errors, stable sampling."""

from pathlib import Path

import pytest

from core.dataset import fetch_cached, load_dataset, parse_dataset
from core.errors import DatasetError
from tests.conftest import DATASET

HEADER = "metadata,problem,answer\n"
META = "\"{'topic': 'Art', 'answer_type': 'Other', 'urls': ['https://example.test/a']}\""


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_real_dataset_counts():
    dataset = load_dataset(DATASET)
    assert len(dataset.questions) == 4326
    assert dataset.warnings == []
    topics = {}
    for question in dataset.questions:
        topics[question.topic] = topics.get(question.topic, 0) + 1
    assert topics["Science and technology"] == 858
    assert topics["Video games"] == 135
    first = dataset.questions[0]
    assert first.problem == "Who received the IEEE Frank Rosenblatt Award in 2010?"
    assert first.gold == "Michio Sugeno"
    assert first.answer_type == "Person"
    assert len(first.urls) == 4


@pytest.mark.parametrize("answer", ["NA", "None", "null", "42", "nan", "N/A", "007"])
def test_answers_stay_text(tmp_path, answer):
    dataset = parse_dataset(write(tmp_path, HEADER + f"{META},Q?,{answer}\n"))
    assert dataset.questions[0].gold == answer


def test_unreadable_metadata_kept_as_unknown(tmp_path):
    path = write(tmp_path, HEADER + f"{META},Q1?,A1\n\"['not', 'a dict']\",Q2?,A2\n\"{{broken\",Q3?,A3\n")
    dataset = parse_dataset(path)
    assert [q.topic for q in dataset.questions] == ["Art", "unknown", "unknown"]
    assert [q.answer_type for q in dataset.questions] == ["Other", "unknown", "unknown"]
    assert dataset.warnings[0].startswith(f"{path}:3: metadata is not a Python dict literal")
    assert dataset.warnings[1].startswith(f"{path}:4: metadata")


def test_metadata_is_never_evaluated(tmp_path):
    path = write(tmp_path, HEADER + "\"__import__('os').system('echo hacked')\",Q?,A\n")
    assert parse_dataset(path).questions[0].topic == "unknown"


def test_line_numbers_count_multiline_cells(tmp_path):
    path = write(tmp_path, HEADER + f"{META},\"two\nlines?\",A1\n\"bad\",Q2?,A2\n")
    assert parse_dataset(path).warnings[0].startswith(f"{path}:4:")


def test_duplicate_question_warns(tmp_path):
    path = write(tmp_path, HEADER + f"{META},Same?,A\n{META},Same?,B\n")
    dataset = parse_dataset(path)
    assert len(dataset.questions) == 2
    assert dataset.warnings == [f"{path}:3: duplicate of the question on line 2"]


def test_missing_columns_error(tmp_path):
    path = write(tmp_path, "metadata,question,answer\nx,y,z\n")
    with pytest.raises(DatasetError) as error:
        parse_dataset(path)
    assert str(error.value) == f"{path}: missing column(s) problem; found metadata, question, answer"


def test_empty_file_error(tmp_path):
    with pytest.raises(DatasetError, match="the file is empty"):
        parse_dataset(write(tmp_path, ""))
    with pytest.raises(DatasetError, match="has a header but no rows"):
        parse_dataset(write(tmp_path, HEADER, "header.csv"))


def test_not_utf8_error_names_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + f"{META},Q?,A\n{META},Caf\xe9?,B\n").encode("latin-1"))
    with pytest.raises(DatasetError) as error:
        parse_dataset(path)
    assert str(error.value).startswith(f"{path}:3: the file is not valid UTF-8")


def test_missing_file_error(tmp_path):
    with pytest.raises(DatasetError, match="dataset file not found"):
        load_dataset(tmp_path / "nope.csv")


def test_sample_is_reproducible_and_ordered():
    dataset = load_dataset(DATASET)
    first = dataset.sample(25, seed=7)
    assert [q.question_id for q in first] == [q.question_id for q in dataset.sample(25, seed=7)]
    assert [q.question_id for q in first] != [q.question_id for q in dataset.sample(25, seed=8)]
    assert [q.question_id for q in first] == sorted(q.question_id for q in first)
    assert len(dataset.sample(None, seed=0)) == 4326
    assert len(dataset.sample(10_000, seed=0)) == 4326


def test_url_dataset_is_fetched_once(tmp_path):
    import http.server
    import threading

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = (HEADER + f"{META},Q?,A\n").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/simple_qa_test_set.csv"
        first = load_dataset(url, cache_dir=tmp_path / "cache")
        second = load_dataset(url, cache_dir=tmp_path / "cache")
    finally:
        server.shutdown()
    assert hits == ["/simple_qa_test_set.csv"]
    assert first.questions == second.questions
    assert first.source == url
    assert fetch_cached(url, tmp_path / "cache").name.endswith("-simple_qa_test_set.csv")
