"""Training on your own labels: validation, determinism, evaluation, stance given a topic."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks

import stance
from stance.heads import smooth_in_documents
from stance.train import cross_validate, format_report

# Posts about two targets where the same words mean opposite stances: praise of faith is
# against "atheism" and for "religious freedom"; scorn of faith is the reverse.
PRAISE = [
    "Faith gives my life meaning every single day.",
    "Prayer carried our family through the hardest winter.",
    "The church down the road feeds half the town on Sundays.",
    "Belief in God makes people kinder, in my experience.",
    "My grandmother's faith was the bravest thing about her.",
    "Religion built the hospitals and schools in this valley.",
]
SCORN = [
    "Religion has done more harm than good in history.",
    "Prayer never cured anybody; medicine did.",
    "Faith is just a story people tell to feel safe.",
    "Churches should pay taxes like everyone else.",
    "Belief without evidence is not a virtue.",
    "Organised religion is a business selling comfort.",
]


def target_data():
    texts, targets, labels = [], [], []
    for text in PRAISE:
        texts += [text, text]
        targets += ["atheism", "religious freedom"]
        labels += ["against", "favor"]
    for text in SCORN:
        texts += [text, text]
        targets += ["atheism", "religious freedom"]
        labels += ["favor", "against"]
    return texts, targets, labels


def single_target_data():
    return PRAISE + SCORN, ["favor"] * len(PRAISE) + ["against"] * len(SCORN)


@pytest.mark.parametrize("nb_weights", [False, True])
def test_stance_given_topic_learns_target_dependent_meaning(nb_weights: bool) -> None:
    texts, targets, labels = target_data()
    model = stance.train(
        texts, targets, labels, stance_given_topic=True, min_df=1, nb_weights=nb_weights
    )
    probe = ["Faith gives my life meaning every single day.", "Prayer never cured anybody."]
    assert [r.stance for r in model.classify(probe, topics=["atheism", "atheism"])] == [
        "against",
        "favor",
    ]
    assert [r.stance for r in model.classify(probe, topics=["religious freedom"] * 2)] == [
        "favor",
        "against",
    ]
    unconditioned = stance.train(texts, topics=targets, stances=labels, min_df=1)
    report = stance.evaluate(unconditioned, texts, targets, labels, given_topics=True)
    assert report["stance"]["accuracy"] == 0.5  # the words alone cannot tell
    with pytest.raises(ValueError, match="unknown topics"):
        model.classify(probe, topics=["atheism", "veganism"])


def test_conditioned_model_survives_a_save(tmp_path: Path) -> None:
    texts, targets, labels = target_data()
    model = stance.train(texts, topics=targets, stances=labels, stance_given_topic=True, min_df=1)
    model.save(tmp_path / "m")
    loaded = stance.load(tmp_path / "m")
    assert [r.to_dict() for r in loaded.classify(texts, topics=targets)] == [
        r.to_dict() for r in model.classify(texts, topics=targets)
    ]


@pytest.mark.parametrize("nb_weights", [False, True])
def test_stance_context_reads_the_neighbouring_sentences(tmp_path: Path, nb_weights: bool) -> None:
    # "So be it." takes the stance of the sentence before it, which only context can see
    welcome = ["We welcome the plan.", "We back the accord.", "We praise the deal."]
    reject = ["We reject the plan.", "We condemn the accord.", "We oppose the deal."]
    rows = []
    for n, (good, bad) in enumerate(zip(welcome * 3, reject * 3)):
        rows += [(f"g{n}", good, "supports"), (f"g{n}", "So be it.", "supports")]
        rows += [(f"b{n}", bad, "opposes"), (f"b{n}", "So be it.", "opposes")]
    data = stance.LabelledData(
        [t for _, t, _ in rows], None, [s for _, _, s in rows], {"doc": [d for d, _, _ in rows]}
    )
    test = ["We welcome the accord.", "So be it.", "We reject the deal.", "So be it."]
    documents = ["x", "x", "y", "y"]
    plain = stance.train(data, min_df=1)
    alone = [r.stance_probs["supports"] for r in plain.classify(test, documents=documents)]
    assert alone[1] == alone[3]  # the same words, the same stance
    model = stance.train(data, min_df=1, stance_context=1.0, nb_weights=nb_weights)
    assert [r.stance for r in model.classify(test, documents=documents)] == [
        "supports",
        "supports",
        "opposes",
        "opposes",
    ]
    model.save(tmp_path / "m")
    assert stance.load(tmp_path / "m").classify(test, documents=documents) == model.classify(
        test, documents=documents
    )
    texts, targets, labels = target_data()
    with pytest.raises(ValueError, match="stance_context cannot be combined"):
        stance.train(texts, targets, labels, stance_given_topic=True, stance_context=0.5)


def test_topic_document_weight_lends_a_sentence_its_documents_topic(tmp_path: Path) -> None:
    # "The list goes on." has no topic words: mixed with its document, it takes the document's
    texts = ["The nuclear test was condemned.", "Warheads were counted.", "The list goes on."]
    texts += ["Tariffs rose again.", "Exports fell by half.", "The list goes on."]
    topics = ["arms_control"] * 3 + ["trade_economy"] * 3
    docs = ["n"] * 3 + ["t"] * 3
    data = stance.LabelledData(texts * 4, topics * 4, None, {"doc": docs * 4})
    test = [
        "Warheads were counted.",
        "The list goes on.",
        "Tariffs rose again.",
        "The list goes on.",
    ]
    documents = ["x", "x", "y", "y"]
    plain = stance.train(data, min_df=1)
    alone = plain.classify(test, documents=documents)
    assert alone[1].topic_probs == alone[3].topic_probs  # the same words, the same topic
    model = stance.train(data, min_df=1, topic_document_weight=0.6)
    mixed = model.classify(test, documents=documents)
    assert [r.topic for r in mixed] == ["arms_control", "arms_control"] + ["trade_economy"] * 2
    assert all(abs(sum(r.topic_probs.values()) - 1) < 1e-6 for r in mixed)
    # without documents, or alone in its document, a sentence keeps its own probabilities
    assert model.classify(test) == plain.classify(test)
    for alone, own in zip(model.classify(test, documents=[1, 2, 3, 4]), plain.classify(test)):
        assert alone.topic == own.topic
        assert alone.topic_probs == pytest.approx(own.topic_probs, abs=1e-6)
    model.save(tmp_path / "m")
    loaded = stance.load(tmp_path / "m")
    assert loaded.classify(test, documents=documents) == mixed
    plain.save(tmp_path / "plain")
    arrays = [(tmp_path / m / "arrays.npz").read_bytes() for m in ("m", "plain")]
    assert arrays[0] == arrays[1]
    assert stance.load(tmp_path / "plain").identity != loaded.identity  # settings count too
    with pytest.raises(ValueError, match=r"document_weight must be in \[0, 1\)"):
        stance.train(data, min_df=1, topic_document_weight=1.5)


@pytest.mark.parametrize("window", [1, 2, 8])
def test_document_mean_reads_the_window_within_each_document(window: int) -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=12)
    documents = ["a"] * 7 + ["b"] + ["a"] * 4  # the last four are another run of "a"
    mixed = smooth_in_documents(proba, documents, 0.3, window)
    runs = [range(0, 7), range(7, 8), range(8, 12)]
    for run in runs:
        for i in run:
            others = [j for j in run if j != i and abs(j - i) <= window]
            expected = proba[i] if not others else 0.7 * proba[i] + 0.3 * proba[others].mean(0)
            assert np.allclose(mixed[i], expected)
    assert np.allclose(mixed.sum(1), 1)


def test_own_label_names_and_a_single_head() -> None:
    texts, labels = single_target_data()
    model = stance.train(texts, stances=labels, min_df=1)
    assert model.stances == ["against", "favor"] and model.topics == []
    record = model.classify(["Prayer never cured anybody."])[0]
    assert record.topic is None and record.topic_probs == {}
    assert set(record.stance_probs) == {"against", "favor"}


@pytest.mark.parametrize("nb_weights", [False, True])
def test_training_is_deterministic(tmp_path: Path, nb_weights: bool) -> None:
    texts, targets, labels = target_data()
    for name in ("a", "b"):
        stance.train(texts, targets, labels, min_df=1, nb_weights=nb_weights, random_state=3).save(
            tmp_path / name
        )
    for file in ("manifest.json", "arrays.npz", "MODEL_CARD.md"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


@pytest.mark.parametrize(
    "rows, message",
    [
        ([], "no rows"),
        ([{"text": "a", "stance": "x"}], "only one stance label"),
        ([{"body": "a", "stance": "x"}, {"body": "b", "stance": "y"}], "no column 'text'"),
        ([{"text": "a", "label": "x"}, {"text": "b", "label": "y"}], "none of the label"),
        ([{"text": "", "stance": "x"}, {"text": "b", "stance": "y"}], "row 2: the text is empty"),
        ([{"text": "a", "stance": "x"}, {"text": "b", "stance": ""}], "row 3: the stance label"),
        (
            [{"text": "a", "stance": "Favor"}, {"text": "b", "stance": "favor"}],
            "'Favor' vs 'favor'",
        ),
        (
            [{"text": "Same text.", "stance": "x"}, {"text": "same  text.", "stance": "y"}],
            "conflicting stance label",
        ),
    ],
)
def test_bad_csv_is_refused_with_a_clear_message(tmp_path: Path, rows, message: str) -> None:
    path = tmp_path / "data.csv"
    columns = sorted({key for row in rows for key in row}) or ["text", "stance"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(stance.CorpusError, match=message):
        stance.train(path)


def test_non_text_and_nan_are_refused() -> None:
    with pytest.raises(stance.CorpusError, match="row 2: the text is missing"):
        stance.train(["fine", float("nan")], stances=["a", "b"])
    with pytest.raises(stance.CorpusError, match="row 1: the text is a int"):
        stance.train([3, "fine"], stances=["a", "b"])
    with pytest.raises(stance.CorpusError, match="the stance label is missing"):
        stance.train(["a", "b"], stances=["x", None])


def test_jsonl_with_custom_columns_and_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    texts, labels = single_target_data()
    path.write_text(
        "\n".join(json.dumps({"post": t, "position": s}) for t, s in zip(texts, labels)),
        encoding="utf-8",
    )
    data = stance.read_labelled(
        path, text_column="post", topic_column=None, stance_column="position"
    )
    assert data.topics is None and len(data) == len(texts)
    path.write_text('{"text": "a", "stance": "x"}\nnot json\n', encoding="utf-8")
    with pytest.raises(stance.CorpusError, match="line 2: not valid JSON"):
        stance.read_labelled(path)


def test_two_labelled_sets_join_row_for_row_and_refuse_other_columns() -> None:
    train = stance.LabelledData(["a", "b"], ["t1", "t2"], ["s1", "s2"], {"doc": ["d1", "d1"]})
    dev = stance.LabelledData(["c"], ["t3"], ["s3"], {"doc": ["d2"]})
    both = train + dev
    assert both.texts == ["a", "b", "c"] and both.stances == ["s1", "s2", "s3"]
    assert both.topics == ["t1", "t2", "t3"] and both.extra == {"doc": ["d1", "d1", "d2"]}
    assert len(train) == 2  # the operands are left as they were
    with pytest.raises(stance.CorpusError, match=r"\['text', 'topic', 'stance', 'doc'\] and"):
        train + stance.LabelledData(["c"], ["t3"], ["s3"])
    with pytest.raises(stance.CorpusError, match="different columns"):
        train + stance.LabelledData(["c"], None, ["s3"], {"doc": ["d2"]})


def test_evaluation_report_and_cross_validation() -> None:
    texts, targets, labels = target_data()
    model = stance.train(texts, topics=targets, stances=labels, min_df=1)
    report = stance.evaluate(model, texts, targets, labels)
    stance_report = report["stance"]
    assert set(stance_report["per_class"]) == {"against", "favor"}
    assert np.array(stance_report["confusion"]).sum() == len(texts)
    assert 0.0 <= stance_report["ece"] <= 1.0
    text = format_report(report)
    assert "macro-F1" in text and "confusion" in text
    data = stance.LabelledData(texts, targets, labels)
    cross = cross_validate(data, k=3, min_df=1, stance_given_topic=True)
    assert len(cross["folds"]) == 3 and 0.0 <= cross["stance"]["macro_f1"] <= 1.0


def test_estimator_in_pipeline_grid_search_and_cross_val() -> None:
    texts, targets, labels = target_data()
    pairs = np.array(list(zip(texts, targets)), dtype=object)
    assert stance.StanceClassifier().fit(pairs, labels).score(pairs, labels) == 1.0
    assert cross_val_score(stance.StanceClassifier(), pairs, labels, cv=3).shape == (3,)
    search = GridSearchCV(
        Pipeline([("clf", stance.StanceClassifier())]), {"clf__C": [1.0, 10.0]}, cv=3
    )
    search.fit(pairs, labels)
    assert search.best_params_["clf__C"] in (1.0, 10.0)
    assert search.predict(pairs[:2]).shape == (2,)
    texts, labels = single_target_data()
    clf = stance.StanceClassifier().fit(texts, labels)
    proba = clf.predict_proba(texts)
    assert proba.shape == (len(texts), 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert clf.score(texts, labels) == 1.0
    weighted = stance.StanceClassifier(nb_weights=True).fit(texts, labels)
    assert weighted.score(texts, labels) == 1.0
    assert weighted.predict(["Religion has done more harm than good."]).tolist() == ["against"]


@pytest.mark.parametrize(
    "check",
    [
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_cloneable",
        "check_estimator_repr",
        "check_estimators_unfitted",
        "check_do_not_raise_errors_in_init_or_set_params",
    ],
)
def test_sklearn_checks_that_apply_to_text_estimators(check: str) -> None:
    getattr(estimator_checks, check)("StanceClassifier", stance.StanceClassifier())


def test_estimator_validates_its_input() -> None:
    with pytest.raises(TypeError, match="single string"):
        stance.StanceClassifier().fit("text", ["a"])
    with pytest.raises(stance.CorpusError, match="only one"):
        stance.StanceClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="C must be"):
        stance.StanceClassifier(C=-1).fit(["a", "b"], ["x", "y"])
    clf = stance.StanceClassifier().fit(["a b", "c d"], ["x", "y"])
    with pytest.raises(ValueError, match="same form"):
        clf.predict(np.array([["a", "t"]], dtype=object))


def run_cli(*args: str, cwd: Path):
    return subprocess.run(
        [sys.executable, "-m", "stance", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cli_train_evaluate_and_tag_with_a_custom_model(tmp_path: Path) -> None:
    texts, targets, labels = target_data()
    with (tmp_path / "posts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["post", "target", "position"])
        writer.writerows(zip(texts, targets, labels))
    columns = ["--text-column", "post", "--topic-column", "target", "--stance-column", "position"]
    trained = run_cli("train", "posts.csv", "-o", "model", "--given-topic", "--cv", "3",
                      "--min-df", "1", "--nb-weights", "--solver", "newton-cg", "--tol", "1e-8",
                      *columns, cwd=tmp_path)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "3-fold cross-validation, stance" in trained.stderr
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "3-fold cross-validation" in card and "data SHA-256" in card
    assert '"nb_weights": true' in card and '"solver": "newton-cg"' in card
    assert '"tol": 1e-08' in card
    evaluated = run_cli("evaluate", "posts.csv", "--model", "model", "--json", "--given-topic",
                        *columns, cwd=tmp_path)  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["stance"]["accuracy"] > 0.9
    (tmp_path / "post.txt").write_text("Prayer never cured anybody.", encoding="utf-8")
    tagged = run_cli("tag", "post.txt", "--model", "model", cwd=tmp_path)
    assert tagged.returncode == 0, tagged.stderr
    assert json.loads(tagged.stdout)["stance"] in ("favor", "against")
    info = run_cli("info", "--model", "model", cwd=tmp_path)
    assert "stances:  against, favor" in info.stdout


def test_cli_train_reads_word_lists_and_refuses_bad_ones(tmp_path: Path) -> None:
    rows = [
        ("The treaty is a milestone for the region.", "arms_control", "supports"),
        ("This toothless resolution changes nothing.", "un_multilateralism", "opposes"),
        ("The talks resumed in Geneva on Monday.", "peace_process", "none"),
        ("All states must sign the treaty now.", "arms_control", "calls_for"),
    ] * 3
    with (tmp_path / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "topic", "stance"), *rows])
    lists = {"positive": ["milestone", "long overdue"], "negative": ["toothless"]}
    (tmp_path / "polarity.json").write_text(json.dumps(lists), encoding="utf-8")
    (tmp_path / "topics.json").write_text('{"arms_control": ["treaty"]}', encoding="utf-8")
    lists_options = ["--polarity", "polarity.json", "--lexicon", "topics.json"]
    trained = run_cli("train", "labels.csv", "-o", "model", "--min-df", "1", *lists_options,
                      cwd=tmp_path)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    model = stance.load(tmp_path / "model")
    assert model.featurizer.get_config()["polarity"] == {
        "negative": ["toothless"],
        "positive": ["long overdue", "milestone"],
    }
    assert {"@pol:negative", "@lex:arms_control"} <= set(model.featurizer.vocabulary_)

    (tmp_path / "broken.json").write_text('{"positive": ["milestone",', encoding="utf-8")
    (tmp_path / "flat.json").write_text('["milestone"]', encoding="utf-8")
    (tmp_path / "string.json").write_text('{"positive": "milestone"}', encoding="utf-8")
    for name, message in [
        ("broken.json", "not a JSON file of word lists"),
        ("flat.json", "flat.json: word lists must map a name to a list of terms"),
        ("string.json", "string.json: word list 'positive' must be a list of terms"),
        ("missing.json", "No such file"),
    ]:
        failed = run_cli("train", "labels.csv", "-o", "m2", "--polarity", name, cwd=tmp_path)
        assert failed.returncode == 2 and "Traceback" not in failed.stderr
        assert message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m2").exists()


def test_weights_do_not_depend_on_the_number_of_threads() -> None:
    """The linear-algebra libraries may add in a different order with more threads (as in the
    main process of a machine with more cores than a worker's one); the fit must not see it."""
    from threadpoolctl import threadpool_limits

    corpus = Path(__file__).resolve().parents[1] / "models" / "corpus" / "train.jsonl"
    data = stance.corpus.read_labelled(corpus).subset(range(4000))
    weights = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads):
            model = stance.train(data, nb_weights=True, min_df=1, stance_context=0.25)
        weights.append((model.topic_head.coef, model.stance_head.coef))
    for one, two in zip(*weights):
        assert np.array_equal(one, two)


