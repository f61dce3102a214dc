"""A batch on a real Dask cluster: `dask scheduler` and two `dask worker` processes on 127.0.0.1,
eight corpus pages spoken by espeak-ng through `--scheduler`. A worker SIGKILLed mid-article loses
nothing (Dask runs its task again; the book lands once, whole); a client killed mid-batch and run
again converts only what is missing."""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import pytest

from conftest import ROOT, as_from_a_terminal, book_names

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask")]  # one cluster (--dist loadgroup)

CORPUS = ROOT.parent / "shared" / "corpus"
# the eight shortest pages espeak-ng reads (the Japanese page it refuses; the longest three take
# 40 s each): English, Korean, French, German, Polish and Arabic
PAGES = [
    "mr-ehow-1",
    "np-arabic_article",
    "tf-backenmachtgluecklich.de",
    "tf-rp.pl-unijne-fundusze",
    "ae-entermedia.co.kr",
    "mr-lemonde-1",
    "mr-keep-tabular-data",
    "ae-healthline.com",
]
DASK = Path(sys.executable).with_name("dask")  # installed with distributed, a dependency
ESPEAK = ("--engine", "espeak", "--progress", "plain")
PARTIAL = re.compile(r"^\.(?P<slug>.+)\.(?P<pid>\d+)\.[^.]+\.partial$")


