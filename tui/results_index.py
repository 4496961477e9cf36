"""An in-memory index of one run's questions, so the Results screen filters and sorts without SQL.

A run can contain 100,000 questions. Loading happens once, in a worker thread. After that, a
filter or sort change costs a few NumPy operations over integer code arrays, plus a substring scan
of precomputed case-folded text for a free-text search. This module imports neither Textual nor Rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy

from core.grading import ALL_GRADES
from core.text import one_line

PENDING = "PENDING"
# Grade codes index this tuple; a question still waiting for its judge has code PENDING.
GRADE_CODES: tuple[str, ...] = (*ALL_GRADES, PENDING)
NO_REVIEW = -1

SORT_KEYS = ("id", "grade", "topic", "answer_type", "gold", "answer")


@dataclass(frozen=True)
class Filters:
    """Filter of the table. An empty set means "any", and `text` matches question, gold or answer."""

    grades: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    answer_types: frozenset[str] = frozenset()
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.grades or self.topics or self.answer_types or self.text.strip())


@dataclass(frozen=True)
class Sorting:
    key: str = "id"
    descending: bool = False


def _codes(values: Sequence[str]) -> tuple[list[str], numpy.ndarray]:
    """Return the sorted distinct values and each value's position in them, as an int array."""
    names = sorted(set(values))
    position = {name: code for code, name in enumerate(names)}
    return names, numpy.fromiter((position[value] for value in values), dtype=numpy.int32, count=len(values))


def grade_code(grade: str | None) -> int:
    return GRADE_CODES.index(grade or PENDING)


