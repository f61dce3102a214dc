"""Rebuild the article-extraction evaluation set: public pages with human references, laid out as the
shared corpus is (one folder per page: source.html, expected.txt or expected.html, origin.json).

    python bench/extract_set.py [--out DIR] [--sets scrapinghub,cleanportaleval,...] [--corpus DIR]
                                [--scrapinghub GIT_DIR] [--cleaning GIT_DIR] [--readability GIT_DIR]

The pages are never committed: this script rebuilds them from git mirrors of the data sets (bare
repositories, read with git). Sets (folder prefix = set name):

- scrapinghub: ScrapingHub's article-extraction-benchmark, html/*.html.gz and ground-truth.json's articleBody.
- cleanportaleval: news portals (BBC, WSJ blogs, MSNBC, Washington Post blogs), CleanEval-style references.
- readability: Mozilla Readability's test pages; the reference is Readability.js's expected.html.
- pagesignal: Google News pages (the L3S-GN1 annotations): the reference is the text the annotators
  marked as the article's full text (class x-nc-sel2), without headline, captions, comments and links.
- cleaneval, dragnet (optional, not in the default): older sets whose references hold every text
  block of the page worth keeping (comments, lists of links), not only the article.

Pages already in the shared corpus (same path or blob in an origin.json) are left out, and so are
pages whose reference is empty or shorter than MIN_WORDS. Writes MANIFEST.tsv and README.md.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import html
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
MIRRORS = ROOT.parent / ".mirror"
MIN_WORDS = 50  # a shorter reference is a stub (a video page, a gallery): recall on it says little
DEFAULT_SETS = ("scrapinghub", "cleanportaleval", "readability", "pagesignal")
ALL_SETS = (*DEFAULT_SETS, "cleaneval", "dragnet")
CLEANING = "https://github.com/j-szulc/html-cleaning-dataset-merged"
CLEANING_LICENSE = "not stated: the merged repository mirrors data sets it does not own (see its README.md)"
DRAGNET_COMMENTS = "!@#$%^&*()"  # dragnet's references put the page's comments after this line


@dataclass
class Page:
    """One page to write: its folder name, raw source bytes, reference and where they came from."""

    name: str
    source: bytes
    reference: str  # plain text, or the HTML of expected.html when ``reference_html``
    origin: dict
    reference_html: bool = False
    extra: dict[str, bytes] = field(default_factory=dict)  # other files copied as they are


class Mirror:
    """A bare git repository read without a work tree."""

    def __init__(self, git_dir: Path, url: str) -> None:
        if not (git_dir / "HEAD").exists():
            sys.exit(f"no git mirror at {git_dir}")
        self.git_dir, self.url = git_dir, url
        self.commit = self._git("rev-parse", "HEAD").decode().strip()

    def _git(self, *args: str) -> bytes:
        return subprocess.run(["git", f"--git-dir={self.git_dir}", *args], check=True, capture_output=True).stdout

    def files(self, folder: str) -> dict[str, str]:
        """Every file under ``folder`` at HEAD: path -> blob id."""
        out = self._git("ls-tree", "-r", "-z", "HEAD", "--", folder).decode()
        entries = (line.split("\t", 1) for line in out.split("\0") if line)
        return {path: meta.split()[2] for meta, path in entries}

    def read(self, blob: str) -> bytes:
        return self._git("cat-file", "blob", blob)


def origin(mirror: Mirror, name: str, paths: list[str], blob: str, license_: str, url: str | None) -> dict:
    """origin.json's fields, as the shared corpus writes them."""
    return {
        "name": name,
        "repository": mirror.url,
        "commit": mirror.commit,
        "paths": paths,
        "source_blob": blob,
        "license": license_,
        "original_url": url,
    }


def host(url: str) -> str:
    return urlsplit(url).netloc.removeprefix("www.") or "unknown"


