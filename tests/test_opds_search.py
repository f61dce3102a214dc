"""An e-reader's search of a served library pages through every result, as Readium's OPDS parser
(r2-opds-js, under Thorium) reads the answers of `talkingbook serve` to catalog/search.xml?q= (OPDS
1.2 with OpenSearch) and catalog/search.json?query= (OPDS 2.0).

What a reader needs, from OPDS 1.2 (§ Pagination: RFC 5005's rel="next") and OPDS 2.0 (a feed's
"next" link and metadata.numberOfItems): a search matching more books than one page holds claims
the number that match, holds at most a page of them, and links to the next page; following "next"
links from the first page gives every match once, and the last page has no "next". Issue 22: the
search answered at most 50 results, claimed a total of 50 when 55 matched, had no next link and
ignored any page parameter, so five matches could never be reached.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from conftest import Serving, readium_opds
from talkingbook.system.publish import MARKER

MATCHING = 55  # more than one page of 50
OTHERS = 4
SEARCH = {"xml": "/catalog/search.xml?q=drum", "json": "/catalog/search.json?query=drum"}


def write_book(folder: Path, slug: str, title: str, day: int) -> None:
    """A book folder as the library reads it: its marker, a manifest and an EPUB file."""
    book = folder / slug
    book.mkdir(parents=True)
    (book / f"{slug}.epub").write_bytes(b"PK")
    (book / MARKER).write_text(json.dumps({"generator": "talkingbook", "article": slug}))
    manifest = {
        "generator": "talkingbook test",
        "epub": f"{slug}.epub",
        "modified": f"2026-01-{day:02d}T00:00:00+00:00",
        "metadata": {"title": title, "language": "en", "date": f"2026-01-{day:02d}", "identifier": f"urn:test:{slug}"},
    }
    (book / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A library of 55 books whose titles hold "drum" and 4 others, served on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("opds-search") / "dist"
    for n in range(MATCHING):
        write_book(folder, f"drum-{n:03d}", f"Drum lesson {n:03d}", 1 + n % 28)
    for n in range(OTHERS):
        write_book(folder, f"quiet-{n}", f"A quiet morning {n}", 1 + n)
    server = Serving(folder)
    yield server.base
    server.stop()


def fetch(url: str, saved: Path) -> dict:
    """GET ``url`` (on 127.0.0.1) and read the answer with Readium's OPDS parser."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200, f"{url}: HTTP {response.status}"
    saved.write_bytes(body)
    return readium_opds(saved)


def link(feed: dict, rel: str) -> str | None:
    """The href of the feed's link with relation ``rel`` (Readium gives each link a list of them)."""
    return next((item["href"] for item in feed["links"] if rel in item["rel"]), None)


@pytest.mark.parametrize("kind", ["xml", "json"])
def test_a_search_with_more_matches_than_a_page_leads_to_every_one(served, tmp_path, kind):
    url, pages, seen, totals = served.rstrip("/") + SEARCH[kind], [], [], set()
    while url and len(pages) < 5:
        feed = fetch(url, tmp_path / f"page-{len(pages) + 1}.{kind}")
        pages.append(url)
        seen += [p["identifier"] for p in feed["publications"]]
        totals.add(feed["numberOfItems"])
        assert len(feed["publications"]) <= 50, f"{url}: {len(feed['publications'])} results on one page"
        following = link(feed, "next")
        url = urljoin(url, following) if following else None
    expected = sorted(f"urn:test:drum-{n:03d}" for n in range(MATCHING))
    wrong = []  # every fact a reader needs that does not hold, in one message
    if totals != {MATCHING}:
        wrong.append(f"the pages claim {sorted(totals, key=str)} results; {MATCHING} books match")
    if len(pages) != 2:
        wrong.append(f"{MATCHING} results at 50 a page are 2 pages, reached by next links; got {pages}")
    if len(seen) != len(set(seen)):
        wrong.append(f"{len(seen) - len(set(seen))} results repeated across the pages")
    if sorted(set(seen)) != expected:
        wrong.append(f"reached {len(set(seen) & set(expected))} of the {MATCHING} matching books")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("kind", ["xml", "json"])
def test_a_search_within_one_page_has_no_next_link(served, tmp_path, kind):
    url = served.rstrip("/") + SEARCH[kind].replace("drum", "quiet")
    feed = fetch(url, tmp_path / f"quiet.{kind}")
    assert sorted(p["identifier"] for p in feed["publications"]) == [f"urn:test:quiet-{n}" for n in range(OTHERS)]
    assert feed["numberOfItems"] == OTHERS
    assert link(feed, "next") is None
