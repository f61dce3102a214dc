"""Credit and rights: the source URL, publisher and the licence the page states, in the EPUB's
opening page, dc:rights, the feed, and spoken at the start of the first track."""

import json
import zipfile

import feedparser
import pytest

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
