"""The cache: kept in a folder marked as ours, cleared only there, every entry verified on read."""

import errno
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.mp4 import MP4
from PIL import Image

from conftest import ROOT, SAMPLE, decode_mp3
from small_disk import small_disk
from talkingbook.system.cache import HEADER, TAG_NAME, TAG_SIGNATURE, SpeechCache


def tree(folder: Path) -> dict:
    """Every path under ``folder`` with a digest of each file's bytes (no file is opened but regular ones)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "other"
        for p in sorted(folder.rglob("*"))
    }


def entries(cache: Path, kind: str, suffix: str) -> list[Path]:
    return sorted((cache / kind).rglob(f"*{suffix}"))


def cli(*args, env=None, timeout=120):
    """The CLI in a child process (what cannot be tried in-process: a hang)."""
    return subprocess.run(
        [sys.executable, "-m", "talkingbook", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
    )


def convert(run, out, *options):
    code, _, err = run("convert", SAMPLE, "-o", out, "--engine", "fake", "--progress", "none", *options)
    assert code == 0, err
    return out / SAMPLE.stem


@pytest.mark.slow
def test_a_new_cache_folder_is_tagged_and_clear_keeps_the_tag(tmp_path, run, private_cache):
    convert(run, tmp_path / "out")
    tag = (private_cache / TAG_NAME).read_bytes()
    assert tag.startswith(TAG_SIGNATURE) and b"talkingbook" in tag
    assert entries(private_cache, "speech", ".pcm")
    code, out, _ = run("cache", "clear")
    assert code == 0 and "cleared" in out
    assert sorted(p.name for p in private_cache.iterdir()) == [TAG_NAME]


def home_like(tmp_path: Path) -> Path:
    """A folder that is not a cache but has the cache's folder names in it, as $HOME may."""
    home = tmp_path / "home"
    for name, text in [
        ("books/thesis.txt", "three years"),
        ("covers/front.png", "art"),
        ("speech/talk.txt", "hi"),
        ("sections/a.mp3", "mine"),
        ("notes.txt", "mine too"),
    ]:
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text)
    return home


def test_clear_refuses_a_folder_that_is_not_marked(tmp_path, run, monkeypatch):
    home = home_like(tmp_path)
    before = tree(home)
    monkeypatch.setenv("TALKINGBOOK_CACHE", str(home))
    code, out, err = run("cache", "clear")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {home}: not a talkingbook cache")
    assert tree(home) == before
    code, out, _ = run("cache", "info")
    assert code == 0 and "not a talkingbook cache" in out
    assert tree(home) == before


def test_clear_refuses_a_tag_another_program_wrote(tmp_path, run, monkeypatch):
    other = home_like(tmp_path)
    (other / TAG_NAME).write_bytes(TAG_SIGNATURE + b"\n# created by some other program\n")
    before = tree(other)
    monkeypatch.setenv("TALKINGBOOK_CACHE", str(other))
    assert run("cache", "clear")[0] == 1
    assert tree(other) == before


@pytest.mark.slow
def test_a_run_never_writes_into_an_unmarked_folder(tmp_path, run, monkeypatch, caplog):
    home = home_like(tmp_path)
    before = tree(home)
    monkeypatch.setenv("TALKINGBOOK_CACHE", str(home))
    book = convert(run, tmp_path / "out")
    assert (book / f"{SAMPLE.stem}.m4b").is_file()
    assert tree(home) == before
    assert any("not a talkingbook cache" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_clear_unlinks_a_symlinked_entry_folder_without_following_it(tmp_path, run, private_cache):
    convert(run, tmp_path / "out", "--no-audiobook")
    elsewhere = home_like(tmp_path)
    before = tree(elsewhere)
    import shutil

    shutil.rmtree(private_cache / "covers")
    (private_cache / "covers").symlink_to(elsewhere / "covers")
    assert run("cache", "clear")[0] == 0
    assert tree(elsewhere) == before and not os.path.lexists(private_cache / "covers")


def count_calls(monkeypatch) -> list[str]:
    from talkingbook.engines.fake import FakeEngine

    calls: list[str] = []
    real = FakeEngine.synthesize
    monkeypatch.setattr(FakeEngine, "synthesize", lambda self, text: calls.append(text) or real(self, text))
    return calls


def durations(book: Path) -> list[float]:
    return [s["duration"] for s in json.loads((book / "manifest.json").read_text(encoding="utf-8"))["sections"]]


@pytest.mark.slow
def test_a_truncated_sentence_is_spoken_again_and_its_entry_replaced(tmp_path, run, private_cache, monkeypatch):
    first = convert(run, tmp_path / "a")
    damaged = entries(private_cache, "speech", ".pcm")
    for entry in damaged:  # every sentence cut in half: the audiobook is made from these
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2])
    calls = count_calls(monkeypatch)
    second = convert(run, tmp_path / "b")
    assert len(calls) == len(damaged)  # every damaged sentence was made again
    assert durations(second) == durations(first)
    cache = SpeechCache(private_cache)
    whole = [cache.get_pcm(p.stem) for p in damaged]
    assert all(whole) and len(set(map(len, whole))) > 1  # replaced by whole entries, read back verified
    samples, _ = decode_mp3(second / f"{SAMPLE.stem}.mp3")
    expected, _ = decode_mp3(first / f"{SAMPLE.stem}.mp3")
    assert abs(len(samples) - len(expected)) < 16000 * 0.1


