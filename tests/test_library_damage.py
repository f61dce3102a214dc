"""No bad book or setting breaks the library: a setting that cannot be written in a feed is refused on
the way in and ignored (with a warning) on the way out; a damaged manifest, a folder name that is not
UTF-8 or a damaged memo costs at most that book, listed among the skipped folders with its reason;
the JSON the library writes never holds NaN or Infinity."""

from __future__ import annotations

import json
import os
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from conftest import DATA, SAMPLE
from talkingbook.library import CATALOG, read_library
from talkingbook.library.model import read_book
from talkingbook.serve import dynamic_routes
from test_library import with_mp3, write_book

SETTINGS = ".talkingbook-library.json"


def strict_json(text: str):
    """JSON as the web reads it: NaN and Infinity are not JSON."""

    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def assert_library_whole(folder: Path) -> None:
    """Every file of the library parses, by the parsers apps use, and what `serve` answers too."""
    assert not feedparser.parse(str(folder / "feed.xml")).bozo
    etree.parse(str(folder / "index.html"), etree.HTMLParser(recover=False))
    for path in (folder / CATALOG).iterdir():
        if path.suffix == ".json":
            strict_json(path.read_text("utf-8"))
        elif path.suffix == ".xml":
            etree.parse(str(path))
    strict_json((folder / CATALOG / ".books.json").read_text("utf-8"))
    routes = dynamic_routes(folder)
    base = "http://127.0.0.1:8000/"
    assert routes["feed.xml"](base, {}) is not None
    for name in ("newest.xml", "newest.json", "languages.json"):
        body, _ = routes[f"{CATALOG}/{{name}}"](base, {"name": name})
        strict_json(body) if name.endswith(".json") else etree.fromstring(body)
    for kind, key in (("xml", "q"), ("json", "query")):
        assert routes[f"{CATALOG}/search.{kind}"](base, {key: "book"}) is not None


# -- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["--title", "--description"])
@pytest.mark.parametrize("value", ["bad\x01title", "nul\x00", "del\x7f", "c1\x85", "not utf-8 \udcff"])
def test_a_setting_no_feed_can_hold_is_refused_and_nothing_is_saved(tmp_path, run, option, value):
    write_book(tmp_path, "good", "2026-01-01")
    code, out, err = run("library", tmp_path, option, value)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {option} ") and "nothing was saved" in err
    assert not (tmp_path / SETTINGS).exists()
    assert run("library", tmp_path)[0] == 0  # and the library is as it was


@pytest.mark.parametrize(
    "saved",
    [
        {"title": "bad\x01title"},
        {"description": "a\x00b"},
        {"title": "ok", "description": "c1\x9f"},
        {"base_url": "javascript:alert(1)//"},
        {"base_url": "https://example.org/a b/"},
        {"base_url": "https://example.org/\x01/"},
        {"base_url": "https://example.org/\u202egnp.exe/"},  # a right-to-left override, written by hand
        {"base_url": "https://bücher.example/"},  # `--base-url` writes IDNA; a feed needs ASCII
        {"title": 5, "description": ["a"]},
    ],
)
def test_a_bad_saved_setting_is_ignored_with_a_warning(tmp_path, run, caplog, saved):
    """A settings file written by an earlier version (or by hand) with a value no feed can hold: every
    refresh, `serve` and every later conversion carry on without it, and say so."""
    write_book(tmp_path, "good", "2026-01-01")
    with_mp3(tmp_path, "good")
    (tmp_path / SETTINGS).write_text(json.dumps(saved))
    code, out, err = run("library", tmp_path)
    assert code == 0, err
    assert out.splitlines() == ["good: Book good (en, 2026-01-01)"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(SETTINGS in w and "ignored" in w for w in warnings), warnings
    assert_library_whole(tmp_path)
    title = feedparser.parse(str(tmp_path / "feed.xml")).feed.title
    assert title == (saved["title"] if saved.get("title") == "ok" else tmp_path.name)


def test_conversions_into_a_library_with_a_bad_saved_title_succeed(tmp_path, run):
    """Each later conversion refreshes the library: one said 'internal error' and a batch stopped after
    its first book for as long as the bad title was saved."""
    (tmp_path / SETTINGS).write_text(json.dumps({"title": "bad\x01title"}))
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, "--no-audio", "-q")
    assert code == 0, err
    code, _, err = run("convert", DATA / "nested.html", DATA / "kitchen-sink.html", "-o", tmp_path, "--no-audio")
    assert code == 0 and err.strip().splitlines()[-1] == "converted 2, unchanged 0, failed 0", err
    assert len(read_library(tmp_path).books) == 3
    assert_library_whole(tmp_path)
    assert run("library", tmp_path, "--title", "Good")[0] == 0  # set again, it is saved clean
    assert json.loads((tmp_path / SETTINGS).read_text())["title"] == "Good"


# -- damaged books -------------------------------------------------------------------------------


