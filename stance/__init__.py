"""stance: tag every sentence of English text on international affairs with a topic and a stance.

>>> import stance
>>> text = "We strongly condemn the missile test. All parties must return to the negotiating table."
>>> for s in stance.tag(text):
...     print(s.start, s.end, s.topic, s.stance)
0 37 arms_control opposes
38 87 peace_process calls_for

Public API: :func:`tag`, :func:`classify`, :func:`load`, :func:`train`, :func:`evaluate`,
:func:`score_folder`, and the types :class:`Sentence`, :class:`Model`, :class:`StanceClassifier`,
:class:`ModelFileError`, :class:`CorpusError`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from collections.abc import Sequence  # noqa: E402

from .batch import score_folder  # noqa: E402
from .corpus import CorpusError, LabelledData, read_labelled  # noqa: E402
from .model import Model, load  # noqa: E402
from .modelfile import ModelFileError  # noqa: E402
from .records import Sentence  # noqa: E402
from .train import evaluate, train  # noqa: E402


def __getattr__(name: str):
    # StanceClassifier subclasses scikit-learn's BaseEstimator, whose import takes about a
    # second: it is imported on first use, so that tagging never pays for it.
    if name == "StanceClassifier":
        from .estimator import StanceClassifier

        return StanceClassifier
    raise AttributeError(f"module 'stance' has no attribute {name!r}")


def tag(text: str) -> list[Sentence]:
    """Split ``text`` into sentences and tag each with the default model.

    ``tag("")`` is ``[]``; a non-string raises ``TypeError``.
    """
    return load().tag(text)


def classify(sentences: Sequence[str], topics: Sequence[str] | None = None) -> list[Sentence]:
    """Tag each given sentence with the default model, without splitting it."""
    return load().classify(sentences, topics=topics)


__all__ = [
    "CorpusError",
    "LabelledData",
    "Model",
    "ModelFileError",
    "Sentence",
    "StanceClassifier",
    "__version__",
    "classify",
    "evaluate",
    "load",
    "read_labelled",
    "score_folder",
    "tag",
    "train",
]
