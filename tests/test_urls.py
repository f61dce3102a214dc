"""Every URL talkingbook writes is a valid absolute http(s) URL, parsed (issue 11, item 1): licence,
source, --base-url, links in the text, image URLs."""

import json
import re
import urllib.parse
import zipfile
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from builders import read
from conftest import NS
from talkingbook.model import Paragraph, iter_blocks
from talkingbook.readers.images import ImageResolver
from talkingbook.readers.metadata import license_name
from talkingbook.readers.urls import link_url, web_url

HOSTILE_LICENCES = [
    "javascript:alert(document.domain)//creativecommons.org/licenses/by/4.0/",
    "JaVaScRiPt:alert(1)//creativecommons.org/licenses/by/4.0/",
    " javascript:alert(1)//https://creativecommons.org/licenses/by/4.0/",
    "data:text/html,<script>alert(1)</script>//creativecommons.org/licenses/by/4.0/",
    "vbscript:msgbox//creativecommons.org/licenses/by/4.0/",
    "https://evil.example/creativecommons.org/licenses/by/4.0/",
    "https://creativecommons.org.evil.example/licenses/by/4.0/",
    "https://creativecommons.org@evil.example/licenses/by/4.0/",
    "https://evil.example/?u=https://creativecommons.org/licenses/by/4.0/",
    "file:///etc/passwd#creativecommons.org/licenses/by/4.0/",
]


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://example.org/a", "https://example.org/a"),
        ("  HTTP://Example.org/a?b=c#d \n", "http://Example.org/a?b=c#d"),
        ('https://example.org/a"><script>', "https://example.org/a%22%3E%3Cscript%3E"),
        ("https://example.org/a b", None),
        ("https://example.org/a\nb", None),
        ("https://exa\nmple.org/", None),
        ("https://example.org:99999/", None),
        ("https://[::1/", None),
        ("https:///path", None),
        ("https://user:secret@example.org/", None),
        ("https://good.example\\@evil.example/", None),
        ("ftp://example.org/", None),
        ("javascript:alert(1)", None),
        ("data:text/html;base64,PHNjcmlwdD4=", None),
        ("//example.org/x", "https://example.org/x"),
        ("/relative", None),
        ("https://exa_mple.org/ok", "https://exa_mple.org/ok"),
        ("https://bad..example.org/", None),
        ("https://café.example/menu", "https://café.example/menu"),
        ("https://[::1]:8080/x", "https://[::1]:8080/x"),
        (None, None),
        (42, None),
        ("", None),
    ],
)
def test_web_url_parses_instead_of_matching(value, expected):
    assert web_url(value) == expected
    if expected:
        parts = urllib.parse.urlsplit(expected)
        assert parts.scheme in ("http", "https") and parts.hostname and not re.search(r"[\s\"<>]", expected)


def test_relative_urls_are_resolved_against_the_page():
    assert web_url("../b?x=1", "https://example.org/dir/page.html") == "https://example.org/b?x=1"
    assert web_url("//cdn.example/i.png", "http://example.org/") == "http://cdn.example/i.png"
    assert web_url("javascript:alert(1)", "https://example.org/") is None


@pytest.mark.parametrize(
    "href, expected",
    [
        ("mailto:editor@example.org", "mailto:editor@example.org"),
        ("mailto:editor@example.org?subject=Hello%20there", "mailto:editor@example.org?subject=Hello%20there"),
        ("mailto:nobody", None),
        ("mailto:a@b\nc", None),
        ("javascript:alert(1)", None),
        ("jAvAsCrIpT:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,hi", None),
        ("file:///etc/passwd", None),
        ("vbscript:x", None),
        ("/other-page", "https://news.example/other-page"),
    ],
)
def test_link_url(href, expected):
    assert link_url(href, "https://news.example/story") == expected


@pytest.mark.parametrize("url", HOSTILE_LICENCES)
def test_creative_commons_only_from_its_own_host(url):
    assert license_name(url) == ""