def damage_manifest(folder: Path, slug: str, change) -> None:
    manifest = folder / slug / "manifest.json"
    data = json.loads(manifest.read_text())
    change(data)
    manifest.write_text(json.dumps(data))  # json writes NaN and Infinity as such, as a buggy writer would


def sections(*durations):
    def change(data):
        data.pop("duration")
        data["sections"] = [{"duration": d} for d in durations]

    return change


# (what is wrong, how to damage the book "bad", whether it is still listed, what the warning says)
DAMAGES = [
    ("duration NaN", lambda d: d.update(duration=float("nan")), True, "duration nan"),
    ("duration Infinity", lambda d: d.update(duration=float("inf")), True, "duration inf"),
    ("duration -Infinity", lambda d: d.update(duration=float("-inf")), True, "duration -inf"),
    ("duration negative", lambda d: d.update(duration=-5), True, "duration -5"),
    ("duration huge", lambda d: d.update(duration=1e300), True, "duration 1e+300"),
    ("duration of 400 digits", lambda d: d.update(duration=10**400), True, "not a length"),
    ("a section's duration NaN", sections(1.5, float("nan")), True, "duration nan"),
    ("language en-page2", lambda d: d["metadata"].update(language="en-page2"), True, None),
    ("EPUB's file name not UTF-8", lambda d: d.update(epub=os.fsdecode(b"bad\xff.epub")), False, "not UTF-8"),
]


def expect_whole_library(
    folder: Path, run, caplog, listed: bool, said: str | None, bad: str = "bad", shown: str = "bad"
) -> None:
    code, out, err = run("library", folder)
    assert code == 0, err
    slugs = [line.split(":")[0] for line in out.splitlines()]
    assert "good" in slugs and (bad in slugs) == listed, out
    library = read_library(folder)
    assert [s for s, _ in library.skipped] == ([] if listed else [shown])
    assert_library_whole(folder)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if said is not None:
        assert any(said in w and shown in w for w in warnings), warnings


@pytest.mark.parametrize(("damage", "change", "listed", "said"), DAMAGES, ids=[d[0] for d in DAMAGES])
def test_one_damaged_manifest_costs_at_most_its_own_book(tmp_path, run, caplog, damage, change, listed, said):
    for slug in ("good", "bad"):
        write_book(tmp_path, slug, "2026-01-01")
        with_mp3(tmp_path, slug)
    (tmp_path / "bad" / os.fsdecode(b"bad\xff.epub")).write_bytes(b"PK")  # a Latin-1 file name
    damage_manifest(tmp_path, "bad", change)
    expect_whole_library(tmp_path, run, caplog, listed, said)
    if listed and damage.startswith(("duration", "a section")):  # listed without a length it cannot have
        newest = strict_json((tmp_path / CATALOG / "newest.json").read_text())
        (bad,) = [p for p in newest["publications"] if p["metadata"]["identifier"] == "urn:test:bad"]
        assert "duration" not in bad["metadata"]
        items = etree.parse(str(tmp_path / "feed.xml")).iterfind("channel/item")
        durations = {i.findtext("guid"): i.findtext("{*}duration") for i in items}
        assert durations == {"urn:test:good": "61", "urn:test:bad": None}
    if damage == "language en-page2":
        english = feedparser.parse(str(tmp_path / CATALOG / "language-en.xml"))
        assert sorted(e.id for e in english.entries) == ["urn:test:bad", "urn:test:good"]


def test_a_book_folder_whose_name_is_not_utf8_is_skipped_with_its_reason(tmp_path, run, caplog):
    bad = os.fsdecode(b"caf\xe9")  # a Latin-1 name: its links cannot be written
    for slug in ("good", bad):
        write_book(tmp_path, slug, "2026-01-01")
    # Named with the bytes escaped: a message never carries the lone surrogates Python decodes them to.
    expect_whole_library(tmp_path, run, caplog, listed=False, said="not UTF-8", bad=bad, shown="caf\\xe9")
    assert "1 folders skipped" in run("library", tmp_path)[2]


@pytest.mark.parametrize(
    "entry",
    [
        {"duration": "long"},
        {"duration": float("nan")},
        {"title": 5},
        {"title": "a\x01b"},
        {"epub_size": "big"},
        {"epub": "../../etc/passwd"},
        {"cover": "/etc/passwd"},
        {"language": "<en>"},
        {"modified": "yesterday"},
        {"slug": "other"},
    ],
)
def test_a_wrongly_typed_memo_entry_is_read_again_from_the_manifest(tmp_path, run, caplog, entry):
    for slug in ("good", "bad"):
        write_book(tmp_path, slug, "2026-01-01")
    assert run("library", tmp_path)[0] == 0
    memo = tmp_path / CATALOG / ".books.json"
    data = json.loads(memo.read_text())
    data["bad"]["entry"].update(entry)
    memo.write_text(json.dumps(data))
    expect_whole_library(tmp_path, run, caplog, listed=True, said=None)
    (listed,) = [b for b in read_library(tmp_path).books if b.slug == "bad"]
    assert listed == read_book(tmp_path / "bad") and "passwd" not in memo.read_text()
