"""A classification head: one linear layer with a softmax, stored as plain arrays.

A head is trained with scikit-learn's multinomial logistic regression (or one binary
logistic regression per class), then keeps only ``coef`` (classes × features), ``intercept``
and a softmax ``temperature`` fitted on held-out data for calibrated probabilities. A head
*conditioned* on a known label (stance given topic) has one block of weights shared by all
conditions plus one block per condition value. A head with *context* (both heads of the
default model) also reads the features of the previous and the next sentence of the same
document, down-weighted. A head with a *document weight* (the default model's topic head) mixes
each sentence's probabilities with those of the sentences around it in the same document.

>>> import numpy as np, scipy.sparse as sp
>>> X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]] * 5))
>>> head = LinearHead.fit(X, ["a", "b"] * 5, random_state=0)
>>> head.predict(X[:2])
['a', 'b']
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = [
    "DOCUMENT_WINDOW",
    "LinearHead",
    "condition_features",
    "context_features",
    "smooth_in_documents",
]

#: How many sentences on each side a head with a ``document_weight`` mixes in, by default.
DOCUMENT_WINDOW = 8


class LinearHead:
    """Softmax over ``X @ coef.T + intercept``, divided by ``temperature``.

    A one-vs-rest head (one binary model per class) takes the softmax of the log-sigmoid of
    those scores instead: each class's binary probability raised to ``1 / temperature``,
    normalised to sum to one. Either way the most probable class has the highest score.

    Parameters
    ----------
    labels : sequence of str
        Class names, in the order of the rows of ``coef``.
    coef : ndarray of shape (n_labels, n_columns)
        ``n_columns`` is ``n_features`` times the number of blocks: 1 for a plain head,
        ``1 + n_conditions`` for a head conditioned on ``conditions``, 3 for a head that reads
        the neighbouring sentences (``context_weight``).
    intercept : ndarray of shape (n_labels,)
    temperature : float
        Softmax temperature; 1.0 leaves the logistic regression's probabilities unchanged.
    conditions : sequence of str, optional
        For a conditioned head, the values of the known label (e.g. the topics).
    context_weight : float, optional
        For a head with context, the weight of the previous and the next sentence of the same
        document, whose features are appended as two more blocks.
    one_vs_rest : bool
        The rows of ``coef`` are independent binary models (see :meth:`fit`).
    document_weight : float, optional
        Mix each row's probabilities with the mean probabilities of the other rows of its
        document within ``document_window`` rows before and after it, with this weight (in
        ``[0, 1)``; see :func:`smooth_in_documents`), then apply the temperature: a sentence
        with little topic evidence of its own ("The list goes on.") takes the topic of the
        text around it.
    document_window : int
        How many rows on each side the document mean reads.
    """

    def __init__(
        self,
        labels: Sequence[str],
        coef: np.ndarray,
        intercept: np.ndarray,
        temperature: float = 1.0,
        conditions: Sequence[str] | None = None,
        context_weight: float | None = None,
        one_vs_rest: bool = False,
        document_weight: float | None = None,
        document_window: int = DOCUMENT_WINDOW,
    ) -> None:
        self.labels = [str(label) for label in labels]
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.temperature = float(temperature)
        self.conditions = None if conditions is None else [str(c) for c in conditions]
        self.context_weight = None if context_weight is None else float(context_weight)
        if not isinstance(one_vs_rest, bool):
            raise ValueError(f"one_vs_rest must be True or False, got {one_vs_rest!r}")
        self.one_vs_rest = one_vs_rest
        self.document_weight = None if document_weight is None else float(document_weight)
        self.document_window = document_window
        if self.document_weight is not None and not (0 <= self.document_weight < 1):
            raise ValueError(f"document_weight must be in [0, 1), got {document_weight!r}")
        if not isinstance(document_window, int) or document_window < 1:
            raise ValueError(f"document_window must be a positive integer, got {document_window!r}")
        n_labels = len(self.labels)
        if n_labels < 2 or len(set(self.labels)) != n_labels:
            raise ValueError("a head needs two or more distinct labels")
        if self.coef.ndim != 2 or self.coef.shape[0] != n_labels:
            raise ValueError(f"coef must have shape ({n_labels}, n_columns), got {self.coef.shape}")
        if self.intercept.shape != (n_labels,):
            raise ValueError(f"intercept must have shape ({n_labels},)")
        if not (np.isfinite(self.coef).all() and np.isfinite(self.intercept).all()):
            raise ValueError("the weights contain NaN or infinite values")
        if not (self.temperature > 0 and np.isfinite(self.temperature)):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        if self.conditions is not None and self.context_weight is not None:
            raise ValueError("a head reads either conditions or context, not both")
        if self.context_weight is not None and not (0 < self.context_weight < 10):
            raise ValueError(f"context_weight must be in (0, 10), got {context_weight!r}")
        if self.coef.shape[1] % self._blocks():
            raise ValueError("coef does not split into whole feature blocks")
        # features × (blocks × labels): the weights of every block side by side, for one product
        self._block_weights = np.ascontiguousarray(
            self.coef.reshape(n_labels, self._blocks(), -1)
            .transpose(2, 1, 0)
            .reshape(-1, n_labels * self._blocks())
        )

    def _blocks(self) -> int:
        if self.conditions is not None:
            return 1 + len(self.conditions)
        return 3 if self.context_weight is not None else 1

    @property
    def n_features(self) -> int:
        """Width of the feature matrix this head reads."""
        return self.coef.shape[1] // self._blocks()

    @classmethod
    def fit(
        cls,
        X: sp.csr_matrix,
        y: Sequence[str],
        *,
        C: float = 10.0,
        class_weight: str | dict | None = None,
        conditions: Sequence[str] | None = None,
        condition_values: Sequence[str] | None = None,
        context_weight: float | None = None,
        documents: Sequence | None = None,
        nb_weights: bool = False,
        document_weight: float | None = None,
        max_iter: int = 2000,
        solver: str = "lbfgs",
        tol: float = 1e-4,
        random_state: int | None = None,
    ) -> LinearHead:
        """Fit a multinomial logistic regression and keep its weights.

        With ``nb_weights``, fit instead one binary logistic regression per class on features
        scaled by their naive-Bayes log-count ratio for that class (how much likelier a feature
        is in the class's sentences than in the others'), in the manner of NBSVM (Wang and
        Manning, 2012); the ratios fold into the weights, so the head stays one linear layer.
        With ``conditions`` (all values) and ``condition_values`` (one per row of ``X``), the
        head is conditioned: it learns shared weights and per-condition weights. With
        ``context_weight``, it also reads the neighbouring rows of the same document
        (``documents``: one document id per row, rows of a document consecutive).
        ``document_weight`` is kept for prediction (see the class); it does not change the fit.

        The fit runs with the linear-algebra libraries held to one thread: the solver's sums
        then add up in the same order on every machine and in every worker process, so the
        same data give the same weights, bit for bit, whatever the number of cores.

        ``solver`` and ``tol`` go to scikit-learn's ``LogisticRegression``. Its default,
        ``lbfgs`` at ``tol=1e-4``, stops well short of the optimum, so the weights also depend
        on the last digits of the linear-algebra library (its version and the processor
        kernels it picks); ``solver="newton-cg", tol=1e-8`` reaches the optimum, where other
        kernels gave the same predictions (docs/training.md), for two to three times the
        training time.
        """
        # only training needs scikit-learn (and threadpoolctl, one of its dependencies)
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        labels = sorted(set(y))
        if len(labels) < 2:
            raise ValueError(f"need at least two classes to train, got only {labels!r}")
        index = None
        if conditions is not None:
            lookup = {c: i for i, c in enumerate(conditions)}
            index = [lookup[c] for c in condition_values]
        design = _design(X, conditions, index, context_weight, documents)
        model = LogisticRegression(
            C=C,
            class_weight=class_weight,
            max_iter=max_iter,
            solver=solver,
            tol=tol,
            random_state=random_state,
        )
        fit = _fit_nb_weighted if nb_weights else _fit_softmax
        with threadpool_limits(limits=1):
            coef, intercept = fit(model, design, np.asarray(y), labels)
        return cls(
            labels, coef, intercept, 1.0, conditions, context_weight,
            one_vs_rest=bool(nb_weights), document_weight=document_weight,
        )  # fmt: skip

    def decision_function(
        self,
        X: sp.csr_matrix,
        condition_index: Sequence[int] | None = None,
        documents: Sequence | None = None,
    ) -> np.ndarray:
        """Raw class scores, before the temperature and the softmax.

        Equal to ``design @ coef.T + intercept`` for the design matrix the head was trained
        on, computed without building it: one product of ``X`` with every block of weights,
        then each row adds the score of its condition's block, or of its neighbours' blocks.
        """
        n_rows = X.shape[0]
        if X.shape[1] != self.n_features:
            raise ValueError(f"X has {X.shape[1]} features, the head expects {self.n_features}")
        blocks = np.asarray(X @ self._block_weights).reshape(n_rows, self._blocks(), -1)
        scores = blocks[:, 0] + self.intercept
        if self.conditions is not None:
            if condition_index is None or len(condition_index) != n_rows:
                raise ValueError("a conditioned head needs one condition per row")
            scores += blocks[np.arange(n_rows), 1 + np.asarray(condition_index, dtype=np.int64)]
        elif self.context_weight is not None and documents is not None:
            same = _same_document(documents, n_rows)
            scores[1:][same] += self.context_weight * blocks[:-1, 1][same]
            scores[:-1][same] += self.context_weight * blocks[1:, 2][same]
        return scores

    def predict_proba(
        self,
        X: sp.csr_matrix,
        condition_index: Sequence[int] | None = None,
        documents: Sequence | None = None,
    ) -> np.ndarray:
        """Class probabilities, rows summing to one, columns in the order of ``labels``.

        With ``documents`` and a ``document_weight``, each row's probabilities are mixed with
        those of its document's other rows nearby (:func:`smooth_in_documents`) before the
        temperature, so the temperature calibrates the mixed probabilities.
        """
        return softmax(self._softmax_input(X, condition_index, documents) / self.temperature)

    def predict(
        self,
        X: sp.csr_matrix,
        condition_index: Sequence[int] | None = None,
        documents: Sequence | None = None,
    ) -> list[str]:
        """The most probable label of each row."""
        scores = self._softmax_input(X, condition_index, documents)
        return [self.labels[i] for i in scores.argmax(axis=1)]

    def calibrate(
        self,
        X: sp.csr_matrix,
        y: Sequence[str],
        condition_index: Sequence[int] | None = None,
        documents: Sequence | None = None,
    ) -> float:
        """Fit the softmax temperature that minimises the log-loss on held-out ``(X, y)``, of
        the probabilities as :meth:`predict_proba` gives them (mixed within documents, for a
        head with a ``document_weight``)."""
        scores = self._softmax_input(X, condition_index, documents)
        index = {label: i for i, label in enumerate(self.labels)}
        target = np.array([index[label] for label in y])
        candidates = np.exp(np.linspace(np.log(0.2), np.log(5.0), 121))
        losses = [_log_loss(softmax(scores / t), target) for t in candidates]
        self.temperature = float(candidates[int(np.argmin(losses))])
        return self.temperature

    def _softmax_input(
        self, X: sp.csr_matrix, condition_index: Sequence[int] | None, documents: Sequence | None
    ) -> np.ndarray:
        """What the softmax reads, before the temperature: the scores, or for a one-vs-rest head
        the log of each binary model's probability (a plain softmax of independent binary
        scores is overconfident); with a ``document_weight`` and ``documents``, the log of
        the probabilities these give, mixed within documents, so that the temperature
        calibrates the mixed probabilities."""
        scores = self.decision_function(X, condition_index, documents)
        if self.one_vs_rest:
            scores = -np.logaddexp(0.0, -scores)
        if self.document_weight and documents is not None:
            mixed = smooth_in_documents(
                softmax(scores), documents, self.document_weight, self.document_window
            )
            scores = np.log(np.maximum(mixed, 1e-300))  # softmax(scores) == mixed
        return scores


def _fit_softmax(model, design: sp.csr_matrix, y: np.ndarray, labels: list[str]):
    """One multinomial fit of ``model``; weights and intercepts, one row per label."""
    model.fit(design, y)
    coef, intercept = model.coef_, model.intercept_
    if len(labels) == 2:  # scikit-learn keeps one row for two classes: expand to softmax form
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    return coef, intercept


def _fit_nb_weighted(model, design: sp.csr_matrix, y: np.ndarray, labels: list[str]):
    """One-vs-rest fits of ``model`` on naive-Bayes-scaled features; weights and intercepts.

    A class's ratio for a feature is the log of its smoothed share of the class's sentences
    that contain the feature over its share of the other sentences. Scaling column ``j`` by
    ``r[j]`` and learning ``w`` equals learning ``w * r`` on the unscaled column, so the
    returned weights apply to ``design`` directly.
    """
    one_hot = sp.csr_matrix(
        (np.ones(len(y)), (np.arange(len(y)), np.searchsorted(labels, y))),
        shape=(len(y), len(labels)),
    )
    # sentences of each class that contain each feature, and of all classes
    counts = (one_hot.T @ design.astype(bool).astype(np.float64)).toarray()
    totals = counts.sum(axis=0)
    coef = np.zeros((len(labels), design.shape[1]))
    intercept = np.zeros(len(labels))
    for k, label in enumerate(labels):
        inside, outside = counts[k] + 1.0, totals - counts[k] + 1.0
        ratio = np.log(inside / inside.sum()) - np.log(outside / outside.sum())
        model.fit(design @ sp.diags(ratio.astype(design.dtype)), y == label)
        coef[k] = model.coef_[0] * ratio
        intercept[k] = model.intercept_[0]
    return coef, intercept


def _design(
    X: sp.csr_matrix,
    conditions: Sequence[str] | None,
    condition_index: Sequence[int] | None,
    context_weight: float | None,
    documents: Sequence | None,
) -> sp.csr_matrix:
    """The matrix a head's weights apply to: X, extended by condition or context blocks."""
    if conditions is not None:
        if condition_index is None or len(condition_index) != X.shape[0]:
            raise ValueError("a conditioned head needs one condition per row")
        return condition_features(X, condition_index, len(conditions))
    if context_weight is not None:
        return context_features(X, documents, context_weight)
    return X


