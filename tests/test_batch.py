"""Batches that report, not stop; `follow` over a feed served on 127.0.0.1; the cache shared by processes."""

from __future__ import annotations

import contextlib
import http.server
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, as_from_a_terminal, book_names

FAKE = ("--engine", "fake", "--no-audiobook", "--jobs", "1")
JOBS_2 = ("--engine", "fake", "--jobs", "2", "--progress", "none")


def page(title: str, words: str = "rivers") -> bytes:
    """An article page long enough for the reader to take it as one."""
    paragraphs = "".join(
        f"<p>{title} tells of {words}, lakes and the spring weather, paragraph {i}. It goes on for a while, "
        "so that there is something to read aloud.</p>"
        for i in range(4)
    )
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"{paragraphs}</article></body></html>"
    ).encode()


def write_page(folder: Path, name: str, title: str) -> Path:
    path = folder / name
    path.write_bytes(page(title))
    return path


# -- batches -------------------------------------------------------------------------------


def test_a_batch_with_one_bad_source_lands_the_good_ones_and_names_the_bad_one(tmp_path, run):
    pages = [write_page(tmp_path, f"{n}.html", f"Story {n}") for n in ("one", "two", "three")]
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body></body></html>", encoding="utf-8")
    listing = tmp_path / "list.txt"
    listing.write_text(
        f"# the week's stories\n{pages[0]}\n\n{tmp_path / 'missing.html'}\n  {pages[1]}\n{empty}\n{pages[2]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, err = run("convert", "--from", listing, "-o", out, *FAKE)
    assert code == 1, err
    assert sorted(book_names(out)) == ["one", "three", "two"]
    lines = err.strip().splitlines()
    failed = [line for line in lines if line.startswith("failed: ")]
    assert failed[0] == f"failed: {tmp_path / 'missing.html'}: no such file"
    assert len(failed) == 2 and failed[1].startswith(f"failed: {empty}: ")
    assert lines[-1] == "converted 3, unchanged 0, failed 2"
    assert any(line.startswith("[5/5 articles]") for line in lines)
    catalog = (out / "index.html").read_text(encoding="utf-8")
    assert all(f"Story {n}" in catalog for n in ("one", "two", "three"))

    # again: nothing changed, nothing is made again; an edited page is
    pages[1].write_bytes(page("Story two", "mountains"))
    code, _, err = run("convert", "--from", listing, "-o", out, *FAKE)
    assert code == 1 and err.strip().splitlines()[-1] == "converted 1, unchanged 2, failed 2"


def test_a_batch_of_good_sources_exits_0(tmp_path, run):
    pages = [write_page(tmp_path, f"{n}.html", f"Story {n}") for n in ("one", "two")]
    code, _, err = run("convert", *pages, "-o", tmp_path / "out", "--no-audio", "--jobs", "1")
    assert code == 0 and err.strip().splitlines()[-1] == "converted 2, unchanged 0, failed 0"


@pytest.mark.parametrize("content", [None, b"\xff\xfe\x00bad"])
def test_a_from_file_that_cannot_be_read_is_one_usage_error(tmp_path, run, content):
    listing = tmp_path / "list.txt"
    if content is not None:
        listing.write_bytes(content)
    code, out, err = run("convert", "--from", listing, "-o", tmp_path / "out", "--no-audio")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: --from {listing}: ")
    assert not (tmp_path / "out").exists()


def test_a_from_file_with_a_byte_order_mark_and_a_nul_line_converts_the_good_lines(tmp_path, run):
    """Notepad starts a UTF-8 file with a BOM; a NUL byte in one line is that line's problem alone."""
    pages = [write_page(tmp_path, f"{n}.html", f"Story {n}") for n in ("one", "two")]
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + f"{pages[0]}\nbad\0name.html\n{pages[1]}\n".encode())
    out = tmp_path / "out"
    code, _, err = run("convert", "--from", listing, "-o", out, "--no-audio", "--jobs", "1")
    assert code == 1, err
    assert book_names(out) == ["one", "two"]
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert failed == ["failed: 'bad\\x00name.html': a NUL character in a file name or URL"], err
    assert err.strip().splitlines()[-1] == "converted 2, unchanged 0, failed 1"
    assert "internal error" not in err and "Traceback" not in err


