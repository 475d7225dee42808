"""Reading and validating labelled sentences (CSV or JSONL), with clear errors.

Each row has a text and one or two labels (``topic``, ``stance`` by default; other column
names can be given). A label column that is absent from the whole file is simply not
trained. Everything that would make training silently wrong is an error naming the row:
empty or non-text texts, missing labels, a single class, label names that differ only in case
or spacing ("Favor" and "favor"), and the same text given conflicting labels (a text may
appear under several topics, as in stance-towards-a-target data, but not with two stances
under one topic).

>>> data = validate(["We back the plan.", "We reject the plan."], stances=["favor", "against"])
>>> data.stances, data.topics
(['favor', 'against'], None)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CorpusError", "LabelledData", "read_labelled", "validate"]


class CorpusError(ValueError):
    """Labelled data that cannot be used for training or evaluation, with the reason."""


@dataclass
class LabelledData:
    """Texts with their labels; ``topics`` or ``stances`` is None when that column is absent.

    ``extra`` keeps the other columns of the file (e.g. ``register``, ``doc``) by name.
    """

    texts: list[str]
    topics: list[str] | None
    stances: list[str] | None
    extra: dict[str, list] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.texts)

    def __add__(self, other: LabelledData) -> LabelledData:
        """Both sets' rows, these first (e.g. ``train + dev``); they need the same columns.

        >>> a = LabelledData(["Sanctions must stay."], None, ["calls_for"])
        >>> len(a + a)
        2
        """
        if _columns(self) != _columns(other):
            raise CorpusError(
                f"cannot join labelled data with different columns: {_columns(self)} and "
                f"{_columns(other)}"
            )
        join = lambda a, b: None if a is None else a + b  # noqa: E731
        return LabelledData(
            self.texts + other.texts,
            join(self.topics, other.topics),
            join(self.stances, other.stances),
            {name: values + other.extra[name] for name, values in self.extra.items()},
        )

    def subset(self, rows: list[int]) -> LabelledData:
        """The rows at the given positions, as a new LabelledData."""
        pick = lambda values: None if values is None else [values[i] for i in rows]  # noqa: E731
        return LabelledData(
            pick(self.texts),
            pick(self.topics),
            pick(self.stances),
            {name: pick(values) for name, values in self.extra.items()},
        )


def _columns(data: LabelledData) -> list[str]:
    labels = [name for name in ("topic", "stance") if getattr(data, name + "s") is not None]
    return ["text", *labels, *sorted(data.extra)]


def read_labelled(
    path: str | os.PathLike,
    text_column: str = "text",
    topic_column: str | None = "topic",
    stance_column: str | None = "stance",
) -> LabelledData:
    """Read a ``.csv``, ``.tsv`` or ``.jsonl`` file of labelled sentences and validate it.

    A label column given as ``None``, or absent from every row, is left out. Raises
    :class:`CorpusError` with the file name and row number on any problem.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path} is not UTF-8 text (byte {error.start})") from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        rows = _jsonl_rows(content, path)
    elif suffix in (".csv", ".tsv"):
        rows = _csv_rows(content, "\t" if suffix == ".tsv" else ",")
    else:
        raise CorpusError(f"{path}: unknown data format {suffix!r}; use .csv, .tsv or .jsonl")
    if not rows:
        raise CorpusError(f"{path} holds no rows")
    columns = {key for _, row in rows for key in row}
    if text_column not in columns:
        raise CorpusError(f"{path} has no column {text_column!r}; columns found: {sorted(columns)}")
    wanted = {text_column}
    labels = {}
    for name, column in (("topic", topic_column), ("stance", stance_column)):
        if column is not None and column in columns:
            labels[name] = [row.get(column) for _, row in rows]
            wanted.add(column)
    if not labels:
        asked = [c for c in (topic_column, stance_column) if c]
        raise CorpusError(
            f"{path} has none of the label columns {asked}; columns found: {sorted(columns)}"
        )
    extra = {key: [row.get(key) for _, row in rows] for key in sorted(columns - wanted)}
    return validate(
        [row.get(text_column) for _, row in rows],
        topics=labels.get("topic"),
        stances=labels.get("stance"),
        extra=extra,
        source=str(path),
        row_numbers=[number for number, _ in rows],
    )


