"""Opening files that someone else may have put in our way: regular files only, never through a
symlink, never blocking (a FIFO would wait forever for a writer)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO


class NotRegularFile(OSError):
    """The path is a FIFO, a device, a socket or a folder, not a file."""


def open_regular(path: Path | str, follow: bool = False) -> BinaryIO:
    """Open ``path`` for reading if it is a regular file (not a symlink, unless ``follow``: a file
    the user named, whose link is theirs); raises OSError otherwise.

    O_NONBLOCK makes opening a FIFO return at once, and fstat on the open descriptor checks the
    very file opened (a stat before the open could be raced)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path | str, limit: int, follow: bool = False) -> bytes:
    """At most ``limit`` bytes of a regular file; OSError if it is not one, or if it is larger."""
    with open_regular(path, follow) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, "larger than expected", str(path))
    return data


def why(exc: OSError) -> str:
    """An OSError's reason as we print it: 'no space left on device', without the file name."""
    text = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc)) or type(exc).__name__
    return text[:1].lower() + text[1:]


def shown(text: str) -> str:
    """A name or argument as a message can show it: bytes that were not UTF-8 (which Python decodes to lone
    surrogates, and no UTF-8 stream can carry) as escapes, ``caf\\xe9``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
