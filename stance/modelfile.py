"""The data-only model file format: arrays in a zip of ``.npy`` files, plus a JSON manifest.

A saved model is a directory::

    manifest.json    format name and version, checksums and sizes of the other files,
                     the name, dtype and shape of every array, the model's settings, and
                     a checksum of the manifest itself
    arrays.npz       numeric and string arrays (never object arrays), read with
                     ``allow_pickle=False``
    MODEL_CARD.md    how the model was trained and how it scored (optional)

Loading checks everything before any array is used: the manifest's structure, its
canonical spelling and its own checksum (a hand-edited or damaged manifest is refused; format
1, written before the manifest had a checksum, is read without it), each file's size and
SHA-256, each array's dtype and shape. Any problem (missing, empty, truncated, tampered,
foreign or newer-format files) raises :class:`ModelFileError`. Nothing in a model file is ever
executed.
Writing is deterministic: the same model gives the same bytes.

>>> import numpy as np, tempfile
>>> folder = tempfile.mkdtemp()
>>> write_model_files(folder, {"kind": "demo"}, {"w": np.ones(3, dtype=np.float32)})
>>> manifest, arrays, card = read_model_files(folder)
>>> manifest["model"], arrays["w"].tolist(), card
({'kind': 'demo'}, [1.0, 1.0, 1.0], None)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFileError",
    "read_model_files",
    "write_model_files",
]

FORMAT_NAME = "stance-model"
#: Version of the file layout written by this library; every older version stays readable.
#: Version 2 added the manifest's checksum of itself.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
ARRAYS = "arrays.npz"
CARD = "MODEL_CARD.md"
_MAX_MANIFEST_BYTES = 50_000_000
_MAX_ARRAY_BYTES = 4_000_000_000
_ALLOWED_KINDS = {"f", "i", "u", "U", "b"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_SELF_CHECKSUM = "manifest_sha256"


class ModelFileError(ValueError):
    """A model file is missing, unreadable, corrupt, tampered with, or not a model file."""


def write_model_files(
    directory: str | os.PathLike,
    model: dict,
    arrays: dict[str, np.ndarray],
    card: str | None = None,
) -> None:
    """Write ``arrays``, the optional ``card`` and a manifest describing ``model`` to ``directory``.

    The manifest is written last, so an interrupted save never looks like a valid model.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    described = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            array = np.ascontiguousarray(arrays[name])
            if array.dtype.kind not in _ALLOWED_KINDS:
                raise TypeError(f"array {name!r} has dtype {array.dtype}, which is not plain data")
            payload = io.BytesIO()
            np.lib.format.write_array(payload, array, allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, payload.getvalue())
            described[name] = {"dtype": array.dtype.str, "shape": list(array.shape)}
    files = {ARRAYS: buffer.getvalue()}
    if card is not None:
        files[CARD] = card.encode("utf-8")
    stale = folder / CARD
    if card is None and stale.exists():
        stale.unlink()
    for name, content in files.items():
        _write_atomic(folder / name, content)
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "files": {
            name: {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in files.items()
        },
        "arrays": described,
        "model": model,
    }
    _write_atomic(folder / MANIFEST, _canonical(_sealed(manifest)))


def read_model_files(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray], str | None]:
    """Read and verify a saved model: ``(manifest, arrays, card_text_or_None)``.

    ``path`` is the model directory or its ``manifest.json``.

    Raises
    ------
    ModelFileError
        If anything is missing, malformed, of the wrong size or checksum, or not plain data.
    """
    folder = Path(path)
    if folder.name == MANIFEST and folder.is_file():
        folder = folder.parent
    if not folder.exists():
        raise ModelFileError(f"no model at {str(path)!r}: the path does not exist")
    if not folder.is_dir():
        raise ModelFileError(
            f"{str(path)!r} is not a model directory (expected a folder with {MANIFEST})"
        )
    manifest = _read_manifest(folder / MANIFEST)
    contents = {}
    for name, expected in manifest["files"].items():
        contents[name] = _read_checked(folder, name, expected)
    arrays = _read_arrays(contents[ARRAYS], manifest["arrays"], folder / ARRAYS)
    card = contents[CARD].decode("utf-8", errors="replace") if CARD in contents else None
    return manifest, arrays, card


