"""Listing the documents of a folder: which files are scored, and in which order."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from ..documents import DocumentError, document_kind

#: File extensions read when no ``glob`` is given.
EXTENSIONS = (".txt", ".md", ".html", ".htm", ".jsonl")


class Unit(NamedTuple):
    """A file of the folder: its path relative to the folder, its kind and size in bytes
    (-1 when it cannot be determined)."""

    key: str
    kind: str
    size: int


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
