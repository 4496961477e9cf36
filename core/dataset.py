"""Read a SimpleQA-shaped CSV (`metadata`, `problem`, `answer`) from a path or URL.

Values are kept as text exactly: gold answers such as "NA", "None" or "42" must never become
NaN or numbers, so the file is read with the `csv` module rather than `pandas.read_csv`.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

from core.config import OFFICIAL_URL  # noqa: F401 - the official CSV's URL, also read from here
from core.errors import DatasetError

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("metadata", "problem", "answer")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Question:
    """One benchmark question. `question_id` is its 0-based row in the file, so it is stable."""

    question_id: int
    problem: str
    gold: str
    topic: str
    answer_type: str
    urls: tuple[str, ...] = ()


@dataclass
class Dataset:
    source: str
    questions: list[Question]
    warnings: list[str] = field(default_factory=list)

    def sample(self, limit: int | None, seed: int) -> list[Question]:
        """Pick `limit` questions reproducibly for `seed`, kept in file order."""
        if limit is None or limit >= len(self.questions):
            return list(self.questions)
        if limit < 1:
            raise DatasetError(f"--limit must be at least 1, got {limit}")
        picked = random.Random(seed).sample(range(len(self.questions)), limit)
        return [self.questions[i] for i in sorted(picked)]


def load_dataset(source: str | Path, cache_dir: Path | None = None) -> Dataset:
    """Load a dataset from a local path or an http(s) URL (downloaded once into `cache_dir`)."""
    source = str(source)
    if source.startswith(("http://", "https://")):
        if cache_dir is None:
            raise DatasetError(f"No cache directory to download {source} into")
        path = fetch_cached(source, cache_dir)
    else:
        path = Path(source).expanduser()
    return parse_dataset(path, source)


def fetch_cached(url: str, cache_dir: Path) -> Path:
    """Download `url` into the cache unless a complete copy is already there."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = url.rstrip("/").rsplit("/", 1)[-1] or "dataset.csv"
    target = cache_dir / f"{digest}-{name}"
    if target.exists():
        return target

    import urllib.request  # Imported here: it pulls in http.client and email, which start-up never needs.

    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".part")
    log.info("downloading dataset %s", url)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DatasetError(f"Could not download the dataset from {url}: {exc}") from exc
    partial.replace(target)
    return target


def parse_dataset(path: Path, source: str | None = None) -> Dataset:
    """Parse the CSV at `path`; rows with unreadable metadata are kept with topic `unknown`."""
    if _check_utf8(path):
        raise DatasetError(f"{path}: the file is empty")
    with path.open(encoding="utf-8-sig", newline="") as file:
        return _parse_rows(path, csv.DictReader(file), source)


def _parse_rows(path: Path, reader: csv.DictReader, source: str | None) -> Dataset:
    columns = reader.fieldnames or []
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns) or 'none'}"
        )

    questions: list[Question] = []
    warnings: list[str] = []
    first_line_of: dict[str, int] = {}
    line = reader.line_num + 1
    for row in reader:
        if None in row:
            warnings.append(f"{path}:{line}: extra cells beyond the header were ignored")
        metadata, problem = _parse_metadata(row["metadata"] or ""), row["problem"] or ""
        if metadata is None:
            warnings.append(
                f"{path}:{line}: metadata is not a Python dict literal; topic and answer type set to {UNKNOWN}"
            )
            metadata = {}
        if problem in first_line_of:
            warnings.append(f"{path}:{line}: duplicate of the question on line {first_line_of[problem]}")
        else:
            first_line_of[problem] = line

        questions.append(
            Question(
                question_id=len(questions),
                problem=problem,
                gold=row["answer"] or "",
                topic=_text_field(metadata, "topic"),
                answer_type=_text_field(metadata, "answer_type"),
                urls=_urls(metadata),
            )
        )
        line = reader.line_num + 1

    if not questions:
        raise DatasetError(f"{path}: the file has a header but no rows")
    for warning in warnings:
        log.warning("%s", warning)
    return Dataset(source=source or str(path), questions=questions, warnings=warnings)


def _check_utf8(path: Path) -> bool:
    """Check that the file is valid UTF-8 one line at a time; return True if it contains only whitespace.

    The file is then parsed as a stream, so a 100,000-row dataset is never held whole in memory.
    A line split at b"\\n" never cuts a UTF-8 sequence in two, so decoding line by line finds
    exactly the errors decoding the whole file would.
    """
    blank = True
    offset = 0
    try:
        with path.open("rb") as file:
            for line_number, raw in enumerate(file, start=1):
                try:
                    text = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise DatasetError(
                        f"{path}:{line_number}: the file is not valid UTF-8 "
                        f"(byte 0x{raw[exc.start]:02x} at offset {offset + exc.start})"
                    ) from None
                blank = blank and not text.strip()
                offset += len(raw)
    except FileNotFoundError:
        raise DatasetError(f"{path}: dataset file not found") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the dataset: {exc.strerror}") from None
    return blank


def _parse_metadata(cell: str) -> dict | None:
    """Read the metadata cell as a Python literal (`ast.literal_eval`, never `eval`)."""
    try:
        value = ast.literal_eval(cell)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _text_field(metadata: dict, key: str) -> str:
    value = metadata.get(key)
    return value if isinstance(value, str) and value else UNKNOWN


def _urls(metadata: dict) -> tuple[str, ...]:
    urls = metadata.get("urls")
    if not isinstance(urls, (list, tuple)):
        return ()
    return tuple(url for url in urls if isinstance(url, str))
