"""The model: a shared featurizer and two heads (topic, stance), saved as plain data.

>>> model = load()                     # the shipped default model
>>> [s.stance for s in model.tag("We condemn the attack. The talks resume on Monday.")]
['opposes', 'none']
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Hashable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .features import Featurizer
from .heads import DOCUMENT_WINDOW, LinearHead
from .modelfile import ModelFileError, read_model_files, write_model_files
from .records import Sentence
from .segment import split_spans

__all__ = ["DEFAULT_MODEL_PATH", "Model", "Predictions", "default_model", "load"]

_PACKAGE = Path(__file__).resolve().parent
#: Where the shipped default model lives: inside the installed package, or in a source checkout.
DEFAULT_MODEL_PATH = (
    _PACKAGE / "default_model"
    if (_PACKAGE / "default_model" / "manifest.json").is_file()
    else _PACKAGE.parent / "models" / "default"
)
HEADS = ("topic", "stance")


class Model:
    """A sentence tagger: ``tag`` splits a text and labels each sentence; ``classify`` labels
    sentences as given.

    Parameters
    ----------
    featurizer : Featurizer
        A fitted featurizer shared by both heads.
    topic_head, stance_head : LinearHead or None
        At least one is required. A stance head may be conditioned on the topic.
    info : dict, optional
        JSON-ready facts about the model (name, training data, scores) shown by ``stance info``.
    card : str, optional
        The model card (Markdown), saved beside the model.

    >>> model = load()
    >>> sentence = model.classify(["Unilateral sanctions are unacceptable."])[0]
    >>> sentence.topic, sentence.stance
    ('sanctions', 'opposes')
    """

    def __init__(
        self,
        featurizer: Featurizer,
        topic_head: LinearHead | None = None,
        stance_head: LinearHead | None = None,
        info: dict | None = None,
        card: str | None = None,
    ) -> None:
        if topic_head is None and stance_head is None:
            raise ValueError("a model needs a topic head, a stance head, or both")
        if featurizer.idf_ is None:
            raise ValueError("the featurizer must be fitted")
        width = len(featurizer.vocabulary_)
        for name, head in (("topic", topic_head), ("stance", stance_head)):
            if head is not None and head.n_features != width:
                raise ValueError(f"the {name} head expects {head.n_features} features, not {width}")
        if topic_head is not None and topic_head.conditions is not None:
            raise ValueError("the topic head cannot be conditioned")
        self.featurizer = featurizer
        self.topic_head = topic_head
        self.stance_head = stance_head
        self.info = dict(info or {})
        self.card = card

    # -- labels ---------------------------------------------------------------------------

    @property
    def topics(self) -> list[str]:
        """The topic labels, or ``[]`` for a model without a topic head."""
        return list(self.topic_head.labels) if self.topic_head else []

    @property
    def stances(self) -> list[str]:
        """The stance labels, or ``[]`` for a model without a stance head."""
        return list(self.stance_head.labels) if self.stance_head else []

    @property
    def identity(self) -> str:
        """A short name for this model and its weights, recorded with batch output."""
        return f"{self.info.get('name', 'model')}@{self.info.get('fingerprint', 'unsaved')}"

    # -- prediction -------------------------------------------------------------------------

    def classify(
        self,
        sentences: Sequence[str],
        topics: Sequence[str] | None = None,
        documents: Sequence[Hashable] | None = None,
    ) -> list[Sentence]:
        """Label each sentence as given (no splitting); ``start`` is 0 and ``end`` its length.

        With ``topics`` (one per sentence), the topic is known: it is returned as given
        (probability 1) and a stance head trained with ``stance_given_topic`` reads it.
        With ``documents`` (one id per sentence), consecutive sentences with the same id are
        read as neighbours in one document, which the heads trained with context use, and a
        topic head with a ``document_weight`` mixes in the topics of the sentences around each
        one; without it, each sentence stands alone.
        """
        sentences = _check_texts(sentences, "sentences")
        for name, values in (("topics", topics), ("documents", documents)):
            if values is not None and len(values) != len(sentences):
                raise ValueError(
                    f"{name} has {len(values)} items but sentences has {len(sentences)}"
                )
        if topics is not None:
            topics = _check_texts(topics, "topics")
        return self._predict(sentences, topics, documents).sentences(
            sentences, [0] * len(sentences), [len(text) for text in sentences]
        )

    def tag(self, text: str) -> list[Sentence]:
        """Split ``text`` into sentences and label each; offsets index into ``text``.

        >>> [s.text for s in load().tag("First point. Second point.")]
        ['First point.', 'Second point.']
        """
        return next(self.pipe([text]))

    def pipe(self, texts: Iterable[str], batch_size: int = 512) -> Iterator[list[Sentence]]:
        """Tag a stream of texts, yielding one list of sentences per text, in order.

        Sentences of several texts are classified together, ``batch_size`` at a time, so a
        long stream is processed in bounded memory and with few matrix operations.
        """
        for text, spans, predictions in self.pipe_predictions(texts, batch_size):
            starts = [start for start, _ in spans]
            ends = [end for _, end in spans]
            yield predictions.sentences([text[a:b] for a, b in spans], starts, ends)

    def pipe_predictions(
        self, texts: Iterable[str], batch_size: int = 512
    ) -> Iterator[tuple[str, list[tuple[int, int]], Predictions]]:
        """Like :meth:`pipe`, but yields ``(text, spans, predictions)`` per text: the sentence
        spans and a :class:`Predictions` holding the probabilities as arrays, which is cheaper
        than building a dict per sentence (batch scoring uses it).

        >>> texts = ["We condemn the attack. The talks resume on Monday."]
        >>> text, spans, predictions = next(load().pipe_predictions(texts))
        >>> spans, predictions.stances
        ([(0, 22), (23, 50)], ['opposes', 'none'])
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        pending: list[tuple[str, list[tuple[int, int]]]] = []
        n_pending = 0
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"text must be a str, not {type(text).__name__}")
            spans = split_spans(text)
            pending.append((text, spans))
            n_pending += len(spans)
            if n_pending >= batch_size:
                yield from self._tag_batch(pending)
                pending, n_pending = [], 0
        if pending:
            yield from self._tag_batch(pending)

    def _tag_batch(
        self, batch: list[tuple[str, list[tuple[int, int]]]]
    ) -> Iterator[tuple[str, list[tuple[int, int]], Predictions]]:
        sentences = [text[start:end] for text, spans in batch for start, end in spans]
        documents = [n for n, (_, spans) in enumerate(batch) for _ in spans]
        predictions = self._predict(sentences, None, documents)
        first = 0
        for text, spans in batch:
            yield text, spans, predictions[first : first + len(spans)]
            first += len(spans)

    def _predict(
        self, sentences: list[str], topics: Sequence[str] | None, documents: Sequence | None
    ) -> Predictions:
        n = len(sentences)
        if n == 0:
            return Predictions([], [])
        X = self.featurizer.transform(sentences)
        topic_proba = stance_proba = None
        topic_labels: list = [None] * n
        if topics is not None:
            topic_labels = list(topics)
        elif self.topic_head is not None:
            topic_proba = self.topic_head.predict_proba(X, documents=documents)
            topic_labels = _best(self.topic_head.labels, topic_proba)
        stance_labels: list = [None] * n
        if self.stance_head is not None:
            conditions = None
            if self.stance_head.conditions is not None:
                index = {c: i for i, c in enumerate(self.stance_head.conditions)}
                unknown = sorted({t for t in topic_labels if t not in index})
                if unknown:
                    raise ValueError(
                        f"unknown topics {unknown[:5]}; "
                        f"this model knows {self.stance_head.conditions}"
                    )
                conditions = [index[t] for t in topic_labels]
            stance_proba = self.stance_head.predict_proba(X, conditions, documents)
            stance_labels = _best(self.stance_head.labels, stance_proba)
        return Predictions(
            topic_labels, stance_labels, self.topics, topic_proba, self.stances, stance_proba
        )

    # -- files ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to the directory ``path`` in the data-only format (no pickle).

        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> load().save(folder)
        >>> load(folder).topics == load().topics
        True
        """
        arrays = dict(self.featurizer.get_arrays())
        heads = {}
        for name, head in (("topic", self.topic_head), ("stance", self.stance_head)):
            if head is None:
                continue
            arrays[f"{name}.coef"] = head.coef
            arrays[f"{name}.intercept"] = head.intercept
            heads[name] = {
                "labels": head.labels,
                "temperature": head.temperature,
                "conditions": head.conditions,
                "context_weight": head.context_weight,
                "one_vs_rest": head.one_vs_rest,
            }
            if head.document_weight is not None:  # absent: files read as before the option
                heads[name]["document_weight"] = head.document_weight
                heads[name]["document_window"] = head.document_window
        info = {key: value for key, value in self.info.items() if key != "fingerprint"}
        description = {"featurizer": self.featurizer.get_config(), "heads": heads, "info": info}
        write_model_files(path, description, arrays, self.card)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Model:
        """Read a model saved by :meth:`save`; raises :class:`ModelFileError` if it is damaged."""
        manifest, arrays, card = read_model_files(path)
        description = manifest["model"]
        try:
            featurizer = Featurizer.from_state(description["featurizer"], arrays)
            heads = {}
            for name, spec in description["heads"].items():
                if name not in HEADS:
                    raise ValueError(f"unknown head {name!r}")
                heads[name] = LinearHead(
                    spec["labels"],
                    arrays[f"{name}.coef"],
                    arrays[f"{name}.intercept"],
                    temperature=spec["temperature"],
                    conditions=spec["conditions"],
                    context_weight=spec.get("context_weight"),
                    one_vs_rest=spec.get("one_vs_rest", False),
                    document_weight=spec.get("document_weight"),
                    document_window=spec.get("document_window", DOCUMENT_WINDOW),
                )
            info = dict(description.get("info") or {})
            info["fingerprint"] = _fingerprint(manifest)
            return cls(featurizer, heads.get("topic"), heads.get("stance"), info, card)
        except (KeyError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as error:
            raise ModelFileError(f"{path} holds an invalid model: {error!r:.300}") from None


def load(path: str | os.PathLike | None = None) -> Model:
    """Load a saved model, or the shipped default model when ``path`` is None.

    >>> load().stances
    ['calls_for', 'none', 'opposes', 'supports']
    """
    if path is None:
        return default_model()
    return Model.load(path)


@lru_cache(maxsize=1)
def default_model() -> Model:
    """The shipped default model, loaded once per process."""
    return Model.load(DEFAULT_MODEL_PATH)


def _fingerprint(manifest: dict) -> str:
    """12 hex digits naming what decides the predictions: the arrays and the settings of the
    featurizer and the heads (temperatures, context and document weights), not the card."""
    settings = {key: manifest["model"][key] for key in ("featurizer", "heads")}
    spelling = manifest["files"]["arrays.npz"]["sha256"] + json.dumps(settings, sort_keys=True)
    return hashlib.sha256(spelling.encode("utf-8")).hexdigest()[:12]


def _check_texts(values: Sequence[str], name: str) -> list[str]:
    if isinstance(values, str) or values is None:
        raise TypeError(f"{name} must be a sequence of str, not {type(values).__name__}")
    values = list(values)
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"{name}[{i}] must be a str, not {type(value).__name__}")
    return values


def _best(labels: list[str], proba: np.ndarray) -> list[str]:
    return [labels[i] for i in proba.argmax(axis=1).tolist()]


class Predictions:
    """The labels of a run of sentences, with each head's probabilities kept as one array.

    ``topics`` and ``stances`` are the chosen labels (``None`` without that head; topics
    given by the caller have probability 1). Indexing with a slice gives the predictions of
    a sub-run; :meth:`sentences` builds the :class:`Sentence` records.
    """

    __slots__ = (
        "stance_labels",
        "stance_proba",
        "stances",
        "topic_labels",
        "topic_proba",
        "topics",
    )

    def __init__(
        self,
        topics: list,
        stances: list,
        topic_labels: Sequence[str] = (),
        topic_proba: np.ndarray | None = None,
        stance_labels: Sequence[str] = (),
        stance_proba: np.ndarray | None = None,
    ) -> None:
        self.topics, self.stances = topics, stances
        self.topic_labels, self.topic_proba = list(topic_labels), topic_proba
        self.stance_labels, self.stance_proba = list(stance_labels), stance_proba

    def __len__(self) -> int:
        return len(self.topics)

    def __getitem__(self, rows: slice) -> Predictions:
        return Predictions(
            self.topics[rows],
            self.stances[rows],
            self.topic_labels,
            None if self.topic_proba is None else self.topic_proba[rows],
            self.stance_labels,
            None if self.stance_proba is None else self.stance_proba[rows],
        )

    def chosen_probabilities(self) -> tuple[list, list]:
        """The probability of each chosen topic and stance (``None`` without that head)."""
        return (
            _chosen(self.topics, self.topic_proba),
            _chosen(self.stances, self.stance_proba),
        )

    def distributions(self) -> tuple[list[dict], list[dict]]:
        """Every label's probability, as one dict per sentence for each head."""
        return (
            _dicts(self.topics, self.topic_labels, self.topic_proba),
            _dicts(self.stances, self.stance_labels, self.stance_proba),
        )

    def sentences(self, texts: list[str], starts: list[int], ends: list[int]) -> list[Sentence]:
        """The records of these sentences."""
        topic_probs, stance_probs = self.distributions()
        return list(
            map(Sentence, texts, starts, ends, self.topics, self.stances, topic_probs, stance_probs)
        )


def _chosen(labels: list, proba: np.ndarray | None) -> list:
    if proba is not None:
        return proba.max(axis=1).tolist()
    return [None if label is None else 1.0 for label in labels]


def _dicts(labels: list, names: list[str], proba: np.ndarray | None) -> list[dict]:
    if proba is not None:
        return [dict(zip(names, row)) for row in proba.tolist()]
    return [{} if label is None else {label: 1.0} for label in labels]
