"""Reading documents from disk: bytes → text, with the encoding it was decoded from.

Decoding order: a byte-order mark (UTF-8, UTF-16 or UTF-32) wins; then strict UTF-8; a file
with NUL bytes and no BOM is binary and refused; anything else is a legacy 8-bit file, decoded
as Windows-1252 (Latin-1 for the five bytes it leaves undefined) and reported as such.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> _ = path.write_bytes("Déclaration".encode("cp1252"))
>>> read_text(path)
DecodedText(text='Déclaration', encoding='cp1252')
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import NamedTuple

__all__ = ["DecodedText", "DocumentError", "decode", "read_text"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Windows-1252 as a table over Latin-1; the five bytes it leaves undefined stay Latin-1.
_CP1252 = {
    b: bytes([b]).decode("cp1252")
    for b in range(0x80, 0xA0)
    if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


class DocumentError(ValueError):
    """A document that cannot be read as text: missing, unreadable, binary or undecodable."""


class DecodedText(NamedTuple):
    """The text of a document and the encoding it was decoded from."""

    text: str
    encoding: str


def decode(data: bytes, name: str = "document") -> DecodedText:
    """Decode the bytes of a document; see the module docstring for the rules."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return DecodedText(data.decode(encoding), encoding)
            except UnicodeDecodeError as error:
                raise DocumentError(
                    f"{name}: invalid {encoding} text at byte {error.start}"
                ) from None
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:65536]:
        raise DocumentError(f"{name}: binary file (NUL bytes), not text")
    return DecodedText(data.decode("latin-1").translate(_CP1252), "cp1252")


def read_text(path: str | os.PathLike) -> DecodedText:
    """Read and decode a text file; raises :class:`DocumentError` with the reason."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DocumentError(f"{path}: is a directory") from None
    except OSError as error:
        raise DocumentError(f"{path}: cannot read ({error.strerror or error})") from None
    if b"\x00" in data[:65536] and not data.startswith(tuple(bom for bom, _ in _BOMS)):
        raise DocumentError(f"{path}: binary file (NUL bytes), not text")
    return decode(data, str(path))
