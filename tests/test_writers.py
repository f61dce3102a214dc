"""Each writer on its own, from an in-memory Publication (tests/builders.py): no page is read, nothing
is spoken. The expected texts are written out whole, worked out from the formats, so that any change
to what a writer emits shows here as a one-line difference.

The book: an opening (title, byline, the narrator's notice), a section whose heading has emphasis and
ruby, and one whose title needs escaping. Each spoken unit is one second of made-up audio.
"""

from __future__ import annotations

import json
import zipfile

import pytest

from builders import COVER, book, em, para, publication, ruby, section
from talkingbook.writers.chapters import write_chapters
from talkingbook.writers.cover import write_cover
from talkingbook.writers.epub import write_epub
from talkingbook.writers.feed import write_feed
from talkingbook.writers.listening_page import write_listening_page
from talkingbook.writers.manifest import write_manifest
from talkingbook.writers.playlist import write_playlist
from talkingbook.writers.transcripts import write_transcripts

BOOK = book(
    section(("The ", em("big"), " drum ", ruby("漢", "かん")), para("Hello ", em("world"), ". It is loud.")),
    section("Outro & <end>", para("Bye.")),
    author="Ann Writer",
)


@pytest.fixture
def pub():
    return publication(BOOK)


def between(text: str, start: str, end: str, nth: int = 0) -> str:
    """The ``nth`` stretch of ``text`` from ``start`` to ``end``, both included."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(start, at + 1)
    return text[at : text.index(end, at) + len(end)]


def test_the_book_is_what_the_goldens_assume(pub):
    assert [(e.number, e.slug, e.title) for e in pub.toc] == [
        (1, "01-a-small-book", "A small book"),
        (2, "02-the-big-drum", "The big drum 漢"),
        (3, "03-outro-end", "Outro & <end>"),
    ]
    assert [pub.audio(e).duration for e in pub.toc] == [3.0, 3.0, 2.0]


def test_playlist(pub, tmp_path):
    out = write_playlist(pub, tmp_path)
    assert out == tmp_path / "small-book.m3u8"
    assert out.read_text(encoding="utf-8") == (
        "#EXTM3U\n"
        "#EXTINF:3,A small book\n"
        "audio/01-a-small-book.mp3\n"
        "#EXTINF:3,The big drum 漢\n"
        "audio/02-the-big-drum.mp3\n"
        "#EXTINF:2,Outro & <end>\n"
        "audio/03-outro-end.mp3\n"
    )


def test_section_transcript(pub, tmp_path):
    write_transcripts(pub, tmp_path)
    assert (tmp_path / "transcripts" / "03-outro-end.vtt").read_text(encoding="utf-8") == (
        "WEBVTT\n"
        "\n"
        "1\n"
        "00:00:00.000 --> 00:00:01.000\n"
        "Outro &amp; &lt;end&gt;\n"
        "\n"
        "2\n"
        "00:00:01.000 --> 00:00:02.000\n"
        "Bye.\n"
    )


def test_whole_book_transcript_runs_on_from_section_to_section(pub, tmp_path):
    out = write_transcripts(pub, tmp_path)
    assert out == tmp_path / "small-book.vtt"
    assert out.read_text(encoding="utf-8") == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:01.000\nA small book\n\n"
        "2\n00:00:01.000 --> 00:00:02.000\nBy Ann Writer.\n\n"
        "3\n00:00:02.000 --> 00:00:03.000\nThis narration is read by a synthetic voice: Test voice.\n\n"
        "4\n00:00:03.000 --> 00:00:04.000\nThe big drum 漢\n\n"
        "5\n00:00:04.000 --> 00:00:05.000\nHello world.\n\n"
        "6\n00:00:05.000 --> 00:00:06.000\nIt is loud.\n\n"
        "7\n00:00:06.000 --> 00:00:07.000\nOutro &amp; &lt;end&gt;\n\n"
        "8\n00:00:07.000 --> 00:00:08.000\nBye.\n"
    )


def test_feed_item(pub, tmp_path):
    out = write_feed(pub, tmp_path)
    assert out == tmp_path / "feed.xml"
    written = out.read_text(encoding="utf-8")
    assert written.count("<item>") == 3
    assert between(written, "<item>", "</item>", nth=1) == (
        "<item>\n"
        "      <title>The big drum 漢</title>\n"
        "      <description>&lt;p&gt;Hello world. It is loud.&lt;/p&gt;</description>\n"
        '      <guid isPermaLink="false">urn:uuid:00000000-0000-0000-0000-000000000001/02-the-big-drum</guid>\n'
        '      <enclosure url="audio/02-the-big-drum.mp3" length="1002" type="audio/mpeg"/>\n'
        "      <pubDate>Thu, 01 Jan 2026 00:01:00 +0000</pubDate>\n"
        '      <itunes:image href="cover.png"/>\n'
        "      <itunes:duration>3</itunes:duration>\n"
        "      <itunes:episode>2</itunes:episode>\n"
        "      <itunes:episodeType>full</itunes:episodeType>\n"
        '      <podcast:transcript url="transcripts/02-the-big-drum.vtt" type="text/vtt" language="en"/>\n'
        "    </item>"
    )


@pytest.fixture
def epub(pub, tmp_path):
    """The read-along EPUB, its section MP3s stand-ins of a few bytes (the zip copies them, unread)."""
    (tmp_path / "audio").mkdir()
    for entry in pub.toc:
        (tmp_path / pub.layout.section_mp3(entry)).write_bytes(b"ID3 not really an MP3")
    out = write_epub(pub, tmp_path)
    assert out == tmp_path / "small-book.epub"
    return zipfile.ZipFile(out)


def test_xhtml_section_body_keeps_the_headings_markup(epub):
    written = epub.read("EPUB/text/02-the-big-drum.xhtml").decode("utf-8")
    assert between(written, "<body>", "</body>") == (
        "<body>\n"
        '    <section id="sec-02-the-big-drum" epub:type="chapter" role="doc-chapter" aria-labelledby="tb-title">\n'
        '<h1 id="tb-title">The <em>big</em> drum <ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp></ruby></h1>\n'
        '<p><span id="tb-1">Hello <em>world</em>.</span> <span id="tb-2">It is loud.</span></p>\n'
        "</section>\n"
        "  </body>"
    )


def test_smil_document(epub):
    text, mp3 = "../text/02-the-big-drum.xhtml", "../audio/02-the-big-drum.mp3"
    assert epub.read("EPUB/smil/02-the-big-drum.smil").decode("utf-8") == (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="http://www.idpf.org/2007/ops" version="3.0"><body>'
        f'<seq id="seq1" epub:textref="{text}#sec-02-the-big-drum" epub:type="chapter">'
        f'<par id="par1"><text src="{text}#tb-title"/>'
        f'<audio src="{mp3}" clipBegin="0:00:00.000" clipEnd="0:00:01.000"/></par>'
        f'<par id="par2"><text src="{text}#tb-1"/>'
        f'<audio src="{mp3}" clipBegin="0:00:01.000" clipEnd="0:00:02.000"/></par>'
        f'<par id="par3"><text src="{text}#tb-2"/>'
        f'<audio src="{mp3}" clipBegin="0:00:02.000" clipEnd="0:00:03.000"/></par>'
        "</seq></body></smil>"
    )
    opf = epub.read("EPUB/content.opf").decode("utf-8")
    assert '<meta property="media:duration" refines="#mo002">0:00:03.000</meta>' in opf
    assert '<meta property="media:duration">0:00:08.000</meta>' in opf


def test_chapters_json(pub, tmp_path):
    out = write_chapters(pub, tmp_path)
    assert out == tmp_path / "small-book.chapters.json"
    assert (
        out.read_text(encoding="utf-8")
        == """\
{
  "version": "1.2.0",
  "chapters": [
    {
      "startTime": 0.0,
      "endTime": 3.0,
      "title": "A small book"
    },
    {
      "startTime": 3.0,
      "endTime": 6.0,
      "title": "The big drum 漢"
    },
    {
      "startTime": 6.0,
      "endTime": 8.0,
      "title": "Outro & <end>"
    }
  ]
}
"""
    )


def test_listening_page_links_and_section(pub, tmp_path):
    out = write_listening_page(pub, tmp_path)
    assert out == tmp_path / "index.html"
    written = out.read_text(encoding="utf-8")
    assert between(written, "<nav", "</nav>") == (
        '<nav aria-label="Downloads">\n'
        "<ul>\n"
        '<li><a href="small-book.epub">EPUB (read-along)</a></li>\n'
        '<li><a href="small-book.m4b">Audiobook (M4B, with chapters)</a></li>\n'
        '<li><a href="small-book.mp3">Audiobook (MP3, with chapters)</a></li>\n'
        '<li><a href="feed.xml">Podcast feed</a></li>\n'
        '<li><a href="small-book.m3u8">Playlist</a></li>\n'
        '<li><a href="small-book.vtt">Transcript</a></li>\n'
        "</ul>\n"
        "</nav>"
    )
    assert between(written, "<li><section", "</section></li>", nth=2) == (
        '<li><section aria-labelledby="section-3">\n'
        '<h3 id="section-3">Outro &amp; &lt;end&gt;</h3>\n'
        '<audio controls preload="none" src="audio/03-outro-end.mp3" aria-labelledby="section-3">'
        '<track kind="captions" src="transcripts/03-outro-end.vtt" srclang="en" label="Transcript">'
        '<a href="audio/03-outro-end.mp3">Download the audio</a></audio>\n'
        "<details><summary>Transcript of Outro &amp; &lt;end&gt;</summary><p>Bye.</p></details>\n"
        "</section></li>"
    )


def test_manifest_section_entry_and_files(pub, tmp_path):
    out = write_manifest(pub, tmp_path)
    assert out == tmp_path / "manifest.json"
    written = out.read_text(encoding="utf-8")
    assert (
        between(written, '    {\n      "number": 2,', "\n    }")
        == """\
    {
      "number": 2,
      "title": "The big drum 漢",
      "level": 1,
      "xhtml": "text/02-the-big-drum.xhtml",
      "mp3": "audio/02-the-big-drum.mp3",
      "transcript": "transcripts/02-the-big-drum.vtt",
      "duration": 3.0,
      "words": 9,
      "clips": [
        {
          "id": "tb-title",
          "begin": 0.0,
          "end": 1.0,
          "text": "The big drum 漢"
        },
        {
          "id": "tb-1",
          "begin": 1.0,
          "end": 2.0,
          "text": "Hello world."
        },
        {
          "id": "tb-2",
          "begin": 2.0,
          "end": 3.0,
          "text": "It is loud."
        }
      ]
    }"""
    )
    assert json.loads(written)["files"] == [
        "audio/01-a-small-book.mp3",
        "audio/02-the-big-drum.mp3",
        "audio/03-outro-end.mp3",
        "cover.png",
        "small-book.epub",
        "small-book.m4b",
        "small-book.mp3",
        "small-book.chapters.json",
        "feed.xml",
        "small-book.m3u8",
        "small-book.vtt",
        "transcripts/01-a-small-book.vtt",
        "transcripts/02-the-big-drum.vtt",
        "transcripts/03-outro-end.vtt",
        "index.html",
        "manifest.json",
    ]


def test_cover(pub, tmp_path):
    out = write_cover(pub, tmp_path)
    assert out == tmp_path / "cover.png"
    assert out.read_bytes() == COVER.data


def test_text_only_book_has_no_overlay_and_a_manifest_without_audio(tmp_path):
    text_only = publication(BOOK, narrated=False)
    with zipfile.ZipFile(write_epub(text_only, tmp_path)) as z:
        assert not [n for n in z.namelist() if n.endswith((".smil", ".mp3"))]
    manifest = json.loads(write_manifest(text_only, tmp_path).read_text(encoding="utf-8"))
    assert manifest["files"] == ["cover.png", "small-book.epub", "manifest.json"]
    assert manifest["playlist"] is None and manifest["transcript"] is None and manifest["narration"] is None
    assert [(s["mp3"], s["clips"]) for s in manifest["sections"]] == [(None, None)] * 3
