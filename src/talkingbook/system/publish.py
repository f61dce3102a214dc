"""Putting a finished book in place: ``DIR/<slug>/``, built beside it and swapped in whole.

The rules, so that no run ever destroys what it did not write:

- a book folder carries a marker (``.talkingbook.json``) naming the article it holds (a digest
  of its URL or of the input file's absolute path: the marker is published with the folder);
- a folder is replaced only when its marker (or, for books of earlier versions, its
  ``manifest.json``) says talkingbook wrote it for the same article; another article with the
  same name gets ``<slug>-2``, ``<slug>-3``..., and finds the same folder again on a re-run;
  someone else's folder, a file or a symlink at that name is left alone, and a warning says so;
- the book is built in ``.<slug>.<pid>.<random>.partial``, locked by its run (``flock`` on its marker) for as
  long as it lives; a partial folder whose lock nobody holds was left by a run that died
  (SIGKILL, a power cut) and is removed by the next run into the same folder;
- choosing the name, creating the partial folder and the final swap happen under a lock on
  ``DIR/.talkingbook.lock``, so concurrent runs into one folder never collide.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath

from ..errors import OutputError
from .files import read_regular, why

log = logging.getLogger(__name__)

MARKER = ".talkingbook.json"
LOCK = ".talkingbook.lock"
# .<slug>.<pid>.<random>.partial (this version); .<slug>.<random>.partial (earlier versions)
_PARTIAL = re.compile(r"^\.(?P<slug>[^.]+)\.(?:(?P<pid>\d+)\.)?[^.]+\.partial$")
_OLD_COPY = re.compile(r"^\.(?P<slug>[^.]+)\.old-(?P<pid>\d+)$")  # left by earlier versions' swap
LEGACY_PARTIAL_AGE = 24 * 3600  # an earlier version's partial folder holds no lock: only a day-old one is stale


@dataclass(frozen=True)
class Article:
    """Who a book folder belongs to: ``key`` identifies the article; ``identifier`` and ``source``
    are what an earlier version's manifest.json says of it."""

    key: str
    identifier: str = ""
    source: str = ""
    digest: str = ""  # what the book was made from (page, options, version): recorded in its marker

    @classmethod
    def of(cls, origin: str, identifier: str = "", source: str = "", digest: str = "") -> Article:
        return cls(hashlib.sha256(origin.encode("utf-8", "surrogateescape")).hexdigest(), identifier, source, digest)


def publish(
    parent: Path,
    slug: str,
    article: Article,
    build: Callable[[Path, str], None],
    published: Callable[[Path], None] | None = None,
) -> Path:
    """Run ``build(folder, name)`` in a partial folder in ``parent``, then move it to ``parent/name``
    and, still under the folder's lock, call ``published(parent)`` (the library's refresh).

    ``name`` is ``slug`` or ``slug-N``: the first that is free or holds this article's book. On any
    failure (a signal included) the partial folder is removed, as is any parent folder this call
    created; an OSError from a writer becomes an OutputError naming the output file.
    """
    created = _missing_ancestor(parent)
    partial = old = None
    try:
        try:
            parent.mkdir(parents=True, exist_ok=True)
            with locked(parent):
                remove_stale(parent)
                name = _choose(parent, slug, article)
                partial = _Partial.create(parent, name, article)
        except OSError as exc:
            raise OutputError(str(parent), why(exc)) from exc
        target = parent / name
        try:
            build(partial.path, name)
            with locked(parent):
                if _occupant(target, article) not in (FREE, SAME):
                    raise OutputError(
                        str(target),
                        "another article's book or someone's files appeared there "
                        "while this one was made; nothing was replaced",
                    )
                old = _swap(partial, target)
                if published is not None:
                    published(parent)
        except OSError as exc:
            raise OutputError(_public(exc.filename, partial.path, target), why(exc)) from exc
        except OutputError as exc:
            if exc.what.startswith(str(partial.path)):
                raise OutputError(_public(exc.what, partial.path, target), _reason(exc)) from exc
            raise
    except BaseException:
        if partial is not None:
            partial.remove()
        if created is not None:
            _remove_if_empty(created, parent)
        raise
    finally:
        if partial is not None:
            partial.release()
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def output_file(path: Path, folder: Path) -> AbstractContextManager[None]:
    """A context in which an OSError (a full disk...) or an OutputError naming an internal file
    becomes an OutputError naming ``path``, the output being written; a public file named by
    the error itself is kept."""

    @contextmanager
    def writing() -> Iterator[None]:
        try:
            yield
        except OutputError as exc:
            if _internal(exc.what, folder):
                raise OutputError(str(path), _reason(exc)) from exc
            raise
        except OSError as exc:
            named = (
                exc.filename
                if isinstance(exc.filename, str)
                and not _internal(exc.filename, folder)
                and exc.filename.startswith(str(folder) + os.sep)
                else None
            )
            raise OutputError(named or str(path), why(exc)) from exc

    return writing()


