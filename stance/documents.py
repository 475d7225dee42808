"""Reading documents from disk: bytes → text, with the encoding it was decoded from.

Plain text (``.txt``, ``.md``) is used as decoded; HTML (``.html``, ``.htm``) is reduced to its
visible text by :func:`html_to_text`; JSONL files hold one document per line
(:func:`iter_jsonl`). Files larger than :data:`HUGE_BYTES` are read as a stream of decoded
pieces (:func:`iter_text`) and cut into chunks at paragraph or sentence boundaries
(:func:`iter_chunks`), so memory stays bounded whatever the size of the file.

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
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

from .segment import split_spans

__all__ = [
    "HUGE_BYTES",
    "DecodedText",
    "DocumentError",
    "HTMLText",
    "JsonlDocument",
    "decode",
    "document_kind",
    "first_paragraph",
    "html_to_text",
    "iter_chunks",
    "iter_jsonl",
    "iter_text",
    "last_paragraph",
    "read_bytes",
    "read_text",
]

#: Files larger than this many bytes are streamed and tagged in chunks.
HUGE_BYTES = 8 * 2**20
#: Size of one chunk of a huge document, in characters (cut at a boundary near it).
CHUNK_CHARS = 2**20
_READ_BYTES = 2**20

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
    if b"\x00" in data[:65536]:
        raise DocumentError(f"{name}: binary file (NUL bytes), not text")
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return DecodedText(data.decode("latin-1").translate(_CP1252), "cp1252")


def read_text(path: str | os.PathLike) -> DecodedText:
    """Read and decode a text file; raises :class:`DocumentError` with the reason."""
    path = Path(path)
    return decode(read_bytes(path), str(path))


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a regular file; raises :class:`DocumentError` with the reason.

    Special files (FIFOs, devices, sockets) are refused without being opened, so that a FIFO
    never blocks a run.
    """
    _check_regular(path)
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise _os_error(path, error) from None