def _read_manifest(path: Path) -> dict:
    if not path.is_file():
        raise ModelFileError(f"{str(path.parent)!r} is not a model: it has no {MANIFEST}")
    try:
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise ModelFileError(f"{path} is too large to be a model manifest")
        raw = path.read_bytes()
        manifest = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFileError(f"cannot read {path}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a stance model manifest")
    if _canonical(manifest) != raw:
        raise ModelFileError(f"{path} was edited or damaged: it is not as this library wrote it")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path} has an invalid format_version: {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses model format {version}, newer than this library reads "
            f"({FORMAT_VERSION}); upgrade the library"
        )
    if version >= 2 and manifest.get(_SELF_CHECKSUM) != _sealed(manifest)[_SELF_CHECKSUM]:
        raise ModelFileError(f"{path} was changed or damaged: it does not match its own checksum")
    files, arrays, model = manifest.get("files"), manifest.get("arrays"), manifest.get("model")
    if not isinstance(files, dict) or ARRAYS not in files or not set(files) <= {ARRAYS, CARD}:
        raise ModelFileError(f"{path} lists unexpected files: {files!r:.200}")
    for name, entry in files.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("bytes"), int)
            and isinstance(entry.get("sha256"), str)
        ):
            raise ModelFileError(f"{path}: malformed entry for {name}")
    if not isinstance(arrays, dict) or not isinstance(model, dict):
        raise ModelFileError(f"{path}: 'arrays' and 'model' must be objects")
    return manifest


def _read_checked(folder: Path, name: str, expected: dict) -> bytes:
    path = folder / name
    try:
        size = path.stat().st_size
        if size != expected["bytes"]:
            raise ModelFileError(
                f"{path} has {size} bytes, the manifest says {expected['bytes']}: "
                "the file is truncated or was changed"
            )
        content = path.read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path} is missing") from None
    except OSError as error:
        raise ModelFileError(f"cannot read {path}: {error}") from None
    if hashlib.sha256(content).hexdigest() != expected["sha256"]:
        raise ModelFileError(f"{path} does not match its checksum: the file was changed or damaged")
    return content


def _read_arrays(content: bytes, described: dict, path: Path) -> dict[str, np.ndarray]:
    arrays = {}
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if set(members) != {name + ".npy" for name in described}:
                raise ModelFileError(f"{path} holds other arrays than the manifest lists")
            for name, spec in described.items():
                info = members[name + ".npy"]
                if info.file_size > _MAX_ARRAY_BYTES:
                    raise ModelFileError(f"{path}: array {name!r} is implausibly large")
                with archive.open(info) as stream:
                    array = np.lib.format.read_array(stream, allow_pickle=False)
                if (
                    not isinstance(spec, dict)
                    or array.dtype.str != spec.get("dtype")
                    or list(array.shape) != spec.get("shape")
                    or array.dtype.kind not in _ALLOWED_KINDS
                ):
                    raise ModelFileError(f"{path}: array {name!r} does not match the manifest")
                arrays[name] = array
    except ModelFileError:
        raise
    except Exception as error:  # zipfile, zlib and numpy raise many types on damaged data
        raise ModelFileError(f"cannot read the arrays in {path}: {error}") from None
    return arrays


def _sealed(manifest: dict) -> dict:
    """``manifest`` with its checksum: the SHA-256 of its canonical spelling without one."""
    unsealed = {key: value for key, value in manifest.items() if key != _SELF_CHECKSUM}
    return {**unsealed, _SELF_CHECKSUM: hashlib.sha256(_canonical(unsealed)).hexdigest()}


def _canonical(manifest: dict) -> bytes:
    """The one serialisation of a manifest; loading refuses any other spelling of it."""
    return (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _write_atomic(path: Path, content: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)
