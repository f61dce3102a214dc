"""The library's podcast: ``DIR/feed.xml``, RSS 2.0 with the iTunes and Podcasting 2.0 namespaces
(feedgen), one episode per narrated article, newest first.

``render_feed(library, base_url) -> bytes`` is what `talkingbook serve` calls to answer
``/feed.xml`` with absolute URLs for the request's host; the file written on disk has absolute URLs
when the library has a base URL, relative ones otherwise (podcast apps need absolute ones).
"""

from __future__ import annotations

import uuid

import lxml.etree  # noqa: F401  (feedgen 1.0 uses lxml.etree without importing it)
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from .model import Entry, Library
from .urls import href

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# Podcasting 2.0's namespace for podcast:guid: uuidv5 of the feed URL without scheme and trailing slashes
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
FEED = "feed.xml"


def podcast_guid(feed_url: str) -> str:
    """The podcast:guid the Podcasting 2.0 namespace derives from a feed's URL."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


class _PodcastIndex(BaseExtension):
    """The channel's Podcasting 2.0 tags, which feedgen does not know."""

    def __init__(self):
        self._guid: str | None = None

    def guid(self, value: str) -> None:
        self._guid = value

    def extend_ns(self):
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss):
        if self._guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", rss[0]).text = self._guid
        return rss


class _PodcastIndexEntry(BaseEntryExtension):
    """An episode's podcast:chapters and podcast:transcript."""

    def __init__(self):
        self._links: list[tuple[str, dict]] = []

    def chapters(self, url: str) -> None:
        self._links.append(("chapters", {"url": url, "type": "application/json+chapters"}))

    def transcript(self, url: str, language: str) -> None:
        self._links.append(("transcript", {"url": url, "type": "text/vtt", "language": language}))

    def extend_rss(self, entry):
        for tag, attributes in self._links:
            element = xml_elem(f"{{{PODCAST_NS}}}{tag}", entry)
            for key, value in attributes.items():
                element.attrib[key] = value
        return entry


# Numeric references (see writers/feed.py): podcastparser decodes named ones greedily
_HTML_TEXT = str.maketrans({"&": "&#38;", "<": "&#60;", ">": "&#62;"})


def _html(text: str) -> str:
    """Plain text as the HTML every reader takes a description for."""
    return f"<p>{text.translate(_HTML_TEXT)}</p>"


def episodes(library: Library) -> tuple[Entry, ...]:
    """The books with a full-length MP3, newest first: the feed's episodes."""
    return tuple(b for b in library.books if b.mp3)


def render_feed(library: Library, base_url: str | None) -> bytes:
    """The library's RSS feed; URLs absolute under ``base_url`` (the library folder's URL), else relative."""
    feed = FeedGenerator()
    feed.load_extension("podcast")
    feed.register_extension("podcastindex", _PodcastIndex, _PodcastIndexEntry, atom=False, rss=True)
    feed.title(library.title)
    feed.description(_html(library.description))
    feed.link(href=href(base_url, "index.html") if base_url else "index.html")
    if library.language:
        feed.language(library.language)
    feed.generator("talkingbook")
    feed.lastBuildDate(library.updated)
    feed.podcast.itunes_type("episodic")
    feed.podcast.itunes_explicit("no")
    feed.podcast.itunes_category("News")
    if base_url:
        feed.podcastindex.guid(podcast_guid(href(base_url, FEED)))
    shown = episodes(library)
    covered = next((b for b in shown if b.cover), None) or next((b for b in library.books if b.cover), None)
    if covered is not None:  # the channel's artwork: the newest article's cover
        cover = href(base_url, covered.cover or "")
        feed.image(cover, title=library.title, link=href(base_url, "index.html"))
        feed.podcast.itunes_image(cover)
    for book in shown:
        item = feed.add_entry(order="append")
        item.title(book.title)
        item.guid(book.identifier, permalink=False)  # the book's identifier: the same across re-runs
        item.description(_html(book.summary or book.title))
        if book.page:
            item.link(href=href(base_url, book.page))
        item.enclosure(href(base_url, book.mp3 or ""), str(book.mp3_size), "audio/mpeg")
        item.published(book.published)
        item.podcast.itunes_episode_type("full")
        if book.author or book.publisher:
            item.podcast.itunes_author(book.author or book.publisher)
        if book.duration is not None:
            item.podcast.itunes_duration(round(book.duration))
        if book.cover:
            item.podcast.itunes_image(href(base_url, book.cover))
        if book.chapters:
            item.podcastindex.chapters(href(base_url, book.chapters))
        if book.transcript:
            item.podcastindex.transcript(href(base_url, book.transcript), book.language)
    return feed.rss_str(pretty=True, encoding="UTF-8")
