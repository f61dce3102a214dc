"""The one rule for the links of the library's files: absolute under a base URL, else relative."""

from __future__ import annotations

import posixpath
from urllib.parse import quote


def href(base_url: str | None, path: str, here: str = "") -> str:
    """The link to ``path`` (relative to the library's folder) from a file in the folder ``here``
    (``''``: the library's folder, ``'catalog'``...): under ``base_url`` when given, else relative."""
    path = quote(path)
    if base_url:
        return f"{base_url.rstrip('/')}/{path}"
    return posixpath.relpath(path, here or ".") if here else path
