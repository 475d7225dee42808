"""Reading documents: encodings, special files, HTML text, JSONL lines, streaming of huge files."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from stance.documents import (
    DocumentError,
    decode,
    html_to_text,
    iter_chunks,
    iter_jsonl,
    iter_lines,
    iter_text,
    read_bytes,
    read_text,
)
from stance.segment import split_spans

SPEECH = (
    "Madam President,\n\n"
    "My delegation thanks the Secretary-General for his report on the situation in the "
    "Sahel. We are alarmed by the attacks on peacekeepers in Mali, and we condemn them in "
    "the strongest terms.\n\n"
    "The Council must renew the mandate without delay. Our country has pledged a further "
    "€4.2 million to the humanitarian appeal; we call on other donors to follow.\n"
    "Dialogue remains the only path to a lasting settlement.\n"
)


@pytest.mark.parametrize(
    "encoding, expected",
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("utf-16-be", None),  # no BOM: refused as binary (NUL bytes)
        ("cp1252", "cp1252"),
    ],
)
def test_read_text_and_iter_text_agree(tmp_path: Path, encoding: str, expected) -> None:
    text = SPEECH.replace("€", "\u20ac") * 3
    path = tmp_path / "speech.txt"
    path.write_bytes(text.encode(encoding))
    if expected is None:
        with pytest.raises(DocumentError, match="binary"):
            read_text(path)
        with pytest.raises(DocumentError, match="binary"):
            list(iter_text(path))
        return
    decoded = read_text(path)
    assert decoded.text == text
    assert decoded.encoding == expected
    # tiny blocks cut multi-byte characters: the incremental decoder must join them
    assert "".join(iter_text(path, block_bytes=7)) == text


def test_iter_text_falls_back_to_cp1252_even_when_late_bytes_are_invalid(tmp_path: Path) -> None:
    data = ("Talks resumed. " * 5000).encode() + "Déclaration finale.".encode("cp1252")
    path = tmp_path / "legacy.txt"
    path.write_bytes(data)
    assert read_text(path).encoding == "cp1252"
    assert "".join(iter_text(path, block_bytes=4096)) == read_text(path).text


def test_invalid_utf16_is_a_document_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + "Peace talks".encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(DocumentError, match="invalid utf-16"):
        read_text(path)
    with pytest.raises(DocumentError, match="invalid utf-16"):
        list(iter_text(path))


def test_decode_keeps_its_contract() -> None:
    assert decode("Accord signé".encode()) == ("Accord signé", "utf-8")
    assert decode(b"\x93Peace\x94").text == "\u201cPeace\u201d"


def test_special_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    os.symlink(tmp_path / "missing.txt", tmp_path / "link.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    cases = {
        "folder.txt": "is a directory",
        "link.txt": "broken symbolic link",
        "pipe.txt": "not a regular file",  # and it must not block
        "absent.txt": "no such file",
    }
    for name, reason in cases.items():
        with pytest.raises(DocumentError, match=reason):
            read_bytes(tmp_path / name)
        with pytest.raises(DocumentError, match=reason):
            read_text(tmp_path / name)


def test_html_visible_text_only() -> None:
    page = """<!DOCTYPE html><html><head><title>Press release</title>
    <style>p { color: red }</style><script>var tracker = "We condemn";</script></head>
    <body><nav><ul><li>Home</li><li>News</li></ul></nav>
    <h1>Minister welcomes the ceasefire</h1>
    <p>The minister <b>welcomed</b> the ceasefire &amp; urged both sides
    to resume talks.</p><p>Aid convoys will leave on Monday.<br>Details follow.</p>
    <script>alert(1)</script><noscript>Enable JavaScript</noscript></body></html>"""
    text = html_to_text(page)
    assert "tracker" not in text and "Press release" not in text and "color" not in text
    assert "JavaScript" not in text
    assert text == (
        "Home\n\nNews\n\nMinister welcomes the ceasefire\n\n"
        "The minister welcomed the ceasefire & urged both sides to resume talks.\n\n"
        "Aid convoys will leave on Monday.\n\nDetails follow."
    )
    spans = [text[s:e] for s, e in split_spans(text)]
    assert "Minister welcomes the ceasefire" in spans


def test_iter_chunks_rebuilds_the_text_and_cuts_at_blank_lines() -> None:
    text = SPEECH * 200
    chunks = list(iter_chunks([text[i : i + 333] for i in range(0, len(text), 333)], 5000))
    assert "".join(chunk for _, chunk in chunks) == text
    for (offset, chunk), (next_offset, _) in zip(chunks, chunks[1:]):
        assert next_offset == offset + len(chunk)
        assert chunk.endswith("\n\n")
        assert len(chunk) <= 5000
    # the sentences of the chunks are the sentences of the whole text
    whole = split_spans(text)
    pieces = [(o + s, o + e) for o, chunk in chunks for s, e in split_spans(chunk)]
    assert pieces == whole


def test_iter_chunks_bounds_a_single_line_without_breaks() -> None:
    sentences = "The envoy met both delegations in Geneva. " * 3000
    no_punctuation = "word " * 30000
    no_space = "x" * 25000
    for text in (sentences, no_punctuation, no_space):
        chunks = list(iter_chunks([text], 10000))
        assert "".join(c for _, c in chunks) == text
        assert max(len(c) for _, c in chunks) <= 10000
    chunks = list(iter_chunks([sentences], 10000))
    assert all(c.endswith(". ") for _, c in chunks[:-1])  # cut between sentences


def test_iter_jsonl_reports_bad_lines() -> None:
    lines = [
        '{"id": "s1", "text": "We support the treaty."}',
        "",
        '{"id": 7, "body": "Talks resume."}',
        "[1, 2]",
        '{"text": 5}',
        "{broken",
        '{"text": "No id here."}',
    ]
    docs = list(iter_jsonl(lines, name="wire.jsonl"))
    assert [(d.line, d.id, d.text, d.error is None) for d in docs] == [
        (1, "s1", "We support the treaty.", True),
        (3, "7", None, False),
        (4, "wire.jsonl:4", None, False),
        (5, "wire.jsonl:5", None, False),
        (6, "wire.jsonl:6", None, False),
        (7, "wire.jsonl:7", "No id here.", True),
    ]
    docs = list(iter_jsonl(lines[2:3], text_field="body"))
    assert docs[0].text == "Talks resume."


def test_iter_lines() -> None:
    assert list(iter_lines(["a\nb", "c\n", "d"])) == ["a", "bc", "d"]
