"""A site's RSS or Atom feed: fetched by our own fetcher (address policy, deadline, size cap),
parsed by feedparser, as the list of articles it links to."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import InputError
from . import net
from .urls import web_url

MAX_BYTES = 10 * 1024 * 1024
DEADLINE = 30  # seconds for the whole feed, redirects included
ACCEPT = "application/rss+xml, application/atom+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"


@dataclass(frozen=True)
class FeedItem:
    """One article of a feed: ``key`` (its GUID, else its link) is how the library remembers it."""

    key: str
    link: str
    title: str
    published: datetime | None


@dataclass(frozen=True)
class Feed:
    """A feed's items, in its order, and the reach its links are fetched with: the user typed the
    feed's URL, not theirs, so a feed from a public address cannot send us to a private one (with
    --private-network auto or deny); a feed served from a private address may link to that kind
    of address (auto) or to its own address and port (deny)."""

    items: tuple[FeedItem, ...]
    reach: net.Reach


def read_feed(url: str, private_network: str = "auto") -> Feed:
    """The feed at ``url``; InputError when it cannot be fetched or is not a feed."""
    import feedparser  # imported here: only `follow` needs it

    checked = web_url(url)
    if checked is None:
        raise InputError(url, "not a valid http(s) URL")
    # any content type: servers send feeds as text/html or text/plain too; feedparser decides
    response = net.get(
        checked,
        reach=net.Reach(private_network),
        typed=True,
        seconds=DEADLINE,
        max_bytes=MAX_BYTES,
        accept=ACCEPT,
        name=url,
    )
    parsed = feedparser.parse(response.data, response_headers={"content-location": response.url})
    cause = parsed.get("bozo_exception")
    if parsed.get("bozo") and not parsed.get("entries"):
        raise InputError(url, f"not an RSS or Atom feed ({' '.join(str(cause).split())[:120] or 'unreadable'})")
    if parsed.get("bozo") and _damaged(cause):
        # feedparser's loose parser then returns what it could read (a cut feed: the items before the
        # cut) and says so only in this flag: following it would skip the rest silently
        raise InputError(url, f"a damaged feed ({_where(cause)}); no article was converted")
    if not parsed.get("version") and not parsed.get("entries"):
        raise InputError(url, "not an RSS or Atom feed")
    items = []
    for entry in parsed.entries:
        link = web_url(entry.get("link") or "", response.url)
        if link is None:
            continue  # an item without a web page: nothing to convert
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC) if stamp else None
        items.append(FeedItem(entry.get("id") or link, link, entry.get("title") or link, published))
    return Feed(tuple(items), response.reach)


def _damaged(cause: object) -> bool:
    """True when feedparser's ``bozo_exception`` says the XML is broken (cut short, not well-formed),
    not merely that the feed came with another encoding or content type than it declared, nor that
    it uses HTML's named entities (``&nbsp;``), which the loose parser reads as a browser does."""
    import xml.sax

    if not isinstance(cause, xml.sax.SAXException):
        return False  # CharacterEncodingOverride, NonXMLContentType...
    return "undefined entity" not in str(cause)


def _where(cause) -> str:
    """A SAX error as 'line 3, column 40: unclosed token'."""
    message = " ".join(str(cause.getMessage()).split())[:120]
    return f"line {cause.getLineNumber()}, column {cause.getColumnNumber()}: {message}"
