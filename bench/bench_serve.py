"""Benchmark `talkingbook serve`: resident memory under 50 concurrent range requests on one audiobook.

    python bench/bench_serve.py [--clients 50] [--size-mb 300] [--seconds 15]

Writes a synthetic audiobook (random bytes named .mp3, SIZE MB) into a temporary library, starts
`talkingbook serve` on 127.0.0.1, and has CLIENTS threads each ask for an open range from a random
offset (as a podcast app seeking does) and read it slowly, in 64 KB reads, for SECONDS. The server's
RSS (from /proc) is sampled every 0.1 s: idle, peak and at the end, with the bytes served. Goal:
memory flat (the peak a few MB over idle, whatever SIZE is), since every response streams from disk.
Then a second round where every client reads as fast as it can. Figures only.

    python bench/bench_serve.py --library 3000 [--idle 2000] [--clients 40]

Instead: a library of BOOKS books (manifests, EPUBs, MP3s, covers written directly, the media
hard links of one file; then `talkingbook library` writes its files, as after a batch), served on
127.0.0.1 with IDLE connections opened and left silent. Timed: a static file and `/feed.xml` alone,
then CLIENTS concurrent `/feed.xml` (and OPDS pages; gzip accepted, as apps ask) with a static file
asked in the middle of them;
the server's RSS idle and at its peak. Goals: a static file < 0.5 s, `/feed.xml` < 1 s, RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB (VmRSS of /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def client(port: int, path: str, size: int, until: float, pause: float, served: list[int], statuses: list[int]):
    """Ask for bytes=N- from a random N and read it in 64 KB pieces until ``until``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Range": f"bytes={random.randrange(size // 2)}-"})
    response = conn.getresponse()
    statuses.append(response.status)
    got = 0
    while time.monotonic() < until:
        chunk = response.read(64 * 1024)
        if not chunk:
            break
        got += len(chunk)
        if pause:
            time.sleep(pause)
    served.append(got)
    conn.close()  # mid-body: the server must drop the stream, not keep it


def round_of(pid: int, port: int, path: str, size: int, clients: int, seconds: float, pause: float) -> dict:
    served: list[int] = []
    statuses: list[int] = []
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(port, path, size, until, pause, served, statuses)) for _ in range(clients)
    ]
    samples = []
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        samples.append(rss_mb(pid))
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    time.sleep(1)
    return {
        "peak": max(samples),
        "mean": sum(samples) / len(samples),
        "after": rss_mb(pid),
        "served": sum(served),
        "statuses": sorted(set(statuses)),
        "count": len(statuses),
    }


LANGUAGES = ("en", "fr", "de", "es", "ja")


