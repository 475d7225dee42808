"""Resumable output: :func:`score_to_file` and the journal that lets a killed run carry on."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..documents import DocumentError
from ..model import Model
from .listing import iter_documents
from .output import FIELDS, PROB_FIELDS, _encode, _format_of, read_output, summarize, write_summary
from .scoring import _Encoded, _iter_pieces, _model_reference, _Piece

_COMMIT_SECONDS = 0.25  # the journal is synced at most this often
_PROGRESS_SECONDS = 0.2  # the progress bar is redrawn at most this often
_JOURNAL_VERSION = 1


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
