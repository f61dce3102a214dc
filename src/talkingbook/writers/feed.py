"""The podcast feed: RSS 2.0, iTunes and Podcasting 2.0 tags (media/podcast.py, shared with the library).

The channel is the article; each section is an episode, in table-of-contents order:
episode number = track number, dates a minute apart from the article's date so that apps
keep the order, a guid that stays the same across re-runs, and a `podcast:transcript`
link. Enclosure URLs are relative (local use) unless a base URL is given (publishing).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from ..media.podcast import Channel, Episode, render_podcast
from ..model import Book
from ..publication import Publication
from ..structure.toc import summary


def _site(url: str) -> str:
    """The host of the article's URL, without 'www.' ('' for none)."""
    return (urlsplit(url).hostname or "").removeprefix("www.") if url else ""


def _url(base_url: str | None, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


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
    link = meta.source_url or _url(base_url, layout.epub)
    cover = _url(base_url, layout.cover(pub.cover))
    start = _start(pub.book, modified)
    channel = Channel(
        title=meta.title,
        description=meta.description or meta.title,
        link=link,
        language=meta.language,
        author=meta.author or meta.publisher or _site(meta.source_url) or meta.title,  # itunes:author, owner
        updated=modified,
        kind="serial",
        feed_url=_url(base_url, layout.FEED) if base_url else None,
        cover=cover,
        published=start,
        rights=meta.rights,
    )
    episodes = [
        Episode(
            title=entry.title,
            guid=f"{meta.identifier}/{entry.slug}",
            description=summary(entry),
            audio=_url(base_url, layout.section_mp3(entry)),
            size=pub.audio(entry).size,
            published=start + timedelta(minutes=entry.number - 1),
            duration=pub.audio(entry).duration,
            number=entry.number,
            image=cover,
            transcript=_url(base_url, layout.section_vtt(entry)),
            language=meta.language,
        )
        for entry in pub.toc
    ]
    out = folder / layout.FEED
    out.write_bytes(render_podcast(channel, episodes))
    return out