def build_library(folder: Path, books: int) -> None:
    """``books`` book folders as `convert` leaves them, as far as the library reads them."""
    import json

    folder.mkdir(parents=True)
    media = folder.parent / "media"
    media.mkdir()
    (media / "a.mp3").write_bytes(os.urandom(256 * 1024))
    (media / "a.epub").write_bytes(b"PK" + os.urandom(64 * 1024))
    (media / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(16 * 1024))
    for n in range(books):
        slug = f"article-{n:05d}"
        book = folder / slug
        book.mkdir()
        for name, source in ((f"{slug}.mp3", "a.mp3"), (f"{slug}.epub", "a.epub"), ("cover.png", "cover.png")):
            os.link(media / source, book / name)
        (book / "index.html").write_text(f"<!doctype html><title>{slug}</title>", "utf-8")
        manifest = {
            "generator": "talkingbook bench",
            "epub": f"{slug}.epub",
            "cover": "cover.png",
            "page": "index.html",
            "audiobook": {"mp3": f"{slug}.mp3"},
            "duration": 300.0 + n,
            "modified": f"20{10 + n % 16}-{1 + n % 12:02d}-{1 + n % 28:02d}T00:00:00+00:00",
            "metadata": {
                "title": f"Article {n}: drums, trains and the weather of the week",
                "author": f"Author {n % 97}",
                "publisher": "The Bench Times",
                "language": LANGUAGES[n % len(LANGUAGES)],
                "date": f"20{10 + n % 16}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                "identifier": f"urn:bench:{n}",
                "summary": "A paragraph of summary, as long as a feed's episode description often is. " * 3,
                "source_url": f"https://news.example.org/{slug}",
            },
        }
        (book / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def timed_get(port: int, path: str, timeout: float = 120, gzip: bool = False) -> tuple[float, int, int]:
    """(seconds, status, bytes) of one GET on a new connection (compressed if ``gzip``, as apps ask)."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"} if gzip else {})
        response = conn.getresponse()
        body = response.read()
        return time.monotonic() - start, response.status, len(body)
    finally:
        conn.close()


def library_round(args) -> None:
    """A big library served with many idle connections: static files and generated feeds, timed."""
    import socket

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        folder = Path(tmp) / "library"
        start = time.monotonic()
        build_library(folder, args.library)
        built = time.monotonic() - start
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        start = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "talkingbook", "library", str(folder)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        print(f"{args.library} books written in {built:.1f} s; `talkingbook library` {time.monotonic() - start:.1f} s")
        proc = subprocess.Popen(
            [sys.executable, "-m", "talkingbook", "serve", str(folder), "--port", "0"],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        idle: list[socket.socket] = []
        peak = [0.0]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                peak[0] = max(peak[0], rss_mb(proc.pid))
                time.sleep(0.05)

        try:
            port = int(re.search(r":(\d+)/$", proc.stderr.readline().strip()).group(1))
            proc.stderr.readline()  # "press Ctrl-C to stop"
            threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()  # never a full pipe
            static = "/article-00042/article-00042.mp3"
            print(f"server RSS at start: {rss_mb(proc.pid):.0f} MB")
            idle.extend(socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(args.idle))
            time.sleep(1)
            print(f"{args.idle} idle connections open; server RSS {rss_mb(proc.pid):.0f} MB")
            threading.Thread(target=sample, daemon=True).start()
            for label, path in (
                ("static file (256 KB MP3)", static),
                ("/feed.xml (first)", "/feed.xml"),
                ("/feed.xml (again)", "/feed.xml"),
                ("/feed.xml (gzip)", "/feed.xml?gzip"),
                ("/catalog/newest.xml", "/catalog/newest.xml"),
                ("/catalog/search.xml?q=drums", "/catalog/search.xml?q=drums"),
                ("static file (256 KB MP3)", static),
            ):
                took, status, size = timed_get(port, path.removesuffix("?gzip"), gzip=path.endswith("?gzip"))
                print(f"  {label:<34}{took:7.3f} s  {status}  {size / 1024:8.0f} KB")
            results: list[tuple[str, float, int]] = []

            def ask(path: str) -> None:
                took, status, _ = timed_get(port, path, gzip=True)
                results.append((path, took, status))

            pages = [f"/catalog/newest-page{2 + n % 5}.json" for n in range(args.clients)]
            paths = ["/feed.xml" if n % 2 == 0 else pages[n] for n in range(args.clients)]
            threads = [threading.Thread(target=ask, args=(p,)) for p in paths]
            start = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(0.05)
            static_took, status, _ = timed_get(port, static)
            for thread in threads:
                thread.join()
            wall = time.monotonic() - start
            feeds = sorted(t for p, t, _ in results if p == "/feed.xml")
            statuses = sorted({s for _, _, s in results})
            print(
                f"{args.clients} concurrent (feed.xml and OPDS pages, statuses {statuses}): all done in {wall:.2f} s; "
                f"/feed.xml median {feeds[len(feeds) // 2]:.3f} s, slowest {feeds[-1]:.3f} s; "
                f"a static file asked meanwhile {static_took:.3f} s ({status})"
            )
            sampling.set()
            print(f"server RSS peak {peak[0]:.0f} MB, after {rss_mb(proc.pid):.0f} MB")
        finally:
            for sock in idle:
                sock.close()
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--library", type=int, metavar="BOOKS", help="the library round instead, with BOOKS books")
    parser.add_argument("--idle", type=int, default=2000, help="idle connections opened in the library round")
    args = parser.parse_args()
    if args.library:
        library_round(args)
        return
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        book = Path(tmp) / "library" / "big-book"
        book.mkdir(parents=True)
        size = args.size_mb * 1024 * 1024
        with (book / "big-book.mp3").open("wb") as out:
            for _ in range(args.size_mb):
                out.write(os.urandom(1024 * 1024))
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "talkingbook", "serve", str(book.parent), "--port", "0"],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            port = int(re.search(r":(\d+)/$", proc.stderr.readline().strip()).group(1))
            proc.stderr.readline()  # "press Ctrl-C to stop"
            path = "/big-book/big-book.mp3"
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("HEAD", path)
            assert conn.getresponse().status == 200
            conn.close()
            time.sleep(0.5)
            idle = rss_mb(proc.pid)
            print(f"audiobook {args.size_mb} MB, {args.clients} concurrent range requests, {args.seconds:g} s each")
            print(f"server RSS idle (after one request): {idle:.1f} MB")
            for name, pause in (("slow readers (64 KB every 50 ms, as players buffer)", 0.05), ("fast readers", 0)):
                r = round_of(proc.pid, port, path, size, args.clients, args.seconds, pause)
                print(
                    f"{name}: {r['count']} responses {r['statuses']}, {r['served'] / 1e6:.0f} MB served; "
                    f"RSS peak {r['peak']:.1f} MB (+{r['peak'] - idle:.1f}), mean {r['mean']:.1f}, "
                    f"after {r['after']:.1f} MB"
                )
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
            print(f"server exit code after Ctrl-C: {proc.returncode}")


if __name__ == "__main__":
    main()
