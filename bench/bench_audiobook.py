"""Benchmark the full-length audiobook: encoded while the sections are spoken vs after them.

    python bench/bench_audiobook.py [--engine piper] [--runs N] [ARTICLE.html ...]

For each article (default: the longest English corpus page, mr-wikipedia) it converts the page
from scratch (``--no-cache``, a fresh cache folder: every sentence is really spoken) three ways,
interleaved ``--runs`` times: without the audiobook (``--no-audiobook``: the narration and the other
outputs), with the audiobook encoded alongside the narration (the default), and with it encoded
after the narration, as before (``TALKINGBOOK_BENCH_SEQUENTIAL_AUDIOBOOK``, read by ``convert``
for this comparison only). It prints each run's wall time, the best of each way, and what the
audiobook adds to the run each way. Figures only. ``--engine fake`` checks the bench itself in
seconds (with no real voice to wait for, there is little to overlap).
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
DEFAULTS = [ROOT.parent / "shared" / "corpus" / "mr-wikipedia" / "source.html"]
SEQUENTIAL = "TALKINGBOOK_BENCH_SEQUENTIAL_AUDIOBOOK"  # as talkingbook.convert.SEQUENTIAL_AUDIOBOOK
WAYS = {
    "no audiobook": ({}, ("--no-audiobook",)),
    "overlapped": ({}, ()),
    "sequential": ({SEQUENTIAL: "1"}, ()),
}


def convert(article: Path, engine: str, tmp: Path, name: str, env: dict, extra: tuple[str, ...]) -> float:
    """Wall time of one `talkingbook convert` process, from nothing cached."""
    out, cache = tmp / f"{name}-out", tmp / f"{name}-cache"
    environment = {k: v for k, v in os.environ.items() if k != SEQUENTIAL}
    environment.update(env, TALKINGBOOK_CACHE=str(cache))
    command = [sys.executable, "-m", "talkingbook", "convert", str(article), "-o", str(out), "--engine", engine]
    start = time.perf_counter()
    subprocess.run([*command, "-q", "--no-cache", *extra], env=environment, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="*", type=Path)
    parser.add_argument("--engine", default="piper")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for article in args.articles or [p for p in DEFAULTS if p.exists()]:
        print(f"== {article} ({args.engine})")
        times: dict[str, list[float]] = {way: [] for way in WAYS}
        for run in range(args.runs):
            for way, (env, extra) in WAYS.items():
                with tempfile.TemporaryDirectory() as tmp:
                    seconds = convert(article, args.engine, Path(tmp), f"run{run}", env, extra)
                times[way].append(seconds)
                print(f"  run {run + 1}: {way:12} {seconds:7.2f} s", flush=True)
        best = {way: min(seconds) for way, seconds in times.items()}
        base = best["no audiobook"]
        for way in ("overlapped", "sequential"):
            print(
                f"{way:12} best {best[way]:7.2f} s; the audiobook adds {best[way] - base:6.2f} s "
                f"({100 * (best[way] - base) / best[way]:.1f}% of the run) to {base:.2f} s without it"
            )
        print(f"overlapped / sequential: {best['overlapped'] / best['sequential']:.3f}")


if __name__ == "__main__":
    main()
