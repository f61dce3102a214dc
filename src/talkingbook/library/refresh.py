"""Writing the library's files into ``DIR``: ``index.html``, ``feed.xml`` and ``catalog/``, each
replaced atomically (a temporary file beside it, then ``os.replace``), all derived from the book
folders present, under the folder's lock (``DIR/.talkingbook.lock``, the one `convert` publishes
under), so two runs never interleave their files and a reader never sees half a file.

A file someone else put at one of these names (their own ``index.html``) is left alone, with a
warning. Unchanged files are not rewritten: their date and ETag stay, for podcast apps and caches.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path

from ..errors import OutputError
from ..system.files import read_regular, why
from ..system.publish import locked
from .feed import FEED, render_feed
from .model import CATALOG, MEMO, SETTINGS, Library, Settings, memo, read_library
from .opds import _NAME, catalog_file, catalog_names
from .page import GENERATOR, render_page
from .shelf import refresh_shelf

log = logging.getLogger(__name__)

PAGE = "index.html"
CATALOG_MARKER = ".talkingbook-catalog"  # DIR/catalog/ is ours (and its files may be replaced)
_TEMP = re.compile(r"^\.(index\.html|feed\.xml|talkingbook-library\.json)\.[^.]+\.tmp$")
_OURS = {PAGE: GENERATOR.encode(), FEED: b"<generator>talkingbook</generator>"}


def refresh(folder: Path, settings: Settings | None = None) -> Library:
    """Take ``folder``'s lock, then :func:`refresh_locked`."""
    try:
        with locked(folder):
            return refresh_locked(folder, settings)
    except OSError as exc:
        raise OutputError(str(folder / exc.filename if isinstance(exc.filename, str) else folder), why(exc)) from exc


def refresh_locked(folder: Path, settings: Settings | None = None) -> Library:
    """Rewrite the library files of ``folder`` from the books in it (the caller holds its lock);
    ``settings`` given are saved for the refreshes that follow. Returns the library as read."""
    if settings is not None:
        _replace(
            folder / SETTINGS,
            (json.dumps(asdict(settings), ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode(),
        )
    library = read_library(folder)
    base_url = library.settings.base_url or None
    _remove_temporaries(folder, _TEMP)
    for name, data in ((PAGE, render_page(library)), (FEED, render_feed(library, base_url))):
        if _ours(folder / name, _OURS[name]):
            _replace(folder / name, data)
        else:
            log.warning(
                "%s: not written by talkingbook; left as it is (the library's %s is not refreshed)", folder / name, name
            )
    if library.settings.audiobookshelf:
        refresh_shelf(library, Path(library.settings.audiobookshelf))
    catalog = folder / CATALOG
    if not _catalog_folder(catalog):
        log.warning("%s: not talkingbook's catalog folder; the OPDS catalog is not refreshed", catalog)
        return library
    _remove_temporaries(catalog, re.compile(r"^\..+\.tmp$"))
    names = catalog_names(library)
    for name in names:
        rendered = catalog_file(library, name, base_url)
        assert rendered is not None, name
        _replace(catalog / name, rendered)
    _replace(catalog / MEMO, memo(library))
    for entry in os.scandir(catalog):  # pages and languages no longer there
        if (
            entry.name not in names
            and (_NAME.match(entry.name) or entry.name == "opensearch.xml")
            and entry.is_file(follow_symlinks=False)
        ):
            os.unlink(entry.path)
    return library


def _ours(path: Path, mark: bytes) -> bool:
    """True when ``path`` is absent or a file talkingbook wrote (its generator mark near the top)."""
    try:
        return mark in read_regular(path, 64 * 1024 * 1024)[: 64 * 1024]
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _catalog_folder(catalog: Path) -> bool:
    """Make ``DIR/catalog/`` if missing; True when it is ours."""
    try:
        catalog.mkdir()
    except FileExistsError:
        return not catalog.is_symlink() and catalog.is_dir() and (catalog / CATALOG_MARKER).is_file()
    (catalog / CATALOG_MARKER).write_bytes(b"talkingbook's OPDS catalog: its files are rewritten at each refresh\n")
    return True


def _remove_temporaries(folder: Path, pattern: re.Pattern) -> None:
    """Temporary files of a refresh that was killed (the lock is ours: no live run is writing them)."""
    for entry in os.scandir(folder):
        if pattern.match(entry.name) and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _replace(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` atomically; nothing is written when the file already holds it."""
    try:
        if read_regular(path, len(data)) == data:
            return
    except OSError:
        pass
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o666 & ~_umask())  # readable as any other file, not mkstemp's 0600
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
