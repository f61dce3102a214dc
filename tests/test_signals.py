"""Signals and concurrent runs, with real processes: SIGTERM and SIGHUP stop a run as Ctrl-C does
(ffmpeg stopped, the partial folder removed, the earlier book intact); a SIGKILLed run's partial
folder is removed by the next run, a live run's never; two runs into one folder both finish."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLE, as_from_a_terminal, need


def long_page(folder: Path, name: str = "long.html", title: str = "A long page") -> Path:
    """Forty sections: long enough to be stopped in the middle of its narration."""
    parts = "".join(
        f"<h2>Part {i}</h2>"
        + "".join(
            f"<p>Part {i}, paragraph {j}, tells of rivers, lakes and the spring weather. It goes on for a while, "
            f"so that there is something to read aloud.</p>"
            for j in range(6)
        )
        for i in range(40)
    )
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><article>"
        f"<h1>{title}</h1>{parts}</article></body></html>",
        encoding="utf-8",
    )
    return path


def env(tmp_path: Path) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TALKINGBOOK_CACHE": str(tmp_path / "cache")}


def start(tmp_path: Path, source: Path, out: Path, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "talkingbook", "convert", str(source), "-o", str(out), "--progress", "none", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(tmp_path),
        preexec_fn=as_from_a_terminal,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def proc_table() -> dict[int, tuple[int, str, str]]:
    """Every live process: pid -> (parent pid, state, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), fields[0], cmdline)
    return found


def ffmpeg_children(pid: int) -> list[int]:
    return [
        child
        for child, (parent, state, cmdline) in proc_table().items()
        if parent == pid and "ffmpeg" in cmdline and state != "Z"
    ]


def running_with(text: str) -> list[str]:
    """Live processes (not zombies) whose command line mentions ``text``."""
    return [
        cmdline
        for pid, (_, state, cmdline) in proc_table().items()
        if text in cmdline and state != "Z" and pid != os.getpid()
    ]