def _reason(exc: OutputError) -> str:
    """A writer's reason, worded as ours when it is a bare system message ('No space left on device')."""
    cause = exc.__cause__
    if isinstance(cause, OSError) and exc.why in (cause.strerror, str(cause)):
        return why(cause)
    return exc.why


def _internal(name: str, folder: Path) -> bool:
    """True for a temporary file inside ``folder`` (a hidden one, or one in a hidden folder)."""
    prefix = str(folder) + os.sep
    return name.startswith(prefix) and any(part.startswith(".") for part in Path(name[len(prefix) :]).parts)


def _public(name, partial: Path, target: Path) -> str:
    """A path inside the partial folder as it will be once published; the book folder otherwise."""
    if isinstance(name, str) and name.startswith(str(partial) + os.sep) and not _internal(name, partial):
        return str(target) + name[len(str(partial)) :]
    return str(target)


# -- who holds a name ------------------------------------------------------------------------

FREE, SAME, OTHER_ARTICLE, FOREIGN, SYMLINK, NOT_FOLDER = "free", "same", "other", "foreign", "symlink", "file"


def _choose(parent: Path, slug: str, article: Article) -> str:
    """The first of slug, slug-2, slug-3... that is free or holds this article's book."""
    passed: list[tuple[str, str]] = []
    n = 1
    while True:
        name = slug if n == 1 else f"{slug}-{n}"
        kind = _occupant(parent / name, article)
        if kind in (FREE, SAME) and not _reserved(parent, name, article):
            break
        passed.append((name, kind))
        n += 1
    reasons = {
        FOREIGN: "holds files talkingbook did not write",
        SYMLINK: "is a symbolic link",
        NOT_FOLDER: "is not a folder",
        OTHER_ARTICLE: "holds another article's book",
    }
    for other, kind in passed:
        if kind in reasons:
            (log.info if kind == OTHER_ARTICLE else log.warning)(
                "%s %s: left as it is; this book goes to %s", parent / other, reasons[kind], parent / name
            )
    return name


def _occupant(path: Path, article: Article) -> str:
    """What is at ``path``: nothing, this article's book, another's, or something not ours."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return FREE
    if stat.S_ISLNK(mode):
        return SYMLINK
    if not stat.S_ISDIR(mode):
        return NOT_FOLDER
    marker = read_marker(path)
    if marker is not None:
        return SAME if marker == article.key else OTHER_ARTICLE
    manifest = _legacy_manifest(path)
    if manifest is not None:
        metadata = manifest.get("metadata")
        meta = metadata if isinstance(metadata, dict) else {}
        same = (
            bool(article.identifier)
            and meta.get("identifier") == article.identifier
            # the path as given (earlier versions), or the file's name alone (this one's, marker lost)
            and manifest.get("source") in (article.source, public_name(article.source))
        )
        return SAME if same else OTHER_ARTICLE
    return FOREIGN


def public_name(source: str) -> str:
    """What a published book's manifest says it was read from: a URL as it is, a file by its name
    alone ('page.html', not '/home/ana/private/page.html'), standard input as 'stdin'."""
    if source.startswith(("http://", "https://")):
        return source
    return PurePath(source).name or source


def read_marker(folder: Path) -> str | None:
    """The article key in a book folder's marker, or None when there is no valid marker."""
    data = _marker(folder)
    return data["article"] if data is not None else None


def _marker(folder: Path) -> dict | None:
    try:
        data = json.loads(read_regular(folder / MARKER, 64 * 1024))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("generator") == "talkingbook" and isinstance(data.get("article"), str):
        return data
    return None


def current_book(parent: Path, slug: str, article: Article) -> Path | None:
    """The folder holding this article's book made from the same digest (page, options, version),
    or None: a batch leaves such a book as it is."""
    n = 1
    while article.digest:
        folder = parent / (slug if n == 1 else f"{slug}-{n}")
        kind = _occupant(folder, article)
        if kind == FREE:
            return None
        if kind == SAME:
            data = _marker(folder)
            same = data is not None and data.get("digest") == article.digest
            return folder if same and (folder / "manifest.json").is_file() else None
        n += 1
    return None


def _legacy_manifest(folder: Path) -> dict | None:
    """An earlier version's manifest.json (no marker then), when talkingbook wrote it."""
    try:
        data = json.loads(read_regular(folder / "manifest.json", 64 * 1024 * 1024))
    except (OSError, ValueError, RecursionError):
        return None
    generator = data.get("generator") if isinstance(data, dict) else None
    return data if isinstance(generator, str) and generator.startswith("talkingbook ") else None


