"""The featurizer's fast counting and the heads' block scoring match their plain definitions."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from stance.features import Featurizer, _IntTable
from stance.heads import LinearHead, condition_features, context_features

CORPUS = Path(__file__).resolve().parents[1] / "models" / "corpus" / "dev.jsonl"

HARD = [
    "",
    "?!",
    "not",
    "We do not, in any way, support it; never!",
    "They didn\u2019t back the 2024 plan for 3.5% growth, nor the G20 text.",
    "Refused to condemn the strikes \u2014 not the blockade, not sanctions.",
    "Nuclear weapons must go: no nuclear weapons, anywhere (ever).",
    "We welcome, support and endorse; we do not reject it, we said.",
    "They mightn't back it\x00 no\x00 neither\x00plans, oughtn't they?",  # the batch break
    "Never 12 plans; not 3.5, not ~x, shan\u2019t 7 go ! no 9 9 9 9",
]


def _sentences() -> list[str]:
    import json

    rows = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    return rows[:1500] + HARD


def _reference(featurizer: Featurizer, texts: list[str]) -> np.ndarray:
    """TF-IDF rows counted from ``analyze`` with a plain Counter."""
    vocabulary, idf = featurizer.vocabulary_, featurizer.idf_
    matrix = np.zeros((len(texts), len(vocabulary)), dtype=np.float64)
    for i, text in enumerate(texts):
        counts = Counter(f for f in featurizer.analyze(text) if f in vocabulary)
        for feature, count in counts.items():
            matrix[i, vocabulary[feature]] = (math.log(count) + 1.0) * idf[vocabulary[feature]]
        norm = np.linalg.norm(matrix[i])
        if norm:
            matrix[i] /= norm
    return matrix


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"ngram_max": 1},
        {"ngram_max": 3, "min_df": 1},
        {"negation": False, "cues": False},
        {
            "lexicon": {
                "arms": ["nuclear weapons", "weapons", "not"],
                "econ": ["trade", "g20", "5g"],
            }
        },
        {
            "lexicon": {"arms": ["nuclear weapons", "weapons"]},
            "polarity": {
                "positive": ["support", "plans", "back it", "growth"],
                "negative": ["weapons", "strikes", "blockade", "never"],
            },
        },
    ],
    ids=["default", "words", "trigrams", "plain", "lexicon", "polarity"],
)
def test_transform_counts_exactly_what_analyze_lists(options: dict) -> None:
    texts = _sentences()
    featurizer = Featurizer(**options).fit(texts[:1000])
    assert {"@lex:" + name for name in options.get("lexicon", ())} <= set(featurizer.vocabulary_)
    assert {"@pol:" + name for name in options.get("polarity", ())} <= set(featurizer.vocabulary_)
    fast = featurizer.transform(texts[1000:]).toarray()
    assert np.abs(fast - _reference(featurizer, texts[1000:])).max() < 1e-6
    assert (fast != 0).sum() > 10 * len(texts[1000:])  # the batch really has features


def test_negated_and_numeric_words_are_features_of_their_own() -> None:
    featurizer = Featurizer(min_df=1).fit(["We do not support 12 plans.", "We support plans."])
    features = featurizer.analyze("We do not support 12 plans.")
    assert {"~support", "~<num>", "not ~support", "@cue:support~"} <= set(features)
    X = featurizer.transform(["We do not support 7 plans.", "We support plans."])
    columns = [featurizer.vocabulary_[f] for f in ("~support", "support")]
    assert X[0, columns[0]] > 0 and X[0, columns[1]] == 0
    assert X[1, columns[0]] == 0 and X[1, columns[1]] > 0


def test_polarity_terms_count_apart_when_negated_and_beside_the_topic_lexicon() -> None:
    featurizer = Featurizer(
        min_df=1,
        lexicon={"arms": ["arms race"]},
        polarity={"positive": ["milestone"], "negative": ["arms race", "hollow"]},
    )
    texts = ["The treaty is a milestone.", "It is not a milestone but a hollow arms race."]
    featurizer.fit(texts)
    assert featurizer.analyze(texts[0]).count("@pol:positive") == 1
    negated = featurizer.analyze(texts[1])
    assert "@pol:positive~" in negated and "@pol:positive" not in negated
    assert {"@pol:negative", "@lex:arms"} <= set(negated)  # a term in both lists adds both
    X = featurizer.transform(texts).toarray()
    column = featurizer.vocabulary_
    assert X[0, column["@pol:positive"]] > 0 and X[0, column["@pol:positive~"]] == 0
    assert X[1, column["@pol:positive~"]] > 0 and X[1, column["@lex:arms"]] > 0
    assert Featurizer(polarity={"Good": ["Milestone"]}).get_config()["polarity"] == {
        "Good": ["milestone"]
    }


@pytest.mark.parametrize(
    "lists, message",
    [
        (["milestone"], "must map a name"),
        ({"positive": "milestone"}, "must be a list of terms"),
        ({"positive": ["milestone", ""]}, "not a word"),
        ({"positive": ["milestone", 7]}, "not a word"),
    ],
)
def test_malformed_word_lists_are_refused_with_the_list_named(lists, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Featurizer(polarity=lists)
    with pytest.raises(ValueError, match=message):
        Featurizer(lexicon=lists)


@pytest.mark.parametrize("n_keys", [0, 1, 17, 5000])
def test_int_table_finds_every_key_and_nothing_else(n_keys: int) -> None:
    rng = np.random.default_rng(n_keys)
    keys = rng.choice(2**50, size=2 * n_keys, replace=False)
    stored, absent = keys[:n_keys], keys[n_keys:]
    stored[: n_keys // 2] = np.arange(n_keys // 2) * 64  # small, regular keys too
    table = _IntTable(stored)
    assert n_keys < 100 or table._probes > 1  # keys collided and were probed past
    assert table.find(stored).tolist() == list(range(n_keys))
    assert (table.find(absent) == -1).all()
    assert table.find(np.array([], dtype=np.int64)).tolist() == []


def _random_head(n_features: int, blocks: int, rng: np.random.Generator, **kwargs) -> LinearHead:
    coef = rng.normal(size=(3, n_features * blocks))
    return LinearHead(["a", "b", "c"], coef, rng.normal(size=3), **kwargs)


def test_nb_weighted_head_equals_binary_models_on_scaled_features() -> None:
    from sklearn.linear_model import LogisticRegression

    X = Featurizer().fit_transform(_sentences()[:400])
    y = np.array(["a", "b", "c", "a"] * 100)
    head = LinearHead.fit(X, y, C=3.0, nb_weights=True)
    assert head.labels == ["a", "b", "c"] and head.coef.shape == (3, X.shape[1])
    present = X.toarray() > 0
    for k, label in enumerate(head.labels):
        inside = present[y == label].sum(axis=0) + 1.0
        outside = present[y != label].sum(axis=0) + 1.0
        ratio = np.log(inside / inside.sum()) - np.log(outside / outside.sum())
        scaled = X.toarray() * ratio
        binary = LogisticRegression(C=3.0, max_iter=2000).fit(scaled, y == label)
        expected = binary.decision_function(scaled)
        assert np.allclose(head.decision_function(X)[:, k], expected, atol=1e-3)
    head.temperature = 1.3
    binary_proba = 1.0 / (1.0 + np.exp(-head.decision_function(X))) ** (1 / 1.3)
    expected = binary_proba / binary_proba.sum(axis=1, keepdims=True)
    assert np.allclose(head.predict_proba(X), expected, atol=1e-5)


def test_head_scores_equal_the_design_matrix_product() -> None:
    rng = np.random.default_rng(0)
    featurizer = Featurizer().fit(_sentences())
    X = featurizer.transform(_sentences()[:300])
    width = X.shape[1]
    documents = np.repeat(np.arange(60), 5).tolist()

    head = _random_head(width, 3, rng, context_weight=0.5)
    design = context_features(X, documents, 0.5)
    expected = np.asarray(design @ head.coef.T) + head.intercept
    assert np.allclose(head.decision_function(X, documents=documents), expected, atol=1e-4)
    alone = np.asarray(context_features(X, None, 0.5) @ head.coef.T) + head.intercept
    assert np.allclose(head.decision_function(X), alone, atol=1e-4)

    head = _random_head(width, 5, rng, conditions=["w", "x", "y", "z"])
    condition = rng.integers(0, 4, size=X.shape[0])
    design = condition_features(X, condition, 4)
    expected = np.asarray(design @ head.coef.T) + head.intercept
    assert np.allclose(head.decision_function(X, condition), expected, atol=1e-4)
    with pytest.raises(ValueError, match="one condition per row"):
        head.decision_function(X)
