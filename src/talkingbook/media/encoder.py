"""The full-length audiobook encoded while the sections are still being spoken.

One long-running ffmpeg (the *encoder*) reads the whole book as 32-bit float PCM from a pipe and
writes its outputs (the limiter, AAC and MP3: the caller gives its arguments). A feeder thread
writes the sections into that pipe in TOC order, each one levelled as its own MP3 was (the
compressor, then its gain) by a short ffmpeg run whose standard output is the pipe itself, as soon
as that section and every one before it are finished. Float PCM, so that joining adds no
quantisation: the book is as if one ffmpeg had levelled and joined every section at the end.

Every ffmpeg here is started through :mod:`talkingbook.system.processes`, so a stop signal kills
them; :meth:`BookEncoder.abort` (on any failure, or when the book came from the cache) kills the
encoder, waits for the feeder and removes every file it wrote.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from ..system.processes import check_stopping, forget, spawn, worker_thread
from .audio import COMPRESSOR, FFMPEG_QUIET, _ffmpeg, failed, ffmpeg_exe

# The encoding runs at a lower priority: the narration (the engine, the sections' MP3s) is what the
# run waits for, and the encoder takes what CPU it leaves; once the narration is done, nothing else
# competes and it runs at full speed.
NICE = 10


class BookEncoder:
    """A book's background encoding: :meth:`add` each finished section (any order), :meth:`close`
    when all are, :meth:`finish` for the encoded files, :meth:`abort` to drop everything.

    ``outputs`` are ffmpeg's arguments after its input (the float PCM on standard input), writing
    ``files``; ``what`` is the output a user knows, named in errors, ``task`` what failed.
    """

    def __init__(self, sample_rate: int, outputs: Sequence[str], files: Sequence[Path], what: str, task: str) -> None:
        self.sample_rate, self.outputs, self.files, self.what, self.task = (
            sample_rate,
            list(outputs),
            tuple(files),
            what,
            task,
        )
        self._log = self.files[0].with_name(f"{self.files[0].name}.log")
        self._cond = threading.Condition()
        self._sections: dict[int, tuple[Path, float | None]] = {}
        self._next = 0  # the next section to write into the pipe
        self._count: int | None = None  # how many sections the book has, once closed
        self._aborted = False
        self._error: BaseException | None = None  # the feeder's
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self._proc is not None

    def add(self, index: int, pcm: Path, gain: float | None, spoken: bool = True) -> None:
        """Section ``index`` (0-based, TOC order) is finished: its unlevelled 16-bit PCM is the file
        ``pcm``, to be raised by ``gain`` dB (None: silence, as it is) after the compressor. It is
        written as soon as every section before it is. ``spoken``: made now, not copied from the
        cache; the encoder starts with the first such section (when every section came from the
        cache, so most likely did the book: nothing is encoded, :meth:`finish` says so)."""
        with self._cond:
            if self._aborted:
                return
            self._sections[index] = (pcm, gain)
            if spoken and self._proc is None:
                self._start()
            self._cond.notify_all()

    def close(self, count: int) -> None:
        """The book has ``count`` sections, all added: the encoder ends after the last."""
        with self._cond:
            self._count = count
            self._cond.notify_all()

    def finish(self) -> tuple[Path, ...] | None:
        """Wait for the encoder; its files (``files``), or None when it never started. Raises what
        failed (the encoder's own error first), after removing every file it wrote."""
        if self._proc is None:
            return None
        assert self._count is not None and self._thread is not None, "finish() after close()"
        try:
            self._thread.join()
            status = self._proc.wait()
            forget(self._proc)
            if isinstance(self._error, KeyboardInterrupt):  # a stop signal: the encoder was killed too
                raise self._error
            check_stopping()
            if status != 0:
                failed(status, self._log.read_text(encoding="utf-8", errors="replace"), self.what, self.task)
            if self._error is not None:
                raise self._error
        except BaseException:
            self.abort()
            raise
        self._log.unlink(missing_ok=True)
        return self.files

    def abort(self) -> None:
        """Stop encoding and remove what was written (nothing happens when nothing was started)."""
        with self._cond:
            self._aborted = True
            self._cond.notify_all()
        if self._proc is not None:
            with suppress(OSError):
                self._proc.kill()  # a section being levelled into its pipe then fails at once
            if self._thread is not None:
                self._thread.join()
            self._proc.wait()
            forget(self._proc)
        for path in (*self.files, self._log):
            path.unlink(missing_ok=True)

    def _start(self) -> None:
        raw = ["-f", "f32le", "-ar", str(self.sample_rate), "-ac", "1"]
        with open(self._log, "wb") as log:
            self._proc = spawn(
                [ffmpeg_exe(), *FFMPEG_QUIET, *raw, "-i", "pipe:0", *self.outputs],
                stdin=subprocess.PIPE,
                stderr=log,  # a file, not a pipe: nobody reads it until the end, and a pipe could fill
                nice=NICE,
            )
        self._thread = threading.Thread(target=self._feed, name="audiobook feeder", daemon=True)
        self._thread.start()

    def _ready(self) -> bool:
        return self._aborted or self._next in self._sections or (self._count is not None and self._next >= self._count)

    def _feed(self) -> None:
        """The feeder thread: each section into the pipe, in order; closes the pipe at the end."""
        worker_thread()  # stop signals are the main thread's
        assert self._proc is not None and self._proc.stdin is not None
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(self._ready)
                    if self._aborted or self._next not in self._sections:
                        return
                    pcm, gain = self._sections.pop(self._next)
                    self._next += 1
                self._level(pcm, gain)
        except BaseException as exc:  # noqa: BLE001 - finish() raises it in the main thread
            self._error = exc
        finally:
            with suppress(OSError):
                self._proc.stdin.close()  # the end of the book: the encoder finishes

    def _level(self, pcm: Path, gain: float | None) -> None:
        """One section, levelled exactly as its own MP3 was (a compressor of its own, then one gain),
        written into the encoder's pipe as float PCM."""
        assert self._proc is not None
        level = COMPRESSOR + (f",volume={gain:.2f}dB" if gain is not None else "")
        raw = ["-f", "s16le", "-ar", str(self.sample_rate), "-ac", "1"]
        _ffmpeg(
            [*raw, "-i", str(pcm), "-af", level, "-f", "f32le", "pipe:1"], self.what, self.task, self._proc.stdin, NICE
        )