@pytest.mark.parametrize("kind", ["fifo", "device", "too large"])
def test_a_from_file_that_is_no_list_is_refused_at_once(tmp_path, kind):
    """A FIFO would wait forever for a writer, /dev/zero would fill the memory: one line, at once."""
    if kind == "fifo":
        listing = tmp_path / "list.fifo"
        os.mkfifo(listing)
        why = "not a regular file"
    elif kind == "device":
        listing, why = Path("/dev/zero"), "not a regular file"
    else:
        listing = tmp_path / "list.txt"
        with listing.open("wb") as file:
            file.truncate(65 * 1024 * 1024)
        why = "larger than 64 MB; not a list of pages"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "talkingbook", "convert", "--from", str(listing), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr == f"error: --from {listing}: {why}\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_two_workers_convert_a_batch_into_one_library(tmp_path, run):
    pages = [write_page(tmp_path, f"p{n}.html", f"Story {n}") for n in range(4)]
    out = tmp_path / "out"
    code, _, err = run("convert", *pages, "-o", out, "--engine", "fake", "--no-audiobook", "--jobs", "2")
    assert code == 0, err
    assert sorted(book_names(out)) == [f"p{n}" for n in range(4)]
    listed = (out / "index.html").read_text(encoding="utf-8")
    assert all(f"Story {n}" in listed for n in range(4))  # both workers' books listed: the refresh is locked
    assert not [p for p in os.listdir(out) if p.endswith(".partial")]


# -- the speech cache shared by processes ----------------------------------------------------------


def _fill(root: str, worker: int, keys: int) -> None:
    from talkingbook.system.cache import SpeechCache

    cache = SpeechCache(Path(root))
    for i in range(keys):
        key = f"{i:04d}" + "0" * 60
        cache.put_pcm(key, bytes([i % 256]) * (50_000 + i))  # same key, same bytes, written by both at once
        got = cache.get_pcm(key)
        assert got is None or got == bytes([i % 256]) * (50_000 + i), (worker, i)


