"""Sentence segmentation with exact character offsets.

Rules, in order (no machine learning, no I/O):

* A blank line always ends a sentence. A single line break ends one too (headlines, list items,
  datelines), unless the text is visibly hard-wrapped: the next line starts in lower case, or the
  line before ends with a comma, a hyphen or a word that cannot end a sentence ("the", "of", ...).
* Inside a line, a run of ``.``, ``!``, ``?`` or ``…`` followed by optional closing quotes or
  brackets and then white space (or the end) ends a sentence, unless

  - the next word starts in lower case ("e.g. the", "... and then", '"Why?" he asked');
  - the run is a single period after a title or a reference abbreviation (Mr., Dr., Gen., No. 5,
    Jan. 21, para.), or after a single-letter initial ("Amara K. Diallo");
  - the run is a single period after an initialism or an abbreviation that can also end a
    sentence (U.S., U.N., etc., Inc.) and the next word is not a common sentence opener;
  - the run is a single period inside a quotation of at most two words so far that opened in
    the middle of a sentence, after a word: a quoted title ('his manifesto "Peace. XXI century,"
    addressed to', 'the slogan "Hope. Unity. Action."').

* What is left of a line after a sentence boundary joins that sentence when it has no letter or
  digit: a closing quote set off by a space ('would act "if talks fail. "') or a stray bracket is
  not a sentence of its own.
* Periods inside tokens never split: decimals (3.5), amounts ($ 300,000.00), URLs and e-mail
  addresses (www.un.org, press@mfa.gov.kz), because a boundary needs white space after it.
* A sentence longer than ``max_chars`` is cut at the last space before the limit, so a huge
  single line without punctuation still yields bounded pieces.

Every non-space character of the input belongs to exactly one span, and the work is linear in
the length of the text.

>>> text = "Mr. Ivanov arrived on Jan. 5 in the U.S. capital. He met U.N. officials."
>>> [text[s:e] for s, e in split_spans(text)]
['Mr. Ivanov arrived on Jan. 5 in the U.S. capital.', 'He met U.N. officials.']
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["MAX_SENTENCE_CHARS", "split_spans"]

#: Default upper bound on the length of one sentence, in characters.
MAX_SENTENCE_CHARS = 2000

# Abbreviations after which a period never ends a sentence (compared in lower case).
_NEVER_FINAL = frozenset(
    """mr mrs ms mx dr prof gen lt col maj capt cmdr adm sgt gov sen rep rev fr hon rt amb pres
    st mt ft cf vs viz approx dept univ assn e.g i.e al""".split()
)
# Abbreviations that never end a sentence when a number follows ("No. 5", "Jan. 21", "para. 4").
_BEFORE_NUMBER = frozenset(
    """no nos nr art arts para paras sec ch vol vols p pp fig figs ref op
    jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)
# Abbreviations that may end a sentence; split only before a typical sentence opener.
_MAYBE_FINAL = frozenset("etc inc ltd co corp jr sr bros plc llc a.m p.m".split())
_OPENERS = frozenset(
    """the this that these those it its he she we they i you our their his her my a an in on at
    but however meanwhile moreover furthermore yet so there after before as when while if
    according although despite since for during following last next some many most all no one
    both each several such other another what why how who where mr mrs ms dr president minister
    speaking earlier later""".split()
)
# Words that cannot end a sentence: a line break after them is a hard wrap.
_CONTINUATION_WORDS = frozenset(
    """the a an of to in on at by for with from and or but nor that which who whose whom as than
    its their his her our my your this these those is are was were be been has have had will
    would shall should can could may might must not into upon between among about""".split()
)

_TERMINAL = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*")
_LINE_BREAK = re.compile(r"\n\s*")
_LIST_MARKER = re.compile(
    r"(?:[-*\u2022\u2013\u2014]|\(?\d{1,3}[.)]|\(?[a-z][.)]|[ivx]{1,4}[.)])\s"
)
_INITIALISM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]$")
# An opening quote after a word and a space, then at most two words and no closing quote.
_SHORT_QUOTE_SO_FAR = re.compile(
    r"\w [\"\u201c\u00ab]\w[^\"\u201d\u00bb\s]*(?: [^\"\u201d\u00bb\s]+)?$"
)
_NEXT_VISIBLE = re.compile(r"[\s\"'\u201c\u2018\u00ab(\[]*(\w*)(\S?)")
_WORD_CHAR = re.compile(r"\w")
_OPENING_PUNCT = "\"'\u201c\u2018\u00ab(["
_SPACE = " \t\n\r\f\v\u00a0\u2028\u2029"


