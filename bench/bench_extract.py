"""Benchmark: how much of each page's article text talkingbook, trafilatura and readability-lxml keep,
against human references.

    python bench/bench_extract.py [--set DIR ...] [--extractors talkingbook,trafilatura,readability-lxml]
                                  [--jobs N] [--json OUT.json] [--only PATTERN] [--limit N]

Pages: the folders of each --set DIR holding source.html and expected.html or expected.txt
(default ../extract-eval, rebuilt by bench/extract_set.py; ../shared/corpus works too). Scored as the
shared corpus's score.py scores a book: multisets of word tokens, recall = shared / reference tokens,
precision = shared / extracted tokens. talkingbook's text is its text-only EPUB's (score.book_text:
headings included); the others' is their extracted text. A failure (talkingbook's "no article text
found", a timeout) is an empty output: recall 0, recorded with its message.

Goal per page: recall >= 0.95 and precision >= 0.90. Printed per extractor: pages meeting it, mean and
median recall, precision and F1, pages losing more than a fifth (recall < 0.80) and, for talkingbook,
how many of those the reader gave no warning or error for ("silent"); per set, pages meeting the goal.
--json writes every page's figures, to list where talkingbook loses and the others do not.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures as cf
import functools
import importlib.util
import json
import logging
import re
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SCORE_PY = ROOT.parent / "shared" / "corpus" / "score.py"
DEFAULT_SET = ROOT.parent / "extract-eval"
EXTRACTOR_NAMES = ("talkingbook", "trafilatura", "readability-lxml")
GOAL_RECALL, GOAL_PRECISION = 0.95, 0.90
LOSS_RECALL = 0.80  # below this, a fifth of the article is gone: the reader should have said so
TIMEOUT = 60.0  # seconds per page and extractor
GRACE = 30.0  # beyond the timeout, a worker whose alarm could not fire (stuck in C code) is killed
WARNING_FIELDS = ("warnings", "losses")  # what the reader may report it dropped (a field not there yet)


@functools.cache
def scorer():
    """The shared corpus's score.py, loaded from its file (it is no package)."""
    spec = importlib.util.spec_from_file_location("corpus_score", SCORE_PY)
    if spec is None or spec.loader is None or not SCORE_PY.exists():
        sys.exit(f"no scorer at {SCORE_PY}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the extractors: (source bytes, file name) -> (text, warnings) -------------------------------------


def talkingbook_text(html: bytes, name: str) -> tuple[str, list[str]]:
    """The text of talkingbook's text-only EPUB of the page, as score.py reads a book, and the reader's warnings."""
    from talkingbook.cover import make_cover
    from talkingbook.publication import Layout, Options, Publication
    from talkingbook.readers.html import read_html
    from talkingbook.readers.sources import Source
    from talkingbook.structure.sections import structure
    from talkingbook.structure.toc import build_toc
    from talkingbook.writers.epub import write_epub

    document = read_html(Source(html, name))
    book = structure(document)
    pub = Publication(
        book, build_toc(book), Layout("tb"), Options(), datetime(2026, 1, 1, tzinfo=UTC), make_cover(book)
    )
    with tempfile.TemporaryDirectory() as tmp:
        return scorer().book_text(write_epub(pub, Path(tmp))), reader_warnings(document)


def reader_warnings(document) -> list[str]:
    """What the Document says the reader lost, if it has such a field (another change may add one)."""
    for name in WARNING_FIELDS:
        if (found := getattr(document, name, None)) is not None:
            return [str(w) for w in found]
    return []


def trafilatura_text(html: bytes, name: str) -> tuple[str, list[str]]:
    import trafilatura

    # bytes, not str: trafilatura guesses the encoding itself, as it would for a download
    return trafilatura.extract(html, include_comments=False, include_tables=True) or "", []


def readability_text(html: bytes, name: str) -> tuple[str, list[str]]:
    from lxml import html as lxml_html
    from readability import Document

    return lxml_html.fromstring(Document(html).summary()).text_content(), []


EXTRACTORS = {"talkingbook": talkingbook_text, "trafilatura": trafilatura_text, "readability-lxml": readability_text}


# -- one page in a worker ---------------------------------------------------------------------------------


class PageTimeout(BaseException):
    """The page took longer than its timeout (no Exception: an extractor's own `except Exception` must
    not swallow it and carry on)."""


def _alarm(signum, frame) -> None:
    raise PageTimeout


def warm(extractors: list[str]) -> None:
    """Import what the extractors need once per worker, so a page's seconds are its own."""
    scorer()
    modules = {
        "talkingbook": ["talkingbook.readers.html", "talkingbook.writers.epub", "talkingbook.cover"],
        "trafilatura": ["trafilatura"],
        "readability-lxml": ["readability"],
    }
    for extractor in extractors:
        for module in modules[extractor]:
            __import__(module)
    logging.getLogger("readability").setLevel(logging.CRITICAL)  # its failures are recorded, not logged
    signal.signal(signal.SIGALRM, _alarm)  # run_page's alarm turns a page that hangs into a PageTimeout


def figures(got: collections.Counter, want: collections.Counter) -> dict:
    """Recall, precision and F1 of extracted tokens against reference tokens, as score.score counts them."""
    shared = sum((got & want).values())
    recall = shared / max(1, sum(want.values()))
    precision = shared / max(1, sum(got.values()))
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return {"recall": recall, "precision": precision, "f1": f1, "tokens": sum(got.values())}


def run_page(page: str, extractor: str, timeout: float) -> dict:
    """One extractor on one page: its figures, error, warnings and seconds."""
    folder = Path(page)
    want = scorer().tokens(scorer().reference_text(folder) or "")
    text, warnings, error = "", [], None
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        text, warnings = EXTRACTORS[extractor]((folder / "source.html").read_bytes(), str(folder / "source.html"))
    except PageTimeout:
        error = f"timeout after {timeout:.0f} s"
    except Exception as exc:  # noqa: BLE001 -- any failure is this page's empty output, recorded with its message
        error = f"{type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    seconds = time.perf_counter() - start
    return figures(scorer().tokens(text), want) | {"error": error, "warnings": warnings, "seconds": seconds}


def failed(error: str, seconds: float) -> dict:
    """The figures of a task whose worker did not answer."""
    return {"recall": 0.0, "precision": 0.0, "f1": 0.0, "tokens": 0, "error": error, "warnings": [], "seconds": seconds}


# -- the run --------------------------------------------------------------------------------------------------


def new_pool(jobs: int, extractors: list[str]) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=jobs, initializer=warm, initargs=(extractors,))


