"""The record format: writing records as JSONL or CSV, reading them back, summarizing them."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..documents import DocumentError

#: The fields of a record, in order; ``topic_probs`` and ``stance_probs`` come with ``probs``.
FIELDS = (
    "source",
    "doc",
    "sentence",
    "start",
    "end",
    "text",
    "topic",
    "stance",
    "topic_prob",
    "stance_prob",
    "model",
)
PROB_FIELDS = ("topic_probs", "stance_probs")


# -- writing ---------------------------------------------------------------------------------


def _encode(records: list[dict], format: str, fields: tuple[str, ...]) -> bytes:
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for record in records:
            writer.writerow([_csv_value(record.get(name)) for name in fields])
        return buffer.getvalue().encode("utf-8", errors="replace")
    try:
        return _jsonl(records).encode()
    except UnicodeEncodeError:  # lone surrogates (from JSONL escapes): keep them as escapes
        return "".join([json.dumps(record) + "\n" for record in records]).encode()


_JSON_VALUE = json.JSONEncoder(ensure_ascii=False).encode
_JSON_STRING = json.encoder.encode_basestring  # a str as JSON, quotes included, non-ASCII kept


def _jsonl(records: list[dict]) -> str:
    """The records as ``json.dumps(record, ensure_ascii=False)`` lines; spelled out field by
    field, which takes about half the time of the general encoder."""
    string = _JSON_STRING
    known: dict = {None: "null"}  # labels, sources, documents and the model recur: encode once
    lines = []
    for r in records:
        source, doc, topic, stance, model = (
            r["source"],
            r["doc"],
            r["topic"],
            r["stance"],
            r["model"],
        )
        if not (source in known and doc in known and topic in known and stance in known):
            known.update((v, string(v)) for v in (source, doc, topic, stance) if v not in known)
        if model not in known:
            known[model] = string(model)
        topic_prob, stance_prob = r["topic_prob"], r["stance_prob"]
        probs = ""
        if "topic_probs" in r:
            probs = (
                f', "topic_probs": {_JSON_VALUE(r["topic_probs"])}'
                f', "stance_probs": {_JSON_VALUE(r["stance_probs"])}'
            )
        lines.append(
            f'{{"source": {known[source]}, "doc": {known[doc]}, '
            f'"sentence": {r["sentence"]}, "start": {r["start"]}, "end": {r["end"]}, '
            f'"text": {string(r["text"])}, "topic": {known[topic]}, "stance": {known[stance]}, '
            f'"topic_prob": {"null" if topic_prob is None else repr(topic_prob)}, '
            f'"stance_prob": {"null" if stance_prob is None else repr(stance_prob)}'
            f'{probs}, "model": {known[model]}}}\n'
        )
    return "".join(lines)


def _csv_value(value) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


# -- summaries -------------------------------------------------------------------------------


def summarize(records: Iterable[dict]) -> Iterator[dict]:
    """Per document, the number of sentences and the topic × stance counts.

    Consecutive records of the same ``(source, doc)`` form one document, as in the output of
    :func:`score_folder`.

    >>> rows = [{"source": "a.txt", "doc": "a.txt", "topic": "sanctions", "stance": "opposes"}] * 2
    >>> list(summarize(rows))
    [{'source': 'a.txt', 'doc': 'a.txt', 'sentences': 2, 'counts': {'sanctions': {'opposes': 2}}}]
    """
    current = None
    counts: dict[str, dict[str, int]] = {}
    n = 0
    for record in records:
        key = (record["source"], record["doc"])
        if key != current:
            if current is not None:
                yield {"source": current[0], "doc": current[1], "sentences": n, "counts": counts}
            current, counts, n = key, {}, 0
        by_stance = counts.setdefault(str(record["topic"]), {})
        stance = str(record["stance"])
        by_stance[stance] = by_stance.get(stance, 0) + 1
        n += 1
    if current is not None:
        yield {"source": current[0], "doc": current[1], "sentences": n, "counts": counts}


def write_summary(summaries: Iterable[dict], file, format: str = "jsonl") -> int:
    """Write :func:`summarize` rows to a text file: JSONL (one document a line) or CSV (one
    ``source, doc, topic, stance, count`` row per pair). Returns the number of documents."""
    n = 0
    if format == "csv":
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["source", "doc", "topic", "stance", "count"])
        for row in summaries:
            for topic, by_stance in sorted(row["counts"].items()):
                for stance, count in sorted(by_stance.items()):
                    writer.writerow([row["source"], row["doc"], topic, stance, count])
            n += 1
    elif format == "jsonl":
        for row in summaries:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    else:
        raise ValueError(f"unknown format {format!r}; use jsonl or csv")
    return n


def read_output(path: str | os.PathLike, format: str | None = None) -> Iterator[dict]:
    """Read back the records of a ``stance score`` output file (JSONL or CSV)."""
    path = Path(path)
    format = format or _format_of(path)
    try:
        file = open(path, encoding="utf-8", newline="")
    except OSError as error:
        raise DocumentError(f"{path}: cannot read ({error.strerror or error})") from None
    with file:
        if format == "csv":
            for row in csv.DictReader(file):
                record: dict[str, Any] = dict(row)
                for name in ("sentence", "start", "end"):
                    record[name] = int(record[name])
                for name in ("topic_prob", "stance_prob"):
                    record[name] = float(record[name]) if record[name] else None
                for name in PROB_FIELDS:
                    if name in record:
                        record[name] = json.loads(record[name]) if record[name] else {}
                for name in ("topic", "stance"):
                    record[name] = record[name] or None
                yield record
            return
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError:
                raise DocumentError(f"{path}, line {number}: not a JSON record") from None


def to_dataframe(records: Iterable[dict]):
    """The records as a :class:`pandas.DataFrame` (requires pandas: ``pip install pandas``)."""
    try:
        import pandas
    except ImportError:
        raise ImportError("to_dataframe needs pandas: pip install 'diplo-stance[pandas]'") from None
    return pandas.DataFrame.from_records(list(records))


def _format_of(path: Path) -> str:
    return "csv" if path.suffix.lower() == ".csv" else "jsonl"
