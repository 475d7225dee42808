"""Labelled data → model, and the evaluation of a model on labelled data.

>>> texts = ["We welcome the deal.", "We condemn the strike.", "Talks resumed.",
...          "Talks must go on."] * 5
>>> stances = ["supports", "opposes", "none", "calls_for"] * 5
>>> model = train(texts, stances=stances, min_df=1)
>>> model.classify(["We condemn the strike."])[0].stance
'opposes'
>>> evaluate(model, texts, stances=stances)["stance"]["accuracy"]
1.0
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from . import __version__
from .corpus import LabelledData, read_labelled, validate
from .features import Featurizer
from .heads import LinearHead
from .model import Model

__all__ = [
    "build_environment",
    "calibrate",
    "cross_validate",
    "describe_environment",
    "evaluate",
    "format_report",
    "model_card",
    "train",
]


def train(
    data: str | os.PathLike | LabelledData | Sequence[str],
    topics: Sequence[str] | None = None,
    stances: Sequence[str] | None = None,
    *,
    dev: LabelledData | None = None,
    stance_given_topic: bool = False,
    topic_context: float | None = None,
    stance_context: float | None = None,
    topic_document_weight: float | None = None,
    C_topic: float = 10.0,
    C_stance: float = 10.0,
    class_weight: str | None = None,
    nb_weights: bool = False,
    ngram_max: int = 2,
    min_df: int = 2,
    negation: bool = True,
    cues: bool = True,
    lexicon: Mapping[str, Sequence[str]] | None = None,
    polarity: Mapping[str, Sequence[str]] | None = None,
    solver: str = "lbfgs",
    tol: float = 1e-4,
    cv: int = 0,
    random_state: int | None = 0,
    name: str = "custom",
) -> Model:
    """Train a model with a topic head, a stance head, or both, from labelled sentences.

    Parameters
    ----------
    data : path, LabelledData or list of str
        A CSV/TSV/JSONL file (columns ``text``, ``topic``, ``stance``), validated data, or the
        texts themselves with ``topics`` and/or ``stances`` given beside them.
    dev : LabelledData, optional
        Held-out data used only to calibrate the probabilities (softmax temperature).
    stance_given_topic : bool
        Learn stance weights per topic as well as shared ones, so that the same words may
        signal opposite stances under different topics; ``classify(texts, topics=...)`` then
        uses the given topics. Needs topic labels.
    topic_context : float, optional
        Let the topic head read the previous and next sentence of the same document, with
        this weight (the default model uses 0.5). Documents come from a ``doc`` column of the
        data (consecutive rows with the same id); data without one trains no context.
    stance_context : float, optional
        The same for the stance head (not together with ``stance_given_topic``).
    topic_document_weight : float, optional
        When predicting, mix each sentence's topic probabilities with the mean of those of the
        sentences of its document within 8 sentences before and after it, with this weight in
        ``[0, 1)`` (the default model's recipe tunes it on the development set). Needs no
        training and applies only where documents are known (``tag``, batch scoring,
        ``classify(..., documents=...)``).
    C_topic, C_stance : float
        Inverse regularisation strength of each head's logistic regression.
    class_weight : None or "balanced"
        Reweight classes inversely to their frequency.
    nb_weights : bool
        Fit each head as one binary logistic regression per class on features scaled by
        their naive-Bayes log-count ratios (NBSVM-style; see :meth:`LinearHead.fit`) instead of
        one multinomial logistic regression. Faster to train on large data.
    ngram_max, min_df, negation, cues, lexicon, polarity
        Feature options; see :class:`stance.features.Featurizer`.
    solver, tol : str, float
        The logistic-regression solver and its stopping tolerance (scikit-learn's). The
        default stops early and its weights move with the machine's linear-algebra library;
        ``solver="newton-cg", tol=1e-8`` trains to the optimum, whose predictions did not move
        with the processor kernels, in up to three times as long (see :meth:`LinearHead.fit`).
    cv : int
        If 2 or more, also run a ``cv``-fold cross-validation and record its scores in the
        model card (``model.info["cross_validation"]``).
    random_state : int or None
        Seed for the folds; training itself is deterministic.
    name : str
        The model's name, recorded in its card and in batch output.
    """
    data = _as_data(data, topics, stances)
    options = {
        "stance_given_topic": stance_given_topic,
        "topic_context": topic_context,
        "stance_context": stance_context,
        "topic_document_weight": topic_document_weight,
        "C_topic": C_topic,
        "C_stance": C_stance,
        "class_weight": class_weight,
        "nb_weights": nb_weights,
        "ngram_max": ngram_max,
        "min_df": min_df,
        "negation": negation,
        "cues": cues,
        "solver": solver,
        "tol": tol,
        "random_state": random_state,
    }
    if stance_given_topic and (data.topics is None or data.stances is None):
        raise ValueError("stance_given_topic=True needs both topic and stance labels")
    if stance_given_topic and stance_context is not None:
        raise ValueError("stance_context cannot be combined with stance_given_topic")
    featurizer = Featurizer(ngram_max, min_df, negation, cues, lexicon, polarity)
    X = featurizer.fit_transform(data.texts)
    heads = {}
    if data.topics is not None:
        heads["topic"] = LinearHead.fit(
            X,
            data.topics,
            C=C_topic,
            class_weight=class_weight,
            nb_weights=nb_weights,
            context_weight=topic_context,
            documents=data.extra.get("doc"),
            document_weight=topic_document_weight,
            solver=solver,
            tol=tol,
            random_state=random_state,
        )
    if data.stances is not None:
        conditions = sorted(set(data.topics)) if stance_given_topic else None
        heads["stance"] = LinearHead.fit(
            X,
            data.stances,
            C=C_stance,
            class_weight=class_weight,
            nb_weights=nb_weights,
            conditions=conditions,
            condition_values=data.topics if stance_given_topic else None,
            context_weight=stance_context,
            documents=data.extra.get("doc"),
            solver=solver,
            tol=tol,
            random_state=random_state,
        )
    info = {
        "name": name,
        "library_version": __version__,
        "training": {
            "sentences": len(data),
            "data_sha256": _data_hash(data),
            "topic_counts": dict(sorted(Counter(data.topics or []).items())),
            "stance_counts": dict(sorted(Counter(data.stances or []).items())),
            "features": len(featurizer.vocabulary_),
            "options": options,
            "environment": build_environment(),
        },
    }
    if cv >= 2:
        info["cross_validation"] = cross_validate(
            data, k=cv, **options, lexicon=lexicon, polarity=polarity
        )
    model = Model(featurizer, heads.get("topic"), heads.get("stance"), info)
    if dev is not None:
        calibrate(model, dev)
    model.card = model_card(model)
    return model


def build_environment() -> dict[str, str]:
    """The versions a model's weights depend on, recorded in ``model.info`` by :func:`train`.

    The solver stops when its steps become small, not at an exact optimum, so the last digits
    of the linear-algebra library's sums (its version and the processor kernels it picked)
    can move the weights: the same data give the same bytes only where these match.

    >>> sorted(build_environment())
    ['blas', 'machine', 'numpy', 'python', 'scikit-learn', 'scipy']
    """
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    blas = [
        f"{lib.get('internal_api')} {lib.get('version')} ({lib.get('architecture')} kernels)"
        for lib in threadpool_info()
        if lib.get("user_api") == "blas"
    ]
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "blas": "; ".join(dict.fromkeys(blas)) or "unknown",
        "machine": platform.machine(),
    }


def describe_environment(environment: Mapping[str, str]) -> str:
    """The model card's sentence on what :func:`build_environment` recorded.

    >>> describe_environment({"numpy": "2.4.6", "machine": "x86_64"})
    'Built with numpy 2.4.6, machine x86_64.'
    """
    return "Built with " + ", ".join(f"{k} {v}" for k, v in environment.items()) + "."


def calibrate(model: Model, dev: LabelledData) -> None:
    """Fit each head's softmax temperature on held-out ``dev`` (what ``train(dev=...)`` does).

    Call it again after changing a setting that shapes the probabilities, such as the topic
    head's ``document_weight``.

    >>> model = train(["We back it.", "We reject it."] * 4, stances=["supports", "opposes"] * 4)
    >>> calibrate(model, LabelledData(["We back it.", "We reject it."], None, ["supports"] * 2))
    >>> model.stance_head.temperature > 1  # half of these labels are wrong: less confident
    True
    """
    X_dev = model.featurizer.transform(dev.texts)
    for head, labels in ((model.topic_head, dev.topics), (model.stance_head, dev.stances)):
        if head is None or labels is None:
            continue
        rows = [
            i
            for i, label in enumerate(labels)
            if label in head.labels
            and (head.conditions is None or dev.topics[i] in head.conditions)
        ]
        conditions = (
            None
            if head.conditions is None
            else [head.conditions.index(dev.topics[i]) for i in rows]
        )
        documents = dev.extra.get("doc")
        documents = None if documents is None else [documents[i] for i in rows]
        head.calibrate(X_dev[rows], [labels[i] for i in rows], conditions, documents)


def evaluate(
    model: Model,
    data: str | os.PathLike | LabelledData | Sequence[str],
    topics: Sequence[str] | None = None,
    stances: Sequence[str] | None = None,
    *,
    given_topics: bool = False,
) -> dict:
    """Score ``model`` on labelled data: per head, accuracy, macro-F1, per-class
    precision/recall/F1, the confusion matrix and the expected calibration error.

    With ``given_topics=True`` the stance head is given the gold topics (stance given topic).
    A ``doc`` column in the data gives the heads their document context, as in ``tag``.
    """
    data = _as_data(data, topics, stances)
    records = model.classify(
        data.texts, topics=data.topics if given_topics else None, documents=data.extra.get("doc")
    )
    report: dict = {"sentences": len(data)}
    for head_name, gold in (("topic", data.topics), ("stance", data.stances)):
        labels = model.topics if head_name == "topic" else model.stances
        if gold is None or not labels or (head_name == "topic" and given_topics):
            continue
        predicted = [getattr(r, head_name) for r in records]
        confidence = [getattr(r, head_name + "_prob") for r in records]
        report[head_name] = score(gold, predicted, confidence, labels)
    return report


def score(
    gold: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1, confusion matrix (rows = gold) and, with
    ``confidence``, the expected calibration error over 10 equal-width bins."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = sorted(set(labels or []) | set(gold) | set(predicted))
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    present = [i for i, label in enumerate(labels) if label in set(gold)]
    correct = np.array([g == p for g, p in zip(gold, predicted)])
    result = {
        "accuracy": float(correct.mean()),
        "macro_f1": float(np.mean(f1[present])),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": labels,
        "confusion": confusion_matrix(gold, predicted, labels=labels).tolist(),
    }
    if confidence is not None:
        result["ece"] = expected_calibration_error(np.asarray(confidence, dtype=float), correct)
    return result


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """Mean |accuracy − confidence| over equal-width confidence bins, weighted by bin size."""
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total / len(confidence))


def cross_validate(
    data: LabelledData, k: int = 5, groups: Sequence | None = None, **options
) -> dict:
    """k-fold cross-validation: mean and per-fold accuracy and macro-F1 of each head.

    Folds are stratified by the stance (or topic) label; with ``groups`` (e.g. document ids)
    no group is split across folds.
    """
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    if k < 2:
        raise ValueError(f"k must be 2 or more, got {k!r}")
    if len(data) < k:
        raise ValueError(f"cannot make {k} folds from {len(data)} sentences")
    strata = data.stances if data.stances is not None else data.topics
    if groups is not None:
        splits = GroupKFold(n_splits=k).split(data.texts, strata, groups)
    else:
        seed = options.get("random_state", 0)
        splits = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(
            data.texts, strata
        )
    folds = []
    for train_rows, test_rows in splits:
        model = train(data.subset(list(train_rows)), **options)
        held = data.subset(list(test_rows))
        report = evaluate(model, held, given_topics=bool(options.get("stance_given_topic")))
        folds.append(
            {
                head: {"accuracy": report[head]["accuracy"], "macro_f1": report[head]["macro_f1"]}
                for head in ("topic", "stance")
                if head in report
            }
        )
    summary = {"k": k, "folds": folds}
    for head in ("topic", "stance"):
        if head in folds[0]:
            summary[head] = {
                metric: float(np.mean([fold[head][metric] for fold in folds]))
                for metric in ("accuracy", "macro_f1")
            }
    return summary


def format_report(report: dict) -> str:
    """A plain-text rendering of :func:`evaluate`'s report."""
    lines = [f"{report['sentences']} sentences"]
    for head in ("topic", "stance"):
        if head not in report:
            continue
        result = report[head]
        lines.append("")
        summary = f"{head}: accuracy {result['accuracy']:.3f}, macro-F1 {result['macro_f1']:.3f}"
        if "ece" in result:
            summary += f", ECE {result['ece']:.3f}"
        lines.append(summary)
        width = max(len(label) for label in result["labels"]) + 2
        lines.append(f"  {'':{width}} precision recall    f1 support")
        for label, row in result["per_class"].items():
            lines.append(
                f"  {label:{width}} {row['precision']:9.3f} {row['recall']:6.3f} "
                f"{row['f1']:5.3f} {row['support']:7d}"
            )
        lines.append("  confusion (rows = true, columns = predicted, same order as above):")
        for label, row in zip(result["labels"], result["confusion"]):
            lines.append(f"  {label:{width}} " + " ".join(f"{n:5d}" for n in row))
    return "\n".join(lines)


def model_card(model: Model) -> str:
    """A Markdown model card from ``model.info``: data, options, labels and any scores."""
    info = model.info
    training = info.get("training", {})
    lines = [
        f"# Model card: {info.get('name', 'model')}",
        "",
        f"Trained with stance {info.get('library_version', __version__)} on "
        f"{training.get('sentences', '?')} sentences "
        f"(data SHA-256 `{training.get('data_sha256', '?')}`), "
        f"{training.get('features', '?')} features.",
        *(["", describe_environment(training["environment"])] if "environment" in training else []),
        "",
        "## Labels",
        "",
        f"- topics: {', '.join(model.topics) or '(no topic head)'}",
        f"- stances: {', '.join(model.stances) or '(no stance head)'}",
        "",
        "## Training data label counts",
        "",
        "```json",
        json.dumps(
            {"topic": training.get("topic_counts"), "stance": training.get("stance_counts")},
            indent=1,
        ),
        "```",
        "",
        "## Options",
        "",
        "```json",
        json.dumps(training.get("options", {}), indent=1, sort_keys=True),
        "```",
    ]
    cross = info.get("cross_validation")
    if cross:
        lines += ["", f"## {cross['k']}-fold cross-validation", ""]
        for head in ("topic", "stance"):
            if head in cross:
                lines.append(
                    f"- {head}: accuracy {cross[head]['accuracy']:.3f}, "
                    f"macro-F1 {cross[head]['macro_f1']:.3f}"
                )
    return "\n".join(lines) + "\n"


def _as_data(data, topics, stances) -> LabelledData:
    if isinstance(data, LabelledData):
        if topics is not None or stances is not None:
            raise ValueError("give labels inside the LabelledData, not beside it")
        return data
    if isinstance(data, (str, os.PathLike)) and topics is None and stances is None:
        return read_labelled(data)
    return validate(data, topics=topics, stances=stances)


def _data_hash(data: LabelledData) -> str:
    digest = hashlib.sha256()
    for row in zip(data.texts, data.topics or [""] * len(data), data.stances or [""] * len(data)):
        digest.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
