"""The library's OPDS catalog for e-reader apps, in ``DIR/catalog/``: OPDS 1.2 (Atom, ``.xml``) and
OPDS 2.0 (JSON, ``.json``), the same feeds in both.

- ``index``: the navigation root, with "Newest" and "By language";
- ``newest``, ``newest-page2``...: every book, newest first, PAGE_SIZE a page (rel next/previous);
- ``languages``: one navigation entry per primary language (en holds en, en-US and en-GB);
  ``language-<code>``, ``language-<code>-page2``...;
- ``opensearch.xml``: the OpenSearch description of ``search.xml?q=`` (OPDS 1.2) and
  ``search.json{?query}`` (OPDS 2.0). A static host cannot answer them; `talkingbook serve` does,
  with :func:`render_search`.

For `serve` (URLs absolute for the request's host):
- ``catalog_file(library, name, base_url) -> bytes | None``: any file of ``catalog/`` by name
  (``None``: no such file);
- ``render_opds1(library, base_url, feed="newest", page=1) -> bytes`` and ``render_opds2(...)``
  (``feed``: ``index``, ``languages``, ``newest`` or ``language-<code>``);
- ``render_search(library, terms, base_url, kind, page) -> bytes | None`` (kind ``"xml"`` or ``"json"``;
  ``page`` the query's ``page`` parameter; None: no such page), paginated as the other feeds.
Without a base URL the links are relative (OPDS allows them; they resolve against the file's URL).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Literal
from urllib.parse import quote

from lxml import etree

from .model import CATALOG, Entry, Library, search
from .urls import href

PAGE_SIZE = 50
ATOM = "http://www.w3.org/2005/Atom"
NS = {
    None: ATOM,
    "dc": "http://purl.org/dc/terms/",
    "opds": "http://opds-spec.org/2010/catalog",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPDS2 = "application/opds+json"
ACQUIRE = "http://opds-spec.org/acquisition"
SORT_NEW = "http://opds-spec.org/sort/new"
_NAME = re.compile(
    r"^(?P<feed>index|languages|newest|language-(?P<language>[A-Za-z0-9-]+?))"
    r"(?:-page(?P<page>[1-9][0-9]*))?\.(?P<ext>xml|json)$"
)
_MEDIA = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

Kind = Literal["xml", "json"]


# -- which feeds there are -----------------------------------------------------------------------


def _pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def _books(library: Library, feed: str) -> tuple[Entry, ...]:
    """The books of an acquisition feed: ``newest``, ``search`` (a library of the books found) or
    ``language-<code>`` (a primary language: en holds en, en-US and en-GB)."""
    if feed.startswith("language-"):
        code = feed.removeprefix("language-")
        return tuple(b for b in library.books if b.primary_language == code)
    return library.books


def _articles(count: int) -> str:
    return f"{count} article{'' if count == 1 else 's'}"


def _name(feed: str, page: int, kind: Kind) -> str:
    return f"{feed}{f'-page{page}' if page > 1 else ''}.{kind}"


def catalog_names(library: Library) -> list[str]:
    """Every file of ``catalog/`` for this library."""
    names = ["opensearch.xml"]
    feeds = ["newest", *(f"language-{code}" for code in library.languages)]
    for kind in ("xml", "json"):
        names += [f"index.{kind}", f"languages.{kind}"]
        for feed in feeds:
            names += [_name(feed, page, kind) for page in range(1, _pages(len(_books(library, feed))) + 1)]
    return names


def catalog_file(library: Library, name: str, base_url: str | None) -> bytes | None:
    """The file ``catalog/<name>``, rendered for ``base_url``; None when the catalog has no such file."""
    if name == "opensearch.xml":
        return render_opensearch(library, base_url)
    match = _NAME.match(name)
    if match is None:
        return None
    feed, page, kind = match["feed"], int(match["page"] or 1), match["ext"]
    if feed in ("index", "languages") and page != 1:
        return None
    if match["language"] is not None and match["language"] not in library.languages:
        return None
    if feed not in ("index", "languages") and page > _pages(len(_books(library, feed))):
        return None
    return (render_opds1 if kind == "xml" else render_opds2)(library, base_url, feed, page)


def _link(base_url: str | None, name: str) -> str:
    """A link from a catalog file to another catalog file."""
    return href(base_url, f"{CATALOG}/{name}", CATALOG)


def _book_link(base_url: str | None, path: str) -> str:
    return href(base_url, path, CATALOG)


def _feed_id(library: Library, feed: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"talkingbook-library:{library.title}:{feed}").urn


def _title(library: Library, feed: str) -> str:
    if feed == "index":
        return library.title
    if feed == "languages":
        return f"{library.title}: by language"
    if feed == "newest":
        return f"{library.title}: newest"
    if feed == "search":
        return library.title
    return f"{library.title}: {_language_name(feed.removeprefix('language-'))}"


def _language_name(code: str) -> str:
    """'fr' as 'French (fr)', in English (the catalog's own language)."""
    from babel import Locale, UnknownLocaleError

    try:
        return f"{Locale.parse(code.replace('-', '_')).get_display_name('en')} ({code})"
    except (UnknownLocaleError, ValueError):
        return code


def _stamp(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _audio(book: Entry) -> list[tuple[str, str, int, str]]:
    """The audiobook links: (path, media type, length, title)."""
    out = []
    if book.m4b:
        out.append((book.m4b, "audio/mp4", book.m4b_size, "Audiobook (M4B, with chapters)"))
    if book.mp3:
        out.append((book.mp3, "audio/mpeg", book.mp3_size, "Audiobook (MP3, with chapters)"))
    return out


def _navigation(library: Library, feed: str) -> list[tuple[str, str, str, str]]:
    """A navigation feed's entries: (title, summary, target feed, rel)."""
    if feed == "index":
        return [
            ("Newest", f"Every article, newest first ({len(library.books)})", "newest", SORT_NEW),
            ("By language", f"The articles of each language ({len(library.languages)})", "languages", "subsection"),
        ]
    return [
        (
            _language_name(code),
            _articles(sum(b.primary_language == code for b in library.books)),
            f"language-{code}",
            "subsection",
        )
        for code in library.languages
    ]


# -- OPDS 1.2 ----------------------------------------------------------------------------------------


def _sub(parent, tag: str, text: str | None = None, **attributes) -> etree._Element:
    prefix, _, local = tag.rpartition(":")
    element = etree.SubElement(
        parent, f"{{{NS[prefix or None]}}}{local}", {k.rstrip("_"): v for k, v in attributes.items() if v is not None}
    )
    if text is not None:
        element.text = text
    return element


def _self(base_url: str | None, feed: str, page: int, kind: Kind, terms: str) -> str:
    """The URL of a feed's page; a search's is the query it answers (``&page=N`` after the first)."""
    if feed == "search":
        query = ("?q=" if kind == "xml" else "?query=") + quote(terms) + (f"&page={page}" if page > 1 else "")
        return _link(base_url, f"search.{kind}") + query
    return _link(base_url, _name(feed, page, kind))


def render_opds1(library: Library, base_url: str | None, feed: str = "newest", page: int = 1, terms: str = "") -> bytes:
    """One OPDS 1.2 feed: ``index`` or ``languages`` (navigation), ``newest`` or ``language-<code>``."""
    root = etree.Element(f"{{{ATOM}}}feed", nsmap=NS)
    navigation = feed in ("index", "languages")
    _sub(root, "id", _feed_id(library, feed))
    _sub(root, "title", _title(library, feed))
    _sub(root, "updated", _stamp(library.updated))
    _sub(_sub(root, "author"), "name", "talkingbook")
    kind = NAVIGATION if navigation else ACQUISITION
    _sub(root, "link", rel="self", href=_self(base_url, feed, page, "xml", terms), type=kind)
    _sub(root, "link", rel="start", href=_link(base_url, "index.xml"), type=NAVIGATION)
    if feed != "index":
        up = "languages.xml" if feed.startswith("language-") else "index.xml"
        _sub(root, "link", rel="up", href=_link(base_url, up), type=NAVIGATION)
    _sub(
        root, "link", rel="search", href=_link(base_url, "opensearch.xml"), type="application/opensearchdescription+xml"
    )
    _sub(root, "link", rel="alternate", href=href(base_url, "index.html", CATALOG), type="text/html")
    if navigation:
        for title, summary, target, rel in _navigation(library, feed):
            entry = _sub(root, "entry")
            _sub(entry, "title", title)
            _sub(entry, "id", _feed_id(library, target))
            _sub(entry, "updated", _stamp(library.updated))
            _sub(entry, "content", summary, type="text")
            target_kind = NAVIGATION if target == "languages" else ACQUISITION
            _sub(entry, "link", rel=rel, href=_link(base_url, _name(target, 1, "xml")), type=target_kind)
    else:
        books = _books(library, feed)
        _paging(root, base_url, feed, page, _pages(len(books)), kind, terms)
        _sub(root, "opensearch:totalResults", str(len(books)))
        _sub(root, "opensearch:itemsPerPage", str(PAGE_SIZE))
        _sub(root, "opensearch:startIndex", str((page - 1) * PAGE_SIZE + 1))
        for book in books[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
            _entry1(root, book, base_url)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _paging(root, base_url: str | None, feed: str, page: int, pages: int, media: str, terms: str) -> None:
    """first, last, previous and next links of a paginated feed (Atom)."""
    for rel, target in _pager(page, pages):
        _sub(root, "link", rel=rel, href=_self(base_url, feed, target, "xml", terms), type=media)


def _pager(page: int, pages: int) -> list[tuple[str, int]]:
    """The rel and page number of a page's first, last, previous and next links."""
    out = [("first", 1), ("last", pages)]
    if page > 1:
        out.append(("previous", page - 1))
    if page < pages:
        out.append(("next", page + 1))
    return out


def _entry1(root, book: Entry, base_url: str | None) -> None:
    """One publication as an OPDS 1.2 acquisition entry."""
    entry = _sub(root, "entry")
    _sub(entry, "title", book.title)
    _sub(entry, "id", book.identifier)
    _sub(entry, "dc:identifier", book.identifier)
    _sub(entry, "updated", _stamp(datetime.fromisoformat(book.modified)) if book.modified else _stamp(book.published))
    for name in book.authors:
        _sub(_sub(entry, "author"), "name", name)
    _sub(entry, "dc:language", book.language)
    if book.date:
        _sub(entry, "dc:issued", book.date)
    if book.publisher:
        _sub(entry, "dc:publisher", book.publisher)
    if book.summary:
        _sub(entry, "summary", book.summary, type="text")
    if book.cover:
        media = _MEDIA.get(book.cover[book.cover.rfind(".") :], "image/png")
        cover = _book_link(base_url, book.cover)
        _sub(entry, "link", rel="http://opds-spec.org/image", href=cover, type=media)
        # the cover is square and small enough for a list; no second image is made
        _sub(entry, "link", rel="http://opds-spec.org/image/thumbnail", href=cover, type=media)
    _sub(
        entry,
        "link",
        rel=ACQUIRE,
        href=_book_link(base_url, book.epub),
        type="application/epub+zip",
        length=str(book.epub_size),
        title="EPUB (read-along)" if book.mp3 or book.m4b else "EPUB",
    )
    for path, media, length, title in _audio(book):
        _sub(entry, "link", rel=ACQUIRE, href=_book_link(base_url, path), type=media, length=str(length), title=title)
    if book.page:
        _sub(
            entry,
            "link",
            rel="alternate",
            href=_book_link(base_url, book.page),
            type="text/html",
            title="Listening page",
        )


# -- OPDS 2.0 ------------------------------------------------------------------------------------


def _jlink(rel: str, target: str, media: str = OPDS2, **more) -> dict:
    return {"rel": rel, "href": target, "type": media, **more}


def render_opds2(library: Library, base_url: str | None, feed: str = "newest", page: int = 1, terms: str = "") -> bytes:
    """One OPDS 2.0 feed, the JSON twin of :func:`render_opds1`."""
    links = [
        _jlink("self", _self(base_url, feed, page, "json", terms)),
        _jlink("start", _link(base_url, "index.json")),
        _jlink("search", _link(base_url, "search.json") + "{?query}", templated=True),
        _jlink("alternate", href(base_url, "index.html", CATALOG), "text/html"),
    ]
    data: dict = {"metadata": {"title": _title(library, feed), "modified": _stamp(library.updated)}, "links": links}
    if feed in ("index", "languages"):
        data["navigation"] = [
            {
                "title": title,
                "href": _link(base_url, _name(target, 1, "json")),
                "type": OPDS2,
                "rel": rel,
                "properties": {"numberOfItems": len(_books(library, target))} if target != "languages" else {},
            }
            for title, _summary, target, rel in _navigation(library, feed)
        ]
        return _json(data)
    books = _books(library, feed)
    pages = _pages(len(books))
    data["metadata"].update(numberOfItems=len(books), itemsPerPage=PAGE_SIZE, currentPage=page)
    links += [_jlink(rel, _self(base_url, feed, target, "json", terms)) for rel, target in _pager(page, pages)]
    data["publications"] = [_publication(book, base_url) for book in books[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    return _json(data)


def _publication(book: Entry, base_url: str | None) -> dict:
    """One publication as OPDS 2.0 (Readium Web Publication Manifest metadata)."""
    meta: dict = {
        "@type": "http://schema.org/Book",
        "title": book.title,
        "identifier": book.identifier,
        "language": book.language,
        "modified": book.modified or _stamp(book.published),
    }
    if book.authors:
        names = [{"name": name} for name in book.authors]
        meta["author"] = names[0] if len(names) == 1 else names
    if book.publisher:
        meta["publisher"] = {"name": book.publisher}
    if book.date:
        meta["published"] = book.date
    if book.summary:
        meta["description"] = book.summary
    if book.duration is not None:
        meta["duration"] = book.duration
    links = [_jlink(ACQUIRE, _book_link(base_url, book.epub), "application/epub+zip", length=book.epub_size)]
    links += [
        _jlink(ACQUIRE, _book_link(base_url, path), media, length=length, title=title)
        for path, media, length, title in _audio(book)
    ]
    if book.page:
        links.append(_jlink("alternate", _book_link(base_url, book.page), "text/html", title="Listening page"))
    out: dict = {"metadata": meta, "links": links}
    if book.cover:
        media = _MEDIA.get(book.cover[book.cover.rfind(".") :], "image/png")
        out["images"] = [{"href": _book_link(base_url, book.cover), "type": media, "width": 1400, "height": 1400}]
    return out


def _json(data: dict) -> bytes:
    # compact: with an indent, json falls back on its pure-Python encoder (3 times slower here)
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode()


# -- search --------------------------------------------------------------------------------------


def render_opensearch(library: Library, base_url: str | None) -> bytes:
    """The OpenSearch description of the catalog's title search (answered by `talkingbook serve`)."""
    root = etree.Element(
        "{http://a9.com/-/spec/opensearch/1.1/}OpenSearchDescription",
        nsmap={None: "http://a9.com/-/spec/opensearch/1.1/"},
    )
    etree.SubElement(root, "ShortName").text = library.title[:16]
    etree.SubElement(root, "Description").text = f"Search {library.title}"[:1024]
    etree.SubElement(root, "InputEncoding").text = "UTF-8"
    etree.SubElement(root, "Url", type=f"{ACQUISITION}", template=_link(base_url, "search.xml") + "?q={searchTerms}")
    etree.SubElement(root, "Url", type=OPDS2, template=_link(base_url, "search.json") + "?query={searchTerms}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def render_search(
    library: Library, terms: str, base_url: str | None, kind: Kind = "xml", page: int | str | None = 1
) -> bytes | None:
    """The books matching ``terms`` (:func:`~talkingbook.library.model.search`) as an OPDS feed, one
    page of PAGE_SIZE results (``page``: a number, or the query's ``page`` parameter as given), with
    the total and links to the other pages: what `serve` answers ``catalog/search.xml?q=`` and
    ``catalog/search.json?query=`` with. None (not found) for a page that is not one of the results'."""
    from dataclasses import replace

    number = _page_number(page)
    books = search(library, terms)
    if number is None or number > _pages(len(books)):
        return None
    found = replace(library, books=books, settings=replace(library.settings, title=f"{library.title}: {terms}"))
    return (render_opds1 if kind == "xml" else render_opds2)(found, base_url, "search", number, terms)


def _page_number(page: int | str | None) -> int | None:
    """A page number as a query gives it ('' or None: the first), or None when it is not one."""
    if page is None or page == "":
        return 1
    if isinstance(page, int):
        return page if page >= 1 else None
    return int(page) if re.fullmatch(r"[1-9][0-9]{0,8}", page) else None
