"""The one rule for the links of the library's files: absolute under a base URL, else relative."""

from __future__ import annotations

from urllib.parse import quote


def href(base_url: str | None, path: str, here: str = "") -> str:
    """The link to ``path`` (relative to the library's folder) from a file in the folder ``here``
    (``''``: the library's folder, ``'catalog'``...): under ``base_url`` when given, else relative."""
    path = quote(path)
    if base_url:
        return f"{base_url.rstrip('/')}/{path}"
    if not here:
        return path
    # by hand, not posixpath.relpath: that one asks the system for the current folder at each call
    # (10 000 calls for a catalog of 500 books); ``here`` is always a folder of the library's own
    depth = len(here.strip("/").split("/"))
    inside = f"{here.strip('/')}/"
    return path[len(inside) :] if path.startswith(inside) else "../" * depth + path