def decode(data: bytes) -> str:
    """A reference file's text: UTF-8, else Windows-1252 (a few CleanEval and dragnet files)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


# -- the sets -------------------------------------------------------------------------------------------


def scrapinghub(mirror: Mirror) -> Iterator[Page]:
    truth = json.loads(mirror.read(mirror.files("ground-truth.json")["ground-truth.json"]))
    for path, blob in sorted(mirror.files("html").items()):
        page_id = Path(path).name.removesuffix(".html.gz")
        entry = truth.get(page_id, {})
        name = f"scrapinghub-{host(entry.get('url', ''))}-{page_id[:8]}"
        paths = [f"{path} (gunzipped)", f'ground-truth.json["{page_id}"].articleBody']
        yield Page(
            name,
            gzip.decompress(mirror.read(blob)),
            entry.get("articleBody") or "",
            origin(mirror, name, paths, blob, "MIT (LICENSE, Copyright (c) 2020 Scrapinghub)", entry.get("url")),
        )


def readability(mirror: Mirror) -> Iterator[Page]:
    files = mirror.files("test/test-pages")
    for path, blob in sorted(files.items()):
        folder, file = path.rsplit("/", 1)
        if file != "source.html" or f"{folder}/expected.html" not in files:
            continue
        name = f"readability-{folder.rsplit('/', 1)[1]}"
        paths = [path, f"{folder}/expected.html", f"{folder}/expected-metadata.json"]
        extra = {"expected-metadata.json": mirror.read(files[paths[2]])} if paths[2] in files else {}
        yield Page(
            name,
            mirror.read(blob),
            decode(mirror.read(files[paths[1]])),
            origin(mirror, name, paths, blob, "Apache-2.0 (LICENSE.md)", None),
            reference_html=True,
            extra=extra,
        )


def cleaning_pages(mirror: Mirror, folder: str, set_name: str, to_text) -> Iterator[Page]:
    """The pages of one folder of the merged cleaning repository: input/ID.html and GoldStandard/ID.txt."""
    golds = mirror.files(f"{folder}/GoldStandard")
    for path, blob in sorted(mirror.files(f"{folder}/input").items()):
        page_id = Path(path).name.removesuffix(".html")
        if not path.endswith(".html"):
            continue  # .DS_Store
        gold_path = f"{folder}/GoldStandard/{page_id}.txt"
        raw = mirror.read(golds[gold_path]) if gold_path in golds else b""
        url, reference = to_text(raw)
        name = f"{set_name}-{page_id}"
        yield Page(
            name, mirror.read(blob), reference, origin(mirror, name, [path, gold_path], blob, CLEANING_LICENSE, url)
        )


def cleaneval_text(raw: bytes) -> tuple[str | None, str]:
    """A CleanEval-style reference as plain text: the "URL:" header line and the <p>, <h>, <l>
    paragraph markers dropped, entities (&#8217; in CleanPortalEval) decoded."""
    text = decode(raw).lstrip()
    url = None
    if text.startswith("URL:"):
        first, _, text = text.partition("\n")
        url = first.removeprefix("URL:").strip() or None
    return url, html.unescape(re.sub(r"<[phl]>", "\n", text, flags=re.IGNORECASE))


def dragnet_text(raw: bytes) -> tuple[str | None, str]:
    """A dragnet reference without the comments that follow its marker line."""
    return cleaneval_text(raw.split(DRAGNET_COMMENTS.encode(), 1)[0])


def pagesignal_text(raw: bytes) -> tuple[str | None, str]:
    """The text an L3S-GN1 annotator marked as the article's full text. The annotated copy of the page
    wraps each marked run in <span class="x-nc-selN">: 1 headline, 2 full text, 3 supplemental (date,
    captions, copyright), 4 and 5 related links and comments, 0 not content."""
    if not raw.strip():
        return None, ""
    doc = lxml_html.document_fromstring(decode(raw).encode("utf-8"), parser=lxml_html.HTMLParser(encoding="utf-8"))
    marked = 'contains(concat(" ", normalize-space(@class), " "), " x-nc-sel2 ")'
    runs = doc.xpath(f"//*[{marked}][not(ancestor::*[{marked}])]")
    return None, "\n".join(run.text_content().strip() for run in runs)


def cleaning_sets(mirror: Mirror) -> dict:
    """The sets of the merged cleaning repository: set name -> its pages."""
    return {
        "cleanportaleval": lambda: cleaning_pages(mirror, "CleanPortalEval-master", "cleanportaleval", cleaneval_text),
        "pagesignal": lambda: cleaning_pages(mirror, "page-signal-master", "pagesignal", pagesignal_text),
        "cleaneval": lambda: (
            page
            for folder, tag in (("cleaneval-dev", "dev"), ("cleaneval-final", "final"))
            for page in cleaning_pages(mirror, folder, f"cleaneval-{tag}", cleaneval_text)
        ),
        "dragnet": lambda: cleaning_pages(mirror, "dragnet_data", "dragnet", dragnet_text),
    }


# -- writing --------------------------------------------------------------------------------------------


def load_scorer(corpus: Path):
    """The shared corpus's score.py: its tokens() counts the reference's words as the bench will."""
    spec = importlib.util.spec_from_file_location("corpus_score", corpus / "score.py")
    if spec is None or spec.loader is None or not (corpus / "score.py").exists():
        sys.exit(f"no score.py in {corpus}: the shared corpus is needed to leave its pages out")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shared_pages(corpus: Path) -> tuple[set[tuple[str, str]], set[str]]:
    """What the shared corpus already holds: (repository, path) pairs and source blob ids."""
    paths, blobs = set(), set()
    for file in corpus.glob("*/origin.json"):
        meta = json.loads(file.read_text(encoding="utf-8"))
        paths.update((meta["repository"], p.removesuffix(" (gunzipped)")) for p in meta.get("paths", [])[:1])
        blobs.add(meta.get("source_blob", ""))
    return paths, blobs


def reference_words(page: Page, scorer) -> int:
    if not page.reference_html:
        return sum(scorer.tokens(page.reference).values())
    doc = lxml_html.fromstring(page.reference or "<div></div>")
    for el in doc.xpath("//rt|//rp|//script|//style"):
        el.drop_tree()
    return sum(scorer.tokens(doc.text_content()).values())


def write(page: Page, out: Path) -> None:
    folder = out / page.name
    folder.mkdir(parents=True)
    (folder / "source.html").write_bytes(page.source)  # raw bytes: legacy encodings kept as they are
    expected = "expected.html" if page.reference_html else "expected.txt"
    (folder / expected).write_text(page.reference, encoding="utf-8")
    for file, data in page.extra.items():
        (folder / file).write_bytes(data)
    (folder / "origin.json").write_text(json.dumps(page.origin, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def clear(out: Path, set_name: str) -> None:
    """Remove the folders an earlier run wrote for this set, so a rebuild leaves no stale page."""
    for folder in out.glob(f"{set_name}-*"):
        if (folder / "origin.json").exists():
            shutil.rmtree(folder)


def skip_reason(page: Page, words: int, corpus: tuple[set, set], seen: set[str], digest: str) -> str:
    """Why ``page`` is left out ("" to keep it)."""
    corpus_paths, corpus_blobs = corpus
    path = page.origin["paths"][0].removesuffix(" (gunzipped)")
    if (page.origin["repository"], path) in corpus_paths or page.origin["source_blob"] in corpus_blobs:
        return "in the shared corpus"
    if digest in seen:
        return "same source as another page"
    if not page.reference.strip():
        return "no reference"
    if words < MIN_WORDS:
        return f"reference under {MIN_WORDS} words"
    return ""


def build(sets: dict, out: Path, corpus: Path, scorer) -> tuple[collections.Counter, dict]:
    """Write every page of ``sets`` not in the corpus and with a long enough reference; counts of
    written pages per set and of skipped pages per set and reason."""
    in_corpus = shared_pages(corpus)
    written: collections.Counter = collections.Counter()
    skipped: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    seen: set[str] = set()  # source digests: one page kept once even when two sets carry it
    for set_name, pages in sets.items():
        clear(out, set_name)
        for page in pages():
            digest = hashlib.sha256(page.source).hexdigest()
            if reason := skip_reason(page, reference_words(page, scorer), in_corpus, seen, digest):
                skipped[set_name][reason] += 1
                continue
            seen.add(digest)
            write(page, out)
            written[set_name] += 1
    return written, skipped


def write_manifest(out: Path, scorer) -> int:
    """MANIFEST.tsv for every page folder in ``out`` (all sets, this run's and earlier ones)."""
    rows = ["folder\tset\tsize_bytes\treference_words\toriginal_url"]
    for folder in sorted(p.parent for p in out.glob("*/origin.json")):
        meta = json.loads((folder / "origin.json").read_text(encoding="utf-8"))
        words = sum(scorer.tokens(scorer.reference_text(folder) or "").values())
        size = (folder / "source.html").stat().st_size
        rows.append(f"{folder.name}\t{folder.name.split('-', 1)[0]}\t{size}\t{words}\t{meta.get('original_url') or ''}")
    (out / "MANIFEST.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return len(rows) - 1


README = """# Article-extraction evaluation set

Rebuilt by `bench/extract_set.py` of talkingbook from public data sets with human references; not
committed anywhere (the pages belong to their publishers). Same layout as ../shared/corpus: each folder
holds `source.html` (raw bytes as stored upstream), `expected.txt` (plain-text reference) or
`expected.html` (Readability.js output, `readability-` only) and `origin.json` (repository, commit,
paths, blob, license). Pages already in the shared corpus are left out. Score with
`bench/bench_extract.py`. MANIFEST.tsv: folder, set, size, reference word count, original URL.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT.parent / "extract-eval", help="the set's folder")
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS), help=f"comma-separated, of: {', '.join(ALL_SETS)}")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus", help="pages to leave out")
    parser.add_argument("--scrapinghub", type=Path, default=MIRRORS / "scrapinghub+article-extraction-benchmark/repo")
    parser.add_argument("--cleaning", type=Path, default=MIRRORS / "j-szulc+html-cleaning-dataset-merged/repo")
    parser.add_argument("--readability", type=Path, default=MIRRORS / "mozilla+readability/repo")
    args = parser.parse_args()
    chosen = [s.strip().replace("-", "") for s in args.sets.split(",") if s.strip()]
    if unknown := [s for s in chosen if s not in ALL_SETS]:
        sys.exit(f"unknown sets: {', '.join(unknown)} (known: {', '.join(ALL_SETS)})")

    makers = {}
    if "scrapinghub" in chosen:
        mirror = Mirror(args.scrapinghub, "https://github.com/scrapinghub/article-extraction-benchmark")
        makers["scrapinghub"] = lambda: scrapinghub(mirror)
    if "readability" in chosen:
        moz = Mirror(args.readability, "https://github.com/mozilla/readability")
        makers["readability"] = lambda: readability(moz)
    if set(chosen) & {"cleanportaleval", "pagesignal", "cleaneval", "dragnet"}:
        makers |= cleaning_sets(Mirror(args.cleaning, CLEANING))
    sets = {name: makers[name] for name in chosen}

    scorer = load_scorer(args.corpus)
    args.out.mkdir(parents=True, exist_ok=True)
    written, skipped = build(sets, args.out, args.corpus, scorer)
    (args.out / "README.md").write_text(README, encoding="utf-8")
    total = write_manifest(args.out, scorer)
    for name in sets:
        reasons = ", ".join(f"{n} {why}" for why, n in skipped[name].most_common()) or "none"
        print(f"{name:16} {written[name]:5} pages written; skipped: {reasons}")
    print(f"{args.out}: {total} pages in MANIFEST.tsv")


if __name__ == "__main__":
    main()
