"""Benchmark: read + write the EPUB for the largest shared corpus page, beside pandoc 3.9.

    pip install ".[bench]" && python bench/bench_pandoc.py [PAGE.html]

Prints the median of several runs for each and their ratio (goal: talkingbook no slower
than pandoc). Figures only; this is not a timed test.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
RUNS = 5


def largest_page() -> Path:
    pages = sorted(CORPUS.glob("*/source.html"), key=lambda p: p.stat().st_size)
    if not pages:
        sys.exit("no corpus pages: ../shared/corpus is absent; give a page as argument")
    return pages[-1]


def time_talkingbook(page: Path, out: Path) -> float:
    from talkingbook.cover import make_cover
    from talkingbook.publication import Layout, Options, Publication
    from talkingbook.readers.html import read_html
    from talkingbook.readers.sources import Source
    from talkingbook.structure.sections import structure
    from talkingbook.structure.toc import build_toc
    from talkingbook.writers.epub import write_epub

    start = time.perf_counter()
    book = structure(read_html(Source(page.read_bytes(), str(page))))
    pub = Publication(
        book, build_toc(book), Layout("tb"), Options(), datetime(2026, 1, 1, tzinfo=UTC), make_cover(book)
    )
    write_epub(pub, out)
    return time.perf_counter() - start


def time_pandoc(page: Path, out: Path) -> float:
    import pypandoc

    pandoc = pypandoc.get_pandoc_path()
    start = time.perf_counter()
    subprocess.run(
        [pandoc, str(page), "-f", "html", "-t", "epub3", "--split-level=2", "-o", str(out / "p.epub")],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    page = Path(sys.argv[1]) if len(sys.argv) > 1 else largest_page()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        time_talkingbook(page, out)  # warm imports
        ours = statistics.median(time_talkingbook(page, out) for _ in range(RUNS))
        theirs = statistics.median(time_pandoc(page, out) for _ in range(RUNS))
    print(f"page: {page} ({page.stat().st_size / 1024:.0f} KiB)")
    print(f"talkingbook read + EPUB: {ours:.3f} s (median of {RUNS})")
    print(f"pandoc 3.9 HTML -> EPUB: {theirs:.3f} s (median of {RUNS})")
    print(f"ratio talkingbook / pandoc: {ours / theirs:.2f} (goal <= 1.00)")


if __name__ == "__main__":
    main()
