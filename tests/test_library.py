"""The output folder is a library: three articles converted into one folder give one podcast feed
(podcastparser, feedparser), OPDS 1.2 and 2.0 catalogs (Readium's parser, feedparser) and a page,
all derived from the book folders on disk: concurrent runs both listed, a run killed with SIGKILL
leaves catalogs listing exactly the books there, a damaged manifest skips its book with a warning."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlparse
from urllib.request import url2pathname

import feedparser
import podcastparser
import pytest
from lxml import etree, html
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from conftest import ROOT, SAMPLE, book_names, need
from talkingbook.cli import main
from talkingbook.library import (
    CATALOG,
    catalog_file,
    read_library,
    render_feed,
    render_search,
    search,
)
from talkingbook.library.feed import podcast_guid
from talkingbook.library.opds import ATOM, PAGE_SIZE
from talkingbook.system.publish import MARKER

CORPUS = ROOT.parent / "shared" / "corpus"
# Two real pages of the shared corpus beside the sample, both saved as source.html; where the corpus is
# absent (a checkout on its own), two pages written by the fixture stand in for them, with what the
# tests below look for (an article "Mozilla", one on binge eating, both in English, both source.html).
REAL = [CORPUS / "mr-wikipedia" / "source.html", CORPUS / "ae-healthline.com" / "source.html"]
PROSE = "<p>" + "It began as a small project and grew into something many people now use every day. " * 8 + "</p>"
STAND_INS = [
    ("Mozilla", f"<h1>Mozilla</h1>{PROSE}<h2>History</h2>{PROSE}<h2>Software</h2>{PROSE}"),
    ("What binge eating is", f"<h1>What binge eating is</h1>{PROSE}<h2>Signs</h2>{PROSE}"),
]


def library_pages(folder: Path) -> list[Path]:
    """The sample and the two pages named source.html (the corpus's, or stand-ins written in ``folder``)."""
    if all(p.is_file() for p in REAL):
        return [SAMPLE, *REAL]
    pages = []
    for n, (title, body) in enumerate(STAND_INS):
        page = folder / f"site-{n}" / "source.html"
        page.parent.mkdir(parents=True)
        page.write_text(
            f"<html lang='en'><head><title>{title}</title></head><body><article>{body}</article></body></html>",
            encoding="utf-8",
        )
        pages.append(page)
    return [SAMPLE, *pages]


def long_page(folder: Path) -> Path:
    """An article long enough that a conversion is still running when the test kills it."""
    prose = " ".join(f"Sentence {n} of a long report on listening, read aloud by a voice." for n in range(12))
    sections = "".join(f"<h2>Part {n}</h2>" + f"<p>{prose}</p>" * 8 for n in range(60))
    page = folder / "long-report.html"
    page.write_text(
        f"<html><head><title>A long report</title></head><body><article><h1>A long report</h1>"
        f"{sections}</article></body></html>",
        encoding="utf-8",
    )
    return page


JS = ROOT / "tests" / "js"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    """The sample and two corpus pages converted one after the other into one folder (fake voice)."""
    out = tmp_path_factory.mktemp("library") / "dist"
    for page in library_pages(out.parent):
        assert main(["convert", str(page), "-o", str(out), "--engine", "fake", "-q"]) == 0, page
    return out


def manifests(folder: Path) -> dict[str, dict]:
    return {name: json.loads((folder / name / "manifest.json").read_text("utf-8")) for name in book_names(folder)}


def local(url: str) -> Path:
    return Path(url2pathname(urlparse(url).path))


def newest_first(folder: Path) -> list[str]:
    """The identifiers of the books, newest first, by their manifests (article date, else modification date)."""
    books = manifests(folder).items()

    def when(item):
        name, m = item
        return (m["metadata"]["date"] or m["modified"], m["modified"], name)  # ties: by folder name

    return [m["metadata"]["identifier"] for _, m in sorted(books, key=when, reverse=True)]


def test_two_pages_saved_under_one_name_are_two_books(library):
    """Two corpus pages are both source.html: the second goes to source-2, the first stays."""
    assert book_names(library) == sorted([SAMPLE.stem, "source", "source-2"])
    titles = {m["metadata"]["title"] for m in manifests(library).values()}
    assert len(titles) == 3


def test_podcastparser_reads_three_episodes_each_a_chaptered_mp3(library):
    feed_url = (library / "feed.xml").as_uri()
    with open(library / "feed.xml", "rb") as stream:
        parsed = podcastparser.parse(feed_url, stream)
    episodes = parsed["episodes"]
    assert len(episodes) == 3
    by_guid = {m["metadata"]["identifier"]: (name, m) for name, m in manifests(library).items()}
    assert sorted(e["guid"] for e in episodes) == sorted(newest_first(library))  # it sorts them by date itself
    for episode in episodes:
        name, manifest = by_guid[episode["guid"]]
        (enclosure,) = episode["enclosures"]
        mp3 = local(enclosure["url"])
        assert mp3 == library / name / f"{name}.mp3" and enclosure["mime_type"] == "audio/mpeg"
        assert enclosure["file_size"] == mp3.stat().st_size
        assert mp3.read_bytes()[:3] == b"ID3" and ID3(mp3).getall("CHAP") and ID3(mp3).getall("CTOC")
        assert episode["total_time"] == round(manifest["duration"])
        assert episode["title"] == manifest["metadata"]["title"]


def test_feedparser_reads_the_feed_newest_first_with_chapters_and_transcripts(library):
    parsed = feedparser.parse(str(library / "feed.xml"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.itunes_type == "episodic"
    assert [e.id for e in parsed.entries] == newest_first(library)  # in the document's own order
    dates = [e.published_parsed for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    tree = etree.parse(str(library / "feed.xml"))
    ns = {"podcast": "https://podcastindex.org/namespace/1.0", "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}
    for item in tree.iterfind("channel/item"):
        chapters = json.loads((library / item.find("podcast:chapters", ns).get("url")).read_text("utf-8"))
        assert chapters["chapters"] and all("title" in c for c in chapters["chapters"])
        transcript = library / item.find("podcast:transcript", ns).get("url")
        assert transcript.read_text("utf-8").startswith("WEBVTT")
        assert (library / item.find("itunes:image", ns).get("href")).is_file()


def test_the_feed_for_a_base_url_is_absolute_with_a_podcast_guid(library):
    """What `serve` calls per request host: enclosures absolute, podcast:guid from the feed's URL."""
    base = "https://example.org/talks/"
    data = render_feed(read_library(library), base)
    parsed = podcastparser.parse(base + "feed.xml", __import__("io").BytesIO(data))
    assert all(e["enclosures"][0]["url"].startswith(base) for e in parsed["episodes"])
    guid = etree.fromstring(data).findtext("channel/{https://podcastindex.org/namespace/1.0}guid")
    assert guid == str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"), "example.org/talks/feed.xml"))
    assert guid == podcast_guid(base + "feed.xml")
    assert b'url="feed.xml' not in data and b"../" not in data


def readium(path: Path) -> dict:
    """What Readium's OPDS parser (r2-opds-js, Thorium's) reads in a catalog file."""
    need(
        shutil.which("node") is not None and (JS / "node_modules" / "r2-opds-js").is_dir(),
        "node and r2-opds-js (npm ci --prefix tests/js)",
    )
    proc = subprocess.run(
        ["node", str(JS / "opds.js"), str(path)], capture_output=True, text=True, timeout=120, check=False, cwd=JS
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.validators
@pytest.mark.parametrize("kind", ["xml", "json"])
def test_readium_reads_three_publications_each_with_an_epub_acquisition_link(library, kind):
    catalog = library / CATALOG
    root = readium(catalog / f"index.{kind}")
    newest = next(link for link in root["navigation"] if "http://opds-spec.org/sort/new" in link["rel"])
    feed = readium(catalog / newest["href"])
    assert len(feed["publications"]) == 3
    assert [p["identifier"] for p in feed["publications"]] == newest_first(library)
    for publication in feed["publications"]:
        epubs = [
            link
            for link in publication["links"]
            if "http://opds-spec.org/acquisition" in link["rel"] and link["type"] == "application/epub+zip"
        ]
        assert len(epubs) == 1
        epub = (catalog / epubs[0]["href"]).resolve()
        assert zipfile.ZipFile(epub).read("mimetype") == b"application/epub+zip"
        audio = {link["type"] for link in publication["links"] if link["type"] and link["type"].startswith("audio/")}
        assert audio == {"audio/mp4", "audio/mpeg"}
        assert publication["images"] and (catalog / publication["images"][0]["href"]).resolve().is_file()
        assert publication["language"] == ["en"] and publication["title"]
    languages = readium(catalog / next(link["href"] for link in root["navigation"] if link["title"] == "By language"))
    assert [link["title"] for link in languages["navigation"]] == ["English (en)"]


def test_feedparser_reads_the_opds_1_2_catalog(library):
    catalog = library / CATALOG
    root = feedparser.parse(str(catalog / "index.xml"))
    assert not root.bozo and [e.title for e in root.entries] == ["Newest", "By language"]
    newest = feedparser.parse(str(catalog / root.entries[0].links[0].href))
    assert not newest.bozo and [e.id for e in newest.entries] == newest_first(library)
    for entry in newest.entries:
        kinds = {(link.rel, link.type) for link in entry.links}
        assert ("http://opds-spec.org/acquisition", "application/epub+zip") in kinds
        assert ("http://opds-spec.org/image/thumbnail", "image/png") in kinds
        assert entry.summary is not None and entry.dcterms_language == "en"  # OPDS 1.2: dc is DCMI terms
        for link in entry.links:  # every link leads to a file of the library
            assert (catalog / link.href).resolve().is_file(), link.href


def test_the_library_page_lists_every_book_and_announces_the_feed_and_catalogs(library):
    page = html.parse(str(library / "index.html")).getroot()
    alternates = {link.get("type"): link.get("href") for link in page.iterfind(".//head/link[@rel='alternate']")}
    assert alternates["application/rss+xml"] == "feed.xml"
    assert alternates["application/atom+xml;profile=opds-catalog;kind=navigation"] == "catalog/index.xml"
    assert alternates["application/opds+json"] == "catalog/index.json"
    assert all((library / href).is_file() for href in alternates.values())
    titles = [h.text_content() for h in page.iterfind(".//main//article/h2")]
    by_id = {m["metadata"]["identifier"]: m["metadata"]["title"] for m in manifests(library).values()}
    assert titles == [by_id[i] for i in newest_first(library)]
    for link in page.iterfind(".//main//a"):
        assert (library / link.get("href")).is_file(), link.get("href")
    assert all(img.get("alt") == "" for img in page.iterfind(".//img"))


def test_search_finds_titles_for_serve(library):
    books = read_library(library)
    found = search(books, "binge EATING")
    assert [b.slug for b in found] == ["source-2"]
    assert search(books, "no such words here") == ()
    parsed = feedparser.parse(render_search(books, "mozilla", "http://127.0.0.1:8000/", "xml"))
    assert [e.title for e in parsed.entries] == ["Mozilla"]
    assert [link.href for link in parsed.feed.links if link.rel == "self"] == [
        "http://127.0.0.1:8000/catalog/search.xml?q=mozilla"
    ]
    assert not [link for link in parsed.feed.links if link.rel in ("next", "previous")]  # one page of results
    assert json.loads(render_search(books, "drum", None, "json"))["publications"][0]["metadata"]["title"].startswith(
        "Japan"
    )


def write_book(folder: Path, slug: str, date: str, language: str = "en") -> None:
    """A minimal book folder as the library reads it: a manifest and its EPUB."""
    book = folder / slug
    book.mkdir(parents=True)
    (book / f"{slug}.epub").write_bytes(b"PK")
    (book / MARKER).write_text(json.dumps({"generator": "talkingbook", "article": slug}))
    (book / "manifest.json").write_text(
        json.dumps(
            {
                "generator": "talkingbook test",
                "epub": f"{slug}.epub",
                "modified": f"{date}T00:00:00+00:00",
                "metadata": {
                    "title": f"Book {slug}",
                    "language": language,
                    "date": date,
                    "identifier": f"urn:test:{slug}",
                },
            }
        )
    )


def test_acquisition_feeds_are_paginated_in_both_formats(tmp_path, run):
    for n in range(PAGE_SIZE * 2 + 3):
        write_book(tmp_path, f"b{n:03d}", f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}", "fr" if n % 3 == 0 else "en")
    assert run("library", tmp_path)[0] == 0
    library = read_library(tmp_path)
    for kind, next_of in (
        ("xml", lambda d: next((link.href for link in d.feed.links if link.rel == "next"), None)),
        ("json", lambda d: next((link["href"] for link in d["links"] if link["rel"] == "next"), None)),
    ):
        seen, name, pages = [], f"newest.{kind}", 0
        while name:
            text = (tmp_path / CATALOG / name).read_bytes()
            assert text == catalog_file(library, name, None)  # what serve would answer is what is on disk
            data = feedparser.parse(text) if kind == "xml" else json.loads(text)
            seen += (
                [e.id for e in data.entries]
                if kind == "xml"
                else [p["metadata"]["identifier"] for p in data["publications"]]
            )
            name, pages = next_of(data), pages + 1
        assert pages == 3 and seen == [b.identifier for b in library.books] and len(set(seen)) == len(seen)
    french = feedparser.parse(str(tmp_path / CATALOG / "language-fr.xml"))
    assert len(french.entries) == sum(b.language == "fr" for b in library.books) == 35
    # a book removed is forgotten at the next refresh, and so are the pages no longer needed
    for book in library.books[PAGE_SIZE:]:
        shutil.rmtree(tmp_path / book.slug)
    assert run("library", tmp_path)[0] == 0
    assert not (tmp_path / CATALOG / "newest-page2.xml").exists()
    assert len(feedparser.parse(str(tmp_path / CATALOG / "newest.xml")).entries) == PAGE_SIZE


def _next_page(parsed, kind: str) -> str | None:
    """The page number of a search page's next link, if any."""
    links = parsed.feed.links if kind == "xml" else [SimpleNamespace(**link) for link in parsed["links"]]
    url = next((link.href for link in links if link.rel == "next"), None)
    return None if url is None else parse_qs(urlparse(url).query)["page"][0]


@pytest.mark.parametrize("kind", ["xml", "json"])
def test_search_results_are_paginated_with_their_true_total(tmp_path, kind):
    """55 books match: the first page says 55 and leads to the second, which has the last 5; the query's
    page parameter is honoured (by `serve` too), and a page past the end is not found."""
    from talkingbook.serve import dynamic_routes

    for n in range(PAGE_SIZE + 5):
        write_book(tmp_path, f"b{n:03d}", f"2026-01-{1 + n % 28:02d}")
    write_book(tmp_path, "other", "2026-01-01")
    (tmp_path / "other" / "manifest.json").write_text(
        (tmp_path / "other" / "manifest.json").read_text().replace("Book other", "A different title")
    )
    library = read_library(tmp_path)
    answer = dynamic_routes(tmp_path)[f"{CATALOG}/search.{kind}"]
    key = "q" if kind == "xml" else "query"
    seen, page, pages = [], "1", 0
    while page:
        data, _ = answer("http://127.0.0.1:8000/", {key: "book", "page": page})
        assert data == render_search(library, "book", "http://127.0.0.1:8000/", kind, page)
        parsed = feedparser.parse(data) if kind == "xml" else json.loads(data)
        if kind == "xml":
            assert parsed.feed.opensearch_totalresults == "55", parsed.feed
            seen += [e.id for e in parsed.entries]
        else:
            assert parsed["metadata"]["numberOfItems"] == 55 and parsed["metadata"]["currentPage"] == int(page)
            seen += [p["metadata"]["identifier"] for p in parsed["publications"]]
        page, pages = _next_page(parsed, kind), pages + 1
    assert pages == 2 and len(seen) == len(set(seen)) == 55
    assert seen == [b.identifier for b in search(library, "book")]
    last = render_search(library, "book", None, kind, 2)
    rels = (
        {link.rel for link in feedparser.parse(last).feed.links}
        if kind == "xml"
        else {link["rel"] for link in json.loads(last)["links"]}
    )
    assert {"previous", "first", "last"} <= rels and "next" not in rels
    for beyond in ("3", "0", "two", "-1"):
        assert render_search(library, "book", None, kind, beyond) is None
        assert answer("http://127.0.0.1:8000/", {key: "book", "page": beyond}) is None  # 404
    assert render_search(library, "nothing like it", None, kind) is not None  # no result: one empty page


def test_languages_are_grouped_by_primary_language_and_counted_in_good_english(tmp_path, run):
    for slug, language in (("us", "en-US"), ("gb", "en-GB"), ("plain", "en"), ("fr", "fr-CA")):
        write_book(tmp_path, slug, "2026-01-01", language)
    assert run("library", tmp_path)[0] == 0
    catalog = tmp_path / CATALOG
    languages = feedparser.parse(str(catalog / "languages.xml"))
    assert [(e.title, e.content[0].value) for e in languages.entries] == [
        ("English (en)", "3 articles"),
        ("French (fr)", "1 article"),
    ]
    english = feedparser.parse(str(catalog / "language-en.xml"))
    assert sorted(e.dcterms_language for e in english.entries) == ["en", "en-GB", "en-US"]
    assert sorted(p.name for p in catalog.glob("language-*.json")) == ["language-en.json", "language-fr.json"]
    navigation = json.loads((catalog / "languages.json").read_text())["navigation"]
    assert [(n["title"], n["properties"]["numberOfItems"]) for n in navigation] == [
        ("English (en)", 3),
        ("French (fr)", 1),
    ]


def test_opds_1_entries_carry_their_identifier_as_dc_identifier(tmp_path, run):
    write_book(tmp_path, "one", "2026-01-01")
    assert run("library", tmp_path)[0] == 0
    root = etree.parse(str(tmp_path / CATALOG / "newest.xml"))
    ids = root.xpath("//a:entry/dc:identifier/text()", namespaces={"a": ATOM, "dc": "http://purl.org/dc/terms/"})
    assert ids == ["urn:test:one"]


def test_each_author_is_an_author_of_the_catalog_entry(tmp_path, run):
    write_book(tmp_path, "two", "2026-01-01")
    manifest = tmp_path / "two" / "manifest.json"
    data = json.loads(manifest.read_text("utf-8"))
    data["metadata"].update(author="Ann Lee, Bob Stone", authors=["Ann Lee", "Bob Stone"])
    manifest.write_text(json.dumps(data))
    write_book(tmp_path, "old", "2025-01-01")  # a manifest from before the list: its one line
    manifest = tmp_path / "old" / "manifest.json"
    data = json.loads(manifest.read_text("utf-8"))
    data["metadata"]["author"] = "Cy Twombly"
    manifest.write_text(json.dumps(data))
    for _ in range(2):  # the second run reads the memo
        assert run("library", tmp_path)[0] == 0
        parsed = feedparser.parse(str(tmp_path / CATALOG / "newest.xml"))
        assert [[a["name"] for a in e.authors] for e in parsed.entries] == [["Ann Lee", "Bob Stone"], ["Cy Twombly"]]
        opds2 = json.loads((tmp_path / CATALOG / "newest.json").read_text("utf-8"))
        assert [p["metadata"]["author"] for p in opds2["publications"]] == [
            [{"name": "Ann Lee"}, {"name": "Bob Stone"}],
            {"name": "Cy Twombly"},
        ]


def with_mp3(folder: Path, slug: str, duration: float = 61.0) -> None:
    """Give a book of write_book a full-length MP3 (an episode of the library's podcast)."""
    (folder / slug / f"{slug}.mp3").write_bytes(b"ID3" + bytes(100))
    manifest = folder / slug / "manifest.json"
    data = json.loads(manifest.read_text())
    data.update(audiobook={"mp3": f"{slug}.mp3"}, duration=duration)
    manifest.write_text(json.dumps(data))


ITUNES = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "atom": ATOM}


def test_the_library_feed_has_the_channel_tags_podcast_apps_want(tmp_path, run):
    """Books in en-US and en-GB: the channel's language is en; itunes:author and itunes:owner name the
    library; itunes:explicit is Apple's false; atom:link rel=self is the feed's URL when it is known."""
    for slug, language in (("us", "en-US"), ("gb", "en-GB")):
        write_book(tmp_path, slug, "2026-01-01", language)
        with_mp3(tmp_path, slug)
    assert run("library", tmp_path, "--title", "Talks")[0] == 0
    parsed = feedparser.parse(str(tmp_path / "feed.xml"))
    assert not parsed.bozo and parsed.feed.language == "en" and len(parsed.entries) == 2
    assert parsed.feed.author == "Talks" and parsed.feed.publisher_detail.name == "Talks"  # itunes:owner
    channel = etree.parse(str(tmp_path / "feed.xml")).find("channel")
    assert channel.findtext("itunes:explicit", namespaces=ITUNES) == "false"
    assert channel.find("atom:link", ITUNES) is None  # no address known: no self link
    with open(tmp_path / "feed.xml", "rb") as stream:
        podcast = podcastparser.parse((tmp_path / "feed.xml").as_uri(), stream)
    assert podcast["explicit"] is False and len(podcast["episodes"]) == 2
    base = "https://example.org/talks/"
    data = render_feed(read_library(tmp_path), base)
    assert [link.href for link in feedparser.parse(data).feed.links if link.rel == "self"] == [base + "feed.xml"]
    assert feedparser.parse(data).feed.link == base + "index.html"


def test_a_damaged_or_missing_manifest_skips_that_book_with_a_warning(tmp_path, run, caplog):
    for slug in ("good", "damaged", "missing", "foreign"):
        write_book(tmp_path, slug, "2026-01-01")
    (tmp_path / "damaged" / "manifest.json").write_text('{"generator": "talkingbook 1", "metadata": {"ti')
    (tmp_path / "missing" / "manifest.json").unlink()
    (tmp_path / "foreign" / "manifest.json").write_text("[1, 2, 3]")
    code, out, err = run("library", tmp_path)
    assert code == 0, err
    assert out.splitlines() == ["good: Book good (en, 2026-01-01)"]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    for slug in ("damaged", "missing", "foreign"):
        assert any(str(tmp_path / slug) in w and "skipped" in w for w in warnings), warnings
    assert "3 folders skipped" in err
    (tmp_path / "someones").mkdir()  # a folder that is no book at all: passed over in silence
    caplog.clear()
    code, out, err = run("library", tmp_path)
    assert code == 0 and len(out.splitlines()) == 1
    assert not any("someones" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert [e.title for e in feedparser.parse(str(tmp_path / CATALOG / "newest.xml")).entries] == ["Book good"]


def test_someone_elses_index_html_is_left_alone(tmp_path, run, caplog):
    (tmp_path / "index.html").write_text("<p>my own page</p>")
    write_book(tmp_path, "good", "2026-01-01")
    code, _, err = run("library", tmp_path, "--title", "Talks", "--base-url", "https://example.org/t/")
    assert code == 0, err
    assert any("index.html: not written by talkingbook" in r.getMessage() for r in caplog.records)
    assert (tmp_path / "index.html").read_text() == "<p>my own page</p>"
    assert feedparser.parse(str(tmp_path / "feed.xml")).feed.title == "Talks"
    assert run("library", tmp_path)[0] == 0  # the options are kept for the refreshes that follow
    assert feedparser.parse(str(tmp_path / "feed.xml")).feed.title == "Talks"
    assert "https://example.org/t/good/good.epub" in (tmp_path / CATALOG / "newest.xml").read_text()


def test_a_page_named_catalog_does_not_take_the_catalog_folder(tmp_path, run):
    page = tmp_path / "in" / "catalog.html"
    page.parent.mkdir()
    page.write_bytes(SAMPLE.read_bytes())
    assert run("convert", page, "-o", tmp_path / "out", "--no-audio", "-q")[0] == 0
    assert book_names(tmp_path / "out") == ["catalog-book"]
    assert (tmp_path / "out" / CATALOG / "index.xml").is_file()


def convert_in_background(page: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "talkingbook", "convert", str(page), "-o", str(out), "--engine", "fake", "-q"],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_two_conversions_at_once_are_both_listed(tmp_path):
    pages = []
    for n, title in enumerate(("Rivers of the north", "Lakes of the south")):
        page = tmp_path / f"in{n}" / "source.html"
        page.parent.mkdir()
        text = f"This page is about {title.lower()}. It has a few sentences of its own. " * 12
        page.write_text(
            f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1><p>{text}</p><h2>More</h2><p>{text}</p></article></body></html>"
        )
        pages.append(page)
    runs = [convert_in_background(page, tmp_path / "out") for page in pages]
    for proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert book_names(tmp_path / "out") == ["source", "source-2"]
    feed = feedparser.parse(str(tmp_path / "out" / "feed.xml"))
    assert sorted(e.title for e in feed.entries) == ["Lakes of the south", "Rivers of the north"]
    assert len({e.id for e in feed.entries}) == 2  # both pages are source.html: two articles all the same
    catalog = feedparser.parse(str(tmp_path / "out" / CATALOG / "newest.xml"))
    assert sorted(e.title for e in catalog.entries) == ["Lakes of the south", "Rivers of the north"]


def test_a_conversion_killed_with_sigkill_leaves_catalogs_listing_the_books_on_disk(library, tmp_path, run):
    out = tmp_path / "out"
    shutil.copytree(library, out, symlinks=True)
    proc = convert_in_background(long_page(tmp_path), out)
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".partial") for p in out.iterdir()):  # killed mid-run
        assert proc.poll() is None and time.monotonic() < deadline, "the conversion ended before it was killed"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    code, out_text, err = run("library", out)
    assert code == 0, err
    on_disk = {m["metadata"]["identifier"] for m in manifests(out).values()}
    assert len(on_disk) == 3
    assert {e.id for e in feedparser.parse(str(out / CATALOG / "newest.xml")).entries} == on_disk
    assert {
        p["metadata"]["identifier"] for p in json.loads((out / CATALOG / "newest.json").read_text())["publications"]
    } == on_disk
    assert {e.id for e in feedparser.parse(str(out / "feed.xml")).entries} == on_disk
    assert len(out_text.splitlines()) == 3


def test_the_memo_of_read_manifests_never_hides_a_change(tmp_path, run):
    """A refresh reuses what it read of an unchanged book; an edited manifest or a file removed from
    a book's folder is read again."""
    for slug in ("a", "b"):
        write_book(tmp_path, slug, "2026-01-01")
    assert run("library", tmp_path)[0] == 0
    assert (tmp_path / CATALOG / ".books.json").is_file()
    manifest = tmp_path / "a" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["metadata"]["title"] = "Book a, revised"
    manifest.write_text(json.dumps(data))
    (tmp_path / "b" / "b.epub").unlink()
    code, out, _ = run("library", tmp_path)
    assert code == 0 and out.splitlines() == ["a: Book a, revised (en, 2026-01-01)"]


def test_a_hostile_manifest_cannot_break_the_library(tmp_path, run):
    """Values no talkingbook writes (control characters, dates that are not dates, a path out of the
    folder) are cleaned or dropped; the book is still listed and every file still parses."""
    write_book(tmp_path, "odd", "2026-01-01")
    manifest = tmp_path / "odd" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["metadata"].update(title="A\x01 title\ufffe", date="soon", language="<en>", summary="x\x0by")
    data.update(modified="yesterday", duration="long", cover="../../etc/passwd", audiobook={"mp3": "/etc/passwd"})
    manifest.write_text(json.dumps(data))
    code, out, err = run("library", tmp_path)
    assert code == 0, err
    assert out.splitlines() == ["odd: A title (und)"]
    assert [e.title for e in feedparser.parse(str(tmp_path / CATALOG / "newest.xml")).entries] == ["A title"]
    assert not feedparser.parse(str(tmp_path / "feed.xml")).bozo
    assert "passwd" not in (tmp_path / CATALOG / "newest.json").read_text()
    assert html.parse(str(tmp_path / "index.html")).getroot().findtext(".//main//h2") == "A title"


def test_library_of_a_missing_folder_is_one_error_line(tmp_path, run):
    code, out, err = run("library", tmp_path / "nowhere")
    assert code == 1 and out == "" and err == f"error: {tmp_path / 'nowhere'}: not a folder\n"


def test_two_books_with_one_identifier_are_warned_about(tmp_path, run, caplog):
    for slug in ("page", "page-2", "other"):
        write_book(tmp_path, slug, "2026-01-01")
    manifest = tmp_path / "page-2" / "manifest.json"
    manifest.write_text(manifest.read_text().replace("urn:test:page-2", "urn:test:page"))
    assert run("library", tmp_path)[0] == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "page and page-2 have the same identifier (urn:test:page)" in warnings[0]


def test_a_refresh_killed_midway_is_mended_by_the_next(tmp_path, run):
    """What a refresh killed while writing leaves (temporary files, a stale page) the next one removes."""
    write_book(tmp_path, "good", "2026-01-01")
    assert run("library", tmp_path)[0] == 0
    leftovers = [
        tmp_path / ".feed.xml.k1ll3d.tmp",
        tmp_path / ".index.html.x9.tmp",
        tmp_path / CATALOG / ".newest.xml.a.tmp",
    ]
    for path in leftovers:
        path.write_text("half a file")
    (tmp_path / CATALOG / "newest-page7.xml").write_text("a page of a larger library")
    (tmp_path / "feed.xml").write_text("<rss><channel><generator>talkingbook</generator><title>half")
    assert run("library", tmp_path)[0] == 0
    assert not any(path.exists() for path in leftovers)
    assert not (tmp_path / CATALOG / "newest-page7.xml").exists()
    assert [e.title for e in feedparser.parse(str(tmp_path / "feed.xml")).entries] == []  # no MP3: no episode
    assert not feedparser.parse(str(tmp_path / "feed.xml")).bozo


# --- every link of the feed and the catalogs resolves through `talkingbook serve` -------------------


def _links_of(body: bytes, media: str) -> set[str]:
    """Every URL a feed or catalog document points at (hrefs, enclosures, images, chapters, transcripts)."""
    if "json" in media:
        found: set[str] = set()

        def walk(node) -> None:
            if isinstance(node, dict):
                found.update(v for k, v in node.items() if k == "href" and isinstance(v, str))
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(json.loads(body))
        return {u for u in found if "{" not in u}  # a templated link (search) is filled in by the app
    root = etree.fromstring(body)
    urls = {e.get(a) for e in root.iter() for a in ("href", "url", "template") if e.get(a)}
    urls |= {e.text.strip() for e in root.iter("{*}url", "url", "link") if e.text and e.text.strip()}
    return {u for u in urls if "{" not in u}  # an OpenSearch template is filled in by the app


def test_every_link_of_the_feed_and_catalogs_resolves_through_serve(library, tmp_path):
    from test_serve import Served, request

    served = Served(library, tmp_path / "access.log")
    try:
        base = f"http://127.0.0.1:{served.port}/"
        todo, seen, documents = [base + "feed.xml", base + "catalog/index.xml", base + "catalog/index.json"], set(), 0
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            seen.add(url)
            assert url.startswith(base), url  # absolute, for the address the request was sent to
            status, headers, body = request(served.port, url[len(base) - 1 :], "GET")
            assert status == 200, (url, status)
            media = headers["content-type"]
            if url.endswith(("feed.xml", ".json", ".xml")) or "search." in url:
                if "chapters" in media:
                    continue
                documents += 1
                todo += sorted(_links_of(body, media) - seen)
        assert documents >= 8  # the feed, the navigation roots, newest, languages, one language, opensearch
        for kind in (".epub", ".mp3", ".m4b", ".vtt", ".chapters.json", "cover."):
            assert sum(kind in u for u in seen) >= 3, (kind, sorted(seen))  # each of the three books'
        title = next(iter(manifests(library).values()))["metadata"]["title"]
        word = max(title.split(), key=len)
        status, _, body = request(served.port, f"/catalog/search.xml?q={quote(word)}")
        assert status == 200 and title in [e.title for e in feedparser.parse(body).entries]
        status, _, body = request(served.port, f"/catalog/search.json?query={quote(word)}")
        assert status == 200 and title in [p["metadata"]["title"] for p in json.loads(body)["publications"]]
    finally:
        served.stop()


AUDIO = (".mp3", ".m4b", ".m4a", ".ogg", ".opus", ".flac", ".wav", ".aac")


def test_the_audiobook_shelf_holds_each_narrated_book_once(library, tmp_path, run, caplog):
    # Audiobookshelf takes every audio file of a book's folder (subfolders too) as the book: the shelf
    # gives it the M4B alone, so a book plays as long as its narration, not three times as long.
    folder, shelf = tmp_path / "dist", tmp_path / "shelf"
    shutil.copytree(library, folder)
    code, _, err = run("library", folder, "--audiobookshelf", shelf)
    assert code == 0, err
    books = manifests(folder)
    assert sorted(p.name for p in shelf.iterdir() if p.is_dir()) == sorted(books)
    for slug, manifest in books.items():
        audio = [p for p in (shelf / slug).rglob("*") if p.suffix in AUDIO]
        assert [p.name for p in audio] == [f"{slug}.m4b"], audio
        assert os.path.samefile(audio[0], folder / slug / f"{slug}.m4b")  # a link: no second copy
        assert MP4(audio[0]).info.length == pytest.approx(manifest["duration"], abs=0.1)
        assert sorted(p.name for p in (shelf / slug).iterdir()) == sorted([f"{slug}.m4b", manifest["cover"]])
    # Kept by the refreshes that follow: a book made again is linked again, a book removed leaves.
    first, second = sorted(books)[:2]
    m4b = folder / first / f"{first}.m4b"
    made_again = m4b.with_name(".again")
    shutil.copyfile(m4b, made_again)
    os.replace(made_again, m4b)
    shutil.rmtree(folder / second)
    assert run("library", folder)[0] == 0
    assert os.path.samefile(shelf / first / f"{first}.m4b", m4b)
    assert not (shelf / second).exists()
    # '' stops it; a folder that is not the shelf is never emptied.
    assert run("library", folder, "--audiobookshelf", "")[0] == 0
    other = tmp_path / "mine"
    (other / "keep").mkdir(parents=True)
    caplog.clear()
    assert run("library", folder, "--audiobookshelf", other)[0] == 0
    assert (other / "keep").is_dir() and sorted(p.name for p in other.iterdir()) == ["keep"]
    assert any("not talkingbook's audiobook shelf" in r.getMessage() for r in caplog.records)


def test_an_audiobook_shelf_given_as_a_relative_path_is_kept_absolute(tmp_path, run, monkeypatch):
    write_book(tmp_path / "dist", "a", "2026-01-01")
    monkeypatch.chdir(tmp_path)
    assert run("library", "dist", "--audiobookshelf", "shelf")[0] == 0
    saved = json.loads((tmp_path / "dist" / ".talkingbook-library.json").read_text("utf-8"))
    assert saved["audiobookshelf"] == str(tmp_path.resolve() / "shelf")
    assert (tmp_path / "shelf" / ".talkingbook-shelf").is_file()
