"""A folder for an audiobook server: one folder per book holding its M4B and its cover, nothing else.

Audiobookshelf (and servers that scan the same way) takes every audio file of a book's folder, its
subfolders included, as the book's tracks: a talkingbook folder holds the narration three times (the
M4B, the full-length MP3 and the sections' MP3s), so the server showed 960 s for a 320 s book. The
shelf (``talkingbook library DIR --audiobookshelf SHELF``) gives it one audio file per book, with the
tags it reads (title, author, narrator, publisher, language, description, chapters) inside the M4B.

The files are hard links to the book's own (no second copy on disk; a copy when SHELF is on another
file system), refreshed with the library: a book made again is linked again, a book removed from
``DIR`` leaves the shelf. The shelf's own marker file says the folder is ours: a folder without it
that is not empty is left alone, with a warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from ..system.files import why
from .model import Entry, Library

log = logging.getLogger(__name__)

MARKER = ".talkingbook-shelf"


def refresh_shelf(library: Library, shelf: Path) -> None:
    """Make ``shelf`` hold, for each narrated book of ``library``, ``<slug>/<slug>.m4b`` and its cover."""
    if not _ours(shelf):
        log.warning("%s: not talkingbook's audiobook shelf (no %s in it); left as it is", shelf, MARKER)
        return
    wanted = {book.slug: book for book in library.books if book.m4b}
    for entry in os.scandir(shelf):
        if entry.name != MARKER and entry.name not in wanted:
            _remove(Path(entry.path))
    for slug, book in wanted.items():
        try:
            _shelve(library.folder, book, shelf / slug)
        except OSError as exc:
            log.warning("%s: not put on the audiobook shelf (%s)", shelf / slug, why(exc))


def _ours(shelf: Path) -> bool:
    """Make ``shelf`` (marked as ours) if it is missing or empty; True when it is ours."""
    shelf.mkdir(parents=True, exist_ok=True)
    if (shelf / MARKER).is_file():
        return True
    if any(os.scandir(shelf)):
        return False
    (shelf / MARKER).write_bytes(b"talkingbook's audiobook shelf: its folders are rewritten at each refresh\n")
    return True


def _shelve(library: Path, book: Entry, folder: Path) -> None:
    """``folder`` holding links to the book's M4B and cover, and nothing else."""
    assert book.m4b is not None
    files = {Path(book.m4b).name: library / book.m4b}
    if book.cover:
        files[Path(book.cover).name] = library / book.cover
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        _remove(folder)
    folder.mkdir(exist_ok=True)
    for entry in os.scandir(folder):
        if entry.name not in files:
            _remove(Path(entry.path))
    for name, source in files.items():
        _link(source, folder / name)


def _link(source: Path, target: Path) -> None:
    """``target`` the same file as ``source``: a hard link, put in place atomically; a copy across file systems."""
    with contextlib.suppress(OSError):
        if os.path.samefile(source, target):
            return
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        os.unlink(temp)
        try:
            os.link(source, temp)
        except OSError:  # another file system, or links refused: the bytes themselves
            shutil.copyfile(source, temp)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
