"""The podcast feed: RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, written with feedgen.

The channel is the article; each section is an episode, in table-of-contents order:
episode number = track number, dates a minute apart from the article's date so that apps
keep the order, a guid that stays the same across re-runs, and a `podcast:transcript`
link. Enclosure URLs are relative (local use) unless a base URL is given (publishing).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import lxml.etree
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from ..model import Book, Paragraph, iter_blocks
from ..publication import Publication
from ..structure.segment import split_sentences
from ..structure.toc import TocEntry

PODCAST_NS = "https://podcastindex.org/namespace/1.0"


class _PodcastIndex(BaseExtension):
    """The Podcasting 2.0 namespace, which feedgen does not know."""

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}


class _PodcastIndexEntry(BaseEntryExtension):
    def __init__(self) -> None:
        self._transcripts: list[dict[str, str]] = []

    def transcript(self, url: str, media_type: str, language: str) -> None:
        self._transcripts.append({"url": url, "type": media_type, "language": language})

    def extend_rss(self, entry: lxml.etree._Element) -> lxml.etree._Element:
        for transcript in self._transcripts:
            element = xml_elem(f"{{{PODCAST_NS}}}transcript", entry)
            for key, value in transcript.items():
                element.attrib[key] = value
        return entry


# Numeric references, not html.escape's named ones: podcastparser (gPodder) decodes named references
# with a greedy pattern that eats '&lt;3 &lt;' whole, and numeric ones exactly.
_HTML_TEXT = str.maketrans({"&": "&#38;", "<": "&#60;", ">": "&#62;"})


def _html(text: str) -> str:
    """Plain text as the HTML an RSS description holds: every reader takes a description for HTML
    (feedparser sanitizes it, podcastparser and Apple render it), so a quoted '<script>' or '<b>' is
    escaped here, and feedgen escapes the result again as XML. The paragraph tag tells heuristic
    readers (podcastparser) that it is HTML, so they decode the escapes rather than show them."""
    return f"<p>{text.translate(_HTML_TEXT)}</p>"


def _url(base_url: str | None, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def _summary(entry: TocEntry, limit: int = 400) -> str:
    """The section's first sentences, up to about ``limit`` characters."""
    text = " ".join(b.text for b in iter_blocks(entry.section.blocks) if isinstance(b, Paragraph))
    out = ""
    for sentence in split_sentences(text):
        if out and len(out) + len(sentence) > limit:
            break
        out = f"{out} {sentence}".strip()
    return out or entry.title


def _start(book: Book, modified: datetime) -> datetime:
    """The first episode's date: the article's date (midnight UTC), else the book's modification time."""
    if book.metadata.date:
        try:
            return datetime.combine(datetime.fromisoformat(book.metadata.date).date(), time(0), tzinfo=UTC)
        except ValueError:
            pass
    return modified


def write_feed(pub: Publication, folder: Path) -> Path:
    """The RSS feed of the section MP3s (``Layout.FEED``), each an episode; returns its path."""
    meta, layout, base_url, modified = pub.book.metadata, pub.layout, pub.options.base_url, pub.modified
    feed = FeedGenerator()
    feed.load_extension("podcast")
    feed.register_extension("podcastindex", _PodcastIndex, _PodcastIndexEntry, atom=False, rss=True)
    feed.title(meta.title)
    feed.description(_html(meta.description or meta.title))
    link = meta.source_url or _url(base_url, layout.epub)
    feed.link(href=link)
    feed.language(meta.language)
    feed.generator("talkingbook")
    if meta.rights:
        feed.rights(meta.rights)
    feed.lastBuildDate(modified)
    feed.pubDate(_start(pub.book, modified))
    feed.podcast.itunes_type("serial")
    feed.podcast.itunes_explicit("no")
    feed.podcast.itunes_category("News")
    if meta.author or meta.publisher:
        feed.podcast.itunes_author(meta.author or meta.publisher)
    # no itunes:summary: Apple no longer reads it, and readers disagree whether it is text or HTML
    cover = _url(base_url, layout.cover(pub.cover))
    feed.image(cover, title=meta.title, link=link)  # the channel's artwork: RSS <image> and <itunes:image>
    feed.podcast.itunes_image(cover)
    start = _start(pub.book, modified)
    for entry in pub.toc:
        audio = pub.audio(entry)
        item = feed.add_entry(order="append")
        item.title(entry.title)
        item.guid(f"{meta.identifier}/{entry.slug}", permalink=False)
        item.description(_html(_summary(entry)))
        item.enclosure(_url(base_url, layout.section_mp3(entry)), str(audio.size), "audio/mpeg")
        item.published(start + timedelta(minutes=entry.number - 1))
        item.podcast.itunes_episode(entry.number)
        item.podcast.itunes_episode_type("full")
        item.podcast.itunes_duration(round(audio.duration))
        item.podcast.itunes_image(cover)  # apps show an episode's own artwork, else nothing in some lists
        item.podcastindex.transcript(_url(base_url, layout.section_vtt(entry)), "text/vtt", meta.language)
    out = folder / layout.FEED
    feed.rss_file(str(out), pretty=True, encoding="UTF-8")
    return out