@dataclass
class ResultsIndex:
    """Columns of one run's questions, row i being the i-th question in question_id order.

    Built by `from_rows` from `Store.result_index_rows`. Strings are kept as stored; callers
    make them safe for display with `core.text.one_line` / `strip_control`.
    """

    run_id: str
    question_ids: numpy.ndarray
    topics: list[str]
    topic_codes: numpy.ndarray
    answer_types: list[str]
    answer_type_codes: numpy.ndarray
    judge_codes: numpy.ndarray
    review_codes: numpy.ndarray
    problems: list[str]
    golds: list[str]
    answers: list[str]
    search_text: list[str]
    _orders: dict[str, numpy.ndarray] = field(default_factory=dict, repr=False)
    _text_cache: tuple[str, numpy.ndarray] | None = field(default=None, repr=False)
    _row_by_id: dict[int, int] = field(default_factory=dict, repr=False)

    @classmethod
    def from_rows(cls, run_id: str, rows: Sequence[tuple]) -> ResultsIndex:
        """Index rows of (question_id, topic, answer_type, judge grade, reviewed grade, problem, gold, answer)."""
        count = len(rows)
        topics, topic_codes = _codes([row[1] for row in rows])
        answer_types, answer_type_codes = _codes([row[2] for row in rows])
        problems = [row[5] or "" for row in rows]
        golds = [row[6] or "" for row in rows]
        answers = [row[7] or "" for row in rows]
        return cls(
            run_id=run_id,
            question_ids=numpy.fromiter((row[0] for row in rows), dtype=numpy.int64, count=count),
            topics=topics,
            topic_codes=topic_codes,
            answer_types=answer_types,
            answer_type_codes=answer_type_codes,
            judge_codes=numpy.fromiter((grade_code(row[3]) for row in rows), dtype=numpy.int8, count=count),
            review_codes=numpy.fromiter(
                (NO_REVIEW if row[4] is None else grade_code(row[4]) for row in rows), dtype=numpy.int8, count=count
            ),
            problems=problems,
            golds=golds,
            answers=answers,
            # Searched as displayed: control sequences removed, whitespace folded, case folded.
            search_text=[
                one_line(f"{problem}\n{gold}\n{answer}").casefold()
                for problem, gold, answer in zip(problems, golds, answers)
            ],
        )

    def __len__(self) -> int:
        return len(self.problems)

    @property
    def final_codes(self) -> numpy.ndarray:
        """Each question's grade with the reviewer's override applied."""
        return numpy.where(self.review_codes >= 0, self.review_codes, self.judge_codes)

    def grade(self, row: int) -> str:
        review = int(self.review_codes[row])
        return GRADE_CODES[review if review >= 0 else int(self.judge_codes[row])]

    def judge_grade(self, row: int) -> str:
        return GRADE_CODES[int(self.judge_codes[row])]

    def is_reviewed(self, row: int) -> bool:
        return int(self.review_codes[row]) >= 0

    def row_of(self, question_id: int) -> int | None:
        if not self._row_by_id:
            self._row_by_id = {int(question_id): row for row, question_id in enumerate(self.question_ids)}
        return self._row_by_id.get(question_id)

    def set_review(self, row: int, grade: str | None) -> None:
        """Apply (or with None, remove) a reviewer's grade, as `Store.set_review` did on disk."""
        self.review_codes[row] = NO_REVIEW if grade is None else grade_code(grade)
        self._orders.pop("grade", None)

    # Filtering and sorting

    def select(self, filters: Filters, sorting: Sorting = Sorting()) -> numpy.ndarray:
        """Return the row numbers that pass `filters`, in `sorting` order."""
        mask = numpy.ones(len(self), dtype=bool)
        if filters.grades:
            allowed = numpy.array([grade in filters.grades for grade in GRADE_CODES])
            mask &= allowed[self.final_codes]
        if filters.topics:
            mask &= numpy.array([topic in filters.topics for topic in self.topics], dtype=bool)[self.topic_codes]
        if filters.answer_types:
            allowed = numpy.array([kind in filters.answer_types for kind in self.answer_types], dtype=bool)
            mask &= allowed[self.answer_type_codes]
        needle = one_line(filters.text).casefold()
        if needle:
            mask &= self._text_mask(needle)
        order = self._order(sorting.key)
        if sorting.descending:
            order = order[::-1]
        return order[mask[order]]

    def grade_counts(self, selection: numpy.ndarray) -> dict[str, int]:
        counts = numpy.bincount(self.final_codes[selection], minlength=len(GRADE_CODES))
        return {grade: int(count) for grade, count in zip(GRADE_CODES, counts)}

    def next_with_grade(self, selection: numpy.ndarray, after: int, grades: frozenset[str]) -> int | None:
        """Return the first position after `after` in `selection` whose grade is in `grades`, wrapping round."""
        if len(selection) == 0:
            return None
        allowed = numpy.array([grade in grades for grade in GRADE_CODES])
        matches = numpy.flatnonzero(allowed[self.final_codes[selection]])
        if len(matches) == 0:
            return None
        later = matches[matches > after]
        return int(later[0] if len(later) else matches[0])

    def _text_mask(self, needle: str) -> numpy.ndarray:
        # Typing extends the search a character at a time, so a longer needle only rescans the
        # rows the shorter one matched.
        cached = self._text_cache
        if cached is not None and cached[0] == needle:
            return cached[1]
        mask = numpy.zeros(len(self), dtype=bool)
        candidates = numpy.flatnonzero(cached[1]) if cached is not None and cached[0] in needle else range(len(self))
        text = self.search_text
        hits = [row for row in candidates if needle in text[row]]
        mask[numpy.asarray(hits, dtype=numpy.int64)] = True
        self._text_cache = (needle, mask)
        return mask

    def prepare_orders(self) -> None:
        """Compute every sort order now, so that no later keypress waits for a first sort.

        Sorting 100,000 answers as text takes a few hundred milliseconds, which belongs in the
        loading worker rather than on the UI thread.
        """
        for key in SORT_KEYS:
            self._order(key)

    def _order(self, key: str) -> numpy.ndarray:
        if key not in SORT_KEYS:
            raise ValueError(f"unknown sort key {key!r}; expected one of {', '.join(SORT_KEYS)}")
        order = self._orders.get(key)
        if order is None:
            order = self._compute_order(key)
            self._orders[key] = order
        return order

    def _compute_order(self, key: str) -> numpy.ndarray:
        # Rows are in question_id order, so a stable sort keeps ties in id order.
        if key == "id":
            return numpy.arange(len(self))
        if key == "grade":
            return numpy.argsort(self.final_codes, kind="stable")
        if key == "topic":
            return numpy.argsort(self.topic_codes, kind="stable")
        if key == "answer_type":
            return numpy.argsort(self.answer_type_codes, kind="stable")
        column = self.golds if key == "gold" else self.answers
        folded = [one_line(value).casefold() for value in column]
        return numpy.array(sorted(range(len(self)), key=folded.__getitem__), dtype=numpy.int64)
