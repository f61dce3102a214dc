"""Podcast apps read the feeds of a served library as talkingbook means them, and alike.

Two articles (the sample, five sections, a date and an author; a page without a date) are converted
with the fake voice into one folder served by `talkingbook serve` on 127.0.0.1, as a phone's podcast
app would reach it. The library's feed (`/feed.xml`, one episode per article) and each article's feed
(`/<slug>/feed.xml`, one episode per section) are read by three parsers: gPodder's podcastparser
(pip), podcast-partytime (Podcast Index's, in Podverse) and rss-parser (npm). For every episode and
every field an app shows or plays (title, enclosure URL, type and length, duration, guid, date,
artwork, chapters, transcript, author) each parser must read what the book's manifest.json says.
Twice: fetched from `serve` for a folder converted for local use, and from the files on disk of a
folder converted with `--base-url` and listed with `library --base-url` (a static host's case).

What the parsers are, measured here (tests/js/podcast.js prints what the two npm ones read):
- podcastparser resolves relative URLs against the feed's URL; podcast-partytime and rss-parser hand
  them on as written, and an app cannot fetch "audio/01-x.mp3": URLs must be absolute in the feed.
- podcastparser 0.6 knows the Podcasting 2.0 namespace only under its old GitHub URL, not
  "https://podcastindex.org/namespace/1.0", so it reads no podcast:chapters nor podcast:transcript of
  any feed that uses the namespace's own URI; it is left out of those two fields.
- An episode's author, as apps show it, is its own itunes:author, else the channel's.
"""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import podcastparser
import pytest

from conftest import DATA, SAMPLE, Serving, book_names, podcast_apps

PAGES = [SAMPLE, DATA / "nested.html"]
APPS = ("podcastparser", "partytime", "rss-parser")
NOT_READ = object()  # a field a parser does not read at all (see the module's docstring)
FIELDS = ("title", "url", "type", "length", "duration", "guid", "published")
FIELDS += ("image", "chapters", "transcript", "author")


class Feed:
    """One feed fetched from the server: what talkingbook means it to say, and what each parser read."""

    def __init__(self, name: str, url: str, expected: dict, read: dict[str, dict]) -> None:
        self.name, self.url, self.expected, self.read = name, url, expected, read

    def episode(self, app: str, file_name: str) -> dict | None:
        """The episode ``app`` read whose enclosure is the file ``file_name`` (URL relative or not)."""
        found = [e for e in self.read[app]["episodes"] if _file_name(e["url"]) == file_name]
        return found[0] if len(found) == 1 else None


def _file_name(url: str | None) -> str:
    return PurePosixPath(urlsplit(url or "").path).name


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _start(manifest: dict) -> datetime:
    """The article's date at midnight UTC, else the book's modification time (what the feeds date from)."""
    return _utc(manifest["metadata"]["date"]) if manifest["metadata"].get("date") else _utc(manifest["modified"])


def expected_library_feed(folder: Path, base: str) -> dict:
    """The library feed as talkingbook means it: one episode per article, every URL absolute."""
    episodes, newest = {}, None
    for slug in book_names(folder):
        m = json.loads((folder / slug / "manifest.json").read_text("utf-8"))
        if newest is None or _start(m) > newest[0]:
            newest = (_start(m), f"{base}{slug}/{m['cover']}")
        mp3 = m["audiobook"]["mp3"]
        episodes[PurePosixPath(mp3).name] = {
            "title": m["metadata"]["title"],
            "url": f"{base}{slug}/{mp3}",
            "type": "audio/mpeg",
            "length": (folder / slug / mp3).stat().st_size,
            "duration": round(m["duration"]),
            "guid": m["metadata"]["identifier"],
            "published": _iso(_start(m)),
            "image": f"{base}{slug}/{m['cover']}",
            "chapters": f"{base}{slug}/{m['audiobook']['chapters']}",
            "transcript": f"{base}{slug}/{m['transcript']}",
            "author": m["metadata"]["author"] or m["metadata"]["publisher"],
        }
    # the channel's artwork is the newest article's cover; the library has no author of its own
    return {"channel": {"title": folder.name, "author": None, "image": newest[1]}, "episodes": episodes}


