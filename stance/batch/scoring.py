"""Scoring: read the documents, tag their sentences, and run the work here or in parallel.

The engine (:func:`_iter_pieces`) yields the records unit by unit, in order; :func:`score_folder`
serves them one by one, and :func:`stance.batch.resume.score_to_file` writes them to a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..documents import (
    CHUNK_CHARS,
    HUGE_BYTES,
    DocumentError,
    HTMLText,
    JsonlDocument,
    decode,
    first_paragraph,
    html_to_text,
    iter_chunks,
    iter_jsonl,
    iter_lines,
    iter_text,
    last_paragraph,
    read_bytes,
)
from ..heads import DOCUMENT_WINDOW
from ..model import Model, Predictions, load
from .listing import Unit, iter_documents
from .output import _encode

_DIGITS = 4  # probabilities are rounded to this many decimals
_TASK_FILES = 64  # small files per task
_TASK_BYTES = 2**20  # bytes of small files per task
# sentences of context a chunk of a huge file needs on each side: the topic head mixes in
# the sentences of its document window, each of which reads its own neighbour
CONTEXT_SENTENCES = DOCUMENT_WINDOW + 1


class SkippedDocumentWarning(UserWarning):
    """A document of the folder could not be scored (see the message for the reason)."""


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
        # each chunk goes with the paragraphs before it and after it, so that its first and
        # last sentences are split and read as in the whole document (the heads read the next
        # sentence, the topic head mixes in the 8 around it); only its own sentences are kept
        previous = None
        before = ""
        for offset, chunk in iter_chunks(pieces, CHUNK_CHARS):
            if previous is not None:
                after = first_paragraph(chunk, sentences=CONTEXT_SENTENCES)
                yield ("chunk", key, *previous, before, after, False)
                before = last_paragraph(previous[1], sentences=CONTEXT_SENTENCES)
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
