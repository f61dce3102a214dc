"""`talkingbook serve DIR --port 0` as a process, for the client tests and the benches that read a
served library (tests/test_podcast_apps.py, tests/test_opds_search.py, bench/bench_audiobookshelf.py)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def as_from_a_terminal() -> None:
    """``preexec_fn`` for a child the test will stop as a user would: Ctrl-C and hang-up at their
    defaults, as in a terminal, even when the test run itself was started with them ignored (nohup, a
    shell's background job), which the child would otherwise inherit and, rightly, keep ignoring."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


class Serving:
    """`talkingbook serve DIR --port 0` on 127.0.0.1, and the base URL it printed."""

    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "talkingbook", "serve", str(folder), "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            preexec_fn=as_from_a_terminal,
        )
        assert self.proc.stderr is not None
        first = self.proc.stderr.readline()
        found = re.match(r"serving .* at (http://127\.0\.0\.1:\d+/)$", first.strip())
        assert found, first + (self.proc.stderr.read() if self.proc.poll() is not None else "")
        self.base = found.group(1)
        self.port = urlsplit(self.base).port

    def get(self, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        """Status, headers (lower-case names) and body for ``target``: a path ('/feed.xml?x=1') or a URL
        on this server."""
        parts = urlsplit(target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # Ctrl-C
        self.proc.communicate(timeout=30)
