"""How long refreshing the library files takes for 500 books, and proof that a conversion into a
library touches no other book.

The library: one article converted with the fake engine (a real book: its manifest with every
clip, EPUB, MP3s), then copied 499 times with hard links for its media and a manifest of its own
(another title, identifier, date, language) — 500 book folders as the refresh reads them, without
500 conversions. Then:

1. `refresh` three times: the first writes every file (and parses every manifest), the next ones
   find them unchanged (and read the memo of the entries); read_library alone, and each renderer,
   timed apart;
2. a new article converted into the folder with `talkingbook convert` (fake engine): every file of
   the 500 other book folders compared before and after (inode, size, mtime): none may change.

Usage: PYTHONPATH=src python bench/bench_library.py [--books 500] [--page PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from talkingbook.cli import main
from talkingbook.library import (
    catalog_names,
    read_library,
    refresh,
    render_feed,
    render_page,
)
from talkingbook.library.model import read_book
from talkingbook.library.opds import catalog_file
from talkingbook.system.publish import MARKER

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "source" / "japan-south-korea-k-pop-drums.html"
LANGUAGES = ("en", "fr", "de", "es", "ja")


def build(folder: Path, books: int, page: Path) -> Path:
    """``books`` book folders in ``folder``: one converted, the others hard-linked copies of it."""
    assert main(["convert", str(page), "-o", str(folder), "--engine", "fake", "-q"]) == 0
    (first,) = [p for p in folder.iterdir() if (p / "manifest.json").is_file()]
    manifest = json.loads((first / "manifest.json").read_text("utf-8"))
    for n in range(1, books):
        slug = f"article-{n:04d}"
        copy = folder / slug
        os.mkdir(copy)
        for top, dirs, files in os.walk(first):
            rel = Path(top).relative_to(first)
            for d in dirs:
                (copy / rel / d).mkdir()
            for f in files:
                if f not in ("manifest.json", MARKER):
                    os.link(Path(top) / f, copy / rel / f.replace(first.name, slug))
        data = json.loads(json.dumps(manifest))
        for key in ("epub", "playlist", "transcript"):
            if data.get(key):
                data[key] = data[key].replace(first.name, slug)
        data["audiobook"] = {k: v.replace(first.name, slug) for k, v in (data.get("audiobook") or {}).items()}
        data["metadata"].update(
            title=f"Article {n}: {manifest['metadata']['title']}",
            identifier=f"urn:bench:{n}",
            date=f"20{10 + n % 16}-{1 + n % 12:02d}-{1 + n % 28:02d}",
            language=LANGUAGES[n % len(LANGUAGES)],
        )
        (copy / "manifest.json").write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
        (copy / MARKER).write_text(json.dumps({"generator": "talkingbook", "article": f"bench-{n}"}))
    return first


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file of every book folder: (inode, size, mtime in ns)."""
    out = {}
    for top, _, files in os.walk(folder):
        for f in files:
            info = os.lstat(Path(top) / f)
            out[str(Path(top, f).relative_to(folder))] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return out


def timed(label: str, call, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<44}{best * 1000:8.0f} ms")
    return result


def run(books: int, page: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-library-")) / "dist"
    try:
        start = time.perf_counter()
        first = build(folder, books, page)
        manifest_kb = (first / "manifest.json").stat().st_size / 1024
        print(
            f"library of {books} books built in {time.perf_counter() - start:.1f} s "
            f"(each manifest {manifest_kb:.0f} KB, from {page.name})"
        )
        start = time.perf_counter()
        refresh(folder)
        print(f"  {'first refresh (every file written)':<44}{(time.perf_counter() - start) * 1000:8.0f} ms")
        library = timed("refresh (files unchanged)", lambda: refresh(folder))
        timed(f"read_library ({books} entries from the memo)", lambda: read_library(folder))
        timed(
            f"the same without the memo ({books} manifests parsed)",
            lambda: [read_book(folder / b.slug) for b in library.books],
        )
        timed("render_page", lambda: render_page(library))
        timed("render_feed", lambda: render_feed(library, "https://example.org/"))
        names = catalog_names(library)
        timed(f"catalog: {len(names)} files", lambda: [catalog_file(library, n, None) for n in names])
        timed("catalog_file('newest.xml') (one serve request)", lambda: catalog_file(library, "newest.xml", None))
        sizes = {p.name: p.stat().st_size for p in (folder / "index.html", folder / "feed.xml")}
        print(
            f"  index.html {sizes['index.html'] / 1024:.0f} KB, feed.xml {sizes['feed.xml'] / 1024:.0f} KB, "
            f"{len(library.books)} books listed"
        )

        before = snapshot(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        start = time.perf_counter()
        other = Path(tempfile.mkdtemp(prefix="bench-page-")) / "another.html"
        other.write_bytes(SAMPLE.read_bytes().replace(b"K-pop", b"jazz"))
        subprocess.run(
            [sys.executable, "-m", "talkingbook", "convert", str(other), "-o", str(folder), "--engine", "fake", "-q"],
            env=env,
            check=True,
        )
        took = time.perf_counter() - start
        after = snapshot(folder)
        books_before = {k: v for k, v in before.items() if not k.startswith(("catalog/", "index.html", "feed.xml"))}
        changed = [k for k, v in books_before.items() if after.get(k) != v]
        print(
            f"one more article converted in {took:.1f} s (fake engine, refresh included): "
            f"{len(books_before)} files of the {books} other books compared, {len(changed)} changed"
        )
        assert not changed, changed[:5]
        assert len(read_library(folder).books) == books + 1
        shutil.rmtree(other.parent)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=500)
    parser.add_argument("--page", type=Path, default=SAMPLE, help="the article every book is a copy of")
    args = parser.parse_args()
    run(args.books, args.page)
