"""Images an article may embed: local files inside the input's own folder, ``data:`` URIs,
and (only when asked) remote images, with limits. Anything else keeps its text alternative.
"""

from __future__ import annotations

import base64
import logging
import time
import urllib.parse
from pathlib import Path

from .errors import InputError
from .net import Reach
from .urls import web_url

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_REMOTE_IMAGES = 50
IMAGE_DEADLINE = 10  # seconds for one remote image, redirects included
IMAGES_DEADLINE = 30  # seconds for all the remote images of one article
# EPUB 3 core media types for raster images, recognised by their first bytes. SVG is left
# out on purpose: it can carry scripts and remote references.
MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
         (b"GIF89a", "image/gif"))


def sniff(data: bytes) -> str | None:
    """The image media type from its first bytes, or None if it is not one EPUB readers must show."""
    for magic, media_type in MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class ImageResolver:
    """Turn an ``<img src>`` into (bytes, media type), or None when it may not or cannot be embedded."""

    def __init__(self, folder: Path | None, base_url: str = "", fetch_remote: bool = False,
                 reach: Reach | None = None) -> None:
        self.folder = folder.resolve() if folder else None
        self.base_url = web_url(base_url) or ""
        self.fetch_remote = fetch_remote
        self.reach = reach or Reach()
        self._fetched = 0
        self._images_end: float | None = None  # when the time for all remote images runs out
        self._cache: dict[str, tuple[bytes, str] | None] = {}

    def __call__(self, src: str) -> tuple[bytes, str] | None:
        src = src.strip()
        if src not in self._cache:
            self._cache[src] = self._resolve(src)
        return self._cache[src]

    def _resolve(self, src: str) -> tuple[bytes, str] | None:
        if not src:
            return None
        if src.startswith("data:"):
            return self._data_uri(src)
        try:
            scheme = urllib.parse.urlsplit(src).scheme.lower()
        except ValueError:
            return None
        if scheme in ("http", "https") or (not scheme and self.base_url and not self._local_path(src)):
            url = web_url(src, self.base_url)
            if url is None:
                log.info("image %s is not a valid http(s) URL; its text is kept", src[:80])
                return None
            return self._remote(url)
        if scheme in ("", "file"):
            return self._local(src)
        return None

    def _check(self, data: bytes, src: str) -> tuple[bytes, str] | None:
        media_type = sniff(data)
        if media_type is None or len(data) > MAX_IMAGE_BYTES:
            log.info("image %s is not an embeddable PNG, JPEG, GIF or WebP; its text is kept", src[:80])
            return None
        return data, media_type

    def _data_uri(self, src: str) -> tuple[bytes, str] | None:
        header, _, payload = src.partition(",")
        try:
            data = (base64.b64decode(payload, validate=False) if header.endswith(";base64")
                    else urllib.parse.unquote_to_bytes(payload))
        except ValueError:
            return None
        return self._check(data, "data: URI")

    def _local_path(self, src: str) -> Path | None:
        """The file ``src`` names inside the input's folder; None outside it (symlinks resolved)."""
        if self.folder is None:
            return None
        parts = urllib.parse.urlsplit(src)
        relative = urllib.parse.unquote(parts.path)
        if parts.scheme == "file":
            candidate = Path(relative)
        else:
            candidate = self.folder / relative.lstrip("/")
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):
            return None
        if not resolved.is_relative_to(self.folder) or not resolved.is_file():
            return None
        return resolved

    def _local(self, src: str) -> tuple[bytes, str] | None:
        path = self._local_path(src)
        if path is None:
            log.info("image %s is missing or outside the article's folder; its text is kept", src[:80])
            return None
        try:
            if path.stat().st_size > MAX_IMAGE_BYTES:
                return None
            return self._check(path.read_bytes(), src)
        except OSError:
            return None

    def _remote(self, url: str) -> tuple[bytes, str] | None:
        if not self.fetch_remote or self._fetched >= MAX_REMOTE_IMAGES:
            return None
        from .sources import fetch

        if self._images_end is None:
            self._images_end = time.monotonic() + IMAGES_DEADLINE
        left = self._images_end - time.monotonic()
        if left <= 0:
            log.warning("image %s: no time left for remote images (%d s in all); its text is kept",
                        url[:80], IMAGES_DEADLINE)
            return None
        self._fetched += 1
        try:
            fetched = fetch(url, reach=self.reach, max_bytes=MAX_IMAGE_BYTES, types=(),
                            seconds=min(IMAGE_DEADLINE, left))
        except InputError as exc:
            log.warning("image %s: %s; its text is kept", url[:80], exc.why)
            return None
        return self._check(fetched.data, url)
