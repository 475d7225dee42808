"""Rebuild the shipped default model from the corpus: one command, same bytes every time.

    pip install -r models/requirements.txt   # the library versions it was built with
    python models/recipe.py                  # writes models/default/ (manifest, arrays, card)

Same bytes on any x86-64 processor with AVX2 (the recipe pins OpenBLAS's kernels, below); with
other library versions, or on other processors, the last digits of the weights differ.

Steps: compare feature sets and regularisation on the development set; train the winner on the
training set, tune how much of the document around a sentence its topic head mixes in, and
calibrate its probabilities, on the development set; refit it on the training and
development sets together, keeping those temperatures; score it on the held-out test set (written
by other writers), against a majority-class and a keyword baseline; measure leave-one-register-out
generalisation; write everything into the model card.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# OpenBLAS picks its kernels for the processor it runs on, and kernels round sums differently,
# which moves where the solver stops and so the weights. Every x86-64 processor with AVX2 and
# FMA (nearly all made since 2015) is asked for the same ones. OpenBLAS reads this once, when
# NumPy loads it, so it is set before anything imports NumPy; joblib's workers inherit it.
BLAS_KERNELS = "Haswell"
# The library versions the shipped model was built with; others give other last digits.
BUILD_REQUIREMENTS = HERE / "requirements.txt"


def _cpu_flags() -> set[str]:
    """The processor's feature flags, as Linux lists them (empty elsewhere)."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return set()
    return {flag for line in lines if line.startswith("flags") for flag in line.split()[2:]}


if platform.machine() == "x86_64" and {"avx2", "fma"} <= _cpu_flags():
    os.environ["OPENBLAS_CORETYPE"] = BLAS_KERNELS

import json  # noqa: E402
from collections import Counter  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402

from joblib import Parallel, delayed  # noqa: E402

sys.path.insert(0, str(HERE.parent))  # build from this checkout's package

from stance.baselines import KeywordBaseline, majority  # noqa: E402
from stance.corpus import LabelledData, read_labelled  # noqa: E402
from stance.train import calibrate, describe_environment, evaluate, score, train  # noqa: E402

CORPUS = HERE / "corpus"
OUTPUT = HERE / "default"
LEXICON = json.loads((HERE / "topic_lexicon.json").read_text(encoding="utf-8"))
POLARITY = json.loads((HERE / "polarity_lexicon.json").read_text(encoding="utf-8"))

# Candidate settings, compared on the development set (the first is the plain baseline model).
# Balanced class weights are measured but never selected: they push predictions towards the
# rarer stances, and `opposes` is rarer in real diplomatic text (about 10 %) than here.
_ALL_FEATURES = dict(ngram_max=2, negation=True, cues=True, lexicon=LEXICON)
_BOTH_CONTEXTS = dict(_ALL_FEATURES, topic_context=0.5, stance_context=0.25)
CANDIDATES = {
    "word 1-grams": dict(ngram_max=1, negation=False, cues=False, lexicon=None),
    "word 1-2-grams": dict(ngram_max=2, negation=False, cues=False, lexicon=None),
    "+ negation scope": dict(ngram_max=2, negation=True, cues=False, lexicon=None),
    "+ stance cues": dict(ngram_max=2, negation=True, cues=True, lexicon=None),
    "+ topic lexicon": _ALL_FEATURES,
    "+ topic lexicon, balanced classes (not selectable)": dict(
        _ALL_FEATURES, class_weight="balanced"
    ),
    "+ neighbour sentences for the topic (weight 0.5)": dict(_ALL_FEATURES, topic_context=0.5),
    "+ neighbour sentences for the stance too (weight 0.25)": _BOTH_CONTEXTS,
    "+ only terms in 3+ training sentences (min_df 3)": dict(_BOTH_CONTEXTS, min_df=3),
    "+ naive-Bayes-scaled features, one binary model per label": dict(
        _BOTH_CONTEXTS, min_df=3, nb_weights=True
    ),
    "+ evaluative word lists (polarity lexicon)": dict(
        _BOTH_CONTEXTS, min_df=3, nb_weights=True, polarity=POLARITY
    ),
}
C_GRID = (3.0, 10.0, 30.0)
# Weights of the document around a sentence in its topic probabilities, tuned on the development
# set after the rest (a setting of prediction only: no refit).
DOCUMENT_WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
# Candidates whose stance macro-F1 + topic accuracy is within this of the best count as tied
# (less than one standard error on a development set of 10,000 sentences); of tied candidates the
# one with the fewest features wins: a smaller model is faster and no worse.
TIE = 0.002


