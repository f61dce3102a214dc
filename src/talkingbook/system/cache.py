"""A content-addressed cache of synthesized speech, of finished section audio, of full-length
audiobooks and of covers.

Sentences are stored as raw 16-bit PCM under a key made of the engine, voice, rate,
lexicon and the exact text sent to the engine; a finished (untagged) section MP3 is
stored under a key made of its sentences' keys, pauses and the encoder settings. Each
entry is written to a temporary file and renamed, so a crash never leaves a half entry
and a re-run resumes from the last finished sentence. Location: ``$TALKINGBOOK_CACHE``,
else the user's cache folder (``$XDG_CACHE_HOME/talkingbook`` on Linux).

The folder is marked as ours with a ``CACHEDIR.TAG`` (the Cache Directory Tagging
specification, which backup tools honour): entries are written only into a marked folder,
and only a marked folder is ever cleared. Every entry starts with a header holding its
length and SHA-256; an entry that does not match (truncated, overwritten, not a regular
file) is a miss, and is removed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import struct
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import OutputError
from .files import open_regular, read_regular

log = logging.getLogger(__name__)

KINDS = ("speech", "sections", "books", "covers")
TAG_NAME = "CACHEDIR.TAG"
TAG_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"  # https://bford.info/cachedir/
TAG = TAG_SIGNATURE + (
    b"\n# This file is a cache directory tag created by talkingbook.\n"
    b"# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
# magic, payload length, SHA-256 of the payload
HEADER = struct.Struct(">8sQ32s")
MAGIC = b"tbcache1"
CHUNK = 1 << 20
_TEMPORARY = re.compile(r"^\.[A-Za-z0-9_]+\.tmp$")  # what _atomic_write's mkstemp names look like


def default_root() -> Path:
    """Where the cache lives unless told otherwise."""
    override = os.environ.get("TALKINGBOOK_CACHE")
    if override:
        return Path(override)
    return _platform_root()


def _platform_root() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("talkingbook", appauthor=False))


def digest(*parts) -> str:
    """A stable hex key for JSON-serialisable parts."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def is_marked(root: Path) -> bool:
    """True when ``root`` holds a CACHEDIR.TAG that talkingbook wrote (the signature, then our name)."""
    try:
        tag = read_regular(root / TAG_NAME, 4096)
    except OSError:
        return False
    return tag.startswith(TAG_SIGNATURE) and b"talkingbook" in tag