def _check_regular(path: str | os.PathLike) -> os.stat_result:
    try:
        info = os.stat(path)
    except OSError as error:
        raise _os_error(path, error) from None
    if stat.S_ISDIR(info.st_mode):
        raise DocumentError(f"{path}: is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise DocumentError(f"{path}: not a regular file")
    return info


def _os_error(path: str | os.PathLike, error: OSError) -> DocumentError:
    if isinstance(error, FileNotFoundError):
        if os.path.islink(path):
            return DocumentError(f"{path}: broken symbolic link")
        return DocumentError(f"{path}: no such file")
    if isinstance(error, IsADirectoryError):
        return DocumentError(f"{path}: is a directory")
    return DocumentError(f"{path}: cannot read ({error.strerror or error})")


def document_kind(name: str) -> str:
    """``"html"``, ``"jsonl"`` or ``"text"``, from a file name's extension.

    >>> document_kind("speech.HTM"), document_kind("wire.jsonl"), document_kind("notes.md")
    ('html', 'jsonl', 'text')
    """
    suffix = os.path.splitext(name)[1].lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".jsonl":
        return "jsonl"
    return "text"


# -- HTML ------------------------------------------------------------------------------------

_SKIPPED_TAGS = frozenset("script style head title noscript template svg math iframe".split())
_BLOCK_TAGS = frozenset(
    """address article aside blockquote body br dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre
    section summary table tbody td tfoot th thead tr ul caption option""".split()
)
_VOID_TAGS = frozenset("area base br col embed hr img input link meta source track wbr".split())
_SPACES = re.compile(r"[ \t\r\f\v\n\u00a0]+")


class HTMLText(HTMLParser):
    r"""Visible text of an HTML document, fed in pieces.

    The text of ``script``, ``style``, ``head`` (and a few other invisible elements) is
    dropped; runs of white space become one space; block elements (paragraphs, headings, list
    items, table cells, ``br`` …) become a blank line, so that they end a sentence. Character
    references are resolved. :meth:`feed` returns the text that is final so far.

    >>> parser = HTMLText()
    >>> parser.feed("<html><head><title>x</title></head><body><h1>Talks</h1><p>They met")
    'Talks\n\nThey met'
    >>> parser.feed(" &amp; agreed.</p><script>var x;</script>") + parser.close()
    ' & agreed.'
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._skip = 0
        self._out: list[str] = []
        self._pending_break = False
        self._started = False
        self._space = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIPPED_TAGS:
            if tag not in _VOID_TAGS:
                self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._pending_break = True

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCK_TAGS:
            self._pending_break = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self._pending_break = True

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        leading = data[:1].isspace()
        trailing = data[-1:].isspace()
        words = _SPACES.sub(" ", data).strip()
        if not words:
            self._space = self._space or bool(data)
            return
        if self._started:
            if self._pending_break:
                self._out.append("\n\n")
            elif self._space or leading:
                self._out.append(" ")
        self._out.append(words)
        self._started = True
        self._pending_break = False
        self._space = trailing

    def feed(self, data: str) -> str:  # type: ignore[override]
        """Parse more HTML; returns the visible text completed by it."""
        super().feed(data)
        return self._take()

    def close(self) -> str:  # type: ignore[override]
        """Finish parsing; returns the rest of the visible text."""
        super().close()
        return self._take()

    def _take(self) -> str:
        text = "".join(self._out)
        self._out.clear()
        return text


def html_to_text(html: str) -> str:
    r"""The visible text of an HTML document (see :class:`HTMLText`).

    >>> html_to_text("<p>We welcome the truce.</p><p>Talks resume<br>on Monday.</p>")
    'We welcome the truce.\n\nTalks resume\n\non Monday.'
    """
    parser = HTMLText()
    return parser.feed(html) + parser.close()


# -- streaming -------------------------------------------------------------------------------


def _sniff_encoding(path: str | os.PathLike, head: bytes) -> str:
    """The encoding :func:`decode` would choose for the whole file, reading it in pieces."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head[:65536]:
        raise DocumentError(f"{path}: binary file (NUL bytes), not text")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as file:
            while block := file.read(_READ_BYTES):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    except OSError as error:
        raise _os_error(path, error) from None
    return "utf-8"


def iter_text(path: str | os.PathLike, block_bytes: int = _READ_BYTES) -> Iterator[str]:
    """Decode a file piece by piece, with the rules of :func:`decode`.

    ``"".join(iter_text(path)) == read_text(path).text``, in memory bounded by ``block_bytes``
    (a file without a byte-order mark is read twice: once to check that it is UTF-8).
    """
    _check_regular(path)
    try:
        with open(path, "rb") as file:
            head = file.read(65536)
    except OSError as error:
        raise _os_error(path, error) from None
    encoding = _sniff_encoding(path, head)
    if encoding == "cp1252":
        decoder = None
    else:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    try:
        with open(path, "rb") as file:
            while block := file.read(block_bytes):
                if decoder is None:
                    yield block.decode("latin-1").translate(_CP1252)
                else:
                    yield decoder.decode(block)
                offset += len(block)
            if decoder is not None:
                yield decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{path}: invalid {encoding} text at byte {offset + error.start}"
        ) from None
    except OSError as error:
        raise _os_error(path, error) from None