@pytest.mark.slow
def test_garbage_cached_section_mp3s_audiobook_and_cover_are_made_again(tmp_path, run, private_cache):
    first = convert(run, tmp_path / "a")
    for kind, suffix in [("sections", ".mp3"), ("books", ".m4b"), ("books", ".mp3"), ("covers", ".png")]:
        found = entries(private_cache, kind, suffix)
        assert found, (kind, suffix)
        for k, entry in enumerate(found):  # garbage after a whole header (same length), or no header at all
            size = entry.stat().st_size
            garbage = b"garbage, not audio nor a picture " * (size // 30 + 1)
            entry.write_bytes(
                entry.read_bytes()[: HEADER.size] + garbage[: size - HEADER.size] if k % 2 == 0 else garbage
            )
    second = convert(run, tmp_path / "b")
    for name in sorted(p.relative_to(first).as_posix() for p in (first / "audio").iterdir()):
        assert (second / name).read_bytes() == (first / name).read_bytes()  # made again, the same bytes
    length = MP4(first / f"{SAMPLE.stem}.m4b").info.length
    assert MP4(second / f"{SAMPLE.stem}.m4b").info.length == pytest.approx(length)
    assert (second / "cover.png").read_bytes() == (first / "cover.png").read_bytes()
    Image.open(second / "cover.png").verify()
    cache = SpeechCache(private_cache)
    for kind, suffix in [("sections", ".mp3"), ("books", ".m4b"), ("covers", ".png")]:  # entries replaced
        for entry in entries(private_cache, kind, suffix):
            assert cache.copy_to(kind, entry.name[: -len(suffix)], suffix, tmp_path / "check")


def test_a_symlink_or_a_folder_in_place_of_an_entry_is_a_miss_and_removed(tmp_path, private_cache):
    cache = SpeechCache(private_cache)
    cache.put_pcm("ab" * 32, b"\1\2" * 100)
    assert cache.get_pcm("ab" * 32) == b"\1\2" * 100
    entry = private_cache / "speech" / "ab" / f"{'ab' * 32}.pcm"
    secret = tmp_path / "secret"
    secret.write_bytes(entry.read_bytes())  # even a valid entry is not read through a link
    entry.unlink()
    entry.symlink_to(secret)
    assert cache.get_pcm("ab" * 32) is None
    assert not os.path.lexists(entry) and secret.exists()
    entry.mkdir()
    assert cache.get_pcm("ab" * 32) is None and not os.path.lexists(entry)


@pytest.mark.slow
def test_a_fifo_in_the_cache_hangs_neither_a_run_nor_cache_info(tmp_path):
    cache = tmp_path / "cache"
    env = {"TALKINGBOOK_CACHE": str(cache)}
    first = cli("convert", SAMPLE, "-o", tmp_path / "a", "--engine", "fake", "-q", env=env)
    assert first.returncode == 0, first.stderr
    fifos = []
    for kind, suffix in [
        ("speech", ".pcm"),
        ("sections", ".json"),
        ("sections", ".mp3"),
        ("books", ".m4b"),
        ("covers", ".png"),
    ]:
        entry = entries(cache, kind, suffix)[0]
        entry.unlink()
        os.mkfifo(entry)
        fifos.append(entry)
    second = cli("convert", SAMPLE, "-o", tmp_path / "b", "--engine", "fake", "-q", env=env)
    assert second.returncode == 0, second.stderr
    assert not any(f.exists() and not f.is_file() for f in fifos)  # removed (and made again)
    os.mkfifo(cache / "speech" / "fifo.pcm")
    info = cli("cache", "info", env=env, timeout=60)
    assert info.returncode == 0 and str(cache) in info.stdout


def test_a_failed_cache_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    cache = SpeechCache(tmp_path / "cache")
    cache.put_pcm("cd" * 32, b"first")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    cache.put_pcm("ef" * 32, b"\0" * 10_000)  # a cache that cannot be written only costs time
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "cache").rglob("*.tmp")] == []
    assert cache.get_pcm("ef" * 32) is None and cache.get_pcm("cd" * 32) == b"first"


def test_a_full_disk_under_the_cache_leaves_no_temporary_file(tmp_path):
    with small_disk(tmp_path / "disk", "1m") as disk:
        cache = SpeechCache(disk / "cache")
        cache.put_pcm("01" * 32, b"\0" * 4000)
        cache.put_pcm("02" * 32, b"\0" * 3_000_000)  # larger than the disk
        assert cache.get_pcm("02" * 32) is None and cache.get_pcm("01" * 32) == b"\0" * 4000
        assert [p.name for p in disk.rglob("*.tmp")] == []


def test_an_empty_folder_is_tagged_and_used(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    cache = SpeechCache(root)
    cache.put_pcm("aa" * 32, b"\1\0")
    assert (root / TAG_NAME).read_bytes().startswith(TAG_SIGNATURE) and cache.get_pcm("aa" * 32) == b"\1\0"
