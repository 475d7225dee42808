"""Batch scoring of folders: records, formats, bad files, parallel and Dask runs, resuming."""

from __future__ import annotations

import codecs
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import stance
from stance import batch, documents
from stance.batch import (
    output,
    read_output,
    resume,
    score_folder,
    score_to_file,
    scoring,
    summarize,
)
from stance.model import DEFAULT_MODEL_PATH

SENTENCES = [
    "The foreign minister welcomed the agreement reached in Geneva last night.",
    "We strongly condemn the shelling of the hospital in the eastern province.",
    "Both parties must return to the negotiating table without preconditions.",
    "The delegation reaffirmed its support for a two-state solution.",
    "Unilateral sanctions hurt ordinary people and must be lifted.",
    "The council will vote on the draft resolution on Thursday.",
    "Our government has allocated ten million dollars to the refugee response.",
    "We are deeply concerned by the missile launches reported this week.",
    "The summit ended with a joint communique on maritime security.",
    "Exports of grain through the corridor rose by twelve per cent in March.",
    "We call on all states to ratify the treaty banning nuclear tests.",
    "The ambassador rejected the accusations as baseless.",
    "Talks on the prisoner exchange resumed in Doha on Monday.",
    "Climate finance for small island states remains far below what was promised.",
    "The mission urged the authorities to release the detained journalists.",
    "Mr. President, I thank you for convening this open debate.",
]


def make_text(rng: random.Random, paragraphs: int = 3) -> str:
    return "\n\n".join(
        " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(1, 4))) for _ in range(paragraphs)
    )