def test_two_processes_filling_one_cache_leave_only_whole_entries(tmp_path):
    root = tmp_path / "shared-cache"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_fill, args=(str(root), w, 60)) for w in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    from talkingbook.system.cache import SpeechCache

    cache = SpeechCache(root)
    for i in range(60):
        assert cache.get_pcm(f"{i:04d}" + "0" * 60) == bytes([i % 256]) * (50_000 + i)
    leftovers = [p for p in root.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


# -- follow ------------------------------------------------------------------------------------


class Site:
    """A feed and its article pages on 127.0.0.1, changeable while it runs."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[str, bytes]] = {}
        self.items: list[tuple[str, str]] = []  # (path, title), newest first
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                found = site.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", found[0])
                self.send_header("Content-Length", str(len(found[1])))
                self.end_headers()
                self.wfile.write(found[1])

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, name: str, title: str, served: bool = True) -> None:
        self.items.insert(0, (f"/news/{name}", title))
        if served:
            self.files[f"/news/{name}"] = ("text/html; charset=utf-8", page(title))
        self.publish()

    def publish(self) -> None:
        entries = "".join(
            f"<item><title>{title}</title><link>{self.base}{path}</link><guid>tag:site,{path}</guid>"
            f"<pubDate>{len(self.items) - i:02d} Jun 2026 10:00:00 GMT</pubDate></item>"
            for i, (path, title) in enumerate(self.items)
        )
        rss = f"<?xml version='1.0'?><rss version='2.0'><channel><title>Site</title>{entries}</channel></rss>"
        self.files["/feed.xml"] = ("application/rss+xml", rss.encode())

    @property
    def feed(self) -> str:
        return f"{self.base}/feed.xml"


@pytest.fixture
def site():
    served = Site()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.mark.slow
def test_follow_converts_new_items_once(tmp_path, run, site, capsys):
    for n in ("alpha", "beta", "gamma"):
        site.add(f"{n}.html", f"Story {n}")
    out = tmp_path / "out"
    started = time.monotonic()
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    first = time.monotonic() - started
    assert code == 0, err
    assert sorted(book_names(out)) == ["alpha", "beta", "gamma"]
    assert err.strip().splitlines()[-1] == "converted 3, unchanged 0, failed 0"
    followed = json.loads((out / ".talkingbook-follow.json").read_text(encoding="utf-8"))["items"]
    assert sorted(followed) == [f"tag:site,/news/{n}.html" for n in ("alpha", "beta", "gamma")]

    started = time.monotonic()
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    second = time.monotonic() - started
    assert code == 0 and err.strip().splitlines()[-1] == "converted 0, unchanged 0, failed 0"
    assert f"{site.feed}: 3 articles in the feed, 3 already in {out}" in err
    with capsys.disabled():  # the figure for the report (`pytest -s`); `run` reads the captured output
        print(f"\nfollow: first run {first:.2f} s, second run {second:.2f} s ({second / first:.1%})")
    assert second < 60  # a hang guard only

    site.add("delta.html", "Story delta")
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 0 and err.strip().splitlines()[-1] == "converted 1, unchanged 0, failed 0"
    assert sorted(book_names(out)) == ["alpha", "beta", "delta", "gamma"]
    assert "Story delta" in (out / "index.html").read_text(encoding="utf-8")

    # a changed page is made again only with --refresh; the others are left as they are
    site.files["/news/beta.html"] = ("text/html", page("Story beta", "mountains"))
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert err.strip().splitlines()[-1] == "converted 0, unchanged 0, failed 0"
    code, _, err = run("follow", site.feed, "-o", out, "--refresh", *FAKE)
    assert code == 0 and err.strip().splitlines()[-1] == "converted 1, unchanged 3, failed 0"
    summary = json.loads((out / "beta" / "manifest.json").read_text(encoding="utf-8"))["metadata"]["summary"]
    assert "mountains" in summary


def test_follow_reports_a_broken_item_and_converts_the_rest(tmp_path, run, site, monkeypatch):
    from talkingbook import batch

    site.add("one.html", "Story one")
    site.add("gone.html", "Story gone", served=False)
    site.add("two.html", "Story two")
    out = tmp_path / "out"
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 1
    assert sorted(book_names(out)) == ["one", "two"]
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and failed[0].startswith(f"failed: {site.base}/news/gone.html: ") and "404" in failed[0]
    assert err.strip().splitlines()[-1] == "converted 2, unchanged 0, failed 1"
    # the broken item is tried again, but not at every run: after an hour, then two, four... a week
    site.files["/news/gone.html"] = ("text/html", page("Story gone"))
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 0 and err.strip().splitlines()[-1] == "converted 0, unchanged 0, failed 0"
    assert f"3 articles in the feed, 2 already in {out}, 1 that failed recently left for a later run" in err
    monkeypatch.setattr(batch, "_clock", lambda: time.time() + 3601)
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 0 and err.strip().splitlines()[-1] == "converted 1, unchanged 0, failed 0"
    assert json.loads((out / ".talkingbook-follow.json").read_bytes())["failed"] == {}


def test_a_failing_item_is_tried_again_ever_less_often_up_to_a_week(tmp_path, run, site, monkeypatch):
    from talkingbook import batch

    site.add("one.html", "Story one")
    site.add("gone.html", "Story gone", served=False)
    out = tmp_path / "out"
    now = [1_800_000_000.0]
    monkeypatch.setattr(batch, "_clock", lambda: now[0])
    delays = []
    for _ in range(10):
        code, _, err = run("follow", site.feed, "-o", out, *FAKE)
        failed = json.loads((out / ".talkingbook-follow.json").read_bytes())["failed"]
        entry = failed["tag:site,/news/gone.html"]
        delays.append(entry["retry"] - now[0])
        now[0] = entry["retry"] - 1  # not yet: left for a later run
        code, _, err = run("follow", site.feed, "-o", out, *FAKE)
        assert code == 0 and err.strip().splitlines()[-1] == "converted 0, unchanged 0, failed 0", err
        now[0] += 1
    assert delays == [3600 * 2**n for n in range(8)] + [7 * 24 * 3600] * 2
    assert entry["tries"] == 10 and entry["link"] == f"{site.base}/news/gone.html"


@pytest.mark.slow
def test_follow_limit_and_since(tmp_path, run, site):
    for n in ("a1", "a2", "a3"):  # dated 1, 2 and 3 June
        site.add(f"{n}.html", f"Story {n}")
    out = tmp_path / "out"
    code, _, err = run("follow", site.feed, "-o", out, "--since", "2026-06-02", *FAKE)
    assert code == 0 and sorted(book_names(out)) == ["a2", "a3"], err
    code, _, err = run("follow", site.feed, "-o", out, "--limit", "1", *FAKE)
    assert code == 0 and sorted(book_names(out)) == ["a1", "a2", "a3"], err


@pytest.mark.parametrize("kind", ["unreachable", "malformed", "missing"])
def test_a_feed_that_cannot_be_read_is_one_error_and_no_library(tmp_path, run, site, kind):
    if kind == "unreachable":
        site.server.shutdown()
        site.server.server_close()
        url = site.feed
    elif kind == "malformed":
        site.files["/feed.xml"] = ("application/rss+xml", b"<html><body><p>Not a feed at all</p></body></html>")
        url = site.feed
    else:
        url = f"{site.base}/nothing.xml"
    out = tmp_path / "out"
    code, stdout, err = run("follow", url, "-o", out, *FAKE)
    assert code == 1 and stdout == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"error: {url}: "), err
    assert not out.exists()


def test_a_truncated_feed_is_one_error_not_a_silent_success(tmp_path, run, site):
    """feedparser reads what comes before the cut and says so only in its ``bozo`` flag."""
    for n in ("alpha", "beta", "gamma"):
        site.add(f"{n}.html", f"Story {n}")
    whole = site.files["/feed.xml"][1]
    site.files["/feed.xml"] = ("application/rss+xml", whole[: whole.index(b"<item>", whole.index(b"<item>") + 1) + 40])
    out = tmp_path / "out"
    code, stdout, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 1 and stdout == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith(
        f"error: {site.feed}: a damaged feed (line 1, column "
    ), err
    assert err.endswith("no article was converted\n")
    assert not out.exists()


def test_follow_converts_a_link_listed_twice_once(tmp_path, run, site):
    site.add("alpha.html", "Story alpha")
    site.items.append(site.items[0])  # the same article again, as aggregated feeds do
    site.items.append((site.items[0][0] + "#again", "Story alpha again"))  # the same page under another GUID
    site.publish()
    out = tmp_path / "out"
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 0, err
    assert err.strip().splitlines()[-1] == "converted 1, unchanged 0, failed 0"
    assert book_names(out) == ["alpha"]


FOLLOWED = ".talkingbook-follow.json"


@pytest.mark.parametrize("kind", ["fifo", "device", "deep", "not json", "too large"])
def test_a_damaged_follow_state_is_ignored_with_a_warning_and_replaced(tmp_path, site, kind):
    """The state file is read as every library file is: a FIFO or /dev/zero in its place neither
    hangs the run nor fills the memory; deep nesting is no crash; then a good file replaces it."""
    site.add("alpha.html", "Story alpha")
    out = tmp_path / "out"
    out.mkdir()
    state = out / FOLLOWED
    why = {
        "fifo": "not a regular file",
        "device": "too many levels of symbolic links",
        "deep": "nested too deeply",
        "not json": "not JSON",
        "too large": "larger than 32 MB",
    }[kind]
    if kind == "fifo":
        os.mkfifo(state)
    elif kind == "device":
        state.symlink_to("/dev/zero")
    elif kind == "deep":
        state.write_text('{"items": ' + "[" * 100_000 + "]" * 100_000 + "}")
    elif kind == "not json":
        state.write_bytes(b'{"items": {"k": {"link": "https://example.org/"')
    else:
        with state.open("wb") as file:
            file.truncate(33 * 1024 * 1024)

    def no_more_than_a_gigabyte() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TALKINGBOOK_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-m", "talkingbook", "follow", site.feed, "-o", str(out), *FAKE, "--progress", "none"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        preexec_fn=no_more_than_a_gigabyte,
    )
    assert proc.returncode == 0, proc.stderr
    warning = f"WARNING: {state}: ignored ({why}); the feed's articles are looked at again"
    assert proc.stderr.splitlines()[0] == warning, proc.stderr
    assert book_names(out) == ["alpha"]
    assert list(json.loads(state.read_bytes())["items"]) == ["tag:site,/news/alpha.html"]


def test_the_follow_state_keeps_what_the_feed_lists_and_a_bounded_history(tmp_path, run, site):
    """Items the feed no longer lists are forgotten beyond the HISTORY last seen; another feed's
    items in the same library are left to that feed's runs."""
    from talkingbook.batch import HISTORY

    site.add("alpha.html", "Story alpha")
    out = tmp_path / "out"
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 0, err
    state = json.loads((out / FOLLOWED).read_bytes())
    old = {
        f"tag:site,/old/{n}": {"link": f"{site.base}/old/{n}", "folder": f"old-{n}", "feed": site.feed, "seen": n}
        for n in range(HISTORY + 500)
    }
    other = {"tag:other,1": {"link": "https://other.example/1", "folder": "other", "feed": "https://other.example/f"}}
    legacy = {"tag:legacy,1": {"link": "https://legacy.example/1", "folder": "legacy"}}  # written before 'feed'
    state["items"].update(old | other | legacy)
    (out / FOLLOWED).write_text(json.dumps(state))
    code, _, err = run("follow", site.feed, "-o", out, *FAKE)
    assert code == 0 and err.strip().splitlines()[-1] == "converted 0, unchanged 0, failed 0", err
    kept = json.loads((out / FOLLOWED).read_bytes())["items"]
    expected = {"tag:site,/news/alpha.html", "tag:other,1"} | {f"tag:site,/old/{n}" for n in range(500, HISTORY + 500)}
    assert set(kept) == expected


# -- stopping ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_stops_every_worker_and_leaves_no_partial_folder(tmp_path, signum):
    from test_signals import long_page

    pages = [long_page(tmp_path / "pages", f"long{n}.html", f"Long page {n}") for n in range(4)]
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TALKINGBOOK_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "talkingbook", "convert", *map(str, pages), "-o", str(out), *JOBS_2],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=as_from_a_terminal,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.is_dir() and any(p.endswith(".partial") for p in os.listdir(out))):
        time.sleep(0.05)
    children = children_of(proc.pid)
    proc.send_signal(signum)  # to the main process only, as kill and systemd send it
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("error: interrupted")
    assert not out.exists() or [p for p in os.listdir(out) if p.endswith(".partial")] == []
    deadline = time.monotonic() + 10  # the fork server and the workers end with the run
    while time.monotonic() < deadline and [pid for pid in children if running(pid)]:
        time.sleep(0.1)
    assert [pid for pid in children if running(pid)] == []


