"""The page is read once: metadata.py alone reads what a page says about itself, and one rule judges tables."""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from talkingbook.readers import metadata
from talkingbook.readers.extract import find_article
from talkingbook.readers.metadata import ReadabilityMetadata, read_metadata

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "talkingbook"
PROSE = " ".join(
    f"The survey, run in {n + 3} towns over a whole winter, found that readers, young and old, "
    f"listen to long articles more often than they read them." for n in range(5))


def page(head: str, body: str) -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


# --- metadata.py is the only reader of JSON-LD, <meta> and <title> --------------------------------

# How code reads those parts of a page: a JSON-LD script, <meta> elements, the <title> element.
PAGE_METADATA_READS = re.compile(
    r"ld\\?\+json|find(?:_all)?\(\s*[\"']meta[\"']|find(?:_all)?\(\s*[\"']title[\"']|\bsoup\.title\b|select\(.*meta")


def test_metadata_is_the_only_module_that_reads_json_ld_meta_or_title():
    sources = sorted(PACKAGE.rglob("*.py"))
    readers = sorted(str(p.relative_to(PACKAGE)) for p in sources if PAGE_METADATA_READS.search(p.read_text("utf-8")))
    assert readers == ["readers/metadata.py"]


HEADLINE = "Readers who listen to long articles"
TITLED_PAGE = page(
    f"""<title>{HEADLINE} | Example News</title>
    <meta property="og:title" content="{HEADLINE}">
    <script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
      "headline": "{HEADLINE}", "author": {{"@type": "Person", "name": "Jane Doe"}}}}</script>""",
    f"""<article><h2>{HEADLINE}</h2><p class="byline">By Jane Doe</p>
    <p>{PROSE}</p><p>{PROSE}</p></article>""")


def test_the_extractor_takes_the_title_it_is_given_not_the_pages():
    kept = find_article(BeautifulSoup(TITLED_PAGE, "lxml"), ReadabilityMetadata(title="Something else entirely"))
    assert kept.find("h2") is not None  # the page's title is not looked at: its heading stays
    dropped = find_article(BeautifulSoup(TITLED_PAGE, "lxml"), ReadabilityMetadata(title=HEADLINE))
    assert dropped.find("h2") is None  # the heading repeating the title given goes


def test_the_extractor_given_the_metadata_never_reads_the_pages(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the page's metadata was read again")

    monkeypatch.setattr(metadata, "read_metadata", refuse)
    monkeypatch.setattr(metadata.json, "loads", refuse)
    article = find_article(BeautifulSoup(TITLED_PAGE, "lxml"), ReadabilityMetadata(title=HEADLINE))
    assert "listen to long articles more often" in article.get_text()


def test_the_byline_shown_stays_when_the_metadata_names_the_author():
    named = find_article(BeautifulSoup(TITLED_PAGE, "lxml"), ReadabilityMetadata(HEADLINE, byline="Jane Doe"))
    assert named.find(class_="byline") is not None
    unnamed = find_article(BeautifulSoup(TITLED_PAGE, "lxml"), ReadabilityMetadata(HEADLINE, byline=""))
    assert unnamed.find(class_="byline") is None and unnamed["data-byline"] == "By Jane Doe"


def test_read_metadata_gives_the_extractor_the_books_title_and_the_declared_author():
    book, readability = read_metadata(BeautifulSoup(TITLED_PAGE, "lxml"), source_name="t.html")
    assert book.title == readability.title == HEADLINE
    assert readability.byline == "Jane Doe"
    shown_only = page(f"<title>{HEADLINE}</title>", f'<article><p class="byline">By Ann Lee</p><p>{PROSE}</p></article>')
    book, readability = read_metadata(BeautifulSoup(shown_only, "lxml"), source_name="t.html")
    assert book.author == "Ann Lee" and readability.byline == ""  # shown, not declared: Readability takes it out
