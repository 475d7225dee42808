"""How the scores grow with the corpus, with and without one register in the training data.

    python benchmarks/learning_curve.py [--leave-out commentary] [--jobs 2]

Trains the shipped model's options (from `models/default`) on a random share of the training
and development documents (1/8, 1/4, 1/2, all; whole documents, seeded) in two ways: with every
register, scored on the held-out test set; and without the left-out register, scored on that
register's sentences in the test set and in the development set (a leave-one-register-out
model, as in the model card). The slope per doubling of the data says how much more writing a
target would take. No temperature is fitted; scores match the card's to about 0.001.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from joblib import Parallel, delayed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stance  # noqa: E402
from stance.corpus import LabelledData  # noqa: E402

SHARES = (0.125, 0.25, 0.5, 1.0)
LEXICONS = ("lexicon", "polarity")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leave-out", default="commentary", help="register to leave out")
    parser.add_argument("--jobs", type=int, default=2, help="trainings run at once")
    args = parser.parse_args()
    corpus = ROOT / "models" / "corpus"
    train, dev, test = (
        stance.read_labelled(corpus / f"{n}.jsonl") for n in ("train", "dev", "test")
    )
    pool = train + dev
    if args.leave_out not in set(pool.extra["register"]):
        parser.error(
            f"no register {args.leave_out!r}; the corpus has {sorted(set(pool.extra['register']))}"
        )
    options = _shipped_options()
    runs = [(share, without) for share in SHARES for without in (False, True)]
    results = Parallel(n_jobs=args.jobs)(
        delayed(_run)(pool, options, share, args.leave_out, without, test, dev)
        for share, without in runs
    )
    out = args.leave_out
    print(f"| share of documents | trained on | sentences | test: stance / topic "
          f"| {out} in test | {out} in dev |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for (share, without), result in zip(runs, results):
        trained_on = f"all but {out}" if without else "all registers"
        cells = [
            f"{share:g}", trained_on, str(result["n"]),
            "–" if without else _pair(result["other"]),
            _pair(result["register"]),
            _pair(result["other"]) if without else "(trained on)",
        ]  # fmt: skip
        print("| " + " | ".join(cells) + " |")


def _run(pool, options, share, register, without, test, dev) -> dict:
    """Train on ``share`` of the documents (without ``register``'s if ``without``) and score."""
    registers = pool.extra["register"]
    eligible = [i for i, r in enumerate(registers) if not (without and r == register)]
    documents = sorted({(pool.extra["writer"][i], pool.extra["doc"][i]) for i in eligible})
    random.Random(0).shuffle(documents)
    chosen = set(documents[: round(len(documents) * share)])
    keep = [i for i in eligible if (pool.extra["writer"][i], pool.extra["doc"][i]) in chosen]
    model = stance.train(pool.subset(keep), **options)
    # the whole test set with every register trained on; the dev set's register when left out
    other = _of_register(dev, register) if without else test
    return {
        "n": len(keep),
        "register": _headline(stance.evaluate(model, _of_register(test, register))),
        "other": _headline(stance.evaluate(model, other)),
    }


def _shipped_options() -> dict:
    options = dict(stance.load().info["selected_options"])
    for name in LEXICONS:
        if options.get(name):
            path = ROOT / "models" / options[name]
            options[name] = json.loads(path.read_text(encoding="utf-8"))
    return options


def _of_register(data: LabelledData, register: str) -> LabelledData:
    return data.subset([i for i, r in enumerate(data.extra["register"]) if r == register])


def _headline(report: dict) -> dict:
    return {"stance": report["stance"]["macro_f1"], "topic": report["topic"]["accuracy"]}


def _pair(scores: dict) -> str:
    return f"{scores['stance']:.3f} / {scores['topic']:.3f}"


if __name__ == "__main__":
    main()