def children_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc (pgrep is not on every machine)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


# -- the processes of a batch, stopped as systemd, cron, nohup and the OOM killer stop them ----------


def group_of(pgid: int) -> list[int]:
    """The live processes (not zombies) of the process group ``pgid``."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(entry.name)) == pgid and running(int(entry.name)):
                found.append(int(entry.name))
        except OSError:
            continue  # ended meanwhile
    return found


def medium_page(folder: Path, name: str, parts: int = 12) -> Path:
    """A page of ``parts`` sections: a few seconds to convert with the fake engine."""
    body = "".join(
        f"<h2>Part {i}</h2>"
        + "".join(f"<p>Part {i}, paragraph {j}, tells of rivers, lakes and the spring weather.</p>" for j in range(5))
        for i in range(parts)
    )
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html lang='en'><head><title>{name}</title></head><body><article><h1>{name}</h1>{body}"
        "</article></body></html>",
        encoding="utf-8",
    )
    return path


@contextlib.contextmanager
def batch_in_its_own_group(tmp_path: Path, *args: str, hangup=signal.SIG_DFL):
    """``talkingbook ARGS`` in a process group of its own (as systemd, cron or a terminal starts
    it), SIGHUP set to ``hangup`` (nohup: ignored); whatever of the group is left is killed at the end."""

    def prepare() -> None:
        as_from_a_terminal()
        signal.signal(signal.SIGHUP, hangup)

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TALKINGBOOK_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "talkingbook", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=prepare,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        for pid in group_of(proc.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.communicate()


def converting(out: Path) -> bool:
    return out.is_dir() and any(p.endswith(".partial") for p in os.listdir(out))


def wait_until(condition, seconds: float, what: str, shown=lambda: "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what} after {seconds} s {shown()}"
        time.sleep(0.1)


def described(pgid: int) -> list[str]:
    """The live processes of a group, with their parent and the start of their command line."""
    from test_signals import proc_table

    table = proc_table()
    return [f"{pid} (parent {table[pid][0]}): {table[pid][2][:120]}" for pid in group_of(pgid) if pid in table]


def end_of(stream, seconds: float) -> bool:
    """True when ``stream`` (a pipe) reaches its end within ``seconds``: no process holds it any more."""
    import select

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.2)
        if ready and not os.read(stream.fileno(), 65536):
            return True
    return False


@pytest.mark.slow
def test_sigterm_to_the_process_group_leaves_no_worker_or_resource_tracker(tmp_path):
    """`systemctl stop` sends SIGTERM to every process of the service at once: the fork server
    dies at once, so the pool cannot be shut down in order; every worker must still end."""
    pages = [medium_page(tmp_path / "pages", f"p{n}.html", parts=40) for n in range(4)]
    out = tmp_path / "out"
    with batch_in_its_own_group(tmp_path, "convert", *map(str, pages), "-o", str(out), *JOBS_2) as proc:
        wait_until(lambda: converting(out), 60, "a book to be started")
        wait_until(lambda: len(group_of(proc.pid)) >= 5, 30, "two workers, the fork server and the resource tracker")
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        assert proc.returncode == 128 + signal.SIGTERM
        wait_until(
            lambda: group_of(proc.pid) == [], 30, "every process of the batch to end", lambda: described(proc.pid)
        )
        assert not out.exists() or [p for p in os.listdir(out) if p.endswith(".partial")] == []


@pytest.mark.slow
@pytest.mark.parametrize("command", ["convert", "follow"])
def test_the_workers_of_a_killed_batch_stop_and_let_go_of_its_output(tmp_path, site, command):
    """SIGKILL (the OOM killer, `kill -9`) of the main process: its workers notice their parent is
    gone, stop converting (their partial folders removed) and close the output they inherited."""
    pages = [medium_page(tmp_path / "pages", f"p{n}.html", parts=40) for n in range(4)]
    for path in pages:
        site.items.insert(0, (f"/news/{path.name}", path.name))
        site.files[f"/news/{path.name}"] = ("text/html; charset=utf-8", path.read_bytes())
    site.publish()
    out = tmp_path / "out"
    sources = [site.feed] if command == "follow" else list(map(str, pages))
    with batch_in_its_own_group(tmp_path, command, *sources, "-o", str(out), *JOBS_2) as proc:
        wait_until(lambda: converting(out), 60, "a book to be started")
        wait_until(lambda: len(group_of(proc.pid)) >= 5, 30, "two workers, the fork server and the resource tracker")
        proc.kill()
        proc.wait(timeout=10)
        assert end_of(proc.stdout, 30), "a worker still holds the batch's standard output"
        wait_until(
            lambda: group_of(proc.pid) == [], 30, "every process of the batch to end", lambda: described(proc.pid)
        )
        left = list(out.glob("*.partial")) if out.exists() else []
        assert left == [], [sorted(q.name for q in p.rglob("*")) for p in left]


@pytest.mark.slow
def test_a_stop_signal_to_one_worker_interrupts_the_batch_as_before(tmp_path):
    """A worker stopped alone (by its pid) still tells the batch, which stops as interrupted."""
    pages = [medium_page(tmp_path / "pages", f"p{n}.html", parts=40) for n in range(4)]
    out = tmp_path / "out"
    with batch_in_its_own_group(tmp_path, "convert", *map(str, pages), "-o", str(out), *JOBS_2) as proc:
        wait_until(lambda: converting(out), 60, "a book to be started")
        wait_until(lambda: len(group_of(proc.pid)) >= 5, 30, "two workers, the fork server and the resource tracker")
        workers = [pid for pid in group_of(proc.pid) if pid != proc.pid and "forkserver" in _cmdline(pid)]
        worker = next(pid for pid in workers if _cmdline(pid) and pid not in children_of(proc.pid))
        os.kill(worker, signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            stacks = _stacks(proc.pid)
            raise AssertionError(f"the batch did not stop: {described(proc.pid)}\n{stacks}") from None
        assert proc.returncode == 128 + signal.SIGTERM, err.decode()
        assert err.decode().strip().splitlines()[-1].startswith("error: interrupted (SIGTERM)")
        wait_until(
            lambda: group_of(proc.pid) == [], 30, "every process of the batch to end", lambda: described(proc.pid)
        )


def _stacks(pid: int) -> str:
    """Where the batch's process waits (py-spy when installed; else what /proc says of its threads)."""
    import shutil

    if shutil.which("py-spy"):
        return subprocess.run(["py-spy", "dump", "--pid", str(pid)], capture_output=True, text=True).stdout
    lines = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")):
        with contextlib.suppress(OSError):
            lines.append(f"{task.name}: {(task / 'wchan').read_text()} {(task / 'stat').read_text().split()[2]}")
    return "\n".join(lines)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