def wait_for(condition, timeout: float = 90, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def partials(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.endswith(".partial") or ".old" in p.name)


def tree(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def earlier_book(tmp_path: Path, source: Path, out: Path) -> dict:
    code, err = finish(start(tmp_path, source, out, "--no-audio", "-q"))
    assert code == 0, err
    return tree(out / source.stem)


def need_espeak():
    from talkingbook.engines import espeak

    need(bool(espeak.voices()), "espeak-ng is not installed (pip install espeakng-loader)")


@pytest.mark.parametrize(
    "signum, engine",
    [
        (signal.SIGTERM, "fake"),
        (signal.SIGHUP, "fake"),
        (signal.SIGINT, "fake"),
        (signal.SIGTERM, "espeak"),
        (signal.SIGHUP, "espeak"),
    ],
)
@pytest.mark.slow
def test_a_stop_signal_while_narrating_stops_ffmpeg_and_removes_the_partial_folder(tmp_path, signum, engine):
    if engine == "espeak":
        need_espeak()  # its audio callback is C calling Python: a signal may land inside it
    source, out = long_page(tmp_path / "in"), tmp_path / "out"
    before = earlier_book(tmp_path, source, out)
    proc = start(tmp_path, source, out, "--engine", engine, "--no-cache")
    children = wait_for(lambda: ffmpeg_children(proc.pid), what="an ffmpeg child")
    assert partials(out)
    os.kill(proc.pid, signum)
    code, err = finish(proc, timeout=60)
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    assert code == 128 + signum, err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("error:")] == [
        f"error: interrupted ({name}); the book being made was not written"
    ], err
    assert partials(out) == []
    assert tree(out / source.stem) == before
    assert not any(pid in proc_table() and proc_table()[pid][1] != "Z" for pid in children)
    assert running_with(str(out)) == []  # no ffmpeg (or anything) still writing there


@pytest.mark.slow
def test_a_long_ffmpeg_run_is_stopped_at_once_not_waited_for(tmp_path):
    """One section of an hour and a half: its encoding takes half a minute, the stop a moment."""
    text = " ".join(f"Sentence {i} tells of rivers and lakes in the spring." for i in range(1500))
    source = tmp_path / "one.html"
    source.write_text(
        f"<!doctype html><html lang='en'><head><title>One section</title></head><body><article>"
        f"<h1>One section</h1><p>{text}</p></article></body></html>",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    proc = start(tmp_path, source, out, "--engine", "fake", "--no-cache", "--no-audiobook")
    children = wait_for(lambda: ffmpeg_children(proc.pid), what="an ffmpeg child")
    os.kill(proc.pid, signal.SIGTERM)
    stopped = time.monotonic()
    code, err = finish(proc, timeout=120)
    assert code == 128 + signal.SIGTERM, err
    assert time.monotonic() - stopped < 10  # ffmpeg was killed, not waited for
    assert not any(pid in proc_table() and proc_table()[pid][1] != "Z" for pid in children)
    assert not out.exists() or partials(out) == []


@pytest.mark.slow
def test_a_killed_runs_partial_folder_is_removed_by_the_next_run_and_a_live_runs_is_not(tmp_path):
    source, out = long_page(tmp_path / "in"), tmp_path / "out"
    before = earlier_book(tmp_path, source, out)
    killed = start(tmp_path, source, out, "--engine", "fake", "--no-cache")
    wait_for(lambda: ffmpeg_children(killed.pid), what="an ffmpeg child")
    killed.kill()
    killed.wait(timeout=30)
    left = partials(out)
    assert len(left) == 1  # SIGKILL cannot be caught: its partial folder stays, for now
    # the killed run's ffmpeg orphans finish their section on their own
    wait_for(lambda: not running_with(str(out)), timeout=60, what="the killed run's ffmpeg orphans to end")

    live = start(
        tmp_path, long_page(tmp_path / "other", "live.html", "Another long page"), out, "--engine", "fake", "--no-cache"
    )
    wait_for(lambda: [p for p in partials(out) if p.startswith(".live.")], what="the live run's partial folder")
    code, err = finish(start(tmp_path, SAMPLE, out, "--no-audio", "-q"))  # a third run into the same folder
    assert code == 0, err
    assert left[0] not in partials(out)  # the dead run's folder is gone
    assert [p for p in partials(out) if p.startswith(".live.")]  # the live run's is still there
    assert tree(out / source.stem) == before
    live.send_signal(signal.SIGTERM)
    assert finish(live, timeout=60)[0] == 128 + signal.SIGTERM
    assert partials(out) == []


def whole_book(book: Path) -> None:
    """Every file the manifest names is there, and the EPUB is a sound zip."""
    manifest = json.loads((book / "manifest.json").read_text(encoding="utf-8"))
    assert zipfile.ZipFile(book / manifest["epub"]).testzip() is None
    for section in manifest["sections"]:
        if section["mp3"]:
            assert (book / section["mp3"]).stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("options", [["--no-audio"], ["--no-audio"], ["--engine", "fake"]])
def test_two_runs_of_one_article_into_one_folder_at_once_give_one_whole_book(tmp_path, options):
    out = tmp_path / "out"
    runs = [start(tmp_path, SAMPLE, out, *options) for _ in range(2)]
    results = [finish(run) for run in runs]
    assert [code for code, _ in results] == [0, 0], results
    assert not any("error" in err.lower() for _, err in results), results
    # the book and the library's files, nothing temporary left
    assert sorted(p.name for p in out.iterdir()) == [
        ".talkingbook.lock",
        "catalog",
        "feed.xml",
        "index.html",
        SAMPLE.stem,
    ]
    whole_book(out / SAMPLE.stem)


def test_two_articles_with_one_name_at_once_both_land(tmp_path):
    out = tmp_path / "out"
    sources = [long_page(tmp_path / folder, "page.html", title) for folder, title in [("a", "First"), ("b", "Second")]]
    runs = [start(tmp_path, source, out, "--no-audio", "-q") for source in sources]
    assert [finish(run)[0] for run in runs] == [0, 0]
    titles = {
        json.loads((out / name / "manifest.json").read_text(encoding="utf-8"))["metadata"]["title"]
        for name in ("page", "page-2")
    }
    assert titles == {"First", "Second"}
    assert partials(out) == []


def test_stop_all_kills_running_children_and_starts_no_more():
    import threading

    from talkingbook.system import processes

    outcome = []

    def child():
        try:
            outcome.append(processes.run(["sleep", "60"]))
        except processes.Stopped as exc:
            outcome.append(exc)

    thread = threading.Thread(target=child)
    thread.start()
    wait_for(sleeping_child, timeout=10, what="the child")
    try:
        processes.stop_all()
        thread.join(timeout=10)
        assert not thread.is_alive() and isinstance(outcome[0], processes.Stopped)
        with pytest.raises(processes.Stopped):
            processes.run(["true"])
    finally:
        processes.allow()
    assert processes.run(["true"])[0] == 0


def sleeping_child() -> bool:
    return any(parent == os.getpid() and cmdline.startswith("sleep 60") for parent, _, cmdline in proc_table().values())


def test_an_interruption_swallowed_by_a_c_callback_is_not_reported(monkeypatch):
    """ctypes cannot pass an exception out of a callback; the run stops at its next child process
    instead, and Python's "Exception ignored" report (a traceback) is not printed."""
    import ctypes

    from talkingbook.cli import Interrupted, _signals_interrupt

    def interrupted():
        raise Interrupted(signal.SIGTERM)

    def broken():
        raise ValueError("a real problem")

    seen = []
    monkeypatch.setattr(sys, "unraisablehook", lambda info: seen.append(type(info.exc_value)))
    calls = [ctypes.CFUNCTYPE(None)(interrupted), ctypes.CFUNCTYPE(None)(broken)]
    with _signals_interrupt():
        for call in calls:
            call()
    assert seen == [ValueError]  # still reported: only our own interruption is silenced
    calls[0]()
    assert seen == [ValueError, Interrupted]  # the hook is ours only while a command runs


def test_encoding_threads_leave_stop_signals_to_the_main_thread_and_children_start_unmasked():
    from concurrent.futures import ThreadPoolExecutor

    from talkingbook.system import processes

    def blocked(status: str) -> int:
        return int(status.split("SigBlk:")[1].split()[0], 16)

    def job():
        _, err = processes.run(["sh", "-c", "cat /proc/self/status >&2"])
        return blocked(Path("/proc/thread-self/status").read_text()), blocked(err.decode())

    with ThreadPoolExecutor(1, initializer=processes.worker_thread) as pool:
        worker, child = pool.submit(job).result()
    assert all(worker & (1 << (s - 1)) for s in processes.STOP_SIGNALS)
    assert child == 0
