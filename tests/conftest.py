"""Shared fixtures: the example documents and a small saved model."""

from __future__ import annotations

from pathlib import Path

import pytest

import stance

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The folder of example documents (docs/examples)."""
    return EXAMPLES


@pytest.fixture(scope="session")
def examples() -> dict[str, str]:
    """The project's example documents, by file name."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.txt"))}


@pytest.fixture(scope="session")
def small_model() -> stance.Model:
    """A quickly trained two-head model on a handful of sentences."""
    texts = [
        "We welcome the nuclear deal.",
        "We condemn the nuclear test.",
        "The nuclear talks resumed in Geneva.",
        "All states must sign the test ban treaty.",
        "We welcome the new trade agreement.",
        "We reject the new tariffs.",
        "Exports grew by four per cent.",
        "Tariffs should be lowered at once.",
    ] * 3
    topics = ["arms_control"] * 4 + ["trade_economy"] * 4
    stances = ["supports", "opposes", "none", "calls_for"] * 2
    return stance.train(texts, topics=topics * 3, stances=stances * 3, min_df=1, name="small")


@pytest.fixture()
def saved_model(tmp_path: Path, small_model: stance.Model) -> Path:
    """``small_model`` saved to a fresh directory."""
    folder = tmp_path / "model"
    small_model.save(folder)
    return folder
