"""Benchmark: a text-only conversion of the small sample page, as whole processes, beside pandoc 3.9.

    pip install ".[bench]" && PYTHONPATH=src python bench/bench_startup.py [--runs N] [PAGE.html]

Times, as a user waits for them (start-up and imports included):
- `talkingbook convert PAGE --no-audio -o DIR --progress none`, into a fresh DIR each run (the book
  and the library's files: index.html, feed.xml, catalog/);
- `pandoc -f html -t epub3 PAGE -o out.epub` (pypandoc_binary's pandoc 3.9);
- `talkingbook --help`.
The three run in turn, N times each, so a load that comes and goes on the machine touches them alike;
printed: each one's median and the ratio talkingbook / pandoc (goal: at most 2.5; --help under
0.15 s). Figures only; this is not a timed test.

Python runs with its bytecode cache, as from an installed package (pip compiles it): the
first, uncounted round writes the cache of a checkout even where PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "source" / "japan-south-korea-k-pop-drums.html"


def talkingbook() -> list[str]:
    """The console script beside this interpreter (what a user runs), else ``python -m talkingbook``."""
    script = Path(sys.executable).with_name("talkingbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "talkingbook"]


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str]) -> float:
    """The wall time of one process, which must succeed."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("page", nargs="?", type=Path, default=SAMPLE, help="the page (default: the sample)")
    parser.add_argument("--runs", type=int, default=21, help="runs of each command (default 21)")
    args = parser.parse_args()
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    ours, theirs, helps = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        convert = [*talkingbook(), "convert", str(args.page), "--no-audio", "--progress", "none", "-o"]
        theirs_cmd = [pandoc, "-f", "html", "-t", "epub3", str(args.page), "-o", str(out / "p.epub")]
        for run in range(args.runs + 1):  # the first round warms the file cache and is not counted
            shutil.rmtree(out / "books", ignore_errors=True)
            took = (timed([*convert, str(out / "books")]), timed(theirs_cmd), timed([*talkingbook(), "--help"]))
            if run:
                for times, value in zip((ours, theirs, helps), took, strict=True):
                    times.append(value)
    ours_s, theirs_s, help_s = (statistics.median(t) for t in (ours, theirs, helps))
    print(f"page: {args.page} ({args.page.stat().st_size / 1024:.0f} KiB); medians of {args.runs} runs, in turn")
    print(f"talkingbook convert --no-audio: {ours_s:.3f} s")
    print(f"pandoc 3.9 HTML -> EPUB 3:      {theirs_s:.3f} s")
    print(f"ratio talkingbook / pandoc:     {ours_s / theirs_s:.2f} (goal <= 2.5)")
    print(f"talkingbook --help:             {help_s:.3f} s (goal < 0.15)")


if __name__ == "__main__":
    main()
