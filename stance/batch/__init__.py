"""Batch scoring of document folders: one record per sentence, in parallel, resumable.

:func:`score_folder` walks a folder (recursively, in sorted order of the relative paths), reads
every ``.txt``, ``.md``, ``.html``/``.htm`` and ``.jsonl`` file and yields one record per
sentence. The records are the same whatever the number of jobs or the backend (local processes
through joblib, or a Dask cluster).

:func:`score_to_file` writes them to an append-only JSONL or CSV file with a completion journal
beside it (``OUT.progress``), so that a run killed at any moment resumes where it stopped and the
output holds every record exactly once. :func:`summarize` counts topic × stance per document.

The package is in four parts, each importing only those listed before it:

- :mod:`stance.batch.listing`: which files of a folder are scored, in which order
  (:func:`iter_documents`, :func:`list_documents`);
- :mod:`stance.batch.output`: the record format (:data:`~stance.batch.output.FIELDS`), writing
  records as JSONL or CSV, reading them back (:func:`read_output`, :func:`to_dataframe`) and
  summarizing them (:func:`summarize`, :func:`write_summary`);
- :mod:`stance.batch.scoring`: reading, tagging and the parallel execution behind
  :func:`score_folder`;
- :mod:`stance.batch.resume`: the resumable, journalled file writer :func:`score_to_file` and
  its :class:`BatchReport`.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.txt").write_text("We condemn the attack. Talks resume on Monday.")
>>> [(r["doc"], r["sentence"], r["start"], r["end"]) for r in score_folder(folder)]
[('a.txt', 0, 0, 22), ('a.txt', 1, 23, 46)]
"""

from __future__ import annotations

# EXTENSIONS, Unit, FIELDS and PROB_FIELDS are not in __all__, but stay importable from here
from .listing import EXTENSIONS as EXTENSIONS
from .listing import Unit as Unit
from .listing import iter_documents, list_documents
from .output import FIELDS as FIELDS
from .output import PROB_FIELDS as PROB_FIELDS
from .output import read_output, summarize, to_dataframe, write_summary
from .resume import BatchReport, score_to_file
from .scoring import SkippedDocumentWarning, score_folder

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