def expected_article_feed(folder: Path, slug: str, base: str) -> dict:
    """An article's feed as talkingbook means it: one episode per section, in order, a minute apart
    from the article's date (so that apps keep the order), every URL absolute."""
    m = json.loads((folder / slug / "manifest.json").read_text("utf-8"))
    author = m["metadata"]["author"] or m["metadata"]["publisher"]
    episodes = {
        PurePosixPath(s["mp3"]).name: {
            "title": s["title"],
            "url": f"{base}{slug}/{s['mp3']}",
            "type": "audio/mpeg",
            "length": (folder / slug / s["mp3"]).stat().st_size,
            "duration": round(s["duration"]),
            "guid": m["metadata"]["identifier"],  # each guid holds the book's identifier (checked below)
            "published": _iso(_start(m) + timedelta(minutes=s["number"] - 1)),
            "image": f"{base}{slug}/{m['cover']}",
            "chapters": None,  # a section has no chapters of its own
            "transcript": f"{base}{slug}/{s['transcript']}",
            "author": author,
        }
        for s in m["sections"]
    }
    channel = {"title": m["metadata"]["title"], "author": author, "image": f"{base}{slug}/{m['cover']}"}
    return {"channel": channel, "episodes": episodes}


def read_podcastparser(url: str, body: bytes) -> dict:
    """podcastparser's reading in the shape of tests/js/podcast.js's."""
    import io

    parsed = podcastparser.parse(url, io.BytesIO(body))
    return {
        "channel": {
            "title": parsed.get("title"),
            "author": parsed.get("itunes_author"),
            "image": parsed.get("cover_url"),
        },
        "episodes": [
            {
                "title": e.get("title"),
                "url": e["enclosures"][0]["url"] if e.get("enclosures") else None,
                "type": e["enclosures"][0]["mime_type"] if e.get("enclosures") else None,
                "length": e["enclosures"][0]["file_size"] if e.get("enclosures") else None,
                "duration": e.get("total_time"),
                "guid": e.get("guid"),
                "published": _iso(datetime.fromtimestamp(e["published"], UTC)) if e.get("published") else None,
                "image": e.get("episode_art_url"),
                "chapters": NOT_READ,
                "transcripts": NOT_READ,
                "author": e.get("itunes_author"),
            }
            for e in parsed["episodes"]
        ],
    }


@pytest.fixture(scope="module", params=["serve", "published"])
def feeds(request, tmp_path_factory) -> dict[str, Feed]:
    """{"library" or a book's slug: its feed, read}: two articles converted into one folder with the
    fake voice, served by `talkingbook serve` on 127.0.0.1. "serve": converted for local use, the feeds
    fetched from the server (which writes the library feed per request); "published": converted with
    `--base-url` (each book's folder URL) and listed with `talkingbook library --base-url`, the feeds
    read from the files on disk, as a static web host would serve them."""
    from talkingbook.cli import main

    mode = request.param
    root = tmp_path_factory.mktemp(f"podcast-apps-{mode}")
    folder = root / "dist"
    folder.mkdir()
    server = Serving(folder)  # first, for its address: books converted while it runs are served
    try:
        for page in PAGES:
            options = ["--base-url", f"{server.base}{page.stem}/"] if mode == "published" else []
            assert main(["convert", str(page), "-o", str(folder), "--engine", "fake", "-q", *options]) == 0, page
        assert book_names(folder) == sorted(page.stem for page in PAGES)
        if mode == "published":
            assert main(["library", str(folder), "--base-url", server.base]) == 0
        found = {}
        paths = {"library": "/feed.xml"} | {slug: f"/{slug}/feed.xml" for slug in book_names(folder)}
        for name, path in paths.items():
            if mode == "serve":
                status, _, body = server.get(path)
                assert status == 200, path
            else:
                body = (folder / path.lstrip("/")).read_bytes()
            saved = root / f"{name}.xml"
            saved.write_bytes(body)
            url = server.base + path.lstrip("/")
            expected = (
                expected_library_feed(folder, server.base)
                if name == "library"
                else expected_article_feed(folder, name, server.base)
            )
            read = {"podcastparser": read_podcastparser(url, body), **podcast_apps(saved)}
            found[name] = Feed(name, url, expected, read)
        yield found
    finally:
        server.stop()