def _reserved(parent: Path, name: str, article: Article) -> bool:
    """True when a live run is making another article's book under ``name`` (its partial folder)."""
    for entry in _partials(parent):
        match = _PARTIAL.match(entry.name)
        if match and match["slug"] == name and read_marker(Path(entry.path)) != article.key:
            return True
    return False


# -- partial folders ---------------------------------------------------------------------------


class _Partial:
    """A partial folder, locked by its run for as long as the run lives: the lock is an flock on
    its marker file (a file opened for writing, which NFS can lock too, unlike a folder)."""

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path, self._fd = path, fd

    @classmethod
    def create(cls, parent: Path, name: str, article: Article) -> _Partial:
        path = Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".partial", dir=parent))
        partial = cls(path, None)
        try:
            umask = os.umask(0)
            os.umask(umask)
            path.chmod(0o777 & ~umask)  # a book folder as any other folder, not mkdtemp's 0700
            partial._fd = os.open(
                path / MARKER, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666
            )
            fcntl.flock(partial._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fields = {"generator": "talkingbook", "article": article.key}
            if article.digest:
                fields["digest"] = article.digest
            data = (json.dumps(fields) + "\n").encode()
            if os.write(partial._fd, data) != len(data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path / MARKER))
        except BaseException:
            partial.remove()
            partial.release()
            raise
        return partial

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _partials(parent: Path) -> list[os.DirEntry]:
    """Folders (not symlinks) in ``parent`` named like partial folders."""
    with os.scandir(parent) as entries:
        return [
            e
            for e in entries
            if e.name.startswith(".") and e.name.endswith(".partial") and e.is_dir(follow_symlinks=False)
        ]


def remove_stale(parent: Path) -> None:
    """Remove the partial folders of runs that died (no run holds their lock), and old copies that
    earlier versions left behind; never a live run's (the caller holds the folder's lock, so no
    partial folder is between its creation and its locking)."""
    for entry in _partials(parent):
        match = _PARTIAL.match(entry.name)
        if match is not None and _stale(Path(entry.path), legacy=match["pid"] is None):
            log.info("removing %s, left by a run that stopped", entry.path)
            shutil.rmtree(entry.path, ignore_errors=True)
    with os.scandir(parent) as entries:
        old = [(e, found) for e in entries if (found := _OLD_COPY.match(e.name)) and e.is_dir(follow_symlinks=False)]
    for entry, found in old:
        if not _alive(int(found["pid"])):
            shutil.rmtree(entry.path, ignore_errors=True)


def _stale(folder: Path, legacy: bool) -> bool:
    """True when no live run holds ``folder``'s marker lock. An earlier version's partial folder
    has no lock: only one untouched for a day is taken for stale."""
    try:
        fd = os.open(folder / MARKER, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        if legacy:
            try:
                return time.time() - os.lstat(folder).st_mtime > LEGACY_PARTIAL_AGE
            except OSError:
                return False
        return True  # its run died between creating it and writing the marker (both done under the lock)
    except OSError:
        return False  # a FIFO, a symlink...: not something we made; left alone
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False  # a live run holds it
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the lock, the swap --------------------------------------------------------------------------


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder/.talkingbook.lock`` (created if missing)."""
    path = folder / LOCK
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = os.stat(path, follow_symlinks=False)
            held = os.fstat(fd)
            if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                break
        except FileNotFoundError:
            pass  # removed (with an empty folder) by the run that held it: lock the new one
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        os.close(fd)


def _swap(partial: _Partial, target: Path) -> Path | None:
    """Move the partial folder to ``target``; the book it replaces, if any, is renamed aside and
    returned (to be removed after the lock is released). The caller holds the folder's lock."""
    old = None
    if os.path.lexists(target):
        old = partial.path.with_name(partial.path.name.replace(".partial", "-old.partial"))
        os.rename(target, old)
    try:
        os.rename(partial.path, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    return old


def _missing_ancestor(folder: Path) -> Path | None:
    """The top-most ancestor of ``folder`` (itself included) that does not exist yet."""
    missing = None
    for candidate in [folder, *folder.parents]:
        if os.path.lexists(candidate):
            break
        missing = candidate
    return missing


def _remove_if_empty(created: Path, parent: Path) -> None:
    """Undo the creation of ``created`` (``parent`` or an ancestor of it), unless another run has
    put something there since."""
    if parent.is_dir():
        try:
            with locked(parent):
                if {e.name for e in os.scandir(parent)} == {LOCK}:
                    (parent / LOCK).unlink()
        except OSError:
            return
    for folder in [parent, *parent.parents]:
        try:
            folder.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            return
        if folder == created:
            return