def context_features(X: sp.csr_matrix, documents: Sequence | None, weight: float) -> sp.csr_matrix:
    """``[X | weight * previous row | weight * next row]``, neighbours taken only within the
    same document. ``documents=None`` means every row is a document of its own (no context).
    """
    X = sp.csr_matrix(X)
    n_rows = X.shape[0]
    if documents is None or n_rows < 2:
        neighbours = sp.csr_matrix((n_rows, X.shape[1]), dtype=X.dtype)
        return sp.hstack([X, neighbours, neighbours], format="csr")
    rows = np.flatnonzero(_same_document(documents, n_rows))
    ones = np.full(len(rows), weight, dtype=X.dtype)
    previous = sp.csr_matrix((ones, (rows + 1, rows)), shape=(n_rows, n_rows)) @ X
    following = sp.csr_matrix((ones, (rows, rows + 1)), shape=(n_rows, n_rows)) @ X
    return sp.hstack([X, previous, following], format="csr")


def _same_document(documents: Sequence, n_rows: int) -> np.ndarray:
    """``same[i]``: rows ``i`` and ``i + 1`` belong to the same document."""
    if len(documents) != n_rows:
        raise ValueError(f"documents has {len(documents)} items for {n_rows} rows")
    documents = list(documents)
    return np.fromiter(map(operator.eq, documents[:-1], documents[1:]), bool, max(n_rows - 1, 0))


