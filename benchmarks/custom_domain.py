"""Train-your-own-labels benchmark: a second domain with its own label names, and training speed.

    python benchmarks/custom_domain.py

1. Social-media posts about six targets in three opposite pairs (carbon tax / fuel subsidies,
   nuclear power / nuclear phase-out, open immigration / border wall), labelled favor / against
   / neutral (docs/examples/posts/, written by the project). Trains on train.jsonl with the
   target as the topic and scores on test.jsonl: stance given the known target
   (stance_given_topic=True) against a stance head that ignores the target, plus 5-fold
   cross-validation on the training posts. Each with multinomial heads and with
   naive-Bayes-weighted one-vs-rest heads (nb_weights=True).
2. Training time for 10,000 sentences of the default model's corpus, one core, both ways.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stance  # noqa: E402
from stance.corpus import LabelledData  # noqa: E402
from stance.train import cross_validate  # noqa: E402

POSTS = ROOT / "docs" / "examples" / "posts"


def main() -> None:
    train = stance.read_labelled(POSTS / "train.jsonl", topic_column="target")
    test = stance.read_labelled(POSTS / "test.jsonl", topic_column="target")
    print(f"posts: {len(train)} train, {len(test)} test; stances {sorted(set(train.stances))}")
    for nb_weights in (False, True):
        for given in (False, True):
            options = dict(stance_given_topic=given, nb_weights=nb_weights, min_df=1)
            model = stance.train(train, **options)
            report = stance.evaluate(model, test, given_topics=True)["stance"]
            cv = cross_validate(train, k=5, **options)["stance"]
            name = ("given the target" if given else "ignoring the target") + (
                ", nb_weights" if nb_weights else ""
            )
            print(
                f"{name:32} test macro-F1 {report['macro_f1']:.3f} "
                f"accuracy {report['accuracy']:.3f} | 5-fold CV macro-F1 {cv['macro_f1']:.3f} "
                f"accuracy {cv['accuracy']:.3f}"
            )
    train_path = ROOT / "models" / "corpus" / "train.jsonl"
    corpus = stance.read_labelled(train_path).subset(list(range(10_000)))
    for nb_weights in (False, True):
        for heads in ("stance", "topic+stance"):
            data = (
                corpus
                if heads == "topic+stance"
                else LabelledData(corpus.texts, None, corpus.stances)
            )
            start = time.perf_counter()
            stance.train(data, nb_weights=nb_weights)
            print(
                f"training on {len(corpus)} sentences ({heads}, nb_weights={nb_weights}): "
                f"{time.perf_counter() - start:.1f} s"
            )


if __name__ == "__main__":
    main()
