"""Accuracy of the shipped default model and of simple baselines on the held-out test set.

    python benchmarks/accuracy.py

Scores: the model as `tag` uses it (sentences in their documents), as `classify` uses it
(isolated sentences), a majority-class baseline and a keyword-lexicon baseline
(`stance.baselines`), each on `models/corpus/test.jsonl`, which no model was trained or tuned on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stance  # noqa: E402
from stance.baselines import KeywordBaseline, majority  # noqa: E402
from stance.corpus import LabelledData  # noqa: E402
from stance.train import score  # noqa: E402


def main() -> None:
    corpus = ROOT / "models" / "corpus"
    train = stance.read_labelled(corpus / "train.jsonl")
    test = stance.read_labelled(corpus / "test.jsonl")
    lexicon = json.loads((ROOT / "models" / "topic_lexicon.json").read_text(encoding="utf-8"))
    model = stance.load()
    keyword = KeywordBaseline(lexicon)
    rows = {
        f"{model.identity}, in documents": stance.evaluate(model, test),
        f"{model.identity}, isolated sentences": stance.evaluate(
            model, LabelledData(test.texts, test.topics, test.stances)
        ),
        "majority class": {
            "stance": score(test.stances, majority(train.stances, len(test))),
            "topic": score(test.topics, majority(train.topics, len(test))),
        },
        "keyword lexicon": {
            "stance": score(test.stances, keyword.predict_stance(test.texts)),
            "topic": score(test.topics, keyword.predict_topic(test.texts)),
        },
    }
    print(f"held-out test set: {len(test)} sentences")
    print("| | stance macro-F1 | stance accuracy | topic accuracy | topic macro-F1 |")
    print("|---|---|---|---|---|")
    for name, report in rows.items():
        s, t = report["stance"], report["topic"]
        print(
            f"| {name} | {s['macro_f1']:.3f} | {s['accuracy']:.3f} | {t['accuracy']:.3f} "
            f"| {t['macro_f1']:.3f} |"
        )


if __name__ == "__main__":
    main()
