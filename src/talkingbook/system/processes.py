"""Child processes (ffmpeg), started through here so that an interruption stops every one of them.

A signal reaches only our own process when it comes from ``kill``, ``timeout``, systemd or a
closed SSH session, not the ffmpeg runs of the encoding threads: :func:`stop_all` kills them
and refuses to start new ones, so nothing keeps writing into a folder that is being removed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager, suppress

# What `timeout`, systemd, `docker stop` and a closed SSH session send: handled as Ctrl-C is.
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})

_running: set[subprocess.Popen] = set()
_lock = threading.Lock()
_stopping = False
_signum: int = signal.SIGINT


class Stopped(KeyboardInterrupt):
    """A child process was not started, or was killed, because the run is being interrupted.

    A KeyboardInterrupt, so that wherever it surfaces (an encoding thread's result) the run
    stops as interrupted, even where the signal handler's own exception was swallowed (raised
    inside a C library's callback)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def worker_thread() -> None:
    """A thread pool's initializer: stop signals go to the main thread, which alone runs Python's
    signal handlers. (A signal the kernel gives a worker thread would leave a main thread that
    waits on a lock, for that worker's result, unaware of it until the wait ends.)"""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


@contextmanager
def _unblocked():
    """The stop signals unblocked in this thread for a moment: a child inherits the signal mask of
    the thread that starts it, and a program expects to start with none blocked."""
    blocked = signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def run(args: list[str]) -> tuple[int, bytes]:
    """Run ``args`` with no input; returns (exit status, standard error)."""
    with _lock:
        if _stopping:
            raise Stopped(_signum)
        with _unblocked():
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
        raise Stopped(_signum)
    return proc.returncode, err


def exit_reason(program: str, status: int) -> str:
    """Why ``program`` ended with ``status`` (a Popen return code), as a user reads it: "ffmpeg was killed
    by signal 9 (SIGKILL)" (the system's out-of-memory killer, a user's kill: its log then ends anywhere,
    often at its banner), or "ffmpeg exited with status 1"."""
    if status < 0:
        try:
            name = f" ({signal.Signals(-status).name})"
        except ValueError:
            name = ""
        return f"{program} was killed by signal {-status}{name}"
    return f"{program} exited with status {status}"


def stop_all(signum: int = signal.SIGINT) -> None:
    """Kill every running child and start no more (``signum`` says why); safe to call from a
    signal handler (no lock: the handler may run while this thread holds it)."""
    global _stopping, _signum
    _signum, _stopping = signum, True
    while True:
        try:
            running = list(_running)
            break
        except RuntimeError:  # another thread changed the set while it was copied
            continue
    for proc in running:
        with suppress(OSError):
            proc.kill()


def stop_when_closed(fd: int, signum: int = signal.SIGTERM) -> threading.Event:
    """Send ``signum`` to this process's main thread once the pipe whose read end is ``fd`` is
    closed at its other end, by every process that held it: a pool's worker given the read end
    of a pipe only the batch's process writes to learns so that the batch is gone, however it
    ended (SIGKILL and the OOM killer included), and stops instead of converting for nobody.
    Returns the event set just before the signal is sent (and sent again every second, until the
    process ends: a signal that comes while the process cleans up after an earlier one is ignored).

    Not prctl(PR_SET_PDEATHSIG) nor a watch on os.getppid(): a forkserver pool's workers are the
    fork server's children, not the batch's, and the fork server lives on as long as they do
    (they hold its own "alive" pipe). A thread blocked on the pipe needs no polling and no
    platform call; it keeps the stop signals blocked, so that they interrupt the main thread."""

    main = threading.main_thread().ident
    assert main is not None  # started: it runs this code
    closed = threading.Event()

    def watch() -> None:
        worker_thread()
        with suppress(OSError):
            while os.read(fd, 4096):  # nothing is ever written: this returns b"" at the other end's close
                pass
        closed.set()
        while True:  # again every second: one that came while a first stop was being cleaned up was ignored
            try:
                signal.pthread_kill(main, signum)
            except OSError:
                return
            time.sleep(1.0)

    threading.Thread(target=watch, name="batch-watch", daemon=True).start()
    return closed


def allow() -> None:
    """Start children again (a new command in the same process, as tests run them)."""
    global _stopping
    _stopping = False
