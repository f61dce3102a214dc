"""Benchmark `talkingbook serve`: resident memory under 50 concurrent range requests on one audiobook.

    python bench/bench_serve.py [--clients 50] [--size-mb 300] [--seconds 15]

Writes a synthetic audiobook (random bytes named .mp3, SIZE MB) into a temporary library, starts
`talkingbook serve` on 127.0.0.1, and has CLIENTS threads each ask for an open range from a random
offset (as a podcast app seeking does) and read it slowly, in 64 KB reads, for SECONDS. The server's
RSS (from /proc) is sampled every 0.1 s: idle, peak and at the end, with the bytes served. Goal:
memory flat (the peak a few MB over idle, whatever SIZE is), since every response streams from disk.
Then a second round where every client reads as fast as it can. Figures only.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
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