def make_folder(root: Path, n: int = 12, seed: int = 0, paragraphs: int = 3) -> Path:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        sub = root / f"year-{2000 + i % 3}"
        sub.mkdir(exist_ok=True)
        (sub / f"speech-{i:04d}.txt").write_text(make_text(rng, paragraphs), encoding="utf-8")
    return root


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = make_folder(tmp_path / "speeches")
    rng = random.Random(1)
    (root / "notes.md").write_text("# Briefing\n\n" + make_text(rng), encoding="utf-8")
    paragraphs = "".join(f"<p>{make_text(rng, 1)}</p>\n" for _ in range(3))
    (root / "press.html").write_text(
        f"<html><head><title>Press</title><script>var a = 1;</script></head><body>"
        f"<h1>Statement on the ceasefire</h1>{paragraphs}</body></html>",
        encoding="utf-8",
    )
    lines = [json.dumps({"id": f"wire-{i}", "text": make_text(rng, 2)}) for i in range(4)]
    (root / "wire.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "ignored.csv").write_text("text\nnot read\n", encoding="utf-8")
    return root


def source_text(root: Path, record: dict) -> str:
    path = root / record["source"]
    if path.suffix == ".jsonl":
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["id"] == record["doc"]:
                return row["text"]
        raise AssertionError(record["doc"])
    text = documents.read_text(path).text
    return documents.html_to_text(text) if path.suffix == ".html" else text


def test_records_cover_every_input_kind_in_order(folder: Path) -> None:
    records = list(score_folder(folder))
    model = stance.load()
    sources = [r["source"] for r in records]
    assert sources == sorted(sources)  # sorted relative paths
    assert set(sources) == {
        *(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt")),
        "notes.md",
        "press.html",
        "wire.jsonl",
    }
    assert [r["doc"] for r in records if r["source"] == "wire.jsonl"][0] == "wire-0"
    by_doc: dict[str, list[dict]] = {}
    for record in records:
        assert list(record)[:3] == ["source", "doc", "sentence"]
        assert set(record) == set(batch.FIELDS)
        assert record["model"] == model.identity
        assert record["topic"] in model.topics and record["stance"] in model.stances
        assert 0.0 <= record["topic_prob"] <= 1.0 and 0.0 <= record["stance_prob"] <= 1.0
        text = source_text(folder, record)
        assert text[record["start"] : record["end"]] == record["text"]
        by_doc.setdefault(record["doc"], []).append(record)
    for doc_records in by_doc.values():
        assert [r["sentence"] for r in doc_records] == list(range(len(doc_records)))
    html = [r["text"] for r in by_doc["press.html"]]
    assert html[0] == "Statement on the ceasefire"
    assert not any("var a" in t or "Press" == t for t in html)
    # the same as tagging each document alone
    alone = [s.text for s in model.tag(source_text(folder, records[0]))]
    assert [r["text"] for r in records if r["doc"] == records[0]["doc"]] == alone


def test_listing_is_sorted_by_relative_path_while_walking(tmp_path: Path) -> None:
    names = ["a.txt", "a/b.txt", "a-b.txt", "a0.txt", "a/a/z.txt", "b.txt", "A.txt", "é.txt"]
    names += ["a b/c.txt", ".hidden/x.txt", ".x.txt", "a/.y.txt", "notes.TXT", "data.bin"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("We welcome the talks.", encoding="utf-8")
    keys = [unit.key for unit in batch.iter_documents(tmp_path)]
    visible = [n for n in names if not any(p.startswith(".") for p in n.split("/"))]
    assert keys == sorted(n for n in visible if not n.endswith(".bin"))
    assert [u.key for u in batch.iter_documents(tmp_path, glob="*.bin")] == ["data.bin"]
    # as in fnmatch, "*" also matches "/"
    assert [u.key for u in batch.iter_documents(tmp_path, glob="a/*")] == ["a/a/z.txt", "a/b.txt"]


def test_glob_and_probabilities(folder: Path) -> None:
    records = list(score_folder(folder, glob="year-2001/*.txt", probs=True))
    assert records and {r["source"].split("/")[0] for r in records} == {"year-2001"}
    model = stance.load()
    for record in records:
        assert set(record["topic_probs"]) == set(model.topics)
        assert set(record["stance_probs"]) == set(model.stances)
        assert abs(sum(record["stance_probs"].values()) - 1.0) < 1e-3
    names = {r["source"] for r in score_folder(folder, glob="*.md")}
    assert names == {"notes.md"}


def test_jsonl_fields_are_configurable(tmp_path: Path) -> None:
    root = tmp_path / "wire"
    root.mkdir()
    rows = [{"ref": "A-1", "body": "We welcome the truce. Talks resume today."}, {"ref": "A-2"}]
    (root / "feed.jsonl").write_text("\n".join(map(json.dumps, rows)), encoding="utf-8")
    errors: list[dict] = []
    records = list(score_folder(root, text_field="body", id_field="ref", on_error=errors.append))
    assert [(r["doc"], r["sentence"]) for r in records] == [("A-1", 0), ("A-1", 1)]
    assert errors == [{"source": "feed.jsonl", "doc": "A-2", "reason": "line 2: no 'body' field"}]
    # a lone surrogate (valid JSON escape, not encodable as UTF-8) stays an escape in the output
    rows.append({"ref": "A-3", "body": "Talks on \ud800 resume."})
    (root / "feed.jsonl").write_text("\n".join(map(json.dumps, rows)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    report = score_to_file(root, out, text_field="body", id_field="ref")
    assert report.sentences == 3 and report.skipped == 1
    assert [r["text"] for r in read_output(out)][-1] == "Talks on \ud800 resume."


def test_model_directory_and_object_give_the_same_records(
    folder: Path, small_model: stance.Model, saved_model: Path
) -> None:
    from_dir = list(score_folder(folder, model=saved_model))
    assert {r["model"] for r in from_dir} == {stance.load(saved_model).identity}
    from_object = list(score_folder(folder, model=stance.load(saved_model)))
    assert from_object == from_dir


def test_jobs_do_not_change_the_records(tmp_path: Path, small_model: stance.Model) -> None:
    root = make_folder(tmp_path / "many", n=150)
    one = list(score_folder(root, jobs=1))
    two = list(score_folder(root, jobs=2))
    assert len(one) > 500
    assert two == one
    # an unsaved model object is sent to the workers too
    assert list(score_folder(root, model=small_model, jobs=2)) == list(
        score_folder(root, model=small_model)
    )


def test_dask_local_cluster_gives_the_same_records(folder: Path) -> None:
    distributed = pytest.importorskip("distributed")
    expected = list(score_folder(folder))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        assert list(score_folder(folder, backend="dask")) == expected


def test_cli_scheduler_option_runs_on_a_dask_cluster(folder: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    expected = list(score_folder(folder))
    out = tmp_path / "out.jsonl"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        result = run("score", str(folder), "-o", str(out), "--scheduler", cluster.scheduler_address)
    assert result.returncode == 0, result.stderr
    assert list(read_output(out)) == expected


def test_huge_files_are_tagged_in_chunks_with_whole_document_offsets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    root = tmp_path / "huge"
    root.mkdir()
    (root / "a-report.txt").write_text(make_text(rng, 60), encoding="utf-8")
    (root / "b-page.html").write_text(
        "<body>" + "".join(f"<p>{make_text(rng, 1)}</p>" for _ in range(60)) + "</body>",
        encoding="utf-16",
    )
    rows = [json.dumps({"id": i, "text": make_text(rng, 2)}) for i in range(40)]
    (root / "c-feed.jsonl").write_text("\n".join(rows), encoding="utf-8")
    # a topic head that mixes in the 8 sentences around each one needs that much context
    model = stance.Model.load(DEFAULT_MODEL_PATH)
    model.topic_head.document_weight = 0.5
    expected = list(score_folder(root, model=model))
    monkeypatch.setattr(scoring, "HUGE_BYTES", 2000)
    monkeypatch.setattr(scoring, "CHUNK_CHARS", 3000)
    chunked = list(score_folder(root, model=model))
    assert chunked == expected
    assert list(score_folder(root, model=model, jobs=2)) == expected
    # one line without any break or full stop: bounded pieces, exact offsets
    line = ("the envoys spoke of ceasefire lines and corridors and convoys " * 400).strip()
    (root / "d-line.txt").write_text(line, encoding="utf-8")
    records = [r for r in score_folder(root, glob="d-*") if r["source"] == "d-line.txt"]
    assert all(line[r["start"] : r["end"]] == r["text"] for r in records)
    assert max(len(r["text"]) for r in records) <= 2000
    assert len(records) >= len(line) // 3000
    assert [r["sentence"] for r in records] == list(range(len(records)))


# -- bad files -------------------------------------------------------------------------------


def make_bad_folder(root: Path) -> dict[str, str]:
    """Good and bad documents; returns the expected reason for each bad one."""
    make_folder(root, n=3)
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (root / "bad-utf16.txt").write_bytes(
        codecs.BOM_UTF16_LE + "The talks".encode("utf-16-le") + b"\x00\xd8"
    )
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("  \n\n \n", encoding="utf-8")
    (root / "locked.txt").write_text("We support the mission.", encoding="utf-8")
    (root / "script-only.html").write_text("<script>x()</script>", encoding="utf-8")
    os.symlink(root / "gone.txt", root / "broken-link.txt")
    os.mkfifo(root / "pipe.txt")
    (root / "dir.txt").mkdir()  # a folder named like a document is a folder: not listed
    (root / "zz-vanishing.txt").write_text("We condemn the raid.", encoding="utf-8")
    # not errors: legacy 8-bit and UTF-16 with a BOM are decoded
    (root / "legacy.txt").write_bytes("Le ministre a salué l'accord.".encode("cp1252"))
    (root / "utf16.txt").write_text("We welcome the new envoy.", encoding="utf-16")
    return {
        "binary.txt": "binary file",
        "bad-utf16.txt": "invalid utf-16 text",
        "empty.txt": "empty document",
        "blank.md": "empty document",
        "locked.txt": "cannot read (Permission denied)",
        "script-only.html": "empty document",
        "broken-link.txt": "broken symbolic link",
        "pipe.txt": "not a regular file",
        "zz-vanishing.txt": "no such file",
    }


@pytest.fixture()
def locked(monkeypatch: pytest.MonkeyPatch):
    """Make files named locked.txt unreadable (tests run as root, so chmod 000 would not)."""
    real_open = open

    def fake_open(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == "locked.txt":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(documents, "open", fake_open, raising=False)


def test_bad_files_are_skipped_with_their_reason(
    tmp_path: Path, locked, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bad"
    expected = make_bad_folder(root)
    monkeypatch.setattr(scoring, "_TASK_FILES", 4)  # read the last file in a later task
    errors: list[dict] = []
    records = score_folder(root, on_error=errors.append)
    first = next(records)  # the folder is listed; now a file vanishes before it is read
    (root / "zz-vanishing.txt").unlink()
    records = [first, *records]
    reasons = {e["source"]: e["reason"] for e in errors}
    assert set(reasons) == set(expected)
    for name, reason in expected.items():
        assert reason in reasons[name], (name, reasons[name])
    scored = {r["source"] for r in records}
    assert {"legacy.txt", "utf16.txt"} <= scored
    assert not scored & set(expected)
    with pytest.warns(batch.SkippedDocumentWarning, match="binary file"):
        list(score_folder(root, glob="binary.txt"))


def test_bad_files_in_a_file_run(tmp_path: Path, locked) -> None:
    root = tmp_path / "bad"
    expected = make_bad_folder(root)
    out = tmp_path / "out.jsonl"
    report = score_to_file(root, out)
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").open()]
    assert {e["source"] for e in errors} == set(expected) - {"zz-vanishing.txt"}
    assert report.skipped == len(errors)
    assert f"skipped {len(errors)} documents" in report.line()
    # a rerun finds everything done and reports the same
    again = score_to_file(root, out)
    assert (again.skipped, again.documents, again.sentences) == (
        report.skipped,
        report.documents,
        report.sentences,
    )
    assert again.resumed == report.documents


# -- output files ----------------------------------------------------------------------------


def test_csv_output_reads_back_as_the_records(folder: Path, tmp_path: Path) -> None:
    expected = list(score_folder(folder, probs=True))
    out = tmp_path / "out.csv"
    score_to_file(folder, out, probs=True, summary=tmp_path / "summary.csv")
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == [*batch.FIELDS, *batch.PROB_FIELDS]
    assert list(read_output(out)) == expected
    lines = (tmp_path / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "source,doc,topic,stance,count"
    assert sum(int(line.rsplit(",", 1)[1]) for line in lines[1:]) == len(expected)


def test_summary_counts(folder: Path, tmp_path: Path) -> None:
    records = list(score_folder(folder))
    rows = list(summarize(records))
    assert [r["doc"] for r in rows] == list(dict.fromkeys(r["doc"] for r in records))
    for row in rows:
        mine = [r for r in records if r["doc"] == row["doc"]]
        assert row["sentences"] == len(mine)
        for topic, by_stance in row["counts"].items():
            for stance_label, count in by_stance.items():
                assert count == sum(
                    r["topic"] == topic and r["stance"] == stance_label for r in mine
                )
    out = tmp_path / "out.jsonl"
    score_to_file(folder, out, summary=tmp_path / "summary.jsonl")
    written = [json.loads(line) for line in (tmp_path / "summary.jsonl").open()]
    assert written == rows


def test_to_dataframe(folder: Path) -> None:
    pytest.importorskip("pandas")
    frame = batch.to_dataframe(score_folder(folder))
    assert list(frame.columns) == list(batch.FIELDS)
    assert len(frame) == len(list(score_folder(folder)))


def test_torn_tails_are_cut_on_resume(folder: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference.jsonl"
    score_to_file(folder, reference)
    expected = reference.read_bytes()
    out = tmp_path / "out.jsonl"
    score_to_file(folder, out)
    progress = Path(f"{out}.progress")
    lines = progress.read_bytes().splitlines(keepends=True)
    # as if killed after writing records of later files but before journalling them, in the
    # middle of a record and in the middle of a journal line
    progress.write_bytes(b"".join(lines[:4]) + lines[4][:10])
    with out.open("ab") as file:
        file.write(b'{"source": "torn", "doc')
    score_to_file(folder, out)
    assert out.read_bytes() == expected
    # a journal cut inside its first line: nothing was written yet, so it starts afresh
    progress.write_bytes(lines[0][:5])
    out.write_bytes(b"")
    score_to_file(folder, out)
    assert out.read_bytes() == expected


def test_resume_refuses_other_settings_and_overwrite_restarts(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    score_to_file(folder, out)
    with pytest.raises(ValueError, match=r"other settings \(probs: False -> True\).*--overwrite"):
        score_to_file(folder, out, probs=True)
    score_to_file(folder, out, probs=True, overwrite=True)
    assert "topic_probs" in out.read_text(encoding="utf-8").splitlines()[0]
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"not": "ours"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="no foreign.jsonl.progress journal"):
        score_to_file(folder, foreign)


def test_output_inside_the_folder_is_not_scored(folder: Path) -> None:
    out = folder / "scores.jsonl"
    first = score_to_file(folder, out)
    out.unlink()
    Path(f"{out}.progress").unlink()
    second = score_to_file(folder, out)
    assert second.sentences == first.sentences > 0


def test_progress_bar_on_a_terminal(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(resume, "_PROGRESS_SECONDS", 0.0)
    score_to_file(folder, tmp_path / "out.jsonl", show_progress=True)
    err = capsys.readouterr().err
    assert "files" in err and "sentences/s" in err and "ETA" in err


# -- the command line ------------------------------------------------------------------------


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stance", *args],
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def test_cli_score_exit_status_and_summarize(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = run("score", str(folder), "-o", str(out), "--summary", str(tmp_path / "s.csv"))
    assert result.returncode == 0, result.stderr
    assert "nothing skipped" in result.stderr
    assert [json.loads(line) for line in out.open()] == list(score_folder(folder))
    summary = run("summarize", str(out))
    assert summary.returncode == 0, summary.stderr
    assert [json.loads(line) for line in summary.stdout.splitlines()] == list(
        summarize(read_output(out))
    )
    # the same command again: everything is done, nothing is added
    again = run("score", str(folder), "-o", str(out), "--quiet")
    assert again.returncode == 0 and again.stderr == ""
    assert [json.loads(line) for line in out.open()] == list(score_folder(folder))
    # a changed option is a user error
    changed = run("score", str(folder), "-o", str(out), "--glob", "*.md")
    assert changed.returncode == 2
    assert "other settings" in changed.stderr and "Traceback" not in changed.stderr
    # a skipped document: exit status 1, summary line and errors file
    (folder / "zero.txt").write_bytes(b"")
    skipped = run("score", str(folder), "-o", str(tmp_path / "o.csv"), "--errors", "e.jsonl",
                  cwd=tmp_path)  # fmt: skip
    assert skipped.returncode == 1
    assert "skipped 1 documents" in skipped.stderr
    assert json.loads((tmp_path / "e.jsonl").read_text())["reason"] == "empty document"
    missing = run("score", str(tmp_path / "nowhere"), "-o", str(tmp_path / "x.jsonl"))
    assert missing.returncode == 2 and "not a directory" in missing.stderr


def wait_for_progress(path: Path, process: subprocess.Popen) -> bool:
    """Wait until this run journals a finished file; False if the run ends first."""
    before = path.read_bytes().count(b"\n") if path.exists() else 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if path.exists() and path.read_bytes().count(b"\n") > max(before, 1):
            return True
        time.sleep(0.002)
    raise AssertionError("no progress")


def test_resume_after_kill_9_gives_every_record_exactly_once(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "archive", n=400, paragraphs=16)
    reference = tmp_path / "reference.jsonl"
    score_to_file(root, reference)
    out = tmp_path / "out.jsonl"
    progress = Path(f"{out}.progress")
    command = [sys.executable, "-m", "stance", "score", str(root), "-o", str(out), "--quiet"]
    kills = 0
    for delay in (0.0, 0.13, 0.05):
        process = subprocess.Popen(command, stderr=subprocess.PIPE)
        if wait_for_progress(progress, process):
            time.sleep(delay)  # at any moment: mid-record, mid-journal, between files
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=120)
    assert kills >= 2, "the runs finished too fast to be interrupted"
    final = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr
    assert out.read_bytes() == reference.read_bytes()
    records = [json.loads(line) for line in out.open()]
    keys = [(r["doc"], r["sentence"]) for r in records]
    assert len(keys) == len(set(keys))


def test_fast_jsonl_lines_are_what_json_dumps_writes() -> None:
    base = {
        "source": "a/b \u00e9.txt",
        "doc": 'id "7"',
        "sentence": 3,
        "start": 10,
        "end": 52,
        "text": 'He said: "Non!"\tthen \\ left \u2014 \u00e0 bient\u00f4t \U0001f30d\x01',
        "topic": "peace_process",
        "stance": "calls_for",
        "topic_prob": 0.1235,
        "stance_prob": 1e-05,
        "model": "default@abc",
    }
    without_heads = dict(base, topic=None, stance="none", topic_prob=None, stance_prob=1.0)
    with_probs = {k: v for k, v in base.items() if k != "model"}
    with_probs.update(
        topic_probs={"peace_process": 0.1235, "other": 0.8765},
        stance_probs={"calls_for": 1e-05, "none": 0.99999},
        model="m",
    )
    records = [base, without_heads, with_probs]
    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    assert output._jsonl(records) == expected
    assert output._encode(records, "jsonl", output.FIELDS) == expected.encode()