def smooth_in_documents(
    values: np.ndarray, documents: Sequence, weight: float, window: int
) -> np.ndarray:
    """``(1 - weight) * values[i] + weight * mean(values[j])``, the mean over the other rows
    ``j`` of row ``i``'s document at most ``window`` rows away; a row alone in its document is
    kept. A document is a run of consecutive rows with the same id in ``documents``.

    >>> values = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    >>> smooth_in_documents(values, ["a", "a", "b"], 0.5, 8).round(2).tolist()
    [[0.75, 0.25], [0.75, 0.25], [0.0, 1.0]]
    """
    n_rows = values.shape[0]
    same = _same_document(documents, n_rows)
    run = np.concatenate([[0], np.cumsum(~same)])  # document number of each row
    first = np.searchsorted(run, run, side="left")  # first row of each row's document
    end = np.searchsorted(run, run, side="right")  # one past its last row
    rows = np.arange(n_rows)
    low = np.maximum(first, rows - window)
    high = np.minimum(end, rows + window + 1)
    totals = np.zeros((n_rows + 1, values.shape[1]))
    np.cumsum(values, axis=0, out=totals[1:])
    others = high - low - 1
    alone = others == 0
    mean = (totals[high] - totals[low] - values) / np.maximum(others, 1)[:, None]
    mixed = (1 - weight) * values + weight * mean
    mixed[alone] = values[alone]
    return mixed


def condition_features(X: sp.csr_matrix, condition_index: Sequence[int], n_conditions: int):
    """``[X | X placed in the block of each row's condition]``: shared plus specific features.

    The result has ``X.shape[1] * (1 + n_conditions)`` columns.
    """
    X = sp.csr_matrix(X)
    n_rows, width = X.shape
    shape = (n_rows, width * (1 + n_conditions))
    row_of = np.repeat(np.arange(n_rows), np.diff(X.indptr))
    shifted = X.indices + (np.asarray(condition_index, dtype=np.int64)[row_of] + 1) * width
    shared = sp.csr_matrix((X.data, X.indices, X.indptr), shape=shape)
    specific = sp.csr_matrix((X.data, shifted, X.indptr), shape=shape)
    return (shared + specific).tocsr()


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def _log_loss(proba: np.ndarray, target: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(target)), target], 1e-12, 1.0))))
