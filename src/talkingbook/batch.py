"""Batches: many articles into one library, each on its own, on one or several processes; and
`follow`, a feed's new articles.

:func:`convert_one` converts one article and returns a small picklable :class:`Result` whatever
happens (only an interruption passes through): a process pool's task calls it, as a Dask task will.
A book made earlier from the same page, options and version is left as it is ("unchanged": the
digest in its folder's marker says so, see :func:`talkingbook.convert.made_from`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .convert import Options, Progress, convert_article, refresh_library
from .errors import TalkingbookError
from .readers.feeds import FeedItem, read_feed
from .readers.net import Reach
from .system import processes
from .system.files import NotRegularFile, read_regular, why
from .system.publish import locked, remove_stale

if TYPE_CHECKING:  # a pool is imported where a batch starts one: one article in this process loads none
    from concurrent.futures import Future
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)

CONVERTED, UNCHANGED, FAILED = "converted", "unchanged", "failed"
FOLLOWED = ".talkingbook-follow.json"  # in the library: the feed items already converted


@dataclass(frozen=True)
class Result:
    """What became of one article: ``why`` is one line; ``trace`` is set for a bug of ours."""

    source: str
    status: str
    folder: str = ""
    why: str = ""
    exit_code: int = 0
    trace: str = ""


class BatchProgress(Progress):
    """Progress of a batch as well as of the article being made (the CLI shows them)."""

    def batch_started(self, total: int, jobs: int) -> None: ...
    def article_started(self, source: str) -> None: ...
    def article_finished(self, result: Result, done: int, total: int, left: float | None) -> None: ...


def convert_one(
    source: str,
    out: Path,
    options: Options,
    progress: Progress | None = None,
    keep_unchanged: bool = True,
    library: bool = True,
    linked_from: Reach | None = None,
) -> Result:
    """Convert one article into ``out``; every failure becomes a Result (an interruption is raised)."""
    try:
        done = convert_article(
            source, out, options, progress, keep_unchanged=keep_unchanged, library=library, linked_from=linked_from
        )
    except TalkingbookError as exc:
        why = " ".join(f"{exc.what}: {exc.why}".split())
        return Result(source, FAILED, why=why, exit_code=exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: reported as one line; the other articles go on
        detail = " ".join(str(exc).split())
        detail = f"{type(exc).__name__}: {detail[:200]}" if detail else type(exc).__name__
        return Result(
            source,
            FAILED,
            why=f"{source}: internal error ({detail})",
            exit_code=1,
            trace="".join(traceback.format_exception(exc)),
        )
    status = UNCHANGED if done.unchanged else CONVERTED
    return Result(source, status, folder=str(done.folder))


def run_batch(
    sources: Sequence[str],
    out: Path,
    options: Options,
    jobs: int = 1,
    progress: BatchProgress | None = None,
    finished: Callable[[int, Result], None] | None = None,
    scheduler: str | None = None,
    linked_from: Reach | None = None,
) -> list[Result]:
    """Convert every source into ``out`` on ``jobs`` processes, or on the Dask cluster whose
    scheduler is at ``scheduler``; results in the sources' order. ``finished(index, result)`` is
    called in this process as each one ends. ``linked_from``: the reach of the feed that gave the
    sources (they are its links, not URLs the user typed)."""
    progress = progress or BatchProgress()
    total = len(sources)
    results: list[Result | None] = [None] * total
    jobs = max(1, min(jobs, total, max_jobs()))
    if scheduler is not None:
        from .cluster import Cluster  # distributed is imported only for a cluster

        cluster = Cluster.connect(scheduler)  # before anything is written: no scheduler is one error
        jobs = cluster.workers
        if not jobs:
            log.warning("%s: no Dask worker has joined the scheduler yet; the articles wait for one", scheduler)
            jobs = 1
    progress.batch_started(total, jobs)
    started = time.monotonic()

    library = LibraryRefresher(out)
    landed = 0

    def land(index: int, result: Result) -> None:
        nonlocal landed
        results[index] = result
        landed += 1
        done = landed
        left = (time.monotonic() - started) / done * (total - done) if done < total else 0.0
        progress.article_finished(result, done, total, left)
        if finished is not None:
            finished(index, result)
        if result.status != FAILED:
            library.soon()

    try:
        if scheduler is not None:
            with cluster:
                _on_cluster(cluster, sources, out, options, land, linked_from)
        elif jobs == 1:  # in this process: the article's own progress is shown too
            for index, source in enumerate(sources):
                progress.article_started(source)
                land(index, convert_one(source, out, options, progress, library=False, linked_from=linked_from))
        else:
            _in_pool(sources, out, options, jobs, land, linked_from)
    finally:
        library.now()
    return [r for r in results if r is not None]


def max_jobs() -> int:
    """The most worker processes a batch starts here: the CPU cores this process may run on. Each
    converts on at least one core and takes 40 MB or more (a neural voice, hundreds): more workers
    than cores finish no sooner, and sixty of them once took 2 GB of memory."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