@pytest.mark.parametrize(
    "url, name",
    [
        ("https://creativecommons.org/licenses/by/4.0/", "CC BY 4.0"),
        ("http://www.creativecommons.org/licenses/by-nc/2.0/", "CC BY-NC 2.0"),
        ("HTTPS://CreativeCommons.org/publicdomain/mark/1.0/", "Public Domain Mark 1.0"),
    ],
)
def test_creative_commons_names(url, name):
    assert license_name(url) == name


def _page(head: str = "", body: str = "") -> bytes:
    return (
        f"<html lang='en'><head><title>Hostile Article</title>{head}</head><body><article>"
        "<h1>Hostile Article</h1><p>The article has <a name='anchor'>enough words</a> in it to be read as an "
        "article here.</p>"
        f"{body}<h2>Second</h2><p>A second section, so the book has two.</p></article></body></html>"
    ).encode()


@pytest.mark.parametrize(
    "head",
    [
        *(f'<link rel="license" href="{u}">' for u in HOSTILE_LICENCES),
        *(f'<a rel="license" href="{u}">licence</a>' for u in HOSTILE_LICENCES[:4]),
        *(
            '<script type="application/ld+json">'
            + json.dumps({"@type": "NewsArticle", "headline": "Hostile Article", "license": u})
            + "</script>"
            for u in HOSTILE_LICENCES[:4]
        ),
    ],
)
def test_hostile_licence_urls_are_never_the_licence(head):
    meta = read(_page(head), name="page.html").metadata
    assert not meta.license.startswith("CC")
    assert meta.license_url == "" or web_url(meta.license_url) == meta.license_url
    assert "javascript" not in (meta.license + meta.license_url + meta.rights).lower()
    assert "data:" not in meta.rights and "file:" not in meta.rights


def test_a_relative_licence_link_is_made_absolute_on_a_fetched_page():
    meta = read(_page('<link rel="license" href="/terms">'), name="u", url="https://news.example/a/story").metadata
    assert (meta.license, meta.license_url) == ("https://news.example/terms", "https://news.example/terms")


@pytest.mark.parametrize(
    "head, expected",
    [
        ('<link rel="canonical" href="javascript:alert(1)//example.org/">', ""),
        ('<meta property="og:url" content="data:text/html,x">', ""),
        (
            '<link rel="canonical" href="https://example.org/a&quot;&gt;&lt;script&gt;">',
            "https://example.org/a%22%3E%3Cscript%3E",
        ),
        (
            '<link rel="canonical" href="https://example.org/a\nb"><meta property="og:url" content="https://example.org/b">',
            "https://example.org/b",
        ),
        (
            (
                '<script type="application/ld+json">{"@type": "Article", "headline": "Hostile Article", '
                '"url": "javascript:alert(1)"}</script>'
            ),
            "",
        ),
    ],
)
def test_source_url_is_parsed(head, expected):
    assert read(_page(head), name="page.html").metadata.source_url == expected


def test_links_in_the_text_keep_their_words_but_lose_dangerous_targets():
    body = (
        '<p>See <a href="javascript:alert(1)">this script</a>, <a href="data:text/html,x">that data</a>, '
        '<a href="file:///etc/passwd">a file</a>, <a href="mailto:ed@example.org">the editor</a> and '
        '<a href="/more">more</a>.</p>'
    )
    book = read(_page('<link rel="canonical" href="https://news.example/story">', body), name="p.html")
    spans = [
        s for section in book.sections for b in iter_blocks(section.blocks) if isinstance(b, Paragraph) for s in b.spans
    ]
    links = {s.text: s.href for s in spans if s.href}
    text = "".join(s.text for s in spans)
    assert all(words in text for words in ("this script", "that data", "a file", "the editor", "more"))
    assert links == {"the editor": "mailto:ed@example.org", "more": "https://news.example/more"}