def validate(
    texts,
    topics=None,
    stances=None,
    *,
    extra: dict[str, list] | None = None,
    source: str = "data",
    row_numbers: list[int] | None = None,
) -> LabelledData:
    """Check texts and labels given in Python; see the module docstring for what is refused."""
    if isinstance(texts, str):
        raise CorpusError("texts must be a list of strings, not a single string")
    texts = list(texts)
    numbers = row_numbers or list(range(1, len(texts) + 1))
    where = lambda i: f"{source}, row {numbers[i]}"  # noqa: E731
    if not texts:
        raise CorpusError(f"{source} holds no rows")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise CorpusError(f"{where(i)}: the text is {_describe(text)}, not a string")
        if not text.strip():
            raise CorpusError(f"{where(i)}: the text is empty")
    if topics is None and stances is None:
        raise CorpusError(f"{source}: give topics, stances or both")
    checked = {}
    for name, labels in (("topic", topics), ("stance", stances)):
        if labels is None:
            continue
        labels = list(labels)
        if len(labels) != len(texts):
            raise CorpusError(f"{source}: {len(labels)} {name} labels for {len(texts)} texts")
        for i, label in enumerate(labels):
            if not isinstance(label, str) or not label.strip():
                raise CorpusError(f"{where(i)}: the {name} label is {_describe(label)}")
        labels = [label.strip() for label in labels]
        _check_label_names(name, labels, source)
        checked[name] = labels
    _check_conflicts(texts, checked, where)
    return LabelledData(texts, checked.get("topic"), checked.get("stance"), dict(extra or {}))


def _check_label_names(name: str, labels: list[str], source: str) -> None:
    distinct = sorted(set(labels))
    if len(distinct) < 2:
        raise CorpusError(f"{source}: only one {name} label ({distinct[0]!r}); need two or more")
    folded = defaultdict(list)
    for label in distinct:
        folded[re.sub(r"[\s_\-]+", "", label.casefold())].append(label)
    clashes = [group for group in folded.values() if len(group) > 1]
    if clashes:
        raise CorpusError(
            f"{source}: {name} labels that differ only in case or spacing: "
            + "; ".join(" vs ".join(repr(x) for x in group) for group in clashes)
            + " — use one spelling"
        )


def _check_conflicts(texts: list[str], labels: dict[str, list[str]], where) -> None:
    """The same text may not get two labels. A text may appear under several topics (as in
    stance-towards-a-target data), but not with two stances under the same topic."""
    topics, stances = labels.get("topic"), labels.get("stance")
    seen: dict[tuple, int] = {}
    for i, text in enumerate(texts):
        key = " ".join(text.casefold().split())
        if stances is not None:
            name, values, key = "stance", stances, (key, topics[i] if topics else None)
        else:
            name, values, key = "topic", topics, (key,)
        first = seen.setdefault(key, i)
        if values[first] != values[i]:
            raise CorpusError(
                f"{where(i)}: the same text as {where(first).rsplit(', ', 1)[-1]} has a "
                f"conflicting {name} label ({values[i]!r} vs {values[first]!r})"
            )


def _describe(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, str):
        return "empty" if not value.strip() else repr(value)
    return f"a {type(value).__name__} ({value!r:.40})"


def _jsonl_rows(content: str, path: Path) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise CorpusError(f"{path}, line {number}: expected a JSON object")
        rows.append((number, row))
    return rows


def _csv_rows(content: str, delimiter: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    return [
        (reader.line_num, {k: v for k, v in row.items() if k is not None})
        for row in reader
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]