REFRESH_EVERY = 5.0  # seconds, at least, between two refreshes of the library files during a batch


class LibraryRefresher:
    """The library files of a batch, refreshed by the process that runs it (its workers, processes
    or a cluster's, leave them): soon after a book lands, but not more often than every
    REFRESH_EVERY seconds or twice the last refresh's time (a library of many thousand books takes
    long to list, and would otherwise be listed again after every article), and always at the end,
    for a book an earlier run's task published meanwhile. The partial folders of workers that died
    are removed then too."""

    def __init__(self, out: Path) -> None:
        self.out, self._last, self._took, self._due = out, 0.0, 0.0, True

    def soon(self) -> None:
        self._due = True
        if time.monotonic() - self._last >= max(REFRESH_EVERY, 2 * self._took):
            self.now()

    def now(self) -> None:
        if not self._due or not self.out.is_dir():  # no book landed yet: no library to make
            return
        started = time.monotonic()
        try:
            with locked(self.out):
                remove_stale(self.out)
                refresh_library(self.out)
        except OSError as exc:
            log.warning("%s: the library files were not refreshed (%s)", self.out, exc.strerror or exc)
        self._due = False
        self._last = time.monotonic()
        self._took = self._last - started


def _in_pool(sources: Sequence[str], out: Path, options: Options, jobs: int, land, linked_from: Reach | None) -> None:
    """Convert on ``jobs`` worker processes, each converting many articles (imports and voices are
    loaded once per worker). An interruption reaches every worker, which removes its partial folder."""
    # forkserver: workers start from a clean server with our modules already imported (fork would
    # copy this process's threads and locks; spawn would import everything again in each worker)
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["talkingbook.batch"])
    # the batch alone holds the write end: each worker's watch sees end-of-file when the batch is gone
    batch_alive, alive_end = context.Pipe(duplex=False)
    pool = ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_worker_started, initargs=(batch_alive,)
    )
    try:
        pending: dict[Future, int] = {
            pool.submit(_convert_in_worker, sources[index], out, options, linked_from): index
            for index in longest_first(sources)
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                land(pending.pop(future), future.result())
    except BaseException as exc:
        signum = getattr(exc, "signum", signal.SIGINT) if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM
        # the pool's own processes: a signal sent to us alone (kill, systemd) must reach them too
        workers = list((getattr(pool, "_processes", None) or {}).values())
        for process in workers:
            with contextlib.suppress(OSError):
                os.kill(process.pid, signum)
        pool.shutdown(wait=False, cancel_futures=True)
        _join_or_kill(workers, STOP_GRACE)
        raise
    finally:
        batch_alive.close()
        alive_end.close()
    pool.shutdown(wait=True)


STOP_GRACE = 20.0  # seconds an interrupted batch gives its workers to remove their partial folders


def _join_or_kill(workers: list, grace: float) -> None:
    """Wait for the stopped ``workers`` (multiprocessing processes) to end; kill those still there after
    ``grace`` seconds. An interrupted batch never hangs: a worker stopped in the middle of handing a result
    back leaves the pool's pipe half written, and the pool would wait for the rest for ever (the next run
    removes a killed worker's partial folder as stale)."""
    deadline = time.monotonic() + grace
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in workers:
        if process.is_alive():
            log.warning("a worker (pid %s) did not stop within %.0f s: killed", process.pid, grace)
            with contextlib.suppress(OSError):
                process.kill()
            process.join(5)


def longest_first(sources: Sequence[str]) -> list[int]:
    """The order in which several workers take ``sources`` (their indices): the largest page files
    first, so that no long article starts last while the other workers have nothing left to do
    (the longest-processing-time rule; a page's size stands for its length). URLs and standard
    input, whose size is not known before they are fetched, come first, in their own order."""

    def size(index: int) -> float:
        source = sources[index]
        if source == "-" or "://" in source:
            return math.inf
        try:
            return os.stat(source).st_size
        except (OSError, ValueError):  # ValueError: a NUL character in the name
            return math.inf  # it fails at once, wherever it comes

    return sorted(range(len(sources)), key=lambda index: -size(index))


def _on_cluster(cluster, sources: Sequence[str], out: Path, options: Options, land, linked_from: Reach | None) -> None:
    """Convert on the cluster's workers (the library files are refreshed by ``land``'s caller)."""
    order = longest_first(sources)
    for position, value in cluster.each(_convert_on_cluster, [sources[k] for k in order], out, options, linked_from):
        index = order[position]
        if isinstance(value, Result):
            result = replace(value, source=sources[index])
        else:  # the cluster could not run it: KilledWorker (it killed workers), a lost scheduler
            reason = " ".join(str(value).split())[:200] or type(value).__name__
            result = Result(sources[index], FAILED, why=f"{sources[index]}: on the cluster: {reason}", exit_code=1)
        land(index, result)


_one_at_a_time = threading.Lock()


def _convert_on_cluster(source: str, out: Path, options: Options, linked_from: Reach | None) -> Result:
    """The cluster's task: one article on a worker, which leaves the library files to the client.
    A worker started with several threads still converts one article at a time: the voices and
    the speech cache are per process, and each voice already uses every core it is given."""
    with _one_at_a_time:
        return convert_one(source, out, options, library=False, linked_from=linked_from)


_busy = False  # in a worker: converting an article (a stop signal must clean up), or waiting for one
_stopped_by: int | None = None  # in a worker: the stop signal received while converting
_batch_alive: Connection | None = None  # in a worker: the pipe that closes when the batch is gone
_batch_gone = threading.Event()  # in a worker: set when it has closed


def _worker_started(batch_alive: Connection) -> None:
    """A worker's stop signals: while it converts, stop its children and raise as Ctrl-C does, so
    the partial folder is removed (a second signal meanwhile is ignored), and the batch is told;
    while it waits for an article, leave. A signal ignored when the batch started (nohup's
    SIGHUP, inherited through the fork server) stays ignored. When the batch's process is gone
    (killed, even by SIGKILL: ``batch_alive``'s other end closes), the worker stops as on
    SIGTERM, and ends once its partial folder is removed (see _convert_in_worker)."""
    global _stopped_by, _batch_alive, _batch_gone
    processes.allow()
    _stopped_by, _batch_alive = None, batch_alive  # kept: its descriptor is the one watched

    def handler(signum, frame):
        global _stopped_by
        processes.stop_all(signum)
        if not _busy:
            raise SystemExit(128 + signum)
        if _stopped_by is not None:
            return
        _stopped_by = signum
        raise processes.Stopped(signum)

    for signum in processes.STOP_SIGNALS:
        if signal.getsignal(signum) != signal.SIG_IGN:
            signal.signal(signum, handler)
    _batch_gone = processes.stop_when_closed(
        batch_alive.fileno(), signal.SIGTERM if signal.getsignal(signal.SIGTERM) == handler else signal.SIGKILL
    )


def _convert_in_worker(source: str, out: Path, options: Options, linked_from: Reach | None) -> Result:
    """convert_one in a worker, marked busy meanwhile. A worker stopped while the batch's process
    is gone ends once its partial folder is removed: nobody is left to take its result or to tell
    it to end (a whole process group stopped by systemd takes the fork server too, which the pool
    needs to see its workers end)."""
    global _busy, _stopped_by
    _busy = True
    try:
        return convert_one(source, out, options, library=False, linked_from=linked_from)
    finally:
        if _stopped_by is not None and _batch_gone.is_set():
            logging.shutdown()
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os._exit(128 + _stopped_by)
        _stopped_by = None  # the batch is told (the Stopped it receives); a signal once waiting ends the worker
        _busy = False  # last: from now on a stop signal ends the worker (SystemExit, raised outside this call)


# -- follow ------------------------------------------------------------------------------------

FOLLOWED_LIMIT = 32 * 1024 * 1024  # bytes of the state file read, at most (a feed is at most 10 MB)
HISTORY = 1000  # articles a feed no longer lists still remembered per feed, the last seen first
RETRY_FIRST = 3600.0  # seconds before a failed article is tried again; doubled at each failure...
RETRY_MOST = 7 * 24 * 3600.0  # ...up to a week
SAVE_EVERY = 5.0  # seconds, at least, between two writes of the state file during a run (and at its end)


def _clock() -> float:
    """The time the state file records (seconds since the epoch); tests move it."""
    return time.time()


@dataclass(frozen=True)
class Followed:
    """What a `follow` run found: the feed's items, those already in the library, those that failed
    recently and wait for a later run, and the results."""

    items: int
    known: int
    results: list[Result]
    waiting: int = 0


def follow(
    feed_url: str,
    out: Path,
    options: Options,
    *,
    limit: int | None = None,
    since: datetime | None = None,
    refresh: bool = False,
    jobs: int = 1,
    progress: BatchProgress | None = None,
    scheduler: str | None = None,
) -> Followed:
    """Convert the feed's items not yet in ``out`` (remembered there by GUID or link), each page
    once however often the feed lists it; an item that failed is tried again only after a delay
    that doubles at each failure (RETRY_FIRST up to RETRY_MOST). With ``refresh``, the known and
    the failed ones too, of which only pages that changed are made again. A feed that cannot be
    fetched or read raises InputError before anything is written."""
    feed = read_feed(feed_url, options.private_network)
    items = feed.items
    if since is not None:  # an item without a date is kept: nothing says it is older
        items = tuple(i for i in items if i.published is None or i.published >= since)
    state = FollowState(out, feed_url, feed.items)
    now = _clock()
    todo: list[FeedItem] = []
    same_page: dict[str, list[FeedItem]] = {}  # a page's URL -> the items that link to it
    waiting = 0
    for item in items:
        if not refresh and item.key in state.converted:
            continue
        if not refresh and state.retry_at(item.key) > now:
            waiting += 1
            continue
        page = item.link.split("#", 1)[0]
        if page not in same_page:
            same_page[page] = []
            todo.append(item)
        same_page[page].append(item)
    if limit is not None:
        todo = todo[:limit]

    def remember(index: int, result: Result) -> None:
        for item in same_page[todo[index].link.split("#", 1)[0]]:
            state.record(item, result)

    known = sum(i.key in state.converted for i in items)
    try:
        results = run_batch([i.link for i in todo], out, options, jobs, progress, remember, scheduler, feed.reach)
    finally:
        state.save(final=True)
    return Followed(len(items), known, results, waiting)


class FollowState:
    """What `follow` remembers of a feed in the library's ``FOLLOWED`` file: the items converted
    (their key, link, book folder, the feed, when the feed last listed them) and those that failed
    (how often, when to try again).

    The file is read as every library file is (a regular file, no symlink, at most FOLLOWED_LIMIT
    bytes); a damaged one is ignored with a warning (the articles are looked at again; those made
    before are found unchanged). It is written whole, atomically, under the folder's lock, merged
    with what another run wrote meanwhile, at most every SAVE_EVERY seconds and at the end; and
    pruned: of this feed's items, those it still lists and the HISTORY last seen of the others;
    failures only while the feed lists them."""

    def __init__(self, out: Path, feed_url: str, listed: Sequence[FeedItem]) -> None:
        self.out, self.feed_url = out, feed_url
        self.listed = {item.key for item in listed}
        self.converted, self.failed = _read_followed(out)
        self._changed: dict[str, dict] = {}  # this run's converted items
        self._failed: dict[str, dict | None] = {}  # this run's failures (None: it succeeded since)
        self._saved = time.monotonic()

    def retry_at(self, key: str) -> float:
        """When the item ``key``, which failed before, may be tried again (0: now)."""
        entry = self.failed.get(key)
        return _number(entry.get("retry")) if entry else 0.0

    def record(self, item: FeedItem, result: Result) -> None:
        now = _clock()
        if result.status == FAILED:
            tries = int(_number(self.failed.get(item.key, {}).get("tries"))) + 1
            delay = min(RETRY_FIRST * 2 ** min(tries - 1, 32), RETRY_MOST)
            entry = {"link": item.link, "feed": self.feed_url, "tries": tries, "last": now, "retry": now + delay}
            self.failed[item.key] = self._failed[item.key] = entry
        else:
            entry = {"link": item.link, "folder": Path(result.folder).name, "feed": self.feed_url, "seen": now}
            self.converted[item.key] = self._changed[item.key] = entry
            if self.failed.pop(item.key, None) is not None or item.key in self._failed:
                self._failed[item.key] = None
        if time.monotonic() - self._saved >= SAVE_EVERY:
            self.save()

    def save(self, final: bool = False) -> None:
        """Write this run's changes, merged with the file as it is now (another run may have
        written it); at the end of the run, the feed's items are marked seen and the file pruned."""
        if not self._changed and not self._failed and (not final or not self.out.is_dir()):
            return
        try:
            self._save(final)
        except OSError as exc:
            log.warning("%s: not written (%s)", self.out / FOLLOWED, why(exc))
            return
        self._changed, self._failed = {}, {}
        self._saved = time.monotonic()

    def _save(self, final: bool) -> None:
        now = _clock()
        self.out.mkdir(parents=True, exist_ok=True)  # every article failed: their failures are remembered too
        with locked(self.out):
            converted, failed = _read_followed(self.out, warn=False)
            converted.update(self._changed)
            for key, entry in self._failed.items():
                if entry is None:
                    failed.pop(key, None)
                else:
                    failed[key] = entry
            if final:
                for key in self.listed & converted.keys():
                    converted[key] = {**converted[key], "seen": now}
                converted, failed = self._pruned(converted), self._pruned_failures(failed)
            _write_followed(self.out, converted, failed)
        self.converted, self.failed = converted, failed

    def _mine(self, entry: dict) -> bool:
        """An entry of this feed (one written before entries named their feed counts as this feed's)."""
        return entry.get("feed", self.feed_url) == self.feed_url

    def _pruned(self, converted: dict) -> dict:
        gone = [(key, e) for key, e in converted.items() if self._mine(e) and key not in self.listed]
        gone.sort(key=lambda kv: _number(kv[1].get("seen")), reverse=True)
        forgotten = {key for key, _ in gone[HISTORY:]}
        return {key: e for key, e in converted.items() if key not in forgotten}

    def _pruned_failures(self, failed: dict) -> dict:
        return {key: e for key, e in failed.items() if not self._mine(e) or key in self.listed}


def _number(value) -> float:
    """A count or a time of the state file as written by us; 0 for anything else (NaN, text...)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return min(float(value), 1e12) if ok else 0.0


def _read_followed(out: Path, warn: bool = True) -> tuple[dict[str, dict], dict[str, dict]]:
    """The items already converted into ``out`` and those that failed: ({key: entry}, {key: entry});
    a damaged file is none, with a warning (once: not again when it is read to be replaced)."""
    path = out / FOLLOWED
    try:
        data = json.loads(read_regular(path, FOLLOWED_LIMIT))
    except FileNotFoundError:
        return {}, {}
    except (OSError, ValueError, RecursionError) as exc:
        if isinstance(exc, NotRegularFile):
            reason = "not a regular file"
        elif isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            reason = f"larger than {FOLLOWED_LIMIT // (1024 * 1024)} MB"
        elif isinstance(exc, OSError):
            reason = why(exc)
        else:
            reason = "not JSON" if not isinstance(exc, RecursionError) else "nested too deeply"
        if warn:
            log.warning("%s: ignored (%s); the feed's articles are looked at again", path, reason)
        return {}, {}
    if not isinstance(data, dict):
        if warn:
            log.warning("%s: ignored (not a JSON object); the feed's articles are looked at again", path)
        return {}, {}

    def entries(name: str) -> dict[str, dict]:
        found = data.get(name)
        if not isinstance(found, dict):
            return {}
        return {k: e for k, e in found.items() if isinstance(e, dict) and isinstance(e.get("link"), str)}

    return entries("items"), entries("failed")


def _write_followed(out: Path, converted: dict, failed: dict) -> None:
    """Replace the state file whole and atomically (the caller holds the folder's lock)."""
    data = (json.dumps({"items": converted, "failed": failed}, ensure_ascii=False, indent=1) + "\n").encode()
    for left in out.glob(".follow.*.tmp"):  # a run killed while writing (we hold the lock: none is live)
        left.unlink(missing_ok=True)
    handle, tmp = tempfile.mkstemp(dir=out, prefix=".follow.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, out / FOLLOWED)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
