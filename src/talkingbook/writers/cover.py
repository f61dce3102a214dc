"""The cover picture as a file of the book's folder (podcast apps and the listening page use it)."""

from __future__ import annotations

from pathlib import Path

from ..publication import Publication


def write_cover(pub: Publication, folder: Path) -> Path:
    """``cover.jpg`` or ``cover.png`` (``Layout.cover``): the same bytes as in the EPUB and the tags."""
    out = folder / pub.layout.cover(pub.cover)
    out.write_bytes(pub.cover.data)
    return out
