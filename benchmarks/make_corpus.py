"""Generate a folder of realistic documents for the batch benchmark, from the project's text.

Sentences of the labelled corpus (``models/corpus/**/*.jsonl``) and of ``docs/examples`` are
shuffled (fixed seed) into documents of a few paragraphs each, written as UTF-8 ``.txt`` files,
100 to a sub-folder, until the folder holds ``--size-mb`` megabytes.

    python benchmarks/make_corpus.py --size-mb 50 --out benchmarks/data/corpus-50mb
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def project_sentences() -> list[str]:
    sentences = []
    for path in sorted((ROOT / "models" / "corpus").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line).get("text")
                if isinstance(text, str) and text.strip():
                    sentences.append(" ".join(text.split()))
    for path in sorted((ROOT / "docs" / "examples").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences.extend(s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip())
    return sentences


def make_corpus(out: Path, size_mb: float, seed: int = 0) -> tuple[int, int]:
    """Write the documents; returns (files, bytes)."""
    rng = random.Random(seed)
    sentences = project_sentences()
    target = int(size_mb * 2**20)
    out.mkdir(parents=True, exist_ok=True)
    written = files = 0
    while written < target:
        paragraphs = []
        for _ in range(rng.randint(3, 30)):
            paragraphs.append(" ".join(rng.choices(sentences, k=rng.randint(1, 6))))
        data = ("\n\n".join(paragraphs) + "\n").encode("utf-8")
        folder = out / f"part-{files // 100:05d}"
        folder.mkdir(exist_ok=True)
        (folder / f"doc-{files:07d}.txt").write_bytes(data)
        written += len(data)
        files += 1
    return files, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=50.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "data" / "corpus-50mb")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    files, size = make_corpus(args.out, args.size_mb, args.seed)
    print(f"{args.out}: {files} files, {size / 2**20:.1f} MB")


if __name__ == "__main__":
    main()
