"""The library's podcast: ``DIR/feed.xml``, RSS 2.0 with the iTunes and Podcasting 2.0 namespaces
(feedgen), one episode per narrated article, newest first.

``render_feed(library, base_url) -> bytes`` is what `talkingbook serve` calls to answer
``/feed.xml`` with absolute URLs for the request's host; the file written on disk has absolute URLs
when the library has a base URL, relative ones otherwise (podcast apps need absolute ones).
"""

from __future__ import annotations

from ..media.podcast import Channel, Episode, podcast_guid, render_podcast
from .model import Entry, Library
from .urls import href

FEED = "feed.xml"
__all__ = ["FEED", "episodes", "podcast_guid", "render_feed"]


def episodes(library: Library) -> tuple[Entry, ...]:
    """The books with a full-length MP3, newest first: the feed's episodes."""
    return tuple(b for b in library.books if b.mp3)


def render_feed(library: Library, base_url: str | None) -> bytes:
    """The library's RSS feed; URLs absolute under ``base_url`` (the library folder's URL), else relative."""
    shown = episodes(library)
    covered = next((b for b in shown if b.cover), None) or next((b for b in library.books if b.cover), None)
    channel = Channel(
        title=library.title,
        description=library.description,
        link=href(base_url, "index.html"),
        language=library.language,  # en-US and en-GB: en
        author=library.title,  # the library's publisher is whoever names it
        updated=library.updated,
        kind="episodic",
        feed_url=href(base_url, FEED) if base_url else None,
        cover=href(base_url, covered.cover) if covered is not None and covered.cover else None,  # the newest's
    )
    return render_podcast(channel, (_episode(book, base_url) for book in shown))


def _episode(book: Entry, base_url: str | None) -> Episode:
    def url(path: str | None) -> str | None:
        return href(base_url, path) if path else None

    return Episode(
        title=book.title,
        guid=book.identifier,  # the book's identifier: the same across re-runs
        description=book.summary or book.title,
        audio=href(base_url, book.mp3 or ""),
        size=book.mp3_size,
        published=book.published,
        duration=book.duration,
        link=url(book.page),
        author=book.author or book.publisher,
        image=url(book.cover),
        chapters=url(book.chapters),
        transcript=url(book.transcript),
        language=book.language,
    )
