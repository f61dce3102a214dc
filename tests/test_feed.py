"""The podcast feed, read back with gPodder's podcastparser and with feedparser."""

import json
from itertools import pairwise

import feedparser
import podcastparser
import pytest

from conftest import SAMPLE


@pytest.fixture(scope="module")
def published(tmp_path_factory, build):
    """The run's shared sample book ("local"), one published under a base URL, and the sample converted
    again here (the same feed from a second run)."""
    from talkingbook.cli import main

    root = tmp_path_factory.mktemp("feed")
    assert main(["convert", str(SAMPLE), "-o", str(root / "again"), "--engine", "fake", "-q"]) == 0
    return {
        "local": build().folder,
        "web": build(SAMPLE, "--base-url", "https://books.example/kpop/").folder,
        "again": root / "again" / SAMPLE.stem,
    }


def manifest(folder):
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_podcastparser_finds_one_episode_per_section_in_order(published):
    folder = published["web"]
    sections = manifest(folder)["sections"]
    with open(folder / "feed.xml", "rb") as stream:
        feed = podcastparser.parse("https://books.example/kpop/feed.xml", stream)
    assert feed["title"] == manifest(folder)["metadata"]["title"]
    assert feed["cover_url"] == "https://books.example/kpop/cover.png"  # the artwork directories show
    episodes = sorted(feed["episodes"], key=lambda e: e["published"])  # podcastparser sorts newest first
    assert [e["title"] for e in episodes] == [s["title"] for s in sections]
    assert [e["number"] for e in episodes] == [s["number"] for s in sections]
    for episode, section in zip(episodes, sections):
        enclosure = episode["enclosures"][0]
        assert enclosure["url"] == f"https://books.example/kpop/{section['mp3']}"
        assert enclosure["file_size"] == (folder / section["mp3"]).stat().st_size
        assert enclosure["mime_type"] == "audio/mpeg"
        assert episode["total_time"] == round(section["duration"])
        assert episode["description"]
    assert [b["published"] - a["published"] for a, b in pairwise(episodes)] == [60] * (len(episodes) - 1)


def test_feedparser_reads_the_channel_items_and_transcripts(published):
    folder = published["local"]
    sections = manifest(folder)["sections"]
    feed = feedparser.parse(str(folder / "feed.xml"))
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.language == "en" and feed.feed.itunes_type == "serial"
    assert feed.feed.image.href == "cover.png" and (folder / "cover.png").is_file()
    assert [e.title for e in feed.entries] == [s["title"] for s in sections]
    for entry, section in zip(feed.entries, sections):
        assert entry.enclosures[0].href == section["mp3"]  # relative without --base-url
        assert (folder / entry.enclosures[0].href).is_file()
        assert int(entry.itunes_episode) == section["number"]
        transcript = entry.podcast_transcript["url"] if "podcast_transcript" in entry else None
        assert transcript == section["transcript"] and (folder / transcript).is_file()
    first = feed.entries[0].published_parsed
    assert (first.tm_year, first.tm_mon, first.tm_mday) == (2026, 11, 27)  # the article's date


def test_guids_stay_the_same_across_runs(published):
    guids = [[e.id for e in feedparser.parse(str(published[n] / "feed.xml")).entries] for n in ("local", "again")]
    assert guids[0] == guids[1] and len(set(guids[0])) == len(guids[0])


def test_base_url_must_be_a_web_address(tmp_path, run):
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, "--engine", "fake", "--base-url", "books/here")
    assert code == 2 and "--base-url books/here" in err and len(err.strip().splitlines()) == 1


def test_every_episode_carries_the_cover_as_its_own_image(published):
    """Apps show an episode's own artwork in their lists; without it some show none."""
    folder = published["web"]
    with open(folder / "feed.xml", "rb") as stream:
        feed = podcastparser.parse("https://books.example/kpop/feed.xml", stream)
    assert feed["episodes"] and all(
        e["episode_art_url"] == "https://books.example/kpop/cover.png" for e in feed["episodes"]
    )
    local = feedparser.parse(str(published["local"] / "feed.xml"))
    assert local.entries and all(e.image.href == "cover.png" for e in local.entries)


def test_the_channel_has_apples_tags_and_its_own_address(published):
    """itunes:explicit is true or false (Apple), itunes:owner names the author, and a feed published
    under a base URL says where it is (atom:link rel=self, podcast:guid from that URL)."""
    from lxml import etree

    from talkingbook.media.podcast import podcast_guid

    ns = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "atom": "http://www.w3.org/2005/Atom"}
    web = feedparser.parse(str(published["web"] / "feed.xml"))
    assert not web.bozo, web.bozo_exception
    assert [link.href for link in web.feed.links if link.rel == "self"] == ["https://books.example/kpop/feed.xml"]
    channel = etree.parse(str(published["web"] / "feed.xml")).find("channel")
    assert channel.findtext("itunes:explicit", namespaces=ns) == "false"
    author = manifest(published["web"])["metadata"]["author"] or manifest(published["web"])["metadata"]["title"]
    assert channel.findtext("itunes:owner/itunes:name", namespaces=ns) == author == web.feed.author
    guid = channel.findtext("{https://podcastindex.org/namespace/1.0}guid")
    assert guid == podcast_guid("https://books.example/kpop/feed.xml")
    local = etree.parse(str(published["local"] / "feed.xml")).find("channel")
    assert local.find("atom:link", ns) is None  # relative links: no address to name