class SpeechCache:
    """Sentence PCM, section MP3s, audiobooks and covers on disk; a disabled cache stores and finds nothing."""

    def __init__(self, root: Path | None = None, enabled: bool = True) -> None:
        self._platform_default = root is None and not os.environ.get("TALKINGBOOK_CACHE")
        self.root = Path(root) if root else default_root()
        self.enabled = enabled
        self._ready: bool | None = None
        self._lock = threading.Lock()

    # -- the marked folder ---------------------------------------------------------------

    def _usable(self) -> bool:
        """Whether entries may be read and written here: the folder is marked, or new and now marked."""
        if not self.enabled:
            return False
        with self._lock:
            if self._ready is None:
                self._ready = self._claim()
            return self._ready

    def _claim(self) -> bool:
        if is_marked(self.root):
            return True
        try:
            if self.root.exists() and not self._adoptable():
                log.warning(
                    "%s is not a talkingbook cache (it has no CACHEDIR.TAG and is not empty): the cache "
                    "is not used; point TALKINGBOOK_CACHE at a new folder",
                    self.root,
                )
                return False
            self.root.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.root / TAG_NAME, [TAG])
            umask = os.umask(0)
            os.umask(umask)
            (self.root / TAG_NAME).chmod(0o644 & ~umask)  # readable by backup tools, as the spec intends
        except OSError as exc:
            log.info("cache not used: %s: %s", self.root, exc.strerror or exc)
            return False
        return True

    def _adoptable(self) -> bool:
        """An empty folder (but for the traces of another run tagging it at this very moment); or, at
        the platform's own cache location for talkingbook, the layout of an earlier version (our
        four folders and nothing else)."""
        if not self.root.is_dir():
            return False
        names = {entry.name for entry in os.scandir(self.root)}
        names = {name for name in names if name != TAG_NAME and not _TEMPORARY.match(name)}
        return not names or (self._platform_default and names <= set(KINDS))

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    # -- sentences, sections, files --------------------------------------------------------

    def get_pcm(self, key: str) -> bytes | None:
        return self.get_bytes("speech", key, ".pcm")

    def put_pcm(self, key: str, pcm: bytes) -> None:
        self.put_bytes("speech", key, ".pcm", pcm)

    def get_section(self, key: str, dest: Path) -> dict | None:
        """What was stored with a cached section MP3 (duration, clips), the MP3 copied to ``dest``."""
        raw = self.get_bytes("sections", key, ".json")
        try:
            info = json.loads(raw) if raw is not None else None
        except ValueError:
            info = None
        if not isinstance(info, dict) or not self.copy_to("sections", key, ".mp3", dest):
            return None
        return info

    def put_section(self, key: str, mp3: Path, info: dict) -> None:
        """Store a finished section MP3 with its JSON-serialisable ``info``; the MP3 first, so
        an entry whose description exists is complete."""
        if self._usable():
            self.put_file("sections", key, ".mp3", mp3)
            self.put_bytes("sections", key, ".json", json.dumps(info).encode())

    def get_files(self, kind: str, key: str, dests: dict[str, Path]) -> bool:
        """Copy the files stored together under ``key`` (one per suffix) to ``dests``; False, with
        nothing left at ``dests``, unless every one of them is there and whole."""
        for suffix, dest in dests.items():
            if not self.copy_to(kind, key, suffix, dest):
                for other in dests.values():
                    other.unlink(missing_ok=True)
                return False
        return bool(dests)

    def put_files(self, kind: str, key: str, files: dict[str, Path]) -> None:
        """Store files together under ``key``; the first suffix is written last, so finding it means all are there."""
        for suffix, path in reversed(list(files.items())):
            self.put_file(kind, key, suffix, path)

    def get_bytes(self, kind: str, key: str, suffix: str) -> bytes | None:
        """A whole, verified entry's bytes, or None."""
        if not self._usable():
            return None
        path = self._path(kind, key, suffix)
        opened = self._open(path)
        if opened is None:
            return None
        handle, length, expected = opened
        with handle:
            data = handle.read(length + 1)
        if len(data) != length or hashlib.sha256(data).digest() != expected:
            self._discard(path)
            return None
        return data

    def copy_to(self, kind: str, key: str, suffix: str, dest: Path) -> bool:
        """Copy a verified entry to ``dest``, streaming (a section may be long); False, and no
        ``dest``, when it is missing or damaged."""
        if not self._usable():
            return False
        path = self._path(kind, key, suffix)
        opened = self._open(path)
        if opened is None:
            return False
        handle, length, expected = opened
        sha, copied = hashlib.sha256(), 0
        with handle, open(dest, "wb") as out:
            while copied <= length:
                chunk = handle.read(min(CHUNK, length + 1 - copied))
                if not chunk:
                    break
                sha.update(chunk)
                out.write(chunk)
                copied += len(chunk)
        if copied != length or sha.digest() != expected:
            dest.unlink(missing_ok=True)
            self._discard(path)
            return False
        return True

    def put_bytes(self, kind: str, key: str, suffix: str, data: bytes) -> None:
        if self._usable():
            self._write(self._path(kind, key, suffix), [data])

    def put_file(self, kind: str, key: str, suffix: str, source: Path) -> None:
        if self._usable():
            self._write(self._path(kind, key, suffix), _chunks(source))

    def _open(self, path: Path):
        """(handle after the header, length, sha256) of an entry, or None (a bad entry is removed)."""
        try:
            handle = open_regular(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                self._discard(path)  # a FIFO, a device, a symlink, a folder: never ours
            return None
        header = handle.read(HEADER.size)
        if len(header) == HEADER.size:
            magic, length, expected = HEADER.unpack(header)
            if magic == MAGIC:
                return handle, length, expected
        handle.close()
        return self._discard(path)

    def _discard(self, path: Path) -> None:
        """Remove a damaged entry (it is made again); a folder in its place goes too."""
        log.info("cache: %s is damaged; made again", path)
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass
        return

    def _write(self, path: Path, chunks: Iterable[bytes]) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, chunks, header=True)
        except OSError:
            pass  # a cache that cannot be written (a full disk) only costs time

    # -- the commands ----------------------------------------------------------------------

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) in the cache's own folders, never following a symlink or opening a file."""
        files = size = 0
        for kind in KINDS:
            for info in _walk(self.root / kind):
                files += 1
                size += info.st_size
        return files, size

    def clear(self) -> int:
        """Remove every entry; returns the number of bytes freed. Refuses a folder not marked as ours."""
        if not os.path.lexists(self.root):
            return 0
        if not is_marked(self.root):
            raise OutputError(
                str(self.root), "not a talkingbook cache (no CACHEDIR.TAG written by talkingbook); nothing was removed"
            )
        _, size = self.usage()
        for kind in KINDS:
            folder = self.root / kind
            if folder.is_symlink() or (os.path.lexists(folder) and not folder.is_dir()):
                folder.unlink()  # only the link, never where it points
            else:
                shutil.rmtree(folder, ignore_errors=True)
        return size


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _atomic_write(path: Path, chunks: Iterable[bytes], header: bool = False) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, then rename it; the temporary file is
    removed on any failure (a full disk, an interruption). With ``header``, a length and SHA-256
    first."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            if header:
                out.write(HEADER.pack(MAGIC, 0, bytes(32)))
            sha, length = hashlib.sha256(), 0
            for chunk in chunks:
                out.write(chunk)
                sha.update(chunk)
                length += len(chunk)
            if header:
                out.seek(0)
                out.write(HEADER.pack(MAGIC, length, sha.digest()))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _walk(folder: Path) -> Iterator[os.stat_result]:
    """lstat of every regular file under ``folder``, symlinks not followed."""
    for top, _, names in os.walk(folder):
        for name in names:
            try:
                info = os.lstat(os.path.join(top, name))
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                yield info