def kill(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool whose worker hangs: shutdown alone would wait for it (the executor keeps its
    processes in a private attribute; these are the ones this run started)."""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


class Run(NamedTuple):
    """A task handed to a worker: when, and whether it runs alone (a second try after a crash)."""

    task: tuple[str, str]
    started: float
    alone: bool


def run_all(tasks: list[tuple[str, str]], jobs: int, extractors: list[str], timeout: float) -> dict:
    """Every (page, extractor) task's figures, ``jobs`` at a time. Tasks are handed out one per free
    worker, so a task's clock starts when it is submitted; one still running GRACE seconds past its
    timeout is recorded as a timeout and its pool replaced (the other running tasks start again). When
    a worker dies, the pool is replaced and the tasks it was running are run again alone at the end,
    so a crash is put down to its own page."""
    results: dict[tuple[str, str], dict] = {}
    queue, again = collections.deque(tasks), collections.deque()
    running: dict[cf.Future, Run] = {}
    pool = new_pool(jobs, extractors)
    while queue or again or running:
        while queue and len(running) < jobs:
            task = queue.popleft()
            running[pool.submit(run_page, *task, timeout)] = Run(task, time.monotonic(), alone=False)
        if again and not queue and not running:
            task = again.popleft()
            running[pool.submit(run_page, *task, timeout)] = Run(task, time.monotonic(), alone=True)
        done, _ = cf.wait(running, timeout=5, return_when=cf.FIRST_COMPLETED)
        broken = False
        for future in done:
            run = running.pop(future)
            try:
                results[run.task] = future.result()
            except Exception as exc:  # noqa: BLE001 -- a dead worker (a crash in C code) breaks the whole pool
                broken = True
                if run.alone:
                    results[run.task] = failed(f"worker died: {exc!r}", time.monotonic() - run.started)
                else:
                    again.append(run.task)
        now = time.monotonic()
        for future in [f for f, run in running.items() if now - run.started > timeout + GRACE]:
            run = running.pop(future)
            results[run.task] = failed(f"timeout after {timeout:.0f} s (worker killed)", now - run.started)
            broken = True
        if broken:
            queue.extendleft(run.task for run in running.values() if not run.alone)
            running.clear()
            kill(pool)
            pool = new_pool(jobs, extractors)
        progress(len(results), len(tasks))
    pool.shutdown()
    return results


def progress(done: int, total: int) -> None:
    """Tasks done so far, on stderr: on one rewritten line in a terminal, every 500th in a log."""
    if sys.stderr.isatty():
        print(f"\r{done}/{total} done", end="\n" if done == total else "", file=sys.stderr, flush=True)
    elif done % 500 == 0 or done == total:
        print(f"{done}/{total} done", file=sys.stderr, flush=True)


def find_pages(set_dirs: list[Path], only: str | None, limit: int | None) -> dict[str, Path]:
    """Page name -> folder, for every folder with source.html and a reference (expected.html/.txt)."""
    pages: dict[str, Path] = {}
    for set_dir in set_dirs:
        for folder in sorted(p.parent for p in set_dir.glob("*/source.html")):
            if not ((folder / "expected.html").exists() or (folder / "expected.txt").exists()):
                continue  # snippets only (tf- in the shared corpus): no reference to score against
            if only and not re.search(only, folder.name):
                continue
            name = folder.name if folder.name not in pages else f"{set_dir.name}/{folder.name}"
            pages[name] = folder
    return dict(list(pages.items())[:limit]) if limit else pages


def set_of(name: str) -> str:
    """The data set a page comes from: its folder name's prefix (scrapinghub-, ae-...)."""
    return name.rsplit("/", 1)[-1].split("-", 1)[0]


# -- the report -------------------------------------------------------------------------------------------------


def meets_goal(row: dict) -> bool:
    return row["recall"] >= GOAL_RECALL and row["precision"] >= GOAL_PRECISION


def summarize(rows: list[dict], extractor: str) -> dict:
    """One extractor's figures over its pages."""

    def mean_median(key: str) -> list[float]:
        values = [r[key] for r in rows]
        return [round(statistics.fmean(values), 3), round(statistics.median(values), 3)]

    losing = [r for r in rows if r["recall"] < LOSS_RECALL]
    return {
        "pages": len(rows),
        "goal": sum(map(meets_goal, rows)),
        "recall": mean_median("recall"),
        "precision": mean_median("precision"),
        "f1": mean_median("f1"),
        "recall_below_0.80": len(losing),
        # only talkingbook's reader can warn (for the others the count would mean nothing); an error
        # such as "no article text found" is said out loud, so it is no silent loss
        "silent_losses": sum(not (r["warnings"] or r["error"]) for r in losing) if extractor == "talkingbook" else None,
        "errors": sum(bool(r["error"]) for r in rows),
        "seconds": round(sum(r["seconds"] for r in rows), 1),
    }


def print_report(summary: dict, by_set: dict, extractors: list[str]) -> None:
    def pair(values: list[float]) -> str:
        return f"{values[0]:.3f}/{values[1]:.3f}"

    print(
        f"\nGoal per page: recall >= {GOAL_RECALL:.2f} and precision >= {GOAL_PRECISION:.2f}; figures are mean/median."
    )
    print(
        f"{'extractor':17} {'pages':>5} {'goal':>5} {'recall':>11} {'precision':>11} {'F1':>11}"
        f" {'r<0.80':>6} {'silent':>6} {'errors':>6} {'seconds':>8}"
    )
    for extractor in extractors:
        s = summary[extractor]
        silent = "-" if s["silent_losses"] is None else s["silent_losses"]
        print(
            f"{extractor:17} {s['pages']:5} {s['goal']:5} {pair(s['recall']):>11} {pair(s['precision']):>11}"
            f" {pair(s['f1']):>11} {s['recall_below_0.80']:6} {silent:>6} {s['errors']:6} {s['seconds']:8.1f}"
        )
    print("\nPages meeting the goal, per set:")
    print(f"{'set':17} {'pages':>5} " + " ".join(f"{e:>17}" for e in extractors))
    for set_name, counts in sorted(by_set.items()):
        pages = counts["pages"]
        cells = " ".join(f"{f'{counts[e]} ({counts[e] / pages:.0%})':>17}" for e in extractors)
        print(f"{set_name:17} {pages:5} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, action="append", dest="sets", help=f"a page set (default {DEFAULT_SET})")
    parser.add_argument("--extractors", default=",".join(EXTRACTOR_NAMES), help="comma-separated")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--json", type=Path, help="write every page's figures here")
    parser.add_argument("--only", help="a regular expression the page's folder name must contain")
    parser.add_argument("--limit", type=int, help="the first N pages only")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per page and extractor")
    args = parser.parse_args()
    extractors = [e.strip() for e in args.extractors.split(",") if e.strip()]
    if unknown := [e for e in extractors if e not in EXTRACTORS]:
        sys.exit(f"unknown extractors: {', '.join(unknown)} (known: {', '.join(EXTRACTORS)})")
    set_dirs = args.sets or [DEFAULT_SET]
    pages = find_pages(set_dirs, args.only, args.limit)
    if not pages:
        sys.exit(f"no pages with source.html and a reference in {', '.join(map(str, set_dirs))}")

    started = time.monotonic()
    tasks = [(str(folder), extractor) for folder in pages.values() for extractor in extractors]
    results = run_all(tasks, args.jobs, extractors, args.timeout)
    took = time.monotonic() - started

    rows = {e: [results[str(folder), e] for folder in pages.values()] for e in extractors}
    summary = {e: summarize(rows[e], e) for e in extractors}
    by_set: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for name, folder in pages.items():
        by_set[set_of(name)]["pages"] += 1
        for e in extractors:
            by_set[set_of(name)][e] += meets_goal(results[str(folder), e])
    print_report(summary, by_set, extractors)
    print(f"\n{len(pages)} pages, {len(extractors)} extractors, {args.jobs} jobs: {took:.0f} s wall time")

    if args.json:
        want = {
            name: sum(scorer().tokens(scorer().reference_text(folder) or "").values()) for name, folder in pages.items()
        }
        report = {
            "goal": {"recall": GOAL_RECALL, "precision": GOAL_PRECISION, "loss_recall": LOSS_RECALL},
            "sets": [str(d) for d in set_dirs],
            "extractors": extractors,
            "wall_seconds": round(took, 1),
            "summary": summary,
            "pages": {
                name: {"set": set_of(name), "folder": str(folder), "reference_tokens": want[name]}
                | {e: rounded(results[str(folder), e]) for e in extractors}
                for name, folder in pages.items()
            },
        }
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"per-page figures: {args.json}")


def rounded(row: dict) -> dict:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}


if __name__ == "__main__":
    main()
