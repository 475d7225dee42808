"""The public API contract: records, offsets, probabilities, bad input."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

import stance


def check_record(record: stance.Sentence, source: str, model: stance.Model) -> None:
    assert source[record.start : record.end] == record.text
    assert set(record.topic_probs) == set(model.topics)
    assert set(record.stance_probs) == set(model.stances)
    for probs, chosen in ((record.topic_probs, record.topic), (record.stance_probs, record.stance)):
        assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-5)
        assert all(0.0 <= p <= 1.0 for p in probs.values())
        assert probs[chosen] == max(probs.values())


def test_tag_examples_follow_the_record_contract(examples: dict[str, str]) -> None:
    model = stance.load()
    for text in examples.values():
        records = stance.tag(text)
        assert len(records) >= 5
        for record in records:
            check_record(record, text, model)
            as_dict = record.to_dict()
            assert {
                "text",
                "start",
                "end",
                "topic",
                "stance",
                "topic_probs",
                "stance_probs",
            } <= set(as_dict)


def test_default_model_uses_the_documented_label_scheme() -> None:
    model = stance.load()
    assert model.stances == ["calls_for", "none", "opposes", "supports"]
    assert len(model.topics) == 16 and "other" in model.topics and "sanctions" in model.topics


def test_default_model_reads_plain_positions() -> None:
    records = stance.classify(
        [
            "We strongly condemn the nuclear test carried out by the DPRK.",
            "Kazakhstan supports the reform of the United Nations.",
            "We call on all parties to return to the negotiating table.",
            "On 21 September the minister arrived in New York.",
        ]
    )
    assert [r.stance for r in records] == ["opposes", "supports", "calls_for", "none"]
    assert records[0].topic == "arms_control"


def test_tag_empty_text_gives_nothing() -> None:
    assert stance.tag("") == []
    assert stance.tag("   \n\n ") == []


@pytest.mark.parametrize("bad", [None, 42, b"bytes", ["a list"]])
def test_tag_rejects_non_text(bad) -> None:
    with pytest.raises(TypeError, match="str"):
        stance.tag(bad)


def test_classify_rejects_a_bare_string_and_non_text_items() -> None:
    with pytest.raises(TypeError, match="sequence of str"):
        stance.classify("one sentence")
    with pytest.raises(TypeError, match=r"sentences\[1\]"):
        stance.classify(["fine", None])


def test_classify_keeps_sentences_whole() -> None:
    text = "We welcome the deal. We reject the tariffs."
    [record] = stance.classify([text])
    assert (record.text, record.start, record.end) == (text, 0, len(text))


def test_odd_text_is_handled() -> None:
    text = "Control\x00chars\x07 here. Москва и 北京 приветствуют договор. " + "x" * 1_000_000
    records = stance.tag(text)
    model = stance.load()
    for record in records:
        check_record(record, text, model)
    assert records[-1].end == len(text)


def test_pipe_streams_one_list_per_text(examples: dict[str, str]) -> None:
    model = stance.load()
    texts = list(examples.values()) + ["", "One more sentence."]
    batched = list(model.pipe(texts, batch_size=3))
    assert [[r.to_dict() for r in doc] for doc in batched] == [
        [r.to_dict() for r in model.tag(text)] for text in texts
    ]
    with pytest.raises(ValueError, match="batch_size"):
        next(model.pipe(texts, batch_size=0))


def test_load_none_is_the_cached_default() -> None:
    assert stance.load() is stance.load(None)


def test_pipe_predictions_match_the_records(examples: dict[str, str]) -> None:
    model = stance.load()
    texts = list(examples.values())
    streams = zip(texts, model.pipe_predictions(texts, batch_size=7), model.pipe(texts))
    for given, (text, spans, predictions), records in streams:
        assert text is given
        assert spans == [(r.start, r.end) for r in records]
        assert predictions.stances == [r.stance for r in records]
        topic_probs, stance_probs = predictions.chosen_probabilities()
        assert topic_probs == [r.topic_prob for r in records]
        assert stance_probs == [r.stance_prob for r in records]


def test_tagging_does_not_import_scikit_learn() -> None:
    code = (
        "import sys, stance; stance.tag('We welcome the agreement.'); "
        "print('sklearn' in sys.modules); stance.StanceClassifier; print('sklearn' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]