def _in_parallel(function, *args) -> list:
    """``[function(*args[:-1], item) for item in args[-1]]`` on every core, in order."""
    *fixed, items = args
    return Parallel(n_jobs=-1)(delayed(function)(*fixed, item) for item in items)


def _dev_scores(train_set: LabelledData, dev: LabelledData, options: dict) -> dict:
    model = train(train_set, **options)
    return {**_headline(evaluate(model, dev)), "features": len(model.featurizer.vocabulary_)}


def main() -> None:
    for line in _version_mismatches():
        print(f"warning: {line}; the weights may differ from the shipped ones", flush=True)
    data = {name: read_labelled(CORPUS / f"{name}.jsonl") for name in ("train", "dev", "test")}
    train_set, dev, test = data["train"], data["dev"], data["test"]

    comparison = dict(
        zip(CANDIDATES, _in_parallel(_dev_scores, train_set, dev, CANDIDATES.values()))
    )
    for label, result in comparison.items():
        print(f"dev  {label:40} {_fmt(result)}", flush=True)
    selectable = [k for k in comparison if "class_weight" not in CANDIDATES[k]]
    top = max(_objective(comparison[k]) for k in selectable)
    tied = [k for k in selectable if _objective(comparison[k]) >= top - TIE]
    best_label = min(tied, key=lambda k: (comparison[k]["features"], -_objective(comparison[k])))
    best = dict(CANDIDATES[best_label])
    # each head's C is tuned on its own scores (the heads are trained independently)
    grid = [(head, C) for head in ("topic", "stance") for C in C_GRID]
    runs = [{**best, f"C_{head}": C} for head, C in grid]
    tuning = {
        f"{head} C={C:g}": result
        for (head, C), result in zip(grid, _in_parallel(_dev_scores, train_set, dev, runs))
    }
    for head in ("topic", "stance"):
        key = "macro_f1" if head == "stance" else "accuracy"
        best[f"C_{head}"] = max(C_GRID, key=lambda C: tuning[f"{head} C={C:g}"][head][key])
    for name, result in tuning.items():
        print(f"dev  {best_label} {name}: {_fmt(result)}", flush=True)

    # The selected model is trained on the training set and calibrated on the development set;
    # the shipped one is refit on both with the same options and keeps those temperatures.
    selected = train(train_set, dev=dev, name="default", **best)
    document_tuning = _tune_document_weight(selected, dev)
    best["topic_document_weight"] = max(DOCUMENT_WEIGHTS, key=document_tuning.get) or None
    selected.topic_head.document_weight = best["topic_document_weight"]
    calibrate(selected, dev)
    dev_report = evaluate(selected, dev)
    train_and_dev = train_set + dev
    model = train(train_and_dev, name="default", **best)
    model.topic_head.temperature = selected.topic_head.temperature
    model.stance_head.temperature = selected.stance_head.temperature
    test_report = evaluate(model, test)
    isolated = evaluate(model, LabelledData(test.texts, test.topics, test.stances))
    ece_before = _uncalibrated_ece(model, test)

    baselines = _baselines(train_and_dev, test)
    loro = _leave_one_register_out(train_and_dev, {"test": test, "dev": dev}, best)
    per_register = _per_register(model, test)

    model.info["evaluation"] = {
        "held-out test": _headline(test_report),
        "development (trained on the training set only)": _headline(dev_report),
    }
    model.info["selected_options"] = _describe(best)
    model.card = _card(
        model, data, comparison, tuning, document_tuning, best_label, best, test_report,
        isolated, ece_before, baselines, loro, per_register,
    )  # fmt: skip
    model.save(OUTPUT)
    print(f"test {_fmt(_headline(test_report))}")
    print(f"saved to {OUTPUT}")


def _version_mismatches() -> list[str]:
    """Each library whose installed version is not the one in ``requirements.txt``."""
    mismatches = []
    for line in BUILD_REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, wanted = line.split("==")
            try:
                installed = version(name)
            except PackageNotFoundError:
                installed = "not installed"
            if installed != wanted:
                mismatches.append(f"{name} is {installed}, the shipped model needs {wanted}")
    return mismatches