def split_spans(text: str, max_chars: int = MAX_SENTENCE_CHARS) -> list[tuple[int, int]]:
    """Split ``text`` into sentences and return their ``(start, end)`` character offsets.

    ``text[start:end]`` is the sentence with surrounding white space removed.

    >>> split_spans("Sanctions must stay. We agree!")
    [(0, 20), (21, 30)]
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if max_chars < 1:
        raise ValueError(f"max_chars must be a positive integer, got {max_chars!r}")
    return list(_iter_spans(text, max_chars))


def _iter_spans(text: str, max_chars: int) -> Iterator[tuple[int, int]]:
    for line_start, line_end in _blocks(text):
        start = line_start
        for match in _TERMINAL.finditer(text, line_start, line_end):
            end = match.end()
            if end < line_end and text[end] not in _SPACE:
                continue  # "3.5", "un.org", "?!x": a boundary needs white space after it
            if _is_boundary(text, match.start(), end, line_start, line_end):
                if not _WORD_CHAR.search(text, end, line_end):
                    break  # only stray marks are left on the line ('ceasefire. "'): keep them
                while text[start] in _SPACE:  # the sentence ends in a non-space character
                    start += 1
                if end - start <= max_chars:
                    yield start, end  # the usual case, spared the general trimming
                else:
                    yield from _trimmed(text, start, end, max_chars)
                start = end
        yield from _trimmed(text, start, line_end, max_chars)


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Cut the text at line breaks that end a sentence (see the module docstring)."""
    start = 0
    for match in _LINE_BREAK.finditer(text):
        if "\n" in match.group()[1:] or not _is_wrap(text, start, match):
            yield start, match.start()
            start = match.end()
    yield start, len(text)


def _is_wrap(text: str, line_start: int, match: re.Match[str]) -> bool:
    after = match.end()
    if after >= len(text):
        return False
    if _LIST_MARKER.match(text, after):
        return False
    if text[after].islower():
        return True
    before = text[max(line_start, match.start() - 40) : match.start()]
    if not before:
        return False
    if before[-1] in ",-;\u2013\u2014(":
        return True
    word = before.rsplit(None, 1)[-1].lower() if before.strip() else ""
    return word in _CONTINUATION_WORDS


def _is_boundary(text: str, p_start: int, p_end: int, line_start: int, line_end: int) -> bool:
    after = _NEXT_VISIBLE.match(text, p_end, line_end)
    next_word = after.group(1) if after else ""
    if not after or not (after.group(1) or after.group(2)):
        return True  # end of the line
    if next_word[:1].islower():
        return False
    if text[p_start] != "." or p_end - p_start > 1 and text[p_start + 1] == ".":
        return True  # "!", "?", "…" or an ellipsis followed by a capital
    before = text[max(line_start, p_start - 40) : p_start]
    if not before or before[-1].isspace():
        return True
    if p_end - p_start == 1 and _SHORT_QUOTE_SO_FAR.search(before):
        return False  # a quoted title: 'his manifesto "Peace. XXI century," addressed'
    word = before.rsplit(None, 1)[-1]
    word_start = p_start - len(word)
    word = word.lstrip(_OPENING_PUNCT)
    lower = word.lower()
    if lower in _NEVER_FINAL:
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "K. Diallo"
    if lower in _BEFORE_NUMBER and next_word[:1].isdigit():
        return False
    if word_start == line_start and (word.isdigit() or len(word) == 1):
        return False  # a list number at the start of a line: "1. First item"
    if lower in _MAYBE_FINAL or _INITIALISM.fullmatch(word):
        return next_word.lower() in _OPENERS
    return True


def _trimmed(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    while start < end and text[start] in _SPACE:
        start += 1
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars + 1)
        if cut <= start:
            cut = start + max_chars
        piece_end = cut
        while piece_end > start and text[piece_end - 1] in _SPACE:
            piece_end -= 1
        yield start, piece_end
        start = cut
        while start < end and text[start] in _SPACE:
            start += 1
    if end > start:
        yield start, end
