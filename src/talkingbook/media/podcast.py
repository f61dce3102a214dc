"""The one rendering of a podcast feed: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces,
written with feedgen, for the book's feed (writers/feed.py: one episode per section) and the
library's (library/feed.py: one episode per book). Each gives a :class:`Channel` and its
:class:`Episode` values; what podcast apps and Apple's rules want of the tags is decided here once.

feedgen does not know Podcasting 2.0's tags, writes ``itunes:explicit`` as ``yes``/``no`` (Apple
documents ``true``/``false``) and an ``itunes:owner`` only with an e-mail address: those tags are
written by the extensions below.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import lxml.etree  # feedgen 1.0 uses lxml.etree without importing it
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
# Podcasting 2.0's namespace for podcast:guid: uuidv5 of the feed URL without scheme and trailing slashes
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(frozen=True)
class Channel:
    """The podcast itself. URLs as they are to be written (absolute when published)."""

    title: str
    description: str  # plain text
    link: str  # the web page of the podcast
    language: str  # a BCP 47 tag, or '' when the episodes' languages differ
    author: str  # itunes:author, and the name of itunes:owner
    updated: datetime
    kind: str  # itunes:type: "episodic" (newest first) or "serial" (in order)
    feed_url: str | None = None  # the feed's own absolute URL: atom:link rel="self" and podcast:guid
    cover: str | None = None  # the artwork: RSS <image> and itunes:image
    published: datetime | None = None
    rights: str = ""


@dataclass(frozen=True)
class Episode:
    """One item of the feed."""

    title: str
    guid: str  # the same across re-runs: apps know an episode by it
    description: str  # plain text
    audio: str  # the MP3's URL
    size: int
    published: datetime
    duration: float | None = None  # seconds
    link: str | None = None
    number: int | None = None  # itunes:episode (a serial's order)
    author: str = ""
    image: str | None = None
    chapters: str | None = None  # Podcasting 2.0 JSON chapters
    transcript: str | None = None  # WebVTT
    language: str = ""  # the transcript's


def podcast_guid(feed_url: str) -> str:
    """The podcast:guid the Podcasting 2.0 namespace derives from a feed's URL."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


# Numeric references, not html.escape's named ones: podcastparser (gPodder) decodes named references
# with a greedy pattern that eats '&lt;3 &lt;' whole, and numeric ones exactly.
_HTML_TEXT = str.maketrans({"&": "&#38;", "<": "&#60;", ">": "&#62;"})


def html_text(text: str) -> str:
    """Plain text as the HTML an RSS description holds: every reader takes a description for HTML
    (feedparser sanitizes it, podcastparser and Apple render it), so a quoted '<script>' or '<b>' is
    escaped here, and feedgen escapes the result again as XML. The paragraph tag tells heuristic
    readers (podcastparser) that it is HTML, so they decode the escapes rather than show them."""
    return f"<p>{text.translate(_HTML_TEXT)}</p>"


class _ChannelTags(BaseExtension):
    """The channel's tags feedgen does not write as podcast apps read them."""

    def __init__(self) -> None:
        self.channel: Channel | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss: lxml.etree._Element) -> lxml.etree._Element:
        channel, given = rss[0], self.channel
        assert given is not None
        xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = "false"  # Apple: true or false
        if given.author:
            owner = xml_elem(f"{{{ITUNES_NS}}}owner", channel)
            xml_elem(f"{{{ITUNES_NS}}}name", owner).text = given.author
        if given.feed_url:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = podcast_guid(given.feed_url)
        return rss


class _EpisodeTags(BaseEntryExtension):
    """An episode's podcast:chapters and podcast:transcript."""

    def __init__(self) -> None:
        self.links: list[tuple[str, dict[str, str]]] = []

    def extend_rss(self, entry: lxml.etree._Element) -> lxml.etree._Element:
        for tag, attributes in self.links:
            element = xml_elem(f"{{{PODCAST_NS}}}{tag}", entry)
            for key, value in attributes.items():
                element.attrib[key] = value
        return entry


def render_podcast(channel: Channel, episodes: Iterable[Episode]) -> bytes:
    """The feed's XML, the episodes in the order given."""
    feed = FeedGenerator()
    feed.load_extension("podcast")
    feed.register_extension("tags", _ChannelTags, _EpisodeTags, atom=False, rss=True)
    feed.tags.channel = channel
    feed.title(channel.title)
    feed.description(html_text(channel.description))
    links = [{"href": channel.feed_url, "rel": "self", "type": "application/rss+xml"}] if channel.feed_url else []
    feed.link([*links, {"href": channel.link, "rel": "alternate"}])  # the last one is RSS's <link>
    if channel.language:
        feed.language(channel.language)
    feed.generator("talkingbook")
    if channel.rights:
        feed.rights(channel.rights)
    feed.lastBuildDate(channel.updated)
    if channel.published is not None:
        feed.pubDate(channel.published)
    feed.podcast.itunes_type(channel.kind)
    feed.podcast.itunes_category("News")
    if channel.author:
        feed.podcast.itunes_author(channel.author)
    # no itunes:summary: Apple no longer reads it, and readers disagree whether it is text or HTML
    if channel.cover:
        feed.image(channel.cover, title=channel.title, link=channel.link)
        feed.podcast.itunes_image(channel.cover)
    for episode in episodes:
        item = feed.add_entry(order="append")
        item.title(episode.title)
        item.guid(episode.guid, permalink=False)
        item.description(html_text(episode.description))
        if episode.link:
            item.link(href=episode.link)
        item.enclosure(episode.audio, str(episode.size), "audio/mpeg")
        item.published(episode.published)
        if episode.number is not None:
            item.podcast.itunes_episode(episode.number)
        item.podcast.itunes_episode_type("full")
        if episode.author:
            item.podcast.itunes_author(episode.author)
        if episode.duration is not None:
            item.podcast.itunes_duration(round(episode.duration))
        if episode.image:  # apps show an episode's own artwork, else nothing in some lists
            item.podcast.itunes_image(episode.image)
        if episode.chapters:
            item.tags.links.append(("chapters", {"url": episode.chapters, "type": "application/json+chapters"}))
        if episode.transcript:
            transcript = {"url": episode.transcript, "type": "text/vtt", "language": episode.language}
            item.tags.links.append(("transcript", transcript))
    return bytes(feed.rss_str(pretty=True, encoding="UTF-8"))
