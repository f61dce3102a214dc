"""The page is read once: metadata.py alone reads what a page says about itself, and one rule judges tables."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from bs4 import BeautifulSoup
from lxml import etree

from builders import read
from talkingbook.model import Paragraph, Table, iter_blocks, plain_text
from talkingbook.readers import metadata
from talkingbook.readers.extract import find_article
from talkingbook.readers.metadata import ReadabilityMetadata, read_metadata

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "talkingbook"
PROSE = " ".join(
    f"The survey, run in {n + 3} towns over a whole winter, found that readers, young and old, "
    f"listen to long articles more often than they read them."
    for n in range(5)
)


def page(head: str, body: str) -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


# --- metadata.py is the only reader of JSON-LD, <meta> and <title> --------------------------------

# How code reads those parts of a page: a JSON-LD script, <meta> elements, the <title> element.
PAGE_METADATA_READS = re.compile(
    r"ld\\?\+json|find(?:_all)?\(\s*[\"']meta[\"']|find(?:_all)?\(\s*[\"']title[\"']|\bsoup\.title\b|select\(.*meta"
)


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
    <p>{PROSE}</p><p>{PROSE}</p></article>""",
)


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
    book, readability, _ = read_metadata(BeautifulSoup(TITLED_PAGE, "lxml"), source_name="t.html")
    assert book.title == readability.title == HEADLINE
    assert readability.byline == "Jane Doe"
    shown_only = page(
        f"<title>{HEADLINE}</title>", f'<article><p class="byline">By Ann Lee</p><p>{PROSE}</p></article>'
    )
    book, readability, _ = read_metadata(BeautifulSoup(shown_only, "lxml"), source_name="t.html")
    assert book.author == "Ann Lee" and readability.byline == ""  # shown, not declared: Readability takes it out


# --- one rule says which tables hold data: what the extractor keeps as a table, the reader reads as one ----

SCORES = """<table><tr><td>Team</td><td>Spring</td><td>Summer</td><td>Autumn</td><td>Winter</td></tr>
  <tr><td>Owls</td><td>3</td><td>5</td><td>2</td><td>7</td></tr></table>"""  # 2 rows x 5 columns, no <th>
SCORE_WORDS = ["Team", "Spring", "Summer", "Autumn", "Winter", "Owls", "3", "5", "2", "7"]


def article_with(table: str) -> str:
    return page(
        "<title>The season in numbers</title>",
        f"<article><h1>The season in numbers</h1><p>{PROSE}</p>{table}<p>{PROSE}</p></article>",
    )


def blocks_of(book):
    return [b for section in book.sections for b in iter_blocks(section.blocks)]


def test_a_table_of_two_rows_and_five_columns_is_read_as_a_table():
    book = read(article_with(SCORES), "scores.html")
    tables = [b for b in blocks_of(book) if isinstance(b, Table)]
    assert len(tables) == 1
    assert [[plain_text(cell.blocks[0].spans) for cell in row] for row in tables[0].rows] == [
        SCORE_WORDS[:5],
        SCORE_WORDS[5:],
    ]
    paragraphs = [b.text for section in book.sections for b in section.blocks if isinstance(b, Paragraph)]
    assert not set(SCORE_WORDS) & set(paragraphs)  # not ten one-word paragraphs


def test_a_table_of_one_row_is_layout_and_read_as_its_cells():
    layout = "<table><tr><td><p>Left column text.</p></td><td><p>Right column text.</p></td></tr></table>"
    book = read(article_with(layout), "layout.html")
    assert not any(isinstance(b, Table) for b in blocks_of(book))
    assert {"Left column text.", "Right column text."} <= {b.text for b in blocks_of(book) if isinstance(b, Paragraph)}


def test_the_epub_shows_the_two_by_five_table_as_a_table(tmp_path, run):
    source = tmp_path / "scores.html"
    source.write_text(article_with(SCORES), encoding="utf-8")
    code, _, err = run("convert", source, "-o", tmp_path / "out", "--no-audio", "-q")
    assert code == 0, err
    with zipfile.ZipFile(tmp_path / "out" / "scores" / "scores.epub") as epub:
        pages = [etree.fromstring(epub.read(name)) for name in epub.namelist() if name.endswith(".xhtml")]
    tables = [t for p in pages for t in p.iter("{http://www.w3.org/1999/xhtml}table")]
    assert len(tables) == 1
    rows = [
        [" ".join("".join(td.itertext()).split()) for td in tr.iter("{http://www.w3.org/1999/xhtml}td")]
        for tr in tables[0].iter("{http://www.w3.org/1999/xhtml}tr")
    ]
    assert rows == [SCORE_WORDS[:5], SCORE_WORDS[5:]]


# --- one rule says what marks a byline: the extractor takes out what metadata.py would read ----------


def test_the_extractor_and_metadata_agree_on_what_marks_a_byline():
    body = (
        f"<article><h1>Knowledge</h1><p>{PROSE}</p><p>{PROSE}</p>"
        '<div class="authority-control">Authority control: VIAF, GND</div>'
        '<p class="byline">By Ann Lee</p></article>'
    )
    html = page("<title>Knowledge</title>", body)
    article = find_article(BeautifulSoup(html, "lxml"), ReadabilityMetadata("Knowledge"))
    assert "Authority control: VIAF, GND" in article.get_text()  # "authority" is not "author"
    assert article.find(class_="byline") is None and article["data-byline"] == "By Ann Lee"
    assert read_metadata(BeautifulSoup(html, "lxml"), source_name="k.html").book.author == "Ann Lee"
