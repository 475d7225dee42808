"""Batch scoring of document folders: one record per sentence, in parallel, resumable.

:func:`score_folder` walks a folder (recursively, in sorted order of the relative paths), reads
every ``.txt``, ``.md``, ``.html``/``.htm`` and ``.jsonl`` file and yields one record per
sentence. The records are the same whatever the number of jobs or the backend (local processes
through joblib, or a Dask cluster).

:func:`score_to_file` writes them to an append-only JSONL or CSV file with a completion journal
beside it (``OUT.progress``), so that a run killed at any moment resumes where it stopped and the
output holds every record exactly once. :func:`summarize` counts topic × stance per document.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.txt").write_text("We condemn the attack. Talks resume on Monday.")
>>> [(r["doc"], r["sentence"], r["start"], r["end"]) for r in score_folder(folder)]
[('a.txt', 0, 0, 22), ('a.txt', 1, 23, 46)]
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .documents import (
    CHUNK_CHARS,
    HUGE_BYTES,
    DocumentError,
    HTMLText,
    JsonlDocument,
    decode,
    document_kind,
    first_paragraph,
    html_to_text,
    iter_chunks,
    iter_jsonl,
    iter_lines,
    iter_text,
    last_paragraph,
    read_bytes,
)
from .model import Model, Predictions, load

__all__ = [
    "BatchReport",
    "SkippedDocumentWarning",
    "iter_documents",
    "list_documents",
    "read_output",
    "score_folder",
    "score_to_file",
    "summarize",
    "to_dataframe",
    "write_summary",
]

#: File extensions read when no ``glob`` is given.
EXTENSIONS = (".txt", ".md", ".html", ".htm", ".jsonl")
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
_DIGITS = 4  # probabilities are rounded to this many decimals
_TASK_FILES = 64  # small files per task
_TASK_BYTES = 2**20  # bytes of small files per task
_COMMIT_SECONDS = 0.25  # the journal is synced at most this often
_PROGRESS_SECONDS = 0.2  # the progress bar is redrawn at most this often
_JOURNAL_VERSION = 1


class SkippedDocumentWarning(UserWarning):
    """A document of the folder could not be scored (see the message for the reason)."""


class Unit(NamedTuple):
    """A file of the folder: its path relative to the folder, its kind and size in bytes
    (-1 when it cannot be determined)."""

    key: str
    kind: str
    size: int


# -- listing ---------------------------------------------------------------------------------


def iter_documents(
    path: str | os.PathLike, glob: str | None = None, exclude: Iterable[str | os.PathLike] = ()
) -> Iterator[Unit]:
    """The files to score under ``path``, in the order of their relative paths (``/``
    separators, compared as strings), found as the walk goes: memory grows with the depth and
    width of the folders, not with the number of files.

    Without ``glob``, files with the extensions in :data:`EXTENSIONS` (any case); with it, the
    files whose relative path (or, for a pattern without ``/``, whose name) matches it.
    Hidden files and folders (name starting with ``.``) are skipped, symbolic links to folders
    are not followed, and the paths in ``exclude`` are left out.
    """
    root = Path(path)
    if not root.is_dir():
        raise DocumentError(f"{root}: not a directory")
    excluded = {os.path.realpath(p) for p in exclude}
    yield from _walk(str(root), "", glob, excluded)


def _walk(folder: str, prefix: str, glob: str | None, excluded: set[str]) -> Iterator[Unit]:
    try:
        with os.scandir(folder) as scan:
            entries = []
            for entry in scan:
                if entry.name.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                # a folder sorts as "name/", so that its paths come where "name/..." sorts
                entries.append((entry.name + "/" if is_dir else entry.name, entry))
    except OSError:
        return  # an unreadable sub-folder: nothing to list in it
    entries.sort(key=lambda item: item[0])
    for sort_key, entry in entries:
        key = prefix + entry.name
        if sort_key.endswith("/"):
            yield from _walk(entry.path, key + "/", glob, excluded)
            continue
        name = entry.name
        if glob is None:
            if not name.lower().endswith(EXTENSIONS):
                continue
        elif not fnmatch.fnmatchcase(key if "/" in glob else name, glob):
            continue
        if excluded and os.path.realpath(entry.path) in excluded:
            continue
        try:
            size = entry.stat().st_size
        except OSError:
            size = -1
        yield Unit(key, document_kind(name), size)


def list_documents(
    path: str | os.PathLike, glob: str | None = None, exclude: Iterable[str | os.PathLike] = ()
) -> list[Unit]:
    """:func:`iter_documents` as a list."""
    return list(iter_documents(path, glob, exclude))


# -- the public iterator ---------------------------------------------------------------------


def score_folder(
    path: str | os.PathLike,
    *,
    model: Model | str | os.PathLike | None = None,
    glob: str | None = None,
    jobs: int = 1,
    text_field: str = "text",
    id_field: str = "id",
    probs: bool = False,
    batch_size: int = 512,
    backend: str | None = None,
    on_error: Callable[[dict], Any] | None = None,
) -> Iterator[dict]:
    """Tag every sentence of every document under ``path``; yields one dict per sentence.

    Parameters
    ----------
    path : folder
        Read recursively; see :func:`iter_documents` for which files.
    model : Model, model directory or None
        None uses the shipped default model.
    glob : str, optional
        Only the files matching this pattern (``"*.txt"``, ``"2024/*.html"``).
    jobs : int
        Worker processes (joblib, loky backend); ``-1`` uses all cores.
    text_field, id_field : str
        The fields of a JSONL line holding the text and the document id.
    probs : bool
        Add the full ``topic_probs`` and ``stance_probs`` distributions.
    batch_size : int
        Sentences classified together.
    backend : str, optional
        A joblib backend name: ``"loky"`` (default when ``jobs != 1``), ``"threading"``, or
        ``"dask"`` (uses the current ``dask.distributed.Client``; the documents are read here
        and sent to the workers).
    on_error : callable, optional
        Called with ``{"source", "doc", "reason"}`` for each document that cannot be scored;
        by default a :class:`SkippedDocumentWarning` is issued.

    Records hold ``source`` (the path relative to ``path``), ``doc`` (the same, or the id of a
    JSONL line), ``sentence`` (index in the document), ``start``, ``end`` (character offsets
    into the decoded text, or into the extracted text of an HTML page), ``text``, ``topic``,
    ``stance``, ``topic_prob``, ``stance_prob`` and ``model`` (:attr:`Model.identity`). The
    order is that of the sorted relative paths, and of the lines in a JSONL file, and does not
    depend on ``jobs``.
    """
    for piece in _iter_pieces(
        path,
        model=model,
        glob=glob,
        jobs=jobs,
        text_field=text_field,
        id_field=id_field,
        probs=probs,
        batch_size=batch_size,
        backend=backend,
    ):
        for error in piece.errors:
            if on_error is None:
                warnings.warn(
                    f"{error['doc']}: {error['reason']}", SkippedDocumentWarning, stacklevel=2
                )
            else:
                on_error(error)
        yield from piece.records


class _Encoded:
    """Records already written out (JSONL or CSV lines) by a worker; ``len`` counts them."""

    __slots__ = ("count", "data")

    def __init__(self, data: bytes, count: int) -> None:
        self.data = data
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __reduce__(self):
        return (_Encoded, (self.data, self.count))


class _Piece(NamedTuple):
    key: str  # the file (unit) these records belong to
    records: list[dict] | _Encoded
    errors: list[dict]
    done: bool  # the last piece of the unit


def _iter_pieces(
    path: str | os.PathLike,
    *,
    model=None,
    glob=None,
    jobs=1,
    text_field="text",
    id_field="id",
    probs=False,
    batch_size=512,
    backend=None,
    skip: frozenset[str] = frozenset(),
    exclude: Iterable[str | os.PathLike] = (),
    units: Iterable[Unit] | None = None,
    identity: str | None = None,
    encode: tuple[str, tuple[str, ...]] | None = None,
) -> Iterator[_Piece]:
    """Pieces of output, unit by unit, in order; the engine behind :func:`score_folder` and
    :func:`score_to_file`."""
    if not isinstance(jobs, int) or jobs == 0 or jobs < -1:
        raise ValueError(f"jobs must be a positive integer or -1, got {jobs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    root = Path(path)
    if units is None:
        units = iter_documents(root, glob, exclude)
    parallel = backend is not None or jobs != 1
    ship = backend == "dask"
    temporary = None
    try:
        model_ref, model_identity, check = _model_reference(model, parallel and not ship)
        if isinstance(model_ref, tuple):  # an unsaved model object, saved for the workers
            temporary, model_ref = model_ref
        options = {
            "text_field": text_field,
            "id_field": id_field,
            "probs": bool(probs),
            "batch_size": batch_size,
            "identity": identity or model_identity,
            "encode": encode,
            "check": check,
        }
        tasks = _tasks(root, units, skip, options, ship)
        counts: dict[str, int] = {}
        for pieces in _execute(tasks, model_ref, options, jobs, backend):
            for key, records, errors, done, renumber in pieces:
                if renumber:
                    n = counts.get(key, 0)
                    for record in records:
                        record["sentence"] = n
                        n += 1
                    counts[key] = n
                    if done:
                        if n == 0 and not errors:
                            errors = [_error(key, key, "empty document")]
                        counts.pop(key, None)
                yield _Piece(key, records, errors, done)
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def _model_reference(model, parallel: bool):
    """What the workers get to find the model: None (default model), a directory, or the
    object itself (in this process, or sent with every task to Dask workers, which may not see
    a temporary directory of this machine); plus the identity recorded in the output and
    whether the workers must check it."""
    if model is None:
        return None, load().identity, True
    if isinstance(model, Model):
        if not parallel:
            return model, model.identity, False
        folder = tempfile.mkdtemp(prefix="stance-model-")
        model.save(folder)
        return (folder, folder), model.identity, False
    if isinstance(model, (str, os.PathLike)):
        folder = os.path.abspath(model)
        return folder, _get_model(folder).identity, True
    raise TypeError(f"model must be a Model, a model directory or None, not {type(model).__name__}")


_MODELS: dict[str, Model] = {}


def _get_model(ref) -> Model:
    """The model for ``ref``, loaded once per process."""
    if ref is None:
        return load()
    if isinstance(ref, Model):
        return ref
    model = _MODELS.get(ref)
    if model is None:
        _MODELS.clear()
        model = _MODELS[ref] = load(ref)
    return model


# -- tasks -----------------------------------------------------------------------------------


def _tasks(root: Path, units: Iterable[Unit], skip, options: dict, ship: bool) -> Iterator[tuple]:
    """Group the units into tasks: small files together, huge files streamed in chunks."""
    group: list[tuple] = []
    group_bytes = 0
    for unit in units:
        if unit.key in skip:
            continue
        if unit.size > HUGE_BYTES:
            if group:
                yield ("files", str(root), group)
                group, group_bytes = [], 0
            yield from _huge_tasks(root, unit, options)
            continue
        payload = None
        if ship:
            try:
                payload = read_bytes(root / unit.key)
            except DocumentError as error:
                payload = error
        group.append((unit.key, unit.kind, payload))
        group_bytes += max(unit.size, 0)
        if len(group) >= _TASK_FILES or group_bytes >= _TASK_BYTES:
            yield ("files", str(root), group)
            group, group_bytes = [], 0
    if group:
        yield ("files", str(root), group)


def _huge_tasks(root: Path, unit: Unit, options: dict) -> Iterator[tuple]:
    """A huge file, read here as a stream and sent out in chunks of bounded size."""
    key = unit.key
    try:
        pieces = iter_text(root / key)
        if unit.kind == "jsonl":
            batch: list = []
            size = 0
            for doc in iter_jsonl(
                iter_lines(pieces), options["text_field"], options["id_field"], name=key
            ):
                batch.append(doc)
                size += len(doc.text or "")
                if size >= CHUNK_CHARS:
                    yield ("lines", key, batch, False)
                    batch, size = [], 0
            yield ("lines", key, batch, True)
            return
        if unit.kind == "html":
            pieces = _html_pieces(pieces)
        # each chunk goes with the paragraph before it and the one after it, so that its first
        # and last sentences are split and read (the topic head reads the neighbouring
        # sentences) as in the whole document; only the chunk's own sentences are kept
        previous = None
        before = ""
        for offset, chunk in iter_chunks(pieces, CHUNK_CHARS):
            if previous is not None:
                yield ("chunk", key, *previous, before, first_paragraph(chunk), False)
                before = last_paragraph(previous[1])
            previous = (offset, chunk)
        yield ("chunk", key, *(previous or (0, "")), before, "", True)
    except DocumentError as error:
        yield ("error", key, _reason(error, root / key))


def _html_pieces(pieces: Iterable[str]) -> Iterator[str]:
    parser = HTMLText()
    for piece in pieces:
        yield parser.feed(piece)
    yield parser.close()


# -- execution -------------------------------------------------------------------------------


def _execute(tasks: Iterator[tuple], model_ref, options: dict, jobs: int, backend: str | None):
    """Run the tasks, here or on joblib workers; yields their results in task order."""
    if backend is None and jobs == 1:
        for task in tasks:
            yield _run_task(task, model_ref, options)
        return
    from joblib import Parallel, delayed, parallel_config

    if backend == "dask":
        import distributed  # noqa: F401  (a clear ImportError when Dask is missing)

        # The backend is resolved when Parallel is created; the setting is not kept beyond.
        with parallel_config(backend="dask"):
            parallel = Parallel(n_jobs=-1, return_as="generator", batch_size=1)
    else:
        parallel = Parallel(
            n_jobs=jobs, backend=backend or "loky", return_as="generator", batch_size=1
        )
    yield from parallel(delayed(_run_task)(task, model_ref, options) for task in tasks)


def _run_task(task: tuple, model_ref, options: dict) -> list[tuple]:
    """Score one task; returns ``(key, records, errors, done, renumber)`` tuples."""
    kind = task[0]
    if kind == "error":
        _, key, reason = task
        return [(key, [], [_error(key, key, reason)], True, False)]
    model = _get_model(model_ref)
    if options["check"] and model.identity != options["identity"]:
        raise ValueError(
            f"a worker loaded the model {model.identity}, not {options['identity']}; "
            "install the same version of stance (and model) on every worker"
        )
    if kind == "chunk":
        _, key, offset, text, before, after, done = task
        low, high = len(before), len(before) + len(text)
        whole, spans, predictions = next(model.pipe_predictions([before + text + after]))
        own = [i for i, (start, _) in enumerate(spans) if low <= start < high]
        rows = slice(own[0], own[-1] + 1) if own else slice(0, 0)
        records = _records(whole, spans[rows], predictions[rows], key, key, options, offset - low)
        return [(key, records, [], done, True)]
    if kind == "lines":
        _, key, docs, done = task
        results: dict[str, tuple[list, list]] = {key: ([], [])}
        _score_docs(model, [(key, doc) for doc in docs], results, options)
        records, errors = results[key]
        return [(key, _maybe_encoded(records, options), errors, done, False)]
    _, root, files = task
    results = {}
    docs: list[tuple[str, Any]] = []
    for key, file_kind, payload in files:
        records: list[dict] = []
        errors: list[dict] = []
        results[key] = (records, errors)
        path = Path(root, key)
        try:
            if isinstance(payload, DocumentError):
                raise payload
            data = read_bytes(path) if payload is None else payload
            text = decode(data, str(path)).text
        except DocumentError as error:
            errors.append(_error(key, key, _reason(error, path)))
            continue
        if file_kind == "jsonl":
            for doc in iter_jsonl(
                text.splitlines(), options["text_field"], options["id_field"], name=key
            ):
                docs.append((key, doc))
        else:
            if file_kind == "html":
                text = html_to_text(text)
            docs.append((key, (key, text)))
    _score_docs(model, docs, results, options)
    return [
        (key, _maybe_encoded(records, options), errors, True, False)
        for key, (records, errors) in results.items()
    ]


def _maybe_encoded(records: list[dict], options: dict) -> list[dict] | _Encoded:
    """In a worker writing to a file, the records as the bytes to write (this spares the
    main process the decoding and encoding)."""
    if not options.get("encode") or not records:
        return records
    format, fields = options["encode"]
    return _Encoded(_encode(records, format, fields), len(records))


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


_JSON_STRING = json.JSONEncoder(ensure_ascii=False).encode


def _jsonl(records: list[dict]) -> str:
    """The records as ``json.dumps(record, ensure_ascii=False)`` lines; spelled out field by
    field, which is about three times faster than the general encoder."""
    string = _JSON_STRING
    labels: dict = {None: "null"}
    lines = []
    for r in records:
        topic, stance = r["topic"], r["stance"]
        if topic not in labels:
            labels[topic] = string(topic)
        if stance not in labels:
            labels[stance] = string(stance)
        topic_prob, stance_prob = r["topic_prob"], r["stance_prob"]
        probs = ""
        if "topic_probs" in r:
            probs = (
                f', "topic_probs": {string(r["topic_probs"])}'
                f', "stance_probs": {string(r["stance_probs"])}'
            )
        lines.append(
            f'{{"source": {string(r["source"])}, "doc": {string(r["doc"])}, '
            f'"sentence": {r["sentence"]}, "start": {r["start"]}, "end": {r["end"]}, '
            f'"text": {string(r["text"])}, "topic": {labels[topic]}, '
            f'"stance": {labels[stance]}, '
            f'"topic_prob": {"null" if topic_prob is None else repr(topic_prob)}, '
            f'"stance_prob": {"null" if stance_prob is None else repr(stance_prob)}'
            f'{probs}, "model": {string(r["model"])}}}\n'
        )
    return "".join(lines)


def _score_docs(model: Model, docs: list[tuple[str, Any]], results: dict, options: dict) -> None:
    """Tag the documents together; append the records (or errors) to ``results[source]``."""
    usable = []
    for source, doc in docs:
        if isinstance(doc, JsonlDocument):  # a JSONL line
            doc_id, text = doc.id, doc.text
            if doc.error:
                results[source][1].append(_error(source, doc_id, f"line {doc.line}: {doc.error}"))
                continue
        else:  # (doc id, text) of a file
            doc_id, text = doc
        if not text.strip():
            results[source][1].append(_error(source, doc_id, "empty document"))
            continue
        usable.append((source, doc_id, text))
    texts = (text for _, _, text in usable)
    tagged = model.pipe_predictions(texts, batch_size=options["batch_size"])
    for (source, doc_id, _), (text, spans, predictions) in zip(usable, tagged):
        if not spans:
            results[source][1].append(_error(source, doc_id, "empty document"))
            continue
        results[source][0].extend(_records(text, spans, predictions, source, doc_id, options))


def _records(
    text: str,
    spans: list[tuple[int, int]],
    predictions: Predictions,
    source: str,
    doc: str,
    options: dict,
    offset: int = 0,
) -> list[dict]:
    """One record per sentence span of ``text``; offsets shifted by ``offset``."""
    identity = options["identity"]
    topic_probs, stance_probs = map(_rounded, predictions.chosen_probabilities())
    distributions = zip(*predictions.distributions()) if options["probs"] else None
    records = []
    for index, (start, end) in enumerate(spans):
        record = {
            "source": source,
            "doc": doc,
            "sentence": index,
            "start": start + offset,
            "end": end + offset,
            "text": text[start:end],
            "topic": predictions.topics[index],
            "stance": predictions.stances[index],
            "topic_prob": topic_probs[index],
            "stance_prob": stance_probs[index],
        }
        if distributions is not None:
            topics, stances = next(distributions)
            record["topic_probs"] = {k: round(v, _DIGITS) for k, v in topics.items()}
            record["stance_probs"] = {k: round(v, _DIGITS) for k, v in stances.items()}
        record["model"] = identity
        records.append(record)
    return records


def _rounded(probabilities: list) -> list:
    return [None if p is None else round(p, _DIGITS) for p in probabilities]


def _error(source: str, doc: str, reason: str) -> dict:
    return {"source": source, "doc": doc, "reason": reason}


def _reason(error: DocumentError, path: Path) -> str:
    message = str(error)
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


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


# -- resumable output ------------------------------------------------------------------------


@dataclass
class BatchReport:
    """What :func:`score_to_file` did; ``documents`` and ``skipped`` include earlier runs."""

    output: Path
    errors_path: Path
    documents: int = 0  # files fully processed
    sentences: int = 0
    skipped: int = 0  # documents that could not be scored (files or JSONL lines)
    resumed: int = 0  # files already done by an earlier run
    seconds: float = 0.0
    summary_path: Path | None = None
    settings: dict = field(default_factory=dict)

    def line(self) -> str:
        """The closing summary line."""
        text = (
            f"scored {self.documents - self.resumed:,} files ({self.sentences:,} sentences in "
            f"total) in {self.seconds:.2f} s"
        )
        if self.resumed:
            text += f"; {self.resumed:,} files were done by an earlier run"
        if self.skipped:
            text += f"; skipped {self.skipped:,} documents (see {self.errors_path})"
        else:
            text += "; nothing skipped"
        return text


def score_to_file(
    path: str | os.PathLike,
    output: str | os.PathLike,
    *,
    format: str | None = None,
    errors: str | os.PathLike | None = None,
    summary: str | os.PathLike | None = None,
    overwrite: bool = False,
    show_progress: bool = False,
    model: Model | str | os.PathLike | None = None,
    glob: str | None = None,
    jobs: int = 1,
    text_field: str = "text",
    id_field: str = "id",
    probs: bool = False,
    batch_size: int = 512,
    backend: str | None = None,
) -> BatchReport:
    """Score a folder into ``output`` (JSONL or CSV), resumably.

    Beside the output, ``OUTPUT.progress`` records the settings of the run and, after their
    records are flushed and synced to disk, the files that are done. Run again after an
    interruption (even ``kill -9``), the same call truncates whatever was written after the last
    completed file, skips the completed files and carries on; the output then holds every record
    exactly once. Settings that change the output (folder, format, glob, probabilities, JSONL
    fields, model) must be the same as in the first run; ``overwrite=True`` starts afresh.
    Documents that cannot be scored are listed in ``errors`` (JSONL; default
    ``OUTPUT.errors.jsonl``). With ``summary``, per-document topic × stance counts are written
    there at the end (CSV if its name ends in ``.csv``, else JSONL).
    """
    started = time.monotonic()
    root = Path(path)
    out_path = Path(output)
    format = format or _format_of(out_path)
    if format not in ("jsonl", "csv"):
        raise ValueError(f"unknown format {format!r}; use jsonl or csv")
    progress_path = Path(f"{out_path}.progress")
    errors_path = Path(errors) if errors is not None else Path(f"{out_path}.errors.jsonl")
    summary_path = Path(summary) if summary is not None else None
    if not root.is_dir():
        raise DocumentError(f"{root}: not a directory")
    identity = _model_reference(model, False)[1]
    settings = {
        "folder": os.path.abspath(root),
        "format": format,
        "glob": glob,
        "probs": bool(probs),
        "text_field": text_field,
        "id_field": id_field,
        "model": identity,
        "errors": os.path.abspath(errors_path),
    }
    fields = FIELDS + PROB_FIELDS if probs else FIELDS
    header = b""
    if format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(fields)
        header = buffer.getvalue().encode("utf-8")
    if overwrite:
        for stale in (out_path, progress_path, errors_path):
            stale.unlink(missing_ok=True)
    journal = _Journal(out_path, progress_path, errors_path, settings, header)
    report = BatchReport(out_path, errors_path, summary_path=summary_path, settings=settings)
    report.documents = report.resumed = len(journal.done)
    report.sentences = journal.sentences
    report.skipped = journal.skipped
    exclude = [out_path, progress_path, errors_path] + ([summary_path] if summary_path else [])
    units = iter_documents(root, glob, exclude)
    bar = _ProgressBar(show_progress)
    if bar.enabled:  # a first walk, to know how many files there are
        bar.total = sum(u.key not in journal.done for u in iter_documents(root, glob, exclude))
    try:
        pieces = _iter_pieces(
            root,
            model=model,
            jobs=jobs,
            text_field=text_field,
            id_field=id_field,
            probs=probs,
            batch_size=batch_size,
            backend=backend,
            skip=frozenset(journal.done),
            units=units,
            identity=identity,
            encode=(format, fields),
        )
        for piece in pieces:
            journal.write(piece, format, fields)
            report.sentences += len(piece.records)
            report.skipped += len(piece.errors)
            if piece.done:
                report.documents += 1
            bar.update(piece.done, len(piece.records))
    finally:
        bar.close()
        try:  # also after Ctrl-C: what is journalled was fully written before
            journal.commit()
        finally:
            journal.close()
    if summary_path is not None:
        with open(summary_path, "w", encoding="utf-8", newline="") as file:
            write_summary(summarize(read_output(out_path, format)), file, _format_of(summary_path))
    report.seconds = time.monotonic() - started
    return report


class _Journal:
    """The output file, the errors file and the progress journal, kept consistent.

    The journal's first line holds the settings; each further line names a completed file and
    the sizes the output and errors files had after it. Records are appended to the output as
    they come; every ``_COMMIT_SECONDS`` the output and errors files are flushed and synced,
    then the lines of the files completed since the last commit are appended to the journal
    and synced. On opening, anything beyond the last journalled sizes (a torn line, records of
    an unfinished file) is cut off.
    """

    def __init__(self, out_path, progress_path, errors_path, settings: dict, header: bytes):
        self.out_path, self.progress_path, self.errors_path = out_path, progress_path, errors_path
        self.done: set[str] = set()
        self.sentences = 0
        self.skipped = 0
        self.pending: list[bytes] = []
        self._counts: dict[str, tuple[int, int]] = {}
        self.last_commit = time.monotonic()
        out_size, err_size = self._recover(settings, header)
        self.out = open(out_path, "r+b" if out_path.exists() else "wb")
        self.out.truncate(out_size)
        self.out.seek(out_size)
        self.out_size = out_size
        if out_size == 0 and header:
            self.out.write(header)
            self.out_size = len(header)
        self.err = None
        self.err_size = err_size
        if errors_path.exists() and errors_path.stat().st_size > err_size:
            with open(errors_path, "r+b") as file:
                file.truncate(err_size)
        self.progress = open(progress_path, "ab")
        if self.progress.tell() == 0:
            line = {"stance_score": _JOURNAL_VERSION, "settings": settings}
            self.progress.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
            _sync(self.progress)

    def _recover(self, settings: dict, header: bytes) -> tuple[int, int]:
        """Read the journal of an earlier run, check its settings, cut its torn tail; returns
        the committed sizes of the output and errors files."""
        out_exists = self.out_path.exists() and self.out_path.stat().st_size > 0
        if not self.progress_path.exists():
            if out_exists:
                raise ValueError(
                    f"{self.out_path} exists and has no {self.progress_path.name} journal; "
                    "use --overwrite to replace it, or choose another output"
                )
            return 0, 0
        with open(self.progress_path, "rb") as file:
            data = file.read()
        lines = data.split(b"\n")
        complete = lines[:-1]  # the last item is empty, or a torn line
        try:
            first = json.loads(complete[0])
            previous = first["settings"]
            if first["stance_score"] != _JOURNAL_VERSION:
                raise ValueError
        except (IndexError, ValueError, KeyError, TypeError):
            if out_exists:
                raise ValueError(
                    f"{self.progress_path} is damaged, so {self.out_path} cannot be resumed; "
                    "use --overwrite to start afresh"
                ) from None
            self.progress_path.unlink()
            return 0, 0
        if previous != settings:
            changed = ", ".join(
                f"{key}: {previous.get(key)!r} -> {settings.get(key)!r}"
                for key in sorted(set(previous) | set(settings))
                if previous.get(key) != settings.get(key)
            )
            raise ValueError(
                f"{self.out_path} was started with other settings ({changed}); rerun with the "
                "same options to resume, or add --overwrite to start afresh"
            )
        out_size, err_size, kept = 0, 0, len(complete[0]) + 1
        for line in complete[1:]:
            try:
                entry = json.loads(line)
                unit, out_size, err_size = entry["unit"], entry["out"], entry["err"]
            except (ValueError, KeyError, TypeError):
                break
            self.done.add(unit)
            self.sentences += entry.get("sentences", 0)
            self.skipped += entry.get("skipped", 0)
            kept += len(line) + 1
        if kept < len(data):
            with open(self.progress_path, "r+b") as file:
                file.truncate(kept)
        actual = self.out_path.stat().st_size if self.out_path.exists() else 0
        if actual < out_size:
            raise ValueError(
                f"{self.out_path} is shorter than its journal says; it was changed by something "
                "else: use --overwrite to start afresh"
            )
        return out_size, err_size

    def write(self, piece: _Piece, format: str, fields: tuple[str, ...]) -> None:
        if piece.records:
            if isinstance(piece.records, _Encoded):
                data = piece.records.data
            else:
                data = _encode(piece.records, format, fields)
            self.out.write(data)
            self.out_size += len(data)
        if piece.errors:
            if self.err is None:
                self.err = open(self.errors_path, "ab")
                self.err.seek(self.err_size)
            data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in piece.errors)
            encoded = data.encode("utf-8")
            self.err.write(encoded)
            self.err_size += len(encoded)
        sentences, skipped = self._counts.get(piece.key, (0, 0))
        sentences += len(piece.records)
        skipped += len(piece.errors)
        if not piece.done:
            self._counts[piece.key] = (sentences, skipped)
            return
        self._counts.pop(piece.key, None)
        entry = {
            "unit": piece.key,
            "out": self.out_size,
            "err": self.err_size,
            "sentences": sentences,
            "skipped": skipped,
        }
        self.pending.append(json.dumps(entry, ensure_ascii=False).encode("utf-8") + b"\n")
        if time.monotonic() - self.last_commit >= _COMMIT_SECONDS:
            self.commit()

    def commit(self) -> None:
        """Make the records written so far durable, then journal the completed files."""
        _sync(self.out)
        if self.err is not None:
            _sync(self.err)
        if self.pending:
            self.progress.write(b"".join(self.pending))
            _sync(self.progress)
            self.pending.clear()
        self.last_commit = time.monotonic()

    def close(self) -> None:
        for file in (self.out, self.err, self.progress):
            if file is not None:
                file.close()


def _sync(file) -> None:
    file.flush()
    os.fsync(file.fileno())


def _csv_value(value) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


class _ProgressBar:
    """``files, sentences/s, ETA`` on one line of stderr, when it is a terminal."""

    def __init__(self, enabled: bool, total: int = 0) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.total = total
        self.files = 0
        self.sentences = 0
        self.started = self.shown = time.monotonic()

    def update(self, done: bool, sentences: int) -> None:
        self.files += done
        self.sentences += sentences
        now = time.monotonic()
        if not self.enabled or now - self.shown < _PROGRESS_SECONDS:
            return
        self.shown = now
        elapsed = max(now - self.started, 1e-9)
        rate = self.sentences / elapsed
        eta = ""
        if self.files:
            seconds = int(elapsed / self.files * (self.total - self.files))
            eta = f"  ETA {seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        sys.stderr.write(
            f"\r{self.files:,}/{self.total:,} files  {self.sentences:,} sentences  "
            f"{rate:,.0f} sentences/s{eta}   "
        )
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.shown > self.started:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
