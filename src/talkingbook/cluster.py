"""A batch on an existing Dask distributed cluster (`--scheduler tcp://HOST:8786`).

Each task converts one article on a worker (:func:`talkingbook.batch.convert_one`, whole: its
book is published atomically, so a worker that dies mid-article leaves only a partial folder that
the next publication removes, and Dask runs the task again elsewhere). The library folder must be
the same path on the client and on every worker: a shared volume. The workers leave the library
files to the client (batch.LibraryRefresher).

Dask is used as it is (Client.submit, as_completed); nothing of its scheduling is ours.
"""

from __future__ import annotations

import os
from asyncio import CancelledError
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .convert import Options
from .errors import InputError, UsageError

CONNECT_TIMEOUT = 20.0  # seconds to reach the scheduler


class Cluster:
    """A connection to a Dask scheduler, for one batch."""

    def __init__(self, client) -> None:
        self._client = client

    @classmethod
    def connect(cls, address: str) -> Cluster:
        """Connect to the scheduler at ``address``: no scheduler there is one InputError."""
        what = f"--scheduler {address}"
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - distributed is a dependency
            raise UsageError(what, "Dask distributed is not installed (pip install distributed)") from exc
        _reachable(what, address)  # a Client that fails to connect complains again when collected
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError(what, f"no Dask scheduler could be reached ({reason[:200]})") from exc
        return cls(client)

    @property
    def workers(self) -> int:
        """How many articles the cluster converts at once (its workers' threads; 0 before any joins)."""
        try:
            return sum(self._client.nthreads().values())
        except Exception:  # noqa: BLE001 - only shown in the progress line
            return 1

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    def each(
        self, task: Callable, sources: Sequence[str], out: Path, options: Options, *extra: Any
    ) -> Iterator[tuple[int, Any]]:
        """Run ``task(source, out, options, *extra)`` for every source on the cluster; yields (index, what
        it returned) as each one ends, or (index, the exception) when the cluster could not run it
        (KilledWorker: it killed a worker too often; a lost scheduler). Stopping the iteration
        cancels the tasks not begun."""
        from distributed import as_completed

        out = out.absolute()  # the workers' working folders are not ours: every path is absolute
        options = _absolute(options)
        futures = {
            self._client.submit(task, _absolute_source(source), out, options, *extra, pure=False): index
            for index, source in enumerate(sources)
        }
        try:
            for future in as_completed(futures, loop=self._client.loop):
                try:
                    value: Any = future.result()
                except (Exception, CancelledError) as exc:  # noqa: BLE001 - reported as this article's failure
                    value = exc
                future.release()
                yield futures[future], value
        finally:
            for future in futures:
                future.cancel()


def _reachable(what: str, address: str) -> None:
    """A Dask scheduler answers at ``address`` (tcp://HOST:PORT, or HOST:PORT) within the deadline,
    else one UsageError or InputError. Asked here, under our own deadline, because a Client meeting
    something that accepts the connection but never answers waits for ever."""
    import asyncio
    import socket

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.core import send_recv

    try:
        scheme, location = parse_address(address if "://" in address else f"tcp://{address}")
        if scheme not in ("tcp", "tls"):
            raise ValueError(f"a Dask scheduler's address is tcp://HOST:PORT, not {scheme}://")
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise UsageError(what, " ".join(str(exc).split())[:200]) from exc
    try:  # a refused connection or an unknown host, said at once (Dask would retry until the deadline)
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise InputError(what, f"no Dask scheduler could be reached ({reason})") from exc

    async def identity() -> object:
        comm = await connect(f"{scheme}://{location}", timeout=CONNECT_TIMEOUT)
        try:
            return await send_recv(comm, op="identity")
        finally:
            await comm.close()

    try:
        info = asyncio.run(asyncio.wait_for(identity(), CONNECT_TIMEOUT))
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())[:200] or f"no answer in {CONNECT_TIMEOUT:.0f} s"
        raise InputError(what, f"no Dask scheduler answers ({reason})") from exc
    except Exception as exc:  # what answered does not speak Dask's protocol
        raise InputError(what, f"what answers there is not a Dask scheduler ({type(exc).__name__})") from exc
    if not isinstance(info, dict) or info.get("type") != "Scheduler":
        raise InputError(what, "what answers there is not a Dask scheduler")


def _absolute(options: Options) -> Options:
    """The options with their file names made absolute (a worker's working folder is not ours)."""
    return replace(
        options,
        lexicon=os.path.abspath(options.lexicon) if options.lexicon else None,
        base_dir=os.path.abspath(options.base_dir) if options.base_dir else None,
    )


def _absolute_source(source: str) -> str:
    """A URL as it is; a file's name made absolute."""
    if "://" in source:
        return source
    return os.path.abspath(source)
