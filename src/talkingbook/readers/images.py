"""Images an article may embed: local files inside the input's own folder, ``data:`` URIs,
and (only when asked) remote images, with limits. Anything else keeps its text alternative.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import time
import urllib.parse
import warnings
from pathlib import Path

from ..errors import InputError
from ..model import MAX_IMAGE_PIXELS
from .net import Reach
from .urls import web_url

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_REMOTE_IMAGES = 50
IMAGE_DEADLINE = 10  # seconds for one remote image, redirects included
IMAGES_DEADLINE = 30  # seconds for all the remote images of one article
MAX_BOOK_IMAGE_BYTES = 100 * 1024 * 1024  # all the images one book embeds, each counted once
PIL_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# EPUB 3 core media types for raster images, recognised by their first bytes. SVG is left
# out on purpose: it can carry scripts and remote references.
MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff(data: bytes) -> str | None:
    """The image media type from its first bytes, or None if it is not one EPUB readers must show."""
    for magic, media_type in MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def verified_type(data: bytes) -> str:
    """The media type of ``data`` when it is a whole PNG, JPEG, GIF or WebP image of at most
    ``MAX_IMAGE_PIXELS``; otherwise ValueError saying what is wrong with it.

    The size is read from the header before anything is decoded; then Pillow verifies the file
    (PNG checksums...) and decodes it, which a truncated or corrupt image does not survive.
    """
    from PIL import Image as PILImage, UnidentifiedImageError

    media_type = sniff(data)
    if media_type is None:
        raise ValueError("not a PNG, JPEG, GIF or WebP image")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)  # decided here, below
        try:
            with PILImage.open(io.BytesIO(data)) as image:  # the header only
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ValueError(f"{width} x {height} pixels, more than the {MAX_IMAGE_PIXELS:,} embedded")
                if PIL_TYPES.get(image.format or "") != media_type:
                    raise ValueError(f"its content ({image.format}) is not what its first bytes say ({media_type})")
                image.verify()
            with PILImage.open(io.BytesIO(data)) as image:
                image.load()
        except ValueError:
            raise
        except PILImage.DecompressionBombError as exc:
            raise ValueError("a decompression bomb (far more pixels than bytes)") from exc
        except UnidentifiedImageError as exc:
            raise ValueError("damaged: no image can be read from it") from exc
        except Exception as exc:  # Pillow's decoders raise a zoo on hostile files: OSError, SyntaxError...
            raise ValueError(f"damaged or truncated ({exc or type(exc).__name__})") from exc
    return media_type


class ImageResolver:
    """Turn an ``<img src>`` into (bytes, media type), or None when it may not or cannot be embedded."""

    def __init__(
        self, folder: Path | None, base_url: str = "", fetch_remote: bool = False, reach: Reach | None = None
    ) -> None:
        self.folder = folder.resolve() if folder else None
        self.base_url = web_url(base_url) or ""
        self.fetch_remote = fetch_remote
        self.reach = reach or Reach()
        self._fetched = 0
        self._images_end: float | None = None  # when the time for all remote images runs out
        self._cache: dict[str, tuple[bytes, str] | None] = {}
        self._checked: dict[str, tuple[bytes, str] | None] = {}  # by content digest: each image once
        self._embedded = 0  # bytes of the distinct images accepted so far
        self._files: dict[Path, tuple[bytes, str] | None] = {}  # 'a.png?v=1' and 'a.png?v=2' are one file

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
        """``data`` with its media type when it may be embedded; the same bytes are checked (and
        held in memory) once however many addresses name them."""
        if sniff(data) is None:
            log.info("image %s is not an embeddable PNG, JPEG, GIF or WebP; its text is kept", src[:80])
            return None
        key = hashlib.sha256(data).hexdigest()
        if key not in self._checked:
            self._checked[key] = self._verified(data, src)
        return self._checked[key]

    def _verified(self, data: bytes, src: str) -> tuple[bytes, str] | None:
        if len(data) > MAX_IMAGE_BYTES:
            log.warning("image %s is larger than %d MB; its text is kept", src[:80], MAX_IMAGE_BYTES >> 20)
            return None
        if self._embedded + len(data) > MAX_BOOK_IMAGE_BYTES:
            log.warning(
                "image %s: the book already holds %d MB of images; its text is kept",
                src[:80],
                MAX_BOOK_IMAGE_BYTES >> 20,
            )
            return None
        try:
            media_type = verified_type(data)
        except ValueError as exc:
            log.warning("image %s is not embedded: %s; its text is kept", src[:80], exc)
            return None
        self._embedded += len(data)
        return data, media_type

    def _data_uri(self, src: str) -> tuple[bytes, str] | None:
        header, _, payload = src.partition(",")
        try:
            data = (
                base64.b64decode(payload, validate=False)
                if header.endswith(";base64")
                else urllib.parse.unquote_to_bytes(payload)
            )
        except ValueError:
            return None
        return self._check(data, "data: URI")

    def _local_path(self, src: str) -> Path | None:
        """The file ``src`` names inside the input's folder; None outside it (symlinks resolved)."""
        if self.folder is None:
            return None
        parts = urllib.parse.urlsplit(src)
        relative = urllib.parse.unquote(parts.path)
        candidate = Path(relative) if parts.scheme == "file" else self.folder / relative.lstrip("/")
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
        if path not in self._files:
            try:
                self._files[path] = (
                    None if path.stat().st_size > MAX_IMAGE_BYTES else self._check(path.read_bytes(), src)
                )
            except OSError:
                self._files[path] = None
        return self._files[path]

    def _remote(self, url: str) -> tuple[bytes, str] | None:
        if not self.fetch_remote or self._fetched >= MAX_REMOTE_IMAGES:
            return None
        from .sources import fetch

        if self._images_end is None:
            self._images_end = time.monotonic() + IMAGES_DEADLINE
        left = self._images_end - time.monotonic()
        if left <= 0:
            log.warning(
                "image %s: no time left for remote images (%d s in all); its text is kept", url[:80], IMAGES_DEADLINE
            )
            return None
        self._fetched += 1
        try:
            fetched = fetch(
                url, reach=self.reach, max_bytes=MAX_IMAGE_BYTES, types=(), seconds=min(IMAGE_DEADLINE, left)
            )
        except InputError as exc:
            log.warning("image %s: %s; its text is kept", url[:80], exc.why)
            return None
        return self._check(fetched.data, url)
