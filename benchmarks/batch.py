"""Benchmark of ``stance score``: sentences/s with --jobs 1 and 2, peak memory, and the floor.

Every measurement runs in a fresh process. The time of a ``stance score`` run is its wall time
minus that of the same command on a one-document folder (interpreter start, imports, model
loading, worker start-up), so the figures are net of process start-up. The floor reads the same
files and splits them into words with one regular expression, timed inside its process. Each
time is the best of ``--repeat`` runs (3), the floor's and the commands' alike, since on a
shared virtual machine the slowest runs measure the neighbours. Peak memory is the largest
resident set of any process of the run (``ru_maxrss`` of the children, so for ``--jobs 2`` the
largest of the main process and its workers), the largest over the repeated runs.

    python benchmarks/make_corpus.py --size-mb 50 --out benchmarks/data/corpus-50mb
    python benchmarks/batch.py benchmarks/data/corpus-50mb [--large benchmarks/data/corpus-500mb]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORD = re.compile(r"\w+")


def floor(folder: str) -> dict:
    """Read every file and split it into words: the least any scorer must do."""
    started = time.perf_counter()
    cpu = time.process_time()
    words = size = 0
    for directory, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            with open(os.path.join(directory, name), "rb") as file:
                data = file.read()
            size += len(data)
            words += len(WORD.findall(data.decode("utf-8")))
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu,
        "words": words,
        "bytes": size,
    }


def measure(command: list[str]) -> dict:
    """Run ``command`` in a fresh child of a fresh process: wall time and peak memory."""
    code = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"r = subprocess.run({command!r}, capture_output=True, text=True)\n"
        "t = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'seconds': t, 'maxrss_kb': u.ru_maxrss, 'rc': r.returncode, "
        "'cpu': u.ru_utime + u.ru_stime, 'stderr': r.stderr[-500:]}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(result.stdout)


def score(folder: Path, jobs: int, work: Path, extra: tuple[str, ...] = ()) -> dict:
    out = work / f"out-{folder.name}-{jobs}.jsonl"
    command = [sys.executable, "-m", "stance", "score", str(folder), "-o", str(out)]
    command += ["--quiet", "--overwrite", "--jobs", str(jobs), *extra]
    run = measure(command)
    if run["rc"] != 0:
        raise SystemExit(f"stance score failed: {run['stderr']}")
    with open(out, "rb") as file:
        run["sentences"] = sum(1 for _ in file)
    for path in (out, Path(f"{out}.progress")):
        path.unlink(missing_ok=True)
    return run


def _best(runs: list[dict]) -> dict:
    """The fastest of several runs, with the largest peak memory of them all."""
    best = dict(min(runs, key=lambda run: run["seconds"]))
    best["maxrss_kb"] = max(run["maxrss_kb"] for run in runs)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--large", type=Path, help="a 10x larger folder for the memory check")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument(
        "--large-jobs", type=int, nargs="+", help="--jobs values for the large folder (all)"
    )
    parser.add_argument("--floor-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_only:
        print(json.dumps(floor(str(args.folder))))
        return
    work = Path(tempfile.mkdtemp(prefix="stance-bench-"))
    try:
        run_all(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_all(args: argparse.Namespace, work: Path) -> None:
    tiny = work / "tiny"
    tiny.mkdir()
    (tiny / "one.txt").write_text("We welcome the agreement. Talks resume on Monday.\n")
    # the floor, in its own process, timed inside (the first run also warms the page cache for
    # the runs that follow)
    floors = []
    for _ in range(args.repeat):
        result = subprocess.run(
            [sys.executable, __file__, str(args.folder), "--floor-only"],
            check=True,
            capture_output=True,
            text=True,
        )
        floors.append(json.loads(result.stdout))
    base = min(floors, key=lambda f: f["seconds"])
    size_mb = base["bytes"] / 2**20
    print(f"folder: {args.folder} ({size_mb:.1f} MB, {base['words']:,} words)")
    rate = size_mb / base["seconds"]
    print(
        f"floor (read + one regex): {base['seconds']:.2f} s wall, {base['cpu']:.2f} s CPU, "
        f"{rate:.1f} MB/s"
    )
    print(f"load average before the runs: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    rows, runs = {}, {}
    for jobs in args.jobs:
        startup = _best([score(tiny, jobs, work) for _ in range(args.repeat)])
        run = runs[jobs] = _best([score(args.folder, jobs, work) for _ in range(args.repeat)])
        net = run["seconds"] - startup["seconds"]
        cpu = run["cpu"] - startup["cpu"]
        rows[jobs] = net
        print(
            f"--jobs {jobs}: {run['sentences']:,} sentences in {run['seconds']:.2f} s "
            f"(start-up {startup['seconds']:.2f} s, net {net:.2f} s): "
            f"{run['sentences'] / net:,.0f} sentences/s, {net / base['seconds']:.1f}x the floor; "
            f"CPU net {cpu:.2f} s = {cpu / base['cpu']:.1f}x the floor's CPU; "
            f"peak RSS {run['maxrss_kb'] / 1024:.0f} MB; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
    if 1 in rows and 2 in rows:
        print(f"speed-up --jobs 2 / --jobs 1: {rows[1] / rows[2]:.2f}x")
    if args.large:
        for jobs in args.large_jobs or args.jobs:
            small = runs[jobs]
            large = score(args.large, jobs, work)
            print(
                f"--jobs {jobs} peak RSS: {small['maxrss_kb'] / 1024:.0f} MB for "
                f"{args.folder.name}, {large['maxrss_kb'] / 1024:.0f} MB for {args.large.name} "
                f"({large['sentences']:,} sentences, {large['seconds']:.0f} s) "
                f"ratio {large['maxrss_kb'] / small['maxrss_kb']:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