def _tune_document_weight(model, dev: LabelledData) -> dict:
    """Dev topic accuracy for each weight of the surrounding sentences (the first best wins),
    the temperature refitted for each (it decides how much a neighbour's vote counts)."""
    results = {}
    for weight in DOCUMENT_WEIGHTS:
        model.topic_head.document_weight = weight or None
        calibrate(model, dev)
        results[weight] = evaluate(model, dev)["topic"]["accuracy"]
        print(f"dev  topic document weight {weight:g}: topic accuracy {results[weight]:.4f}")
    return results


def _headline(report: dict) -> dict:
    return {
        head: {"accuracy": report[head]["accuracy"], "macro_f1": report[head]["macro_f1"]}
        for head in ("topic", "stance")
        if head in report
    }


def _objective(result: dict) -> float:
    return result["stance"]["macro_f1"] + result["topic"]["accuracy"]


def _fmt(result: dict) -> str:
    return (
        f"stance macro-F1 {result['stance']['macro_f1']:.3f} acc {result['stance']['accuracy']:.3f}"
        f" | topic acc {result['topic']['accuracy']:.3f} macro-F1 {result['topic']['macro_f1']:.3f}"
    )


def _describe(options: dict) -> dict:
    files = {"lexicon": "topic_lexicon.json", "polarity": "polarity_lexicon.json"}
    return {k: (files[k] if k in files and v else v) for k, v in options.items()}


def _uncalibrated_ece(model, test: LabelledData) -> dict:
    """The test ECE of each head with its softmax temperature reset to 1 (the same weights)."""
    heads = {"topic": model.topic_head, "stance": model.stance_head}
    temperatures = {name: head.temperature for name, head in heads.items()}
    try:
        for head in heads.values():
            head.temperature = 1.0
        report = evaluate(model, test)
    finally:
        for name, head in heads.items():
            head.temperature = temperatures[name]
    return {name: report[name]["ece"] for name in heads}


def _baselines(train_set: LabelledData, test: LabelledData) -> dict:
    keyword = KeywordBaseline(LEXICON)
    n = len(test)
    return {
        "majority class": {
            "stance": score(test.stances, majority(train_set.stances, n)),
            "topic": score(test.topics, majority(train_set.topics, n)),
        },
        "keyword lexicon": {
            "stance": score(test.stances, keyword.predict_stance(test.texts)),
            "topic": score(test.topics, keyword.predict_topic(test.texts)),
        },
    }


def _leave_one_register_out(
    train_set: LabelledData, held_out: dict[str, LabelledData], options: dict
) -> dict:
    """Per register: a model trained on ``train_set`` without it, scored on the sentences of
    that register in each held-out set (``train_set`` may contain one of them: its sentences
    of the register are left out of the training with the rest)."""
    registers = sorted(set(train_set.extra["register"]))
    scores = _in_parallel(_register_out, train_set, held_out, options, registers)
    results = dict(zip(registers, scores))
    for register, result in results.items():
        for name in held_out:
            print(f"loro {register:11} {name:4} {_fmt(result[name])}", flush=True)
    return results


def _register_out(
    train_set: LabelledData, held_out: dict[str, LabelledData], options: dict, register: str
) -> dict:
    keep = [i for i, r in enumerate(train_set.extra["register"]) if r != register]
    model = train(train_set.subset(keep), **options)
    result: dict = {"train_sentences": len(keep)}
    for name, data in held_out.items():
        result[name] = _scores_on_register(model, data, register)
    return result


def _per_register(model, test: LabelledData) -> dict:
    registers = sorted(set(test.extra["register"]))
    return {register: _scores_on_register(model, test, register) for register in registers}


def _scores_on_register(model, data: LabelledData, register: str) -> dict:
    rows = [i for i, r in enumerate(data.extra["register"]) if r == register]
    return {"sentences": len(rows), **_headline(evaluate(model, data.subset(rows)))}


def _head_kind(options: dict) -> str:
    if options.get("nb_weights"):
        return "one-vs-rest logistic regressions on naive-Bayes-scaled features"
    return "multinomial logistic regressions"


def _table(rows: list[tuple], header: tuple) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _scores_row(name: str, result: dict) -> tuple:
    return (
        name,
        f"{result['stance']['macro_f1']:.3f}",
        f"{result['stance']['accuracy']:.3f}",
        f"{result['topic']['accuracy']:.3f}",
        f"{result['topic']['macro_f1']:.3f}",
    )