@pytest.mark.slow
def test_a_hangup_does_not_stop_a_batch_started_under_nohup(tmp_path):
    """nohup leaves SIGHUP ignored: a closed terminal must stop neither the batch nor its workers."""
    pages = [medium_page(tmp_path / "pages", f"p{n}.html", parts=6) for n in range(3)]
    out = tmp_path / "out"
    args = ("convert", *map(str, pages), "-o", str(out), "--engine", "fake", "--no-audiobook", "--jobs", "2")
    with batch_in_its_own_group(tmp_path, *args, hangup=signal.SIG_IGN) as proc:
        wait_until(lambda: converting(out), 60, "a book to be started")
        os.killpg(proc.pid, signal.SIGHUP)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert book_names(out) == ["p0", "p1", "p2"]


def test_jobs_beyond_the_cores_are_capped_with_a_note(tmp_path, run):
    from talkingbook.batch import max_jobs

    cores = max_jobs()
    pages = [write_page(tmp_path, f"p{n}.html", f"Story {n}") for n in range(cores + 1)]
    code, _, err = run("convert", *pages, "-o", tmp_path / "out", "--no-audio", "--jobs", "60", "--progress", "plain")
    assert code == 0, err
    assert f"note: --jobs 60: at most {cores} here (the CPU cores this process may use); using {cores}" in err
    assert f"converting {cores + 1} articles, {cores} at a time" in err


