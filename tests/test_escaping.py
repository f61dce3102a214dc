"""Text that quotes markup stays text in every output a reader opens: the WebVTT transcripts (webvtt-py,
Chromium's <track>), the feed (feedparser, whose sanitizer must see text, and podcastparser) and the
listening page. The article's title, headings and paragraphs say `Tom & Jerry <3 <b>bold</b> -->
<script>alert(1)</script>` as text."""

import html
import json
import os
import shutil
import subprocess

import feedparser
import podcastparser
import pytest
import webvtt
from lxml import etree, html as lxml_html

from conftest import ARTIFACTS, CHROMIUM, JS, need

QUOTED = "Tom & Jerry <3 <b>bold</b> --> <script>alert(1)</script>"
PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(QUOTED)}</title></head>
<body><article>
<h1>{html.escape(QUOTED)}</h1>
<p>{html.escape(QUOTED)}</p>
<p>An article about how writers quote markup in their text, with enough words to be worth reading aloud.</p>
<h2>Quoted: {html.escape(QUOTED)}</h2>
<p>{html.escape(QUOTED)}</p>
<p>More words in the second section so that the reader keeps it as part of the article and not as boilerplate.</p>
<h2>A plain heading</h2>
<p>{html.escape(QUOTED)}</p>
<p>Further words in the third section so that the reader keeps it as part of the article, not as boilerplate.</p>
</article></body></html>
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    from talkingbook.cli import main

    root = tmp_path_factory.mktemp("escaping")
    page = root / "quoting.html"
    page.write_text(PAGE, encoding="utf-8")
    assert main(["convert", str(page), "-o", str(root / "dist"), "--engine", "fake", "-q"]) == 0
    folder = root / "dist" / "quoting"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    # the page says it as intended: the title, a section heading and a paragraph in every section
    assert manifest["metadata"]["title"] == QUOTED
    assert [s["title"] for s in manifest["sections"]] == [QUOTED, f"Quoted: {QUOTED}", "A plain heading"]
    assert all(any(c["text"] == QUOTED for c in s["clips"]) for s in manifest["sections"])
    return folder, manifest


def test_check_passes_on_the_fresh_book(book, run):
    code, _, err = run("check", book[0])
    assert code == 0 and err == "", err


def test_webvtt_py_reads_every_cue_as_the_text_spoken(book):
    folder, manifest = book
    for section in [*manifest["sections"], {"transcript": manifest["transcript"], "clips": None}]:
        path = folder / section["transcript"]
        raw = path.read_text(encoding="utf-8")
        cue_lines = [line for line in raw.split("\n\n")[1:] for line in line.splitlines()[2:]]
        assert not any("-->" in line or "<" in line for line in cue_lines), raw  # nothing a parser takes for markup
        cues = webvtt.read(str(path))
        # webvtt-py drops tags but leaves character references, as the WebVTT parser's last step decodes them
        texts = [html.unescape(c.text) for c in cues]
        assert texts.count(QUOTED) >= 1
        if section["clips"] is not None:
            assert texts == [c["text"] for c in section["clips"]]


def test_the_feed_shows_the_quoted_markup_as_text(book):
    folder, manifest = book
    titles = [s["title"] for s in manifest["sections"]]
    feed = feedparser.parse(str(folder / "feed.xml"))
    assert not feed.bozo, feed.bozo_exception
    assert [e.title for e in feed.entries] == titles
    for description in [feed.feed.subtitle, *(e.summary for e in feed.entries)]:
        # feedparser's sanitizer saw escaped text, so <b> and <script> are still there, as text
        fragment = lxml_html.fragment_fromstring(description, create_parent="div")
        assert [e.tag for e in fragment.iter()][1:] == ["p"], description
        assert QUOTED in fragment.text_content()
    assert lxml_html.fragment_fromstring(feed.feed.subtitle, create_parent="div").text_content() == QUOTED

    with open(folder / "feed.xml", "rb") as stream:
        parsed = podcastparser.parse("https://books.example/quoting/feed.xml", stream)
    assert parsed["title"] == QUOTED
    # the channel's description is HTML; gPodder shows it through podcastparser's tag remover
    assert podcastparser.remove_html_tags(parsed["description"]) == QUOTED
    episodes = sorted(parsed["episodes"], key=lambda e: e["number"])
    assert [e["title"] for e in episodes] == titles
    for episode in episodes:
        assert episode["description"].startswith(QUOTED)  # the plain text podcastparser derives
        fragment = lxml_html.fragment_fromstring(episode["description_html"], create_parent="div")
        assert [e.tag for e in fragment.iter()][1:] == ["p"] and QUOTED in fragment.text_content()


def test_the_feed_xml_escapes_descriptions_twice_and_titles_once(book):
    """What the two parsers above rely on, in the XML itself: a description holds HTML, so the quoted
    markup is escaped inside it (numeric references: podcastparser mangles '&lt;3 &lt;'); a title is
    plain text."""
    channel = etree.parse(str(book[0] / "feed.xml")).getroot().find("channel")
    escaped = QUOTED.replace("&", "&#38;").replace("<", "&#60;").replace(">", "&#62;")
    assert channel.findtext("title") == QUOTED
    assert channel.findtext("description") == f"<p>{escaped}</p>"
    assert channel.find("item").findtext("description").startswith(f"<p>{escaped} ")


def test_chromium_shows_every_cue_and_the_page_as_text(book, tmp_path):
    need(CHROMIUM is not None, "Chromium is not installed (Debian package chromium)")
    need(
        shutil.which("node") is not None and (JS / "node_modules" / "puppeteer-core").exists(),
        "puppeteer-core is not installed: npm ci --prefix tests/js --ignore-scripts",
    )
    folder, manifest = book
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "listening-page-quoting.png"
    proc = subprocess.run(
        ["node", str(JS / "listen.js"), str(folder / "index.html"), str(shot)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, CHROMIUM=CHROMIUM),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout)
    assert seen["errors"] == [] and seen["title"] == QUOTED
    for section in manifest["sections"]:
        cues = seen["cues"][section["transcript"]]
        assert cues is not None, f"Chromium did not load {section['transcript']}"
        assert [c["text"] for c in cues] == [c["text"] for c in section["clips"]]
        assert all(c["elements"] == 0 for c in cues)  # no <b> taken for markup
    page = lxml_html.parse(str(folder / "index.html")).getroot()
    assert [h.text_content() for h in page.xpath("//main//h3")] == [s["title"] for s in manifest["sections"]]
    assert not page.xpath("//script | //b")