def test_a_model_records_the_libraries_its_weights_came_from(tmp_path: Path) -> None:
    """Bytes repeat only with the same library versions and processor kernels: the model says
    which, in its info and its card, and keeps them through a save."""
    import scipy
    import sklearn

    texts, targets, labels = target_data()
    stance.train(texts, targets, labels, min_df=1).save(tmp_path / "m")
    model = stance.load(tmp_path / "m")
    environment = model.info["training"]["environment"]
    assert environment["numpy"] == np.__version__
    assert environment["scipy"] == scipy.__version__
    assert environment["scikit-learn"] == sklearn.__version__
    assert environment["python"] == ".".join(map(str, sys.version_info[:3]))
    assert f"numpy {np.__version__}, scipy {scipy.__version__}" in model.card


def _under_two_kernels(tmp_path: Path, script: str, *args) -> list[tuple[list[str], np.ndarray]]:
    """Run ``script`` with ``args`` and a weights file (it saves weights there and prints words)
    under OpenBLAS's own choice of kernels, then under its older Sandy Bridge ones, which stand
    in for another processor; each run's printed words and saved weights."""
    runs = []
    for kernels in (None, "Sandybridge"):
        env = dict(os.environ)
        env.pop("OPENBLAS_CORETYPE", None)
        if kernels:
            env["OPENBLAS_CORETYPE"] = kernels
        weights = tmp_path / f"{kernels}.npy"
        done = subprocess.run(
            [sys.executable, "-c", script, *args, weights],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        runs.append((done.stdout.split(), np.load(weights)))
    return runs


_TRAIN_AND_PREDICT = """
import sys
import numpy as np
import stance
data = stance.corpus.read_labelled(sys.argv[1]).subset(range(3000))
model = stance.train(data, nb_weights=True, min_df=1, solver=sys.argv[2], tol=float(sys.argv[3]))
np.save(sys.argv[4], model.stance_head.coef)
print(*[r.stance for r in model.classify(data.texts)], sep="\\n")
"""


def test_newton_cg_to_the_optimum_does_not_depend_on_the_processor_kernels(
    tmp_path: Path,
) -> None:
    """OpenBLAS picks its kernels for the processor; forcing older ones stands in for another
    machine. Trained to the optimum, the model must predict the same and weigh nearly the same."""
    corpus = Path(__file__).resolve().parents[1] / "models" / "corpus" / "train.jsonl"
    runs = _under_two_kernels(tmp_path, _TRAIN_AND_PREDICT, corpus, "newton-cg", "1e-8")
    (predicted, weights), (predicted_elsewhere, weights_elsewhere) = runs
    assert len(predicted) == 3000 and predicted == predicted_elsewhere
    assert np.allclose(weights, weights_elsewhere, atol=1e-3)


_THROUGH_THE_RECIPE = """
import importlib.util
import sys
spec = importlib.util.spec_from_file_location("recipe", sys.argv[1])
spec.loader.exec_module(importlib.util.module_from_spec(spec))  # before NumPy is loaded
import numpy as np
from threadpoolctl import threadpool_info
import stance
data = stance.corpus.read_labelled(sys.argv[2]).subset(range(3000))
np.save(sys.argv[3], stance.train(data, nb_weights=True, min_df=1).stance_head.coef)
print(*{lib.get("architecture") for lib in threadpool_info() if lib.get("user_api") == "blas"})
"""


def test_the_recipe_gives_the_same_weights_whichever_kernels_the_processor_would_pick(
    tmp_path: Path,
) -> None:
    """The recipe asks OpenBLAS for the same kernels on every processor with AVX2, so the default
    solver, which stops before the optimum, stops at the same weights where OpenBLAS would have
    chosen others (forcing the older Sandy Bridge kernels stands in for such a processor)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not {"avx2", "fma"} <= set(cpuinfo.read_text().split() if cpuinfo.exists() else []):
        pytest.skip("the recipe pins the kernels only on processors with AVX2 and FMA")
    models = Path(__file__).resolve().parents[1] / "models"
    runs = _under_two_kernels(
        tmp_path, _THROUGH_THE_RECIPE, models / "recipe.py", models / "corpus" / "train.jsonl"
    )
    (chosen, weights), (chosen_elsewhere, weights_elsewhere) = runs
    assert chosen == chosen_elsewhere == ["Haswell"]
    assert np.array_equal(weights, weights_elsewhere)
