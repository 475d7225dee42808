"""A scikit-learn estimator over raw texts: one head (one label set), usable in ``Pipeline``,
``cross_val_score`` and ``GridSearchCV``.

``X`` is a sequence of texts, or a two-column array of ``(text, target)`` pairs when the stance
target (the topic) is known: the classifier then learns, besides weights shared by all targets,
weights of its own for each target, so the same words may mean opposite stances under different
targets.

>>> from sklearn.model_selection import cross_val_score
>>> texts = ["We back the plan.", "We reject the plan.", "We back the deal.", "We reject the deal."]
>>> clf = StanceClassifier(min_df=1).fit(texts * 3, ["favor", "against"] * 6)
>>> clf.predict(["They reject it."]).tolist()
['against']
>>> scores = cross_val_score(StanceClassifier(min_df=1), texts * 3, ["favor", "against"] * 6, cv=3)
>>> float(scores.mean())
1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from .corpus import validate
from .features import Featurizer
from .heads import LinearHead

__all__ = ["StanceClassifier"]


class StanceClassifier(ClassifierMixin, BaseEstimator):
    """Text classifier: the library's featurizer and a calibrated-ready logistic-regression head.

    Parameters
    ----------
    C : float
        Inverse regularisation strength.
    class_weight : None or "balanced"
    nb_weights : bool
        One binary model per class on naive-Bayes-scaled features instead of one multinomial
        model (see :meth:`stance.heads.LinearHead.fit`).
    ngram_max : int
        Longest word n-gram.
    min_df : int
        Minimum number of training texts a feature must occur in.
    negation : bool
        Mark words in the scope of a negator.
    cues : bool
        Add pooled stance-cue features.
    solver, tol : str, float
        The logistic-regression solver and its tolerance; ``"newton-cg"`` with ``1e-8`` trains
        to the optimum, which does not move with the machine's linear-algebra library (see
        :meth:`stance.heads.LinearHead.fit`).
    random_state : int or None
        Passed to the solver (training is deterministic in any case).

    Attributes
    ----------
    classes_ : ndarray of str
    targets_ : list of str or None
        The targets seen in training when ``X`` held ``(text, target)`` pairs.
    featurizer_ : Featurizer
    head_ : LinearHead
    """

    def __init__(
        self,
        C: float = 10.0,
        class_weight: str | None = None,
        nb_weights: bool = False,
        ngram_max: int = 2,
        min_df: int = 1,
        negation: bool = True,
        cues: bool = True,
        solver: str = "lbfgs",
        tol: float = 1e-4,
        random_state: int | None = None,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.nb_weights = nb_weights
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.negation = negation
        self.cues = cues
        self.solver = solver
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y) -> StanceClassifier:
        """Learn from texts (or ``(text, target)`` pairs) ``X`` and labels ``y``."""
        texts, targets = _split_input(X)
        if y is None:
            raise ValueError("StanceClassifier needs labels y")
        labels = [str(label) if isinstance(label, np.str_) else label for label in y]
        data = validate(texts, topics=targets, stances=labels, source="X, y")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if self.class_weight not in (None, "balanced"):
            raise ValueError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")
        self.featurizer_ = Featurizer(self.ngram_max, self.min_df, self.negation, self.cues)
        matrix = self.featurizer_.fit_transform(data.texts)
        self.targets_ = sorted(set(targets)) if targets is not None else None
        self.head_ = LinearHead.fit(
            matrix,
            data.stances,
            C=float(self.C),
            class_weight=self.class_weight,
            nb_weights=bool(self.nb_weights),
            conditions=self.targets_,
            condition_values=targets,
            solver=self.solver,
            tol=self.tol,
            random_state=self.random_state,
        )
        self.classes_ = np.array(self.head_.labels)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities of each class (columns in the order of ``classes_``)."""
        check_is_fitted(self, "head_")
        texts, targets = _split_input(X)
        if (targets is None) != (self.targets_ is None):
            raise ValueError(
                "X must have the same form as in fit: "
                + ("(text, target) pairs" if self.targets_ is not None else "texts only")
            )
        conditions = None
        if targets is not None:
            index = {target: i for i, target in enumerate(self.targets_)}
            unknown = sorted({t for t in targets if t not in index})
            if unknown:
                raise ValueError(f"unknown targets {unknown[:5]}; fitted on {self.targets_}")
            conditions = [index[t] for t in targets]
        return self.head_.predict_proba(self.featurizer_.transform(texts), conditions)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each text."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


def _split_input(X) -> tuple[list[str], list[str] | None]:
    """Texts, and targets when ``X`` is a two-column array of (text, target) pairs."""
    if isinstance(X, str):
        raise TypeError("X must be a sequence of texts, not a single string")
    if hasattr(X, "to_numpy"):  # pandas Series or DataFrame
        X = X.to_numpy()
    array = np.asarray(X, dtype=object)
    if array.ndim == 1:
        return _texts(array.tolist(), "X"), None
    if array.ndim == 2 and array.shape[1] == 2:
        return _texts(array[:, 0].tolist(), "X[:, 0]"), _texts(array[:, 1].tolist(), "X[:, 1]")
    raise ValueError(
        "X must be a sequence of texts or an (n, 2) array of (text, target); "
        f"got shape {array.shape}"
    )


def _texts(values: Sequence, name: str) -> list[str]:
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(f"{name}[{i}] must be a str, not {type(value).__name__}")
    return list(values)
