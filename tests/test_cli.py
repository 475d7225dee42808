"""The command line, run as a user runs it: a separate process, JSON out, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, stdin: str | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "stance", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_tag_files_prints_one_json_record_per_sentence(examples_dir: Path) -> None:
    path = examples_dir / "council-statement.txt"
    result = run("tag", str(path))
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    source = path.read_text(encoding="utf-8")
    assert len(records) >= 8
    for record in records:
        assert record["source"] == str(path)
        assert source[record["start"] : record["end"]] == record["text"]
        assert record["stance"] in {"supports", "opposes", "calls_for", "none"}
        assert set(record["stance_probs"]) == {"supports", "opposes", "calls_for", "none"}


def test_tag_reads_standard_input() -> None:
    result = run("tag", stdin="We condemn the attack on the embassy. Talks resume today.")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == ["-", "-"]
    assert records[0]["stance"] == "opposes"


@pytest.mark.parametrize(
    "args, message",
    [
        (["tag", "no-such-file.txt"], "no such file"),
        (["tag", "--model", "no-such-model", "x.txt"], "no model at"),
        (["info", "--model", "."], "no manifest.json"),
        (["evaluate", "no-such-data.csv"], "cannot read"),
    ],
)
def test_user_errors_are_one_line_without_traceback(tmp_path: Path, args, message: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run("tag", "image.png", cwd=tmp_path)
    assert result.returncode == 2 and "binary" in result.stderr


def test_info_summarises_the_model_card() -> None:
    result = run("info")
    assert result.returncode == 0, result.stderr
    assert "stances:  calls_for, none, opposes, supports" in result.stdout
    assert "training:" in result.stdout
    card = run("info", "--card")
    assert card.stdout.startswith("# Model card")


@pytest.mark.parametrize("command", [[], ["tag"], ["info"], ["train"], ["evaluate"]])
def test_help_everywhere(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0 and "usage: stance" in result.stdout
