"""Batches: throughput on one machine and on a local Dask cluster, and the overhead per article.

1. **Throughput.** The twelve shared corpus pages with espeak-ng (no speech cache, so every run
   really speaks), each way into a fresh library:
   - `talkingbook convert --jobs 1` (one process, one article after another);
   - `talkingbook convert --jobs 2` (two worker processes);
   - `talkingbook convert --scheduler ADDRESS` on a two-worker local Dask cluster (two worker
     processes, one thread each; started here, before the clock starts).
   Printed: the wall time, articles per hour, and the speed-up on the serial run.
2. **Overhead per article.** N small articles (a title and three sentences, one section) with
   espeak-ng, each article's own speaking timed inside the engine:
   - one batch in this process (run_batch, as `talkingbook convert a.html b.html ...` does);
   - N fresh `talkingbook convert` processes, one per article, as before batches.
   Printed: per article, the wall time, the engine's own time, and the rest (the overhead: start,
   imports, reading, encoding, packaging, the library's refresh).

Usage: PYTHONPATH=src python bench/bench_batch.py [--corpus DIR] [--engine espeak] [--modes jobs1,jobs2,dask]
       [--skip-throughput] [--skip-overhead] [--small N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def run(args: list[str], env: dict) -> float:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "talkingbook", *args], env=env, capture_output=True, text=True)
    took = time.monotonic() - started
    summary = done.stderr.strip().splitlines()[-1:] or [""]
    print(f"    exit {done.returncode}: {summary[0]}")
    return took


def throughput(pages: list[Path], work: Path, env: dict, engine: str, modes: list[str]) -> None:
    from distributed import LocalCluster

    common = ["--engine", engine, "--no-cache", "--progress", "none"]
    print(f"1. {len(pages)} corpus pages, {engine}, no speech cache, {os.cpu_count()} cores")
    times = {}
    for label, extra in (("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"])):
        if label.replace(" ", "").lstrip("-") in modes:
            print(f"  {label}")
            times[label] = run(
                ["convert", *map(str, pages), "-o", str(work / label.replace(" ", "")), *common, *extra], env
            )
    if "dask" in modes:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            print(f"  Dask, two local workers ({cluster.scheduler_address})")
            address = cluster.scheduler_address
            times["Dask, 2 workers"] = run(
                ["convert", *map(str, pages), "-o", str(work / "dask"), *common, "--scheduler", address], env
            )
    serial = times.get("--jobs 1") or next(iter(times.values()))
    for label, took in times.items():
        print(
            f"  {label:16} {took:7.1f} s  {len(pages) / took * 3600:6.0f} articles/hour  "
            f"{serial / took:4.2f}x the serial throughput"
        )


def small_pages(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    pages = []
    for k in range(n):
        page = folder / f"note-{k}.html"
        page.write_text(
            f"<html lang='en'><head><title>Note {k}</title></head><body><article><h1>Note {k}</h1>"
            f"<p>This is note {k}. It is short. It has three sentences.</p></article></body></html>",
            encoding="utf-8",
        )
        pages.append(page)
    return pages


def overhead(n: int, work: Path, env: dict) -> None:
    from talkingbook.batch import run_batch
    from talkingbook.engines.espeak import EspeakEngine
    from talkingbook.publication import Options

    spoken = [0.0]
    synthesize = EspeakEngine.synthesize

    def timed(self, text):
        started = time.monotonic()
        try:
            return synthesize(self, text)
        finally:
            spoken[0] += time.monotonic() - started

    EspeakEngine.synthesize = timed  # type: ignore[method-assign]
    pages = small_pages(work / "small", n)
    options = Options(engine="espeak", cache=False)
    print(f"2. {n} small articles (one section, three sentences), espeak-ng, no speech cache")
    run_batch([str(pages[0])], work / "warm", options)  # this process's imports, as a worker's first article
    spoken[0] = 0.0
    started = time.monotonic()
    results = run_batch([str(p) for p in pages], work / "batch", options)
    wall = time.monotonic() - started
    assert all(r.status == "converted" for r in results), results
    engine = spoken[0] / n
    print(
        f"  in one batch:       {wall / n:5.2f} s an article; the engine's own {engine:5.2f} s; "
        f"overhead {wall / n - engine:5.2f} s"
    )
    solo = [
        run(["convert", str(p), "-o", str(work / "solo"), "--engine", "espeak", "--no-cache", "-q"], env) for p in pages
    ]
    each = sum(solo) / n
    print(
        f"  a process each:     {each:5.2f} s an article; the engine's own {engine:5.2f} s (as measured in the "
        f"batch); overhead {each - engine:5.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--engine", default="espeak", help="the engine of the throughput runs (default espeak)")
    parser.add_argument(
        "--modes",
        default="jobs1,jobs2,dask",
        help="which throughput runs: jobs1, jobs2, dask (comma-separated)",
    )
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--small", type=int, default=12, help="small articles for the overhead (default 12)")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        if not args.skip_throughput:
            modes = [m.strip() for m in args.modes.split(",")]
            throughput(sorted(args.corpus.glob("*/source.html")), work, env, args.engine, modes)
        if not args.skip_overhead:
            overhead(args.small, work, env)


if __name__ == "__main__":
    main()
