"""Sentence segmentation: the hard cases of news and speech text, and the offset invariants."""

from __future__ import annotations

import re

import pytest

from stance.segment import split_spans


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_spans(text)]


def assert_partition(text: str) -> None:
    """Every non-space character is in exactly one span; spans are ordered and trimmed."""
    spans = split_spans(text)
    covered = bytearray(len(text))
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        for i in range(start, end):
            covered[i] += 1
        previous_end = end
    for i, char in enumerate(text):
        if not char.isspace():
            assert covered[i] == 1, (i, char)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Mr. Ivanov met Dr. Chen and Gen. Okafor. They talked.",
            ["Mr. Ivanov met Dr. Chen and Gen. Okafor.", "They talked."],
        ),
        (
            "The U.S. and the U.N. agreed. Talks follow.",
            ["The U.S. and the U.N. agreed.", "Talks follow."],
        ),
        (
            "Sanctions were imposed by the U.S. The move angered Moscow.",
            ["Sanctions were imposed by the U.S.", "The move angered Moscow."],
        ),
        (
            "Resolution No. 2231 was adopted on Jan. 20. It expired.",
            ["Resolution No. 2231 was adopted on Jan. 20.", "It expired."],
        ),
        ("He said no. Nobody objected.", ["He said no.", "Nobody objected."]),
        (
            "Amara K. Diallo spoke. J. R. Smith replied.",
            ["Amara K. Diallo spoke.", "J. R. Smith replied."],
        ),
        (
            "For this, $ 300,000 was allocated. Growth was 3.5 per cent. It rose.",
            ["For this, $ 300,000 was allocated.", "Growth was 3.5 per cent.", "It rose."],
        ),
        (
            "He paused... and went on. Then... Silence.",
            ["He paused... and went on.", "Then...", "Silence."],
        ),
        (
            '"Sanctions must remain," he said. "Why?" she asked. (It was late.) Next.',
            ['"Sanctions must remain," he said.', '"Why?" she asked.', "(It was late.)", "Next."],
        ),
        ("\u201cWe agree.\u201d The talks ended.", ["\u201cWe agree.\u201d", "The talks ended."]),
        (
            "See www.un.org/en for details. Write to press@mfa.gov.kz. Thanks.",
            ["See www.un.org/en for details.", "Write to press@mfa.gov.kz.", "Thanks."],
        ),
        (
            "Ghana rejects arms embargo - analyst\n\nThe expert spoke on Monday.",
            ["Ghana rejects arms embargo - analyst", "The expert spoke on Monday."],
        ),
        (
            "Priorities:\n- climate finance\n- debt relief\n1. First item.\n2) Second item",
            [
                "Priorities:",
                "- climate finance",
                "- debt relief",
                "1. First item.",
                "2) Second item",
            ],
        ),
        (
            "The minister addressed the\nGeneral Assembly and\nwelcomed the text. Next.",
            ["The minister addressed the\nGeneral Assembly and\nwelcomed the text.", "Next."],
        ),
        ("Really?! Yes.", ["Really?!", "Yes."]),
        (
            'The EU will act if Moscow "does not agree to a ceasefire. "\n\nTalks ended.',
            ['The EU will act if Moscow "does not agree to a ceasefire. "', "Talks ended."],
        ),
        ("The vote was close. ) ]\n\nNext line.", ["The vote was close. ) ]", "Next line."]),
        (
            "Apples, pears etc. were sold. Inc. ended.",
            ["Apples, pears etc. were sold.", "Inc. ended."],
        ),
        (
            'He cited his manifesto "Peace. XXI century," sent to all leaders. Next.',
            ['He cited his manifesto "Peace. XXI century," sent to all leaders.', "Next."],
        ),
        (
            "The slogan \u201cHope. Unity. Action.\u201d It stuck.",
            ["The slogan \u201cHope. Unity. Action.\u201d", "It stuck."],
        ),
        (
            'He said: "No. We will not." The envoy said "we accept the text. It is fair."',
            [
                'He said: "No.',
                'We will not."',
                'The envoy said "we accept the text.',
                'It is fair."',
            ],
        ),
        (
            '"We reject this. It is unacceptable," he said. Talks ended.',
            ['"We reject this.', 'It is unacceptable," he said.', "Talks ended."],
        ),
    ],
)
def test_cases(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected
    assert_partition(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "No punctuation at all",
        "Ünïcödé — mixed scripts: Москва, 北京, القاهرة. Next sentence here!",
        "Control\x00chars\x07 inside. And\x1b more.",
        "a." * 5000,
        "?" * 10000,
        "\n" * 1000 + "x",
    ],
)
def test_partition_invariant(text: str) -> None:
    assert_partition(text)


def test_empty_and_blank_give_no_sentences() -> None:
    assert split_spans("") == []
    assert split_spans(" \n ") == []


def test_huge_single_line_is_cut_into_bounded_pieces() -> None:
    text = ("word " * 400_000).strip()  # 2 MB, no sentence punctuation
    spans = split_spans(text, max_chars=1000)
    assert all(end - start <= 1000 for start, end in spans)
    assert sum(len(text[s:e].split()) for s, e in spans) == 400_000
    assert_partition(text[:20_000])


def test_huge_line_without_spaces_is_cut() -> None:
    text = "x" * 50_000
    spans = split_spans(text, max_chars=2000)
    assert spans[0] == (0, 2000) and spans[-1][1] == 50_000
    assert sum(e - s for s, e in spans) == 50_000


def test_offsets_point_into_the_input() -> None:
    text = "  First one.   Second one?\n\nThird!  "
    for start, end in split_spans(text):
        assert text[start:end] == text[start:end].strip()
    assert [m.group() for m in re.finditer(r"\S+", text)] == [
        word for s, e in split_spans(text) for word in text[s:e].split()
    ]


def test_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        split_spans(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_chars"):
        split_spans("x", max_chars=0)