def test_image_urls_are_parsed_before_any_fetch(monkeypatch):
    from talkingbook.readers import sources

    monkeypatch.setattr(sources, "fetch", lambda *a, **k: pytest.fail("nothing may be fetched"))
    resolver = ImageResolver(None, "https://news.example/story", fetch_remote=True)
    for src in (
        "javascript:alert(1)",
        "https://exa mple.org/x.png",
        "http://[::1/x.png",
        "file:///etc/passwd",
        "https://user:pw@news.example/x.png",
        "https://news.example:99999/x.png",
    ):
        assert resolver(src) is None


def _outputs(folder: Path) -> str:
    """Every text written into the book's folder, EPUB members included."""
    texts = []
    for path in folder.rglob("*"):
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as z:
                texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
        elif path.suffix in (".xml", ".html", ".json", ".vtt", ".m3u8"):
            texts.append(path.read_text(encoding="utf-8"))
    return "\n".join(texts)


def test_hostile_urls_never_reach_any_output(tmp_path, run):
    head = (
        '<link rel="license" href="javascript:alert(document.domain)//creativecommons.org/licenses/by/4.0/">'
        '<link rel="canonical" href="https://example.org/a&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;">'
    )
    body = '<p><a href="javascript:alert(3)">click</a> and <a href="data:text/html,x">data</a>.</p>'
    page = tmp_path / "hostile.html"
    page.write_bytes(_page(head, body))
    code, _, err = run(
        "convert",
        page,
        "-o",
        tmp_path / "out",
        "--engine",
        "fake",
        "-q",
        "--no-audiobook",
        "--base-url",
        "https://books.example/hostile/",
    )
    assert code == 0, err
    folder = tmp_path / "out" / "hostile"
    written = _outputs(folder)
    assert "javascript:" not in written.lower() and "data:text" not in written and "<script>alert" not in written
    with zipfile.ZipFile(folder / "hostile.epub") as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        for name in z.namelist():
            if name.endswith(".xhtml"):
                for href in etree.fromstring(z.read(name)).xpath("//x:a/@href", namespaces=NS):
                    # a reference inside the book has no scheme; any other is a checked http(s)/mailto URL
                    assert not urllib.parse.urlsplit(href).scheme or link_url(href) == href, href
    assert opf.findtext(".//dc:source", namespaces=NS) == "https://example.org/a%22%3E%3Cscript%3Ealert(2)%3C/script%3E"
    feed = feedparser.parse(str(folder / "feed.xml"))
    for link in [feed.feed.link, *(e.enclosures[0].href for e in feed.entries)]:
        assert web_url(link) == link


@pytest.mark.parametrize(
    "base_url",
    [
        "https://example.org/a\n",
        "https://example.org/a\nb/",
        'https://example.org/a"><script>',
        "javascript:alert(1)//x",
        "https://example.org/a b/",
        "https://example.org/?q=1",
        "ftp://example.org/",
        "https://user:pw@example.org/",
        "https://example.org/\u202ebooks/",  # a right-to-left override: the URL shown is not the URL
        "https://example.org/books\u2067/",  # other bidi controls
        "https://example.org/\u200fa/",
    ],
)
def test_bad_base_url_is_a_usage_error(tmp_path, run, base_url):
    page = tmp_path / "p.html"
    page.write_bytes(_page())
    code, _, err = run("convert", page, "-o", tmp_path / "out", "--no-audio", "--base-url", base_url)
    assert code == 2 and err.startswith("error: --base-url") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("https://bücher.example/lib/", "https://xn--bcher-kva.example/lib/"),
        ("https://BÜCHER.Example:8443/Lib/", "https://xn--bcher-kva.example:8443/Lib/"),
        ("https://example.org/bücher/", "https://example.org/b%C3%BCcher/"),
        ("https://example.org/a%20b/", "https://example.org/a%20b/"),
    ],
)
def test_a_base_url_is_written_in_ascii(given, written):
    """Podcast apps and OPDS readers want URIs: the host in IDNA (punycode), the path percent-encoded."""
    from talkingbook.cli import _base_url

    assert _base_url(given) == written
