"""Child processes (ffmpeg), started through here so that an interruption stops every one of them.

A signal reaches only our own process when it comes from ``kill``, ``timeout``, systemd or a
closed SSH session, not the ffmpeg runs of the encoding threads: :func:`stop_all` kills them
and refuses to start new ones, so nothing keeps writing into a folder that is being removed.
"""

from __future__ import annotations

import subprocess
import threading

_running: set[subprocess.Popen] = set()
_lock = threading.Lock()
_stopping = False


class Stopped(Exception):
    """A child process was not started, or was killed, because the run is being interrupted."""


def run(args: list[str]) -> tuple[int, bytes]:
    """Run ``args`` with no input; returns (exit status, standard error)."""
    with _lock:
        if _stopping:
            raise Stopped("interrupted")
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _running.add(proc)
    try:
        if _stopping:  # stop_all ran between the check above and the add: it may have missed this one
            proc.kill()
        _, err = proc.communicate()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        with _lock:
            _running.discard(proc)
    if _stopping:
        raise Stopped("interrupted")
    return proc.returncode, err


def stop_all() -> None:
    """Kill every running child and start no more; safe to call from a signal handler (no lock:
    the handler may run while this thread holds it)."""
    global _stopping
    _stopping = True
    while True:
        try:
            running = list(_running)
            break
        except RuntimeError:  # another thread changed the set while it was copied
            continue
    for proc in running:
        try:
            proc.kill()
        except OSError:
            pass


def allow() -> None:
    """Start children again (a new command in the same process, as tests run them)."""
    global _stopping
    _stopping = False