# -- --scheduler, before any cluster work (the cluster itself: test_cluster.py) --------------------


@pytest.fixture
def silent_listener():
    """A TCP port that accepts connections and never answers."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []

    def accept() -> None:
        with contextlib.suppress(OSError):  # the socket closed at the test's end
            while True:
                accepted.append(server.accept())

    threading.Thread(target=accept, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.parametrize(
    ("address", "code", "says"),
    [
        ("tcp://127.0.0.1:1", 1, "no Dask scheduler could be reached (Connection refused)"),
        ("scheduler-without-port", 2, "missing port number"),
        ("http://127.0.0.1:8786", 2, "a Dask scheduler's address is tcp://HOST:PORT"),
        ("SILENT", 1, "no Dask scheduler answers"),
    ],
)
def test_a_scheduler_that_cannot_be_reached_is_one_error_and_writes_nothing(
    tmp_path, run, monkeypatch, silent_listener, address, code, says
):
    from talkingbook import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    pages = [write_page(tmp_path, f"{n}.html", f"Story {n}") for n in ("one", "two")]
    address = silent_listener if address == "SILENT" else address
    started = time.monotonic()
    got, _, err = run("convert", *pages, "-o", tmp_path / "out", "--engine", "fake", "--scheduler", address)
    assert got == code, err
    assert err.count("\n") == 1 and err.startswith(f"error: --scheduler {address}: ") and says in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    assert time.monotonic() - started < 15


def test_standard_input_cannot_go_to_a_cluster(tmp_path, run):
    code, _, err = run("convert", "-", "-o", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2
    assert err.startswith("error: -: standard input cannot be converted on a cluster"), err
    assert not (tmp_path / "out").exists()


def test_a_feeds_links_reach_a_private_address_only_as_the_feed_allows(tmp_path, site):
    """The feed's URL is typed by the user, its links are not: a feed from a public address cannot
    send `follow` to a private one; a feed served from a private address may link to that kind."""
    from talkingbook.batch import CONVERTED, FAILED, convert_one
    from talkingbook.publication import Options
    from talkingbook.readers.feeds import read_feed
    from talkingbook.readers.net import Reach

    site.add("alpha.html", "Story alpha")
    feed = read_feed(site.feed)
    port = int(site.base.rsplit(":", 1)[1])
    assert feed.reach.origin == ("127.0.0.1", port)  # served from loopback: its links may be too
    (link,) = (item.link for item in feed.items)
    options = Options(engine="fake", audiobook=False)
    assert convert_one(link, tmp_path / "ok", options, linked_from=feed.reach).status == CONVERTED

    public = Reach("auto")  # what read_feed gives for a feed fetched from a public address
    refused = convert_one(link, tmp_path / "refused", options, linked_from=public)
    assert refused.status == FAILED
    why = f"{link}: not fetched: 127.0.0.1 port {port} is a private or loopback address"
    assert refused.why == f"{why} (--private-network allow permits it)", refused.why
    assert not (tmp_path / "refused").exists()
    deny = convert_one(link, tmp_path / "deny", options, linked_from=Reach("deny", origin=("127.0.0.1", port + 1)))
    assert deny.status == FAILED  # deny: only the feed's own address and port


def test_several_workers_take_the_largest_pages_first_and_urls_before_them(tmp_path):
    """No long article is left to start last while the other workers idle: files by size, largest
    first; URLs and stdin (size unknown) first, in their own order."""
    from talkingbook.batch import longest_first

    sizes = {"small.html": 10, "large.html": 3000, "middle.html": 500}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    sources = [
        str(tmp_path / "small.html"),
        "https://example.org/a",
        str(tmp_path / "large.html"),
        str(tmp_path / "middle.html"),
        "https://example.org/b",
    ]
    assert [sources[k] for k in longest_first(sources)] == [
        "https://example.org/a",
        "https://example.org/b",
        str(tmp_path / "large.html"),
        str(tmp_path / "middle.html"),
        str(tmp_path / "small.html"),
    ]


def test_a_book_is_made_again_when_auto_would_read_it_with_another_voice(tmp_path, monkeypatch):
    """'unchanged' means the same page, options and voice: once a better voice is installed, 'auto'
    picks it, and the books it would read differently are made again."""
    from talkingbook import convert
    from talkingbook.batch import convert_one
    from talkingbook.engines.fake import FakeEngine
    from talkingbook.publication import Options

    class Installed(FakeEngine):
        def __init__(self, language: str = "en", rate: float = 1.0) -> None:
            super().__init__(language, rate)
            self.voice = "a voice installed since"

    source = str(write_page(tmp_path, "story.html", "Story one"))
    options = Options(engine="fake", audiobook=False, cache=False)
    out = tmp_path / "out"
    assert convert_one(source, out, options, library=False).status == "converted"
    assert convert_one(source, out, options, library=False).status == "unchanged"
    monkeypatch.setattr(convert, "book_engine", lambda *args: Installed())
    again = convert_one(source, out, options, library=False)
    assert again.status == "converted"
    assert "a voice installed since" in (Path(again.folder) / "manifest.json").read_text(encoding="utf-8")
    assert convert_one(source, out, options, library=False).status == "unchanged"


# -- privacy -------------------------------------------------------------------------------------


def test_the_published_folder_names_no_local_path_and_an_unchanged_page_is_still_known(tmp_path, run):
    """manifest.json is published with the book: it names the input, the lexicon and --base-dir by
    their file names, not where they are on this machine. A batch still knows an unchanged page and
    an edited one (the marker keeps digests of the paths, never the paths)."""
    private = tmp_path / "home" / "ana-private-notes"
    (private / "assets").mkdir(parents=True)
    pages = [write_page(private, "one.html", "Story one"), write_page(private, "two.html", "Story two")]
    lexicon = private / "words.pls"
    lexicon.write_text(
        '<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon" alphabet="ipa" '
        'xml:lang="en"><lexeme><grapheme>rivers</grapheme><alias>streams</alias></lexeme></lexicon>',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    options = ("--lexicon", lexicon, "--base-dir", private / "assets", *FAKE)
    code, _, err = run("convert", *pages, "-o", out, *options)
    assert code == 0 and err.strip().splitlines()[-1] == "converted 2, unchanged 0, failed 0"
    secret = b"ana-private-notes"
    leaks = [p for p in out.rglob("*") if p.is_file() and secret in p.read_bytes()]
    for epub in out.rglob("*.epub"):  # and inside the EPUBs (compressed)
        with zipfile.ZipFile(epub) as archive:
            leaks += [f"{epub}:{n}" for n in archive.namelist() if secret in archive.read(n)]
    assert leaks == []
    manifest = json.loads((out / "one" / "manifest.json").read_text("utf-8"))
    assert manifest["source"] == "one.html"
    assert (manifest["options"]["lexicon"], manifest["options"]["base_dir"]) == ("words.pls", "assets")
    # again: nothing changed, nothing is made again; an edited page is
    pages[1].write_bytes(page("Story two", "mountains"))
    code, _, err = run("convert", *pages, "-o", out, *options)
    assert code == 0 and err.strip().splitlines()[-1] == "converted 1, unchanged 1, failed 0"
    assert book_names(out) == ["one", "two"]
