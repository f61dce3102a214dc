"""Credit and rights: the source URL, publisher and the licence the page states, in the EPUB's
opening page, dc:rights, the feed, and spoken at the start of the first track."""

import json
import zipfile

import feedparser
import pytest

from conftest import NS, SAMPLE, epubcheck5, epubcheck42, need
from talkingbook.readers.metadata import license_name

PAGE = """<html lang="en"><head><title>Shared Article</title>
<link rel="canonical" href="https://wiki.example/wiki/Shared_Article">
<meta property="og:site_name" content="Example Wiki">
<link rel="license" href="//creativecommons.org/licenses/by-sa/3.0/"></head>
<body><article><h1>Shared Article</h1><p>Text that others may share, with attribution, under the same terms.</p>
<h2>More</h2><p>A second section so that the book has two of them.</p></article></body></html>"""


@pytest.mark.parametrize(
    "url, name",
    [
        ("https://creativecommons.org/licenses/by-sa/3.0/", "CC BY-SA 3.0"),
        ("//creativecommons.org/licenses/by-nc-nd/4.0/deed.en", "CC BY-NC-ND 4.0"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0"),
        ("https://example.org/terms", ""),
    ],
)
def test_licence_names(url, name):
    assert license_name(url) == name


def test_the_licence_is_credited_everywhere(tmp_path, run):
    page = tmp_path / "shared.html"
    page.write_text(PAGE, encoding="utf-8")
    assert run("convert", page, "-o", tmp_path / "out", "--engine", "fake", "-q", "--no-audiobook")[0] == 0
    folder = tmp_path / "out" / "shared"
    with zipfile.ZipFile(folder / "shared.epub") as z:
        opf = z.read("EPUB/content.opf").decode()
        first = z.read(next(n for n in z.namelist() if n.startswith("EPUB/text/01-"))).decode()
    rights = (
        "Licensed under CC BY-SA 3.0 (https://creativecommons.org/licenses/by-sa/3.0/). Published by "
        "Example Wiki. Source: https://wiki.example/wiki/Shared_Article."
    )
    assert f"<dc:rights>{rights}</dc:rights>" in opf
    assert 'id="tb-credit"' in first and 'rel="license">CC BY-SA 3.0</a>' in first
    assert '<a href="https://wiki.example/wiki/Shared_Article">Example Wiki</a>' in first
    assert feedparser.parse(str(folder / "feed.xml")).feed.rights == rights
    clips = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"][0]["clips"]
    spoken = [c["text"] for c in clips]
    credit = spoken.index("Source: Example Wiki. Licensed under CC BY-SA 3.0.")
    assert credit < 4  # at the start of the first track, before the article's text
    assert clips[credit]["id"] == "tb-credit"


AUTHORS = ("Ann Lee", "Bob Stone", "Cid Vey")


@pytest.fixture(scope="module")
def coauthored(build):
    """The sample converted with a byline of three authors (given as a user would, split as a page's is)."""
    return build(SAMPLE, "--author", "Ann Lee, Bob Stone and Cid Vey").folder


def test_each_author_is_a_creator_with_the_role_aut_in_the_epub(coauthored, epub_parts):
    """Audiobookshelf and reading systems keep the dc:creators whose role (EPUB 3: a refining meta in the
    marc:relators scheme) is "aut"; each author is one creator."""
    opf = epub_parts(next(coauthored.glob("*.epub"))).opf
    creators = opf.xpath("//opf:metadata/dc:creator", namespaces=NS)
    assert [c.text for c in creators] == list(AUTHORS)
    for creator in creators:
        (role,) = opf.xpath(f"//opf:meta[@refines='#{creator.get('id')}'][@property='role']", namespaces=NS)
        assert (role.text, role.get("scheme")) == ("aut", "marc:relators")


def test_the_epub_of_several_authors_passes_epubcheck(coauthored):
    epub = next(coauthored.glob("*.epub"))
    assert epubcheck5(epub) == [] and epubcheck42(epub) == []


def test_the_audio_names_every_author(coauthored):
    """ffmpeg, and so Audiobookshelf, reads one value of an artist tag: the names go there as one line, and
    each on its own in ARTISTS (MusicBrainz's tag, read by taggers)."""
    import shutil
    import subprocess

    from mutagen.id3 import ID3
    from mutagen.mp4 import MP4

    line = "Ann Lee, Bob Stone, Cid Vey"
    manifest = json.loads((coauthored / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["authors"] == list(AUTHORS) and manifest["metadata"]["author"] == line
    m4b = MP4(next(coauthored.glob("*.m4b")))
    assert m4b.tags["\xa9ART"] == [line]
    assert [bytes(v).decode() for v in m4b.tags["----:com.apple.iTunes:ARTISTS"]] == list(AUTHORS)
    need(shutil.which("ffprobe") is not None, "Debian's ffmpeg (ffprobe) is not installed")
    for mp3 in [coauthored / f"{coauthored.name}.mp3", *(coauthored / s["mp3"] for s in manifest["sections"])]:
        tags = ID3(mp3)
        assert tags["TPE1"].text == [line] and tags["TXXX:ARTISTS"].text == list(AUTHORS)
        probed = subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(mp3)], capture_output=True, text=True
        ).stdout
        assert json.loads(probed)["format"]["tags"]["artist"] == line
    # and the narration says them as the language lists names
    assert "By Ann Lee, Bob Stone, and Cid Vey." in ID3(coauthored / manifest["sections"][0]["mp3"])["USLT::eng"].text