SCORE_HEADER = ("", "stance macro-F1", "stance accuracy", "topic accuracy", "topic macro-F1")


def _card(model, data, comparison, tuning, document_tuning, best_label, best, test_report,
          isolated, ece_before, baselines, loro, per_register) -> str:  # fmt: skip
    train_set, dev, test = data["train"], data["dev"], data["test"]
    lines = [
        "# Model card: stance default model",
        "",
        "A sentence classifier for English text on international affairs: one topic out of 16",
        "and one stance out of 4 per sentence (label scheme: `docs/labels.md`). Two linear heads",
        f"({_head_kind(best)}) share one sparse TF-IDF feature matrix. Built by",
        "`python models/recipe.py` from `models/corpus/`; rebuilding gives the same bytes with the",
        "library versions of `models/requirements.txt` on any x86-64 processor with AVX2 (the",
        f"recipe asks OpenBLAS for its {BLAS_KERNELS} kernels everywhere; see *Known weaknesses*).",
        describe_environment(model.info["training"]["environment"]),
        "",
        "## Intended use and limits",
        "",
        "For analysts reading diplomatic speeches, statements and news on foreign policy: a first",
        "pass that finds who supports, opposes or calls for what. The corpus is written by the",
        "project, not sampled from real documents; scores on real text are lower than the",
        "held-out scores below (see *Real text* and *Known weaknesses*). Check the probabilities",
        "and read the sentences before drawing conclusions. English only.",
        "",
        "## Data",
        "",
    ]
    lines += _table(
        [
            (
                name,
                len(part),
                len({*part.extra["doc"]}),
                ", ".join(f"{k} {v}" for k, v in sorted(Counter(part.extra["register"]).items())),
            )
            for name, part in (("train", train_set), ("dev", dev), ("test", test))
        ],
        ("set", "sentences", "documents", "registers"),
    )
    lines += [
        "",
        "The shipped model is trained on the training and development sets together (see",
        "*Training recipe*). The test set was written separately, by writers who wrote no",
        "training or development sentence, about other imagined documents. Stance distribution:",
        "",
    ]
    stance_names = sorted(set(train_set.stances))
    lines += _table(
        [
            (name, *(f"{Counter(part.stances)[s] / len(part):.1%}" for s in stance_names))
            for name, part in (("train", train_set), ("dev", dev), ("test", test))
        ],
        ("set", *stance_names),
    )
    lines += _corpus_note("REPORT.md") + _corpus_note("agreement.md")
    lines += [
        "",
        "## Training recipe",
        "",
        "Features (`stance/features.py`): lower-cased word 1- and 2-grams with numbers folded,",
        "negation scope (the three words after *not, never, no, without, refuse…* are marked),",
        "pooled stance-cue features (support / oppose / concern / call / need / procedure word",
        "lists), and topic-lexicon features (`models/topic_lexicon.json`, a team-written",
        "vocabulary of 250+ terms per topic); optionally evaluative word lists",
        "(`models/polarity_lexicon.json`: positive, negative and hardship words, negated ones",
        "counted apart), when they win on the development set; sublinear TF-IDF,",
        "L2-normalised. Heads: multinomial",
        "logistic regression (lbfgs) or, when that wins on the development set, one binary",
        "logistic regression per label on features multiplied by their naive-Bayes log-count",
        "ratio for the label (NBSVM, Wang and Manning 2012; the ratios fold into the weights);",
        "then a softmax temperature per head fitted on the development set to minimise",
        "log-loss. When that wins too, a head also reads the previous and the next sentence of",
        "the same document (their feature rows, down-weighted): `tag` and batch scoring give it",
        "that context; `classify` on isolated sentences does not, and scores lower (see below).",
        "",
        "Options are chosen with models trained on the training set and scored on the",
        "development set, which also fits the temperatures. The shipped model is then refit",
        "with the chosen options on the training and development sets together, and keeps",
        "those temperatures.",
        "",
        "### Feature and model comparison (development set, C = 10)",
        "",
    ]
    lines += _table(
        [(*_scores_row(k, v), v["features"]) for k, v in comparison.items()],
        (*SCORE_HEADER, "features"),
    )
    lines += [
        "",
        f"Selected: **{best_label}**. The rule: the best stance macro-F1 + topic accuracy,",
        f"except that candidates within {TIE} of the best count as tied, and of tied candidates",
        "the one with the fewest features wins (a smaller model is faster and no worse).",
        "",
        "### Regularisation (development set)",
        "",
    ]
    lines += _table([_scores_row(k, v) for k, v in tuning.items()], SCORE_HEADER)
    lines += [
        "",
        f"Selected: C_topic = {best['C_topic']:g}, C_stance = {best['C_stance']:g}.",
        "",
        "### The document around a sentence (development set)",
        "",
        "Mixing each sentence's topic probabilities with the mean of those of the sentences of",
        "its document within 8 before and after it lets a sentence with little topic evidence",
        "of its own take the topic of the text around it. The weight of that mean is tuned",
        "on the development set with the model trained on the training set (no refit; the",
        "softmax temperature is refitted for each weight, as it sets how much a neighbour's",
        "vote counts):",
        "",
        "| weight | " + " | ".join(f"{w:g}" for w in document_tuning) + " |",
        "|---|" + "---|" * len(document_tuning),
        "| topic accuracy | " + " | ".join(f"{a:.3f}" for a in document_tuning.values()) + " |",
        "",
        f"Selected: {best['topic_document_weight'] or 0:g}.",
        "",
        "Final options:",
        "",
        "```json",
        json.dumps(_describe(best), indent=1, sort_keys=True),
        "```",
        "",
        "## Held-out test scores",
        "",
    ]
    rows = [
        _scores_row("this model (`tag`: sentences in their documents)", _headline(test_report)),
        _scores_row("this model (`classify`: isolated sentences)", _headline(isolated)),
    ]
    rows += [_scores_row(name, result) for name, result in baselines.items()]
    lines += _table(rows, SCORE_HEADER)
    lines += [
        "",
        "Expected calibration error (10 bins) on the test set, before → after temperature "
        "scaling: "
        + ", ".join(
            f"{h} {ece_before[h]:.3f} → {test_report[h]['ece']:.3f} "
            f"(T = {getattr(model, h + '_head').temperature:.2f})"
            for h in ("topic", "stance")
        )
        + ".",
        "",
        "By register of the test sentence:",
        "",
    ]
    lines += _table(
        [_scores_row(f"{k} ({v['sentences']})", v) for k, v in per_register.items()],
        SCORE_HEADER,
    )
    for head in ("stance", "topic"):
        result = test_report[head]
        lines += ["", f"### {head.capitalize()}: per class (test)", ""]
        lines += _table(
            [
                (
                    label,
                    f"{r['precision']:.3f}",
                    f"{r['recall']:.3f}",
                    f"{r['f1']:.3f}",
                    r["support"],
                )
                for label, r in result["per_class"].items()
            ],
            ("label", "precision", "recall", "F1", "support"),
        )
        lines += ["", f"Confusion matrix (rows: true {head}, columns: predicted, same order):", ""]
        short = [label[:6] for label in result["labels"]]
        lines += _table(
            [(label, *row) for label, row in zip(result["labels"], result["confusion"])],
            ("true \\ predicted", *short),
        )
    lines += [
        "",
        "## Leave-one-register-out",
        "",
        "Trained without any sentence of one register (from the training and development",
        "sets), tested on the test-set sentences of that register: the closest proxy here for",
        "text from elsewhere.",
        "",
    ]
    left_out = [(k, v["train_sentences"], v["test"]) for k, v in loro.items()]
    lines += _table(
        [_scores_row(f"{k} (train {n}, test {t['sentences']})", t) for k, n, t in left_out],
        SCORE_HEADER,
    )
    lines += [
        "",
        "The same models on the development set's sentences of the left-out register, which",
        "were left out of their training too: many more sentences, by other writers than the",
        "test set's (some of whom wrote other registers of the training set). Where the two",
        "tables differ by more than sampling error, the score depends on who wrote the text.",
        "",
    ]
    lines += _table(
        [_scores_row(f"{k} (dev {v['dev']['sentences']})", v["dev"]) for k, v in loro.items()],
        SCORE_HEADER,
    )
    lines += _corpus_note("REAL_TEXT.md") + _corpus_note("WEAKNESSES.md")
    return "\n".join(lines) + "\n"


def _corpus_note(name: str) -> list[str]:
    """A blank line and the text of ``models/corpus/<name>``, or nothing if there is none."""
    path = CORPUS / name
    return ["", path.read_text(encoding="utf-8").strip()] if path.exists() else []


if __name__ == "__main__":
    main()