def corpus_pages(folder: Path) -> list[Path]:
    """The eight corpus pages, or where the corpus is absent (a checkout on its own), eight pages
    written in ``folder``, each long enough to be caught mid-article."""
    if all((CORPUS / name / "source.html").is_file() for name in PAGES):
        return [CORPUS / name / "source.html" for name in PAGES]
    prose = "<p>" + "A river runs through the old town, and its bridges are older than the town. " * 12 + "</p>"
    pages = []
    for n in range(8):
        page = folder / f"site-{n}" / "source.html"
        page.parent.mkdir(parents=True)
        body = "".join(f"<h2>Part {k}</h2>{prose}" for k in range(4))
        page.write_text(
            f"<html lang='en'><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>{body}"
            "</article></body></html>",
            encoding="utf-8",
        )
        pages.append(page)
    return pages


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A Dask scheduler and two workers (one thread each) on 127.0.0.1; yields the scheduler's address."""
    folder = tmp_path_factory.mktemp("dask")
    file = folder / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TALKINGBOOK_CACHE": str(folder / "speech-cache")}
    common = {"env": env, "cwd": folder, "stdin": subprocess.DEVNULL, "preexec_fn": as_from_a_terminal}
    started = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", file],
            stdout=open(folder / "scheduler.log", "wb"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
            **common,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        worker = [DASK, "worker", "--scheduler-file", file, "--nthreads", "1", "--no-dashboard"]
        started += [
            subprocess.Popen(
                [*worker, "--name", f"w{n}", "--local-directory", folder / f"w{n}"],
                stdout=open(folder / f"worker-{n}.log", "wb"),  # noqa: SIM115 - closed with the process
                stderr=subprocess.STDOUT,
                **common,
            )
            for n in (1, 2)
        ]
        address = json.loads(file.read_text())["address"]
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def talkingbook(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "talkingbook", *map(str, args)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_from_a_terminal,
    )


def live_partials(out: Path) -> list[tuple[str, int]]:
    """The partial folders a live run is filling: (name, the pid in it), those whose marker is locked."""
    found = []
    for entry in out.iterdir() if out.is_dir() else ():
        match = PARTIAL.match(entry.name)
        if match is None:
            continue
        try:
            fd = os.open(entry / ".talkingbook.json", os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            found.append((entry.name, int(match["pid"])))
        finally:
            os.close(fd)
    return found


def whole_books(out: Path) -> dict[str, str]:
    """{book folder: its identifier (one per page: the manifest names no local path)} for every finished book."""
    if not out.is_dir():
        return {}
    return {
        name: json.loads((out / name / "manifest.json").read_text("utf-8"))["metadata"]["identifier"]
        for name in book_names(out)
        if (out / name / "manifest.json").is_file()
    }


def wait_until_idle(address: str, out: Path) -> None:
    """Until the scheduler holds no task, no worker runs one and no partial folder is being filled."""
    from distributed import Client

    def running(dask_worker) -> int:
        return len(dask_worker.state.executing)

    def tasks(dask_scheduler) -> int:
        return len(dask_scheduler.tasks)

    deadline = time.monotonic() + 300
    with Client(address, timeout=30, set_as_default=False) as client:
        while time.monotonic() < deadline:
            busy = client.run_on_scheduler(tasks) or sum(client.run(running).values()) or live_partials(out)
            if not busy:
                return
            time.sleep(0.2)
    raise AssertionError("the cluster was still busy after 300 s")


def test_a_worker_killed_mid_article_loses_nothing(cluster, tmp_path):
    pages = corpus_pages(tmp_path)
    out = tmp_path / "library"
    client = talkingbook("convert", *pages, "-o", out, *ESPEAK, "--scheduler", cluster)
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and client.poll() is None and time.monotonic() < deadline:
        for name, pid in live_partials(out):
            if pid != client.pid and any((out / name / "audio").glob("*.mp3")):  # mid-article: sections spoken
                os.kill(pid, signal.SIGKILL)
                killed = (name, pid)
                break
        time.sleep(0.1)
    _, stderr = client.communicate(timeout=600)
    assert killed is not None, f"no worker was caught converting: {stderr}"
    with pytest.raises(ProcessLookupError):
        os.kill(killed[1], 0)

    assert client.returncode == 0, stderr
    assert "converted 8, unchanged 0, failed 0" in stderr
    books = whole_books(out)
    assert len(set(books.values())) == len(books) == len(pages)  # each page exactly once
    assert not [e.name for e in out.iterdir() if e.name.endswith(".partial")], "a partial folder was left"
    for name in books:
        check = subprocess.run(
            [sys.executable, "-m", "talkingbook", "check", out / name],
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr

    feed = feedparser.parse(str(out / "feed.xml"))
    assert sorted(e.id for e in feed.entries) == sorted(
        json.loads((out / n / "manifest.json").read_text("utf-8"))["metadata"]["identifier"] for n in books
    )
    newest = json.loads((out / "catalog" / "newest.json").read_text("utf-8"))
    ids = [p["metadata"]["identifier"] for p in newest["publications"]]
    assert len(ids) == len(set(ids)) == 8
    page = (out / "index.html").read_text("utf-8")
    for name in books:
        assert page.count(f'href="{name}/{name}.epub"') == 1, name


def test_a_client_killed_mid_batch_and_run_again_converts_only_what_is_missing(cluster, tmp_path):
    pages = corpus_pages(tmp_path)
    out = tmp_path / "library"
    args = ("convert", *pages, "-o", out, *ESPEAK, "--no-audiobook", "--scheduler", cluster)
    first = talkingbook(*args)
    deadline = time.monotonic() + 300
    while len(whole_books(out)) < 2 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    first.kill()
    first.communicate()
    assert first.returncode == -signal.SIGKILL
    # the tasks a worker had begun finish (Dask cannot stop a running task); the others are dropped
    wait_until_idle(cluster, out)
    before = whole_books(out)
    assert 2 <= len(before) < 8, before
    stamps = {name: (out / name / "manifest.json").stat().st_mtime_ns for name in before}

    again = talkingbook(*args)
    _, stderr = again.communicate(timeout=600)
    assert again.returncode == 0, stderr
    assert f"converted {8 - len(before)}, unchanged {len(before)}, failed 0" in stderr
    after = whole_books(out)
    assert len(set(after.values())) == len(after) == len(pages) and before.items() <= after.items()
    assert {name: (out / name / "manifest.json").stat().st_mtime_ns for name in before} == stamps  # not made again
    newest = json.loads((out / "catalog" / "newest.json").read_text("utf-8"))  # no audiobook: no podcast episode
    assert len({p["metadata"]["identifier"] for p in newest["publications"]}) == len(newest["publications"]) == 8
