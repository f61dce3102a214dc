"""Batches: throughput on one machine and on a local Dask cluster, and the overhead per article.

1. **Throughput.** The twelve shared corpus pages with espeak-ng (no speech cache, so every run
   really speaks), each way into a fresh library:
   - `talkingbook convert --jobs 1` (one process, one article after another);
   - `talkingbook convert --jobs 2` (two worker processes);
   - with `--modes ...,core1`: `--jobs 1` pinned to one core, the throughput two cores are measured against
     when asking how well a batch scales (one conversion alone keeps more than one core busy);
   - `talkingbook convert --scheduler ADDRESS` on a two-worker local Dask cluster (two worker
     processes, one thread each; started here, before the clock starts).
   Printed: the wall time, the CPU time (the run and its ffmpeg children), articles per hour, and
   the speed-up on the serial run.
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


def busy() -> float:
    """The machine's CPU seconds spent so far, every process's (/proc/stat: all but idle and iowait):
    the forkserver's workers and Dask's are not our children, so getrusage would miss them."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run(args: list[str], env: dict, cores: set[int] | None = None) -> float:
    """Run talkingbook; its wall time. Prints its summary line and the CPU time the machine spent
    meanwhile (the run, its ffmpeg children and its workers; run it on a quiet machine).
    ``cores``: the CPUs it may run on (inherited by its children)."""
    before = busy()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "talkingbook", *args],
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
    )
    took = time.monotonic() - started
    cpu = busy() - before
    summary = done.stderr.strip().splitlines()[-1:] or [""]
    print(f"    exit {done.returncode}: {summary[0]}; {cpu:.1f} CPU-s in {took:.1f} s ({cpu / took:.2f} cores busy)")
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
    if "core1" in modes:
        print("  --jobs 1 on one core (the process and its ffmpeg runs pinned to CPU 0)")
        times["--jobs 1, one core"] = run(
            ["convert", *map(str, pages), "-o", str(work / "core1"), *common, "--jobs", "1"], env, cores={0}
        )
    if "dask" in modes:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            print(f"  Dask, two local workers ({cluster.scheduler_address})")
            address = cluster.scheduler_address
            times["Dask, 2 workers"] = run(
                ["convert", *map(str, pages), "-o", str(work / "dask"), *common, "--scheduler", address], env
            )
    serial = times.get("--jobs 1") or next(iter(times.values()))
    one_core = times.get("--jobs 1, one core")
    for label, took in times.items():
        print(
            f"  {label:20} {took:7.1f} s  {len(pages) / took * 3600:6.0f} articles/hour  "
            f"{serial / took:4.2f}x the serial throughput"
            + (f", {one_core / took:4.2f}x one core's" if one_core else "")
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
        help="which throughput runs: jobs1, jobs2, core1 (--jobs 1 pinned to one core), dask (comma-separated)",
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