FEEDS = ["library", SAMPLE.stem, "nested"]


def _value(episode: dict | None, field: str):
    if episode is None:
        return "<no episode with this enclosure file>"
    if field == "transcript":
        transcripts = episode["transcripts"]
        return NOT_READ if transcripts is NOT_READ else (transcripts[0] if len(transcripts) == 1 else transcripts)
    return episode[field]


@pytest.mark.parametrize("name", FEEDS)
def test_every_parser_reads_every_episode(feeds, name):
    """Each parser finds one episode per enclosure talkingbook listed (per article, or per section)."""
    feed = feeds[name]
    expected = sorted(feed.expected["episodes"])
    for app in APPS:
        got = sorted(_file_name(e["url"]) for e in feed.read[app]["episodes"])
        assert got == expected, f"{feed.url}: {app} read episodes {got}, expected {expected}"


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("name", FEEDS)
def test_every_parser_reads_each_field_as_talkingbook_means_it(feeds, name, field):
    """Field by field, every episode, all three parsers: one table of every disagreement."""
    feed = feeds[name]
    wrong = []
    for file_name, expected in feed.expected["episodes"].items():
        for app in APPS:
            episode = feed.episode(app, file_name)
            got = _value(episode, field)
            if got is NOT_READ:
                continue
            if field == "author" and episode is not None and got is None:
                got = feed.read[app]["channel"]["author"]  # apps show the channel's author instead
            if field == "guid" and name != "library":
                ok = isinstance(got, str) and expected[field] in got  # the book's identifier, made unique
            else:
                ok = got == expected[field]
            if not ok:
                wrong.append(f"{file_name}: {app} read {got!r}, expected {expected[field]!r}")
    assert not wrong, f"{feed.url} {field}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", FEEDS)
def test_guids_are_unique_and_read_alike(feeds, name):
    """An app keys episodes by guid: each episode has its own, and every parser reads the same one."""
    feed = feeds[name]
    readings = {app: [e["guid"] for e in feed.read[app]["episodes"]] for app in APPS}
    for app, guids in readings.items():
        assert None not in guids and len(set(guids)) == len(guids), f"{feed.url}: {app} read guids {guids}"
    assert len({frozenset(g) for g in readings.values()}) == 1, readings


@pytest.mark.parametrize("name", FEEDS)
def test_the_channel_title_author_and_artwork_are_read_alike(feeds, name):
    """The podcast's own title, author (an article's feed) and artwork (an absolute URL)."""
    feed = feeds[name]
    wrong = []
    for app in APPS:
        channel = feed.read[app]["channel"]
        for field, expected in feed.expected["channel"].items():
            if expected is not None and channel[field] != expected:
                wrong.append(f"{app} read {field} {channel[field]!r}, expected {expected!r}")
    assert not wrong, f"{feed.url}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", FEEDS)
def test_every_url_an_app_reads_is_served(feeds, name):
    """Enclosures, artwork, chapters and transcripts, as podcast-partytime read them (as written in the
    feed): each an absolute URL on the server that answers it, enclosures with the length and type
    the feed gave."""
    feed = feeds[name]
    server = urlsplit(feed.url)
    wrong = []
    for episode in feed.read["partytime"]["episodes"]:
        urls = [episode["url"], episode["image"], episode["chapters"], *episode["transcripts"]]
        for url in filter(None, urls):
            parts = urlsplit(url)
            if (parts.scheme, parts.netloc) != (server.scheme, server.netloc):
                wrong.append(f"{url}: not an absolute URL on {server.scheme}://{server.netloc}/")
                continue
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                conn.request("HEAD", parts.path)
                response = conn.getresponse()
                response.read()
                status, headers = response.status, {k.lower(): v for k, v in response.getheaders()}
            finally:
                conn.close()
            if status != 200:
                wrong.append(f"{url}: HTTP {status}")
            elif url == episode["url"] and (
                int(headers.get("content-length", -1)) != episode["length"]
                or headers.get("content-type") != episode["type"]
            ):
                wrong.append(f"{url}: served as {headers.get('content-type')}, {headers.get('content-length')} bytes")
    assert not wrong, f"{feed.url}:\n" + "\n".join(wrong)
