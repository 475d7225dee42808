"""Model files are data: round trips, determinism, and every kind of damage or tampering."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

import stance
from stance import modelfile
from stance.modelfile import FORMAT_VERSION

FILES = ["manifest.json", "arrays.npz", "MODEL_CARD.md"]
SENTENCES = ["We welcome the nuclear deal.", "Tariffs should be lowered.", "Talks resumed."]


def predictions(model: stance.Model) -> list[dict]:
    return [r.to_dict() for r in model.classify(SENTENCES)]


def test_round_trip_gives_identical_predictions(saved_model: Path, small_model) -> None:
    loaded = stance.load(saved_model)
    assert predictions(loaded) == predictions(small_model)
    assert loaded.card == small_model.card
    assert loaded.topics == small_model.topics and loaded.stances == small_model.stances


def test_word_lists_travel_in_the_model_file(tmp_path: Path, small_model) -> None:
    texts = ["The nuclear deal is a milestone.", "The tariffs are a hollow gesture."] * 3
    options = dict(topics=["arms_control", "trade_economy"] * 3, min_df=1, name="lists")
    lists = dict(lexicon={"arms_control": ["nuclear"]}, polarity={"negative": ["hollow"]})
    model = stance.train(texts, stances=["supports", "opposes"] * 3, **options, **lists)
    model.save(tmp_path / "lists")
    loaded = stance.load(tmp_path / "lists")
    assert loaded.featurizer.get_config() == {**model.featurizer.get_config(), **lists}
    assert {"@pol:negative", "@lex:arms_control"} <= set(loaded.featurizer.vocabulary_)
    assert predictions(loaded) == predictions(model)
    # a model without polarity lists is written as before the option existed
    small_model.save(tmp_path / "plain")
    manifest = json.loads((tmp_path / "plain" / "manifest.json").read_text(encoding="utf-8"))
    assert "polarity" not in manifest["model"]["featurizer"]


def test_saving_is_deterministic(tmp_path: Path, small_model) -> None:
    small_model.save(tmp_path / "a")
    small_model.save(tmp_path / "b")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_loading_never_unpickles(monkeypatch, saved_model: Path) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    stance.load(saved_model)


def test_the_shipped_model_loads_as_data() -> None:
    model = stance.load(stance.model.DEFAULT_MODEL_PATH)
    assert model.identity.startswith("default@")


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def delete(path: Path) -> None:
    path.unlink()


def append(path: Path) -> None:
    with path.open("ab") as handle:
        handle.write(b"\n")


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("damage", [flip_a_byte, truncate, empty, delete, append])
def test_every_damage_to_every_file_is_refused(saved_model: Path, name: str, damage) -> None:
    damage(saved_model / name)
    with pytest.raises(stance.ModelFileError):
        stance.load(saved_model)


def rewrite_manifest(folder: Path, change, seal: bool = True) -> None:
    """Edit the manifest and write it back in the library's own spelling, with its checksum
    recomputed (``seal``) as a careful tamperer would."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_bytes(modelfile._canonical(modelfile._sealed(manifest) if seal else manifest))


def test_a_changed_value_in_the_manifest_is_refused(saved_model: Path) -> None:
    rewrite_manifest(
        saved_model, lambda m: m["model"]["heads"]["stance"].update(temperature=1.5), seal=False
    )
    with pytest.raises(stance.ModelFileError, match="its own checksum"):
        stance.load(saved_model)


def test_format_1_without_a_manifest_checksum_still_loads(saved_model: Path) -> None:
    expected = stance.load(saved_model).classify(["We welcome the nuclear deal."])

    def downgrade(manifest: dict) -> None:
        del manifest["manifest_sha256"]
        manifest["format_version"] = 1

    rewrite_manifest(saved_model, downgrade, seal=False)
    assert stance.load(saved_model).classify(["We welcome the nuclear deal."]) == expected


def reseal(folder: Path, name: str, content: bytes) -> None:
    """Replace a file and fix its checksum in the manifest, as a careful tamperer would."""
    (folder / name).write_bytes(content)

    def fix(manifest):
        manifest["files"][name] = {
            "bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }

    rewrite_manifest(folder, fix)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format="something-else"), "not a stance model"),
        (lambda m: m.update(format_version=FORMAT_VERSION + 1), "newer"),
        (lambda m: m.update(format_version="1"), "format_version"),
        (lambda m: m["files"].update({"evil.py": {"bytes": 1, "sha256": "0"}}), "unexpected"),
        (lambda m: m["arrays"].pop("idf"), "other arrays"),
        (lambda m: m["model"]["heads"]["topic"].update(labels=["a"]), "invalid model"),
        (lambda m: m["model"]["heads"]["stance"].update(temperature=-1), "invalid model"),
        (lambda m: m["model"].pop("featurizer"), "invalid model"),
        (lambda m: m["model"]["heads"].update(extra=m["model"]["heads"]["topic"]), "invalid"),
    ],
)
def test_tampered_manifest_is_refused(saved_model: Path, change, message: str) -> None:
    rewrite_manifest(saved_model, change)
    with pytest.raises(stance.ModelFileError, match=message):
        stance.load(saved_model)


def test_resealed_pickle_inside_the_arrays_is_refused(saved_model: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        with zipfile.ZipFile(saved_model / "arrays.npz") as original:
            for info in original.infolist():
                if info.filename != "topic.coef.npy":
                    archive.writestr(info.filename, original.read(info))
        payload = io.BytesIO()
        np.save(payload, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        archive.writestr("topic.coef.npy", payload.getvalue())
    reseal(saved_model, "arrays.npz", buffer.getvalue())
    with pytest.raises(stance.ModelFileError):
        stance.load(saved_model)


def test_resealed_wrong_shapes_are_refused(saved_model: Path) -> None:
    with zipfile.ZipFile(saved_model / "arrays.npz") as original:
        members = {info.filename: original.read(info) for info in original.infolist()}
    payload = io.BytesIO()
    np.save(payload, np.ones((2, 2), dtype=np.float32))
    members["topic.coef.npy"] = payload.getvalue()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    reseal(saved_model, "arrays.npz", buffer.getvalue())
    with pytest.raises(stance.ModelFileError, match="does not match the manifest"):
        stance.load(saved_model)


def test_foreign_files_and_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(stance.ModelFileError, match="does not exist"):
        stance.load(tmp_path / "nowhere")
    with pytest.raises(stance.ModelFileError, match="no manifest.json"):
        stance.load(tmp_path)
    (tmp_path / "file.bin").write_bytes(b"\x80\x04K\x01.")  # a pickle
    with pytest.raises(stance.ModelFileError, match="not a model directory"):
        stance.load(tmp_path / "file.bin")
    (tmp_path / "manifest.json").write_text("[1, 2, 3]")
    with pytest.raises(stance.ModelFileError, match="not a stance model"):
        stance.load(tmp_path)
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(stance.ModelFileError, match="cannot read"):
        stance.load(tmp_path)


def test_loading_by_manifest_path_and_overwriting(saved_model: Path, small_model) -> None:
    assert stance.load(saved_model / "manifest.json").topics == small_model.topics
    small_model.save(saved_model)  # saving over an existing model is fine
    stance.load(saved_model)


def test_saved_copy_elsewhere_loads(saved_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(saved_model, copy)
    assert stance.load(copy).identity == stance.load(saved_model).identity
