"""The output folder as a library: ``DIR/index.html``, ``DIR/feed.xml`` (one podcast) and
``DIR/catalog/`` (OPDS 1.2 and 2.0), derived from the book folders present, refreshed after every
conversion into ``DIR`` and by `talkingbook library DIR`.

What `talkingbook serve` may call (``library`` is ``read_library(DIR)``; ``base_url`` is the
library folder's absolute URL, e.g. ``http://192.168.1.5:8000/``, or None for relative links):

- ``read_library(folder: Path) -> Library``: the books, newest first, read from their manifests
  (the saved --title/--description/--base-url included; 0.3 s for 3,000 books);
- ``render_page(library) -> bytes``: ``index.html`` (relative links only);
- ``render_feed(library, base_url) -> bytes``: ``feed.xml``;
- ``catalog_file(library, name, base_url) -> bytes | None``: ``catalog/<name>`` (None: no such file);
- ``render_opds1(library, base_url, feed="newest", page=1) -> bytes``, ``render_opds2(...)``;
- ``search(library, terms) -> tuple[Entry, ...]`` and ``render_search(library, terms, base_url,
  kind, page) -> bytes | None`` for ``catalog/search.xml?q=&page=`` (kind "xml") and
  ``catalog/search.json?query=&page=`` (kind "json"), which a static host cannot answer (None: no
  such page, a 404);
- ``state(folder) -> tuple``: equal while the library is unchanged (a few ``stat`` calls), for
  keeping what was rendered from it;
- ``refresh(folder, settings=None) -> Library``: rewrite the files on disk (takes the lock).
"""

from __future__ import annotations

from .feed import FEED, render_feed
from .model import CATALOG, Entry, Library, Settings, read_library, search, state
from .opds import catalog_file, catalog_names, render_opds1, render_opds2, render_search
from .page import render_page
from .refresh import PAGE, refresh, refresh_locked

__all__ = [
    "CATALOG",
    "FEED",
    "PAGE",
    "Entry",
    "Library",
    "Settings",
    "catalog_file",
    "catalog_names",
    "read_library",
    "refresh",
    "refresh_locked",
    "render_feed",
    "render_opds1",
    "render_opds2",
    "render_page",
    "render_search",
    "search",
    "state",
]