_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def iter_chunks(pieces: Iterable[str], chunk_chars: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    r"""Regroup a stream of text pieces into ``(offset, chunk)`` pairs of about
    ``chunk_chars`` characters, where ``offset`` is the chunk's position in the whole text.

    A chunk ends after a blank line when there is one in its second half (a blank line always
    ends a sentence, so the sentences are those of the whole text); otherwise at the start of
    the last sentence found in its last 20,000 characters; otherwise at the last space; otherwise
    (no space at all) after exactly ``chunk_chars`` characters.

    >>> [(o, c) for o, c in iter_chunks(["One. Two.\n\nThree. ", "Four."], chunk_chars=12)]
    [(0, 'One. Two.\n\n'), (11, 'Three. Four.')]
    """
    buffer = ""
    offset = 0
    for piece in pieces:
        buffer += piece
        while len(buffer) > chunk_chars:
            cut = _cut_point(buffer, chunk_chars)
            yield offset, buffer[:cut]
            offset += cut
            buffer = buffer[cut:]
    if buffer:
        yield offset, buffer


def _cut_point(buffer: str, chunk_chars: int) -> int:
    low = chunk_chars // 2
    last = None
    for last in _PARAGRAPH_BREAK.finditer(buffer, low, chunk_chars):  # noqa: B007
        pass
    if last is not None and last.end() <= chunk_chars:
        return last.end()
    window_start = max(low, chunk_chars - 20000)
    spans = split_spans(buffer[window_start:chunk_chars])
    if len(spans) >= 2:
        return window_start + spans[-1][0]
    space = buffer.rfind(" ", low, chunk_chars)
    return space + 1 if space > 0 else chunk_chars


_CONTEXT_CHARS = 20000


def last_paragraph(text: str, limit: int = _CONTEXT_CHARS, sentences: int = 1) -> str:
    r"""The last paragraph of ``text`` (after its last blank line), or as many last paragraphs
    as hold ``sentences`` sentences, at most about ``limit`` characters: the context a chunk
    gets from the chunk before it.

    >>> last_paragraph("One.\n\nTwo. Three.\n\n")
    'Two. Three.\n\n'
    >>> last_paragraph("One.\n\nTwo. Three.\n\n", sentences=3)
    'One.\n\nTwo. Three.\n\n'
    """
    end = len(text.rstrip())
    breaks = list(_PARAGRAPH_BREAK.finditer(text, max(0, end - limit), end))
    if not breaks:
        start = 0
        if end > limit:
            start = text.find(" ", end - limit) + 1 or end - limit
        return text[start:]
    found, stop = 0, len(text)  # a blank line ends a sentence: count paragraph by paragraph
    for match in reversed(breaks):
        found += len(split_spans(text[match.end() : stop]))
        if found >= sentences:
            return text[match.end() :]
        stop = match.start()
    return text[breaks[0].end() :] if end > limit else text


def first_paragraph(text: str, limit: int = _CONTEXT_CHARS, sentences: int = 1) -> str:
    r"""The first paragraph of ``text`` (up to its first blank line), or as many first
    paragraphs as hold ``sentences`` sentences, at most about ``limit`` characters: the context
    a chunk gets from the chunk after it.

    >>> first_paragraph("One. Two.\n\nThree.")
    'One. Two.'
    >>> first_paragraph("One. Two.\n\nThree.", sentences=3)
    'One. Two.\n\nThree.'
    """
    begin = len(text) - len(text.lstrip())
    found, start = 0, 0  # a blank line ends a sentence: count paragraph by paragraph
    for match in _PARAGRAPH_BREAK.finditer(text, begin, begin + limit):
        found += len(split_spans(text[start : match.start()]))
        if found >= sentences:
            return text[: match.start()]
        start = match.end()
    if len(text) <= begin + limit:
        return text
    cut = text.rfind(" ", begin, begin + limit)
    return text[: cut if cut > begin else begin + limit]


# -- JSONL -----------------------------------------------------------------------------------


class JsonlDocument(NamedTuple):
    """One line of a JSONL file: its id and text, or the reason it cannot be used."""

    line: int
    id: str
    text: str | None
    error: str | None = None


def iter_jsonl(
    lines: Iterable[str], text_field: str = "text", id_field: str = "id", name: str = "jsonl"
) -> Iterator[JsonlDocument]:
    """One :class:`JsonlDocument` per non-blank line; a document without an id is named
    ``NAME:LINE``.

    >>> [tuple(d) for d in iter_jsonl(['{"id": "a1", "text": "Peace now."}', '{"x": 1}'])]
    [(1, 'a1', 'Peace now.', None), (2, 'jsonl:2', None, "no 'text' field")]
    """
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        default_id = f"{name}:{number}"
        try:
            row = json.loads(line)
        except ValueError as error:
            yield JsonlDocument(number, default_id, None, f"invalid JSON ({error.msg})")
            continue
        if not isinstance(row, dict):
            yield JsonlDocument(number, default_id, None, "not a JSON object")
            continue
        doc_id = row.get(id_field)
        doc_id = default_id if doc_id is None or doc_id == "" else str(doc_id)
        text = row.get(text_field)
        if text is None:
            yield JsonlDocument(number, doc_id, None, f"no {text_field!r} field")
        elif not isinstance(text, str):
            yield JsonlDocument(number, doc_id, None, f"{text_field!r} is not a string")
        else:
            yield JsonlDocument(number, doc_id, text)


def iter_lines(pieces: Iterable[str]) -> Iterator[str]:
    """Regroup a stream of text pieces into lines (without their line breaks)."""
    rest = ""
    for piece in pieces:
        rest += piece
        if "\n" not in piece:
            continue
        lines = rest.split("\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest
