"""Benchmark the narration: engine alone vs the whole pipeline, warm re-runs, peak memory.

    python bench/bench_narration.py [ARTICLE.html ...]

For each article (default: the sample and the longest English corpus page, mr-wikipedia)
it prints: the engine alone on the same sentences, both as synthesis time and as a whole
process (Python start, import, model load, synthesis: what running the engine by itself
costs); the whole pipeline and its ratio to each (Piper goal <= 1.10); the pipeline's
overhead in seconds (espeak-ng goal <= 2 s for the sample); a warm re-run into a new folder as a
share of the cold run (goal <= 5%);
and the peak resident memory of each run (goal < 1 GB, flat with length). These runs leave out
the full-length audiobook (``--no-audiobook``); a last run adds it and prints what it costs.
Figures only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULTS = [
    ROOT / "source" / "japan-south-korea-k-pop-drums.html",
    ROOT.parent / "shared" / "corpus" / "mr-wikipedia" / "source.html",
]

CHILD = r"""
import resource, sys, time
from pathlib import Path
from talkingbook.readers.html import read_html
from talkingbook.readers.sources import Source
from talkingbook.structure.sections import structure
from talkingbook.narration.script import section_script
from talkingbook.engines import open_engine
from talkingbook.structure.toc import build_toc
path, engine_name = sys.argv[1], sys.argv[2]
book = structure(read_html(Source(Path(path).read_bytes(), Path(path).name, folder=Path(path).resolve().parent)))
voice = {"piper": "Piper en_US-joe-medium", "espeak": "espeak-ng en"}.get(engine_name, engine_name)
texts = [u.text for e in build_toc(book) for u in section_script(e.section, book.metadata, voice)]
opening = time.perf_counter()  # from here on, only what the engine itself does
engine = open_engine(engine_name, book.metadata.language)
engine.synthesize("Warm up.")  # loads the model
start = time.perf_counter()
for text in texts:
    engine.synthesize(text)
end = time.perf_counter()
print(end - start, end - opening, start - opening, len(texts), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def interpreter_start() -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - began


def engine_alone(article: Path, engine: str) -> tuple[float, float, float, int, int]:
    """Synthesis time of the sentences; the same plus starting Python, importing and loading the
    engine (what running the engine by itself costs: reading the article is not counted); model
    load; sentences; peak memory."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(article), engine], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1]) + interpreter_start(), float(out[2]), int(out[3]), int(out[4])


def pipeline(article: Path, engine: str, out: Path, cache: Path, *extra: str) -> tuple[float, int]:
    """Wall time and peak resident memory (KiB) of one `talkingbook convert` process."""
    env = dict(os.environ, TALKINGBOOK_CACHE=str(cache))
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "talkingbook",
            "convert",
            str(article),
            "-o",
            str(out),
            "--engine",
            engine,
            "-q",
            *extra,
        ],
        env=env,
    )
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the largest child's so far
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"convert failed ({proc.returncode})")
    return time.perf_counter() - start, usage.ru_maxrss


def main() -> None:
    articles = [Path(a) for a in sys.argv[1:]] or [p for p in DEFAULTS if p.exists()]
    for article in articles:
        print(f"== {article}")
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            for engine in ("espeak", "piper"):
                alone, whole, load, sentences, alone_rss = engine_alone(article, engine)
                # the narration (issue 4's goals): every output but the full-length audiobook
                cold, rss = pipeline(article, engine, tmp / f"{engine}-cold", tmp / f"cache-{engine}", "--no-audiobook")
                warm, _ = pipeline(article, engine, tmp / f"{engine}-warm", tmp / f"cache-{engine}", "--no-audiobook")
                # then the audiobook too: sentences and sections come from the cache, the book is encoded
                book, book_rss = pipeline(article, engine, tmp / f"{engine}-book", tmp / f"cache-{engine}")
                print(
                    f"{engine:7} {sentences} sentences: engine alone {alone:.2f} s synthesis, {whole:.2f} s "
                    f"as a process (start, import, {load:.2f} s load); pipeline {cold:.2f} s: "
                    f"ratio {cold / whole:.2f} to the engine's process ({cold / alone:.2f} to synthesis alone), "
                    f"overhead {cold - whole:.2f} s; warm re-run {warm:.2f} s ({100 * warm / cold:.1f}% of cold); "
                    f"peak memory {rss / 1024:.0f} MB (engine alone {alone_rss / 1024:.0f} MB); "
                    f"the audiobook and cover add {book - warm:.2f} s ({book_rss / 1024:.0f} MB)"
                )


if __name__ == "__main__":
    main()
