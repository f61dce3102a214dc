"""`talkingbook check` on damaged and hostile folders: one line per problem naming the damaged file,
exit 1, never a traceback, never a hang, bounded memory. Each case starts from a copy of one good
book made with the fake engine."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest

import talkingbook
from conftest import SAMPLE

SLUG = SAMPLE.stem
OPF = "EPUB/content.opf"
NAV = "EPUB/nav.xhtml"
ENV = dict(
    os.environ,
    PYTHONPATH=os.pathsep.join([str(Path(talkingbook.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]),
)
HANG = 180  # seconds: a guard against hangs, not a speed goal (a case takes 1 s, the 5.5-hour MP3 20 s)
MEMORY = 1 << 30  # bytes: a guard against reading whole files or PCM into memory (a case takes ~60 MB)


@pytest.fixture(scope="module")
def pristine(build):
    """The run's shared sample book (read only)."""
    folder = build().folder
    assert folder.name == SLUG
    return folder


def check(folder: Path) -> tuple[int, str, int]:
    """`talkingbook check` in its own process: (exit code, stderr, peak memory in bytes of it and the
    ffmpeg it ran); fails the test when it runs longer than HANG seconds."""
    err = folder.parent / "stderr.txt"
    with open(err, "wb") as stream:
        proc = subprocess.Popen(
            [sys.executable, "-m", "talkingbook", "check", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=stream,
            stdin=subprocess.DEVNULL,
            env=ENV,
        )
    deadline = time.monotonic() + HANG
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            pytest.fail(f"check ran longer than {HANG} s")
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err.read_text(encoding="utf-8", errors="replace"), usage.ru_maxrss * 1024


# --- ways to damage a book; each returns what every problem line must name ----------------------


def epub_of(book: Path) -> Path:
    return book / f"{SLUG}.epub"


def rewrite_epub(book: Path, change) -> None:
    """The EPUB's members passed through ``change`` (a function of the dict name -> bytes), zipped again."""
    path = epub_of(book)
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    change(files)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)


def epub_member(name: str, data: bytes):
    def damage(book):
        rewrite_epub(book, lambda files: files.__setitem__(name, data))
        return epub_of(book).name

    return damage


def epub_without(name: str):
    def damage(book):
        rewrite_epub(book, lambda files: files.pop(name))
        return epub_of(book).name

    return damage


def epub_replace(name: str, old: bytes, new: bytes):
    def damage(book):
        def change(files):
            assert old in files[name]
            files[name] = files[name].replace(old, new)

        rewrite_epub(book, change)
        return epub_of(book).name

    return damage


def write(relative: str, data: bytes):
    def damage(book):
        path = book / relative if "*" not in relative else next(book.glob(relative))
        path.write_bytes(data)
        return path.relative_to(book).as_posix()

    return damage


def epub_bytes(data: bytes):
    def damage(book):
        epub_of(book).write_bytes(data)
        return epub_of(book).name

    return damage


def epub_directory(book):
    epub_of(book).unlink()
    (epub_of(book) / "META-INF").mkdir(parents=True)
    return epub_of(book).name


def last_mp3(book: Path) -> Path:
    return max((book / "audio").glob("*.mp3"))


def truncated_mp3(book):
    """The last section's MP3 cut in half (the chapters before it still start where they did)."""
    mp3 = last_mp3(book)
    mp3.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    return mp3.stem


def folder_named_like_an_mp3(book):
    mp3 = sorted((book / "audio").glob("*.mp3"))[2]
    mp3.unlink()
    mp3.mkdir()
    return mp3.stem


def hours_long_mp3(book):
    """The last section's MP3 replaced by 5.5 hours of audio, with its tags: 1.7 GB of PCM decoded."""
    import imageio_ffmpeg
    from mutagen.id3 import ID3

    mp3 = last_mp3(book)
    tags = ID3(mp3)
    minute = book.parent / "minute.mp3"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=8000",
            "-t",
            "60",
            "-ac",
            "1",
            "-b:a",
            "8k",
            "-write_xing",
            "0",
            "-id3v2_version",
            "0",
            "-f",
            "mp3",
            str(minute),
        ],
        check=True,
    )
    with open(mp3, "wb") as out:  # MP3 frames stand alone: 330 copies of a minute are 5.5 hours
        out.writelines(minute.read_bytes() for _ in range(330))
    tags.save(mp3)
    return mp3.stem


def id3_tag_declaring(size: int):
    def damage(book):
        mp3 = sorted((book / "audio").glob("*.mp3"))[1]
        data = bytearray(mp3.read_bytes())
        data[6:10] = bytes((size >> (7 * (3 - k))) & 0x7F for k in range(4))  # syncsafe
        mp3.write_bytes(bytes(data))
        return mp3.stem

    return damage


def fifo_cover(book):
    (book / "cover.png").unlink()
    os.mkfifo(book / "cover.png")
    return "cover.png"


def link(relative: str, target):
    def damage(book):
        path = book / relative
        to = target(book) if callable(target) else target
        path.unlink()
        path.symlink_to(to)
        return relative

    return damage


def feed_outside(book):
    """A copy of the good feed outside the folder, linked from it."""
    outside = book.parent / "elsewhere.xml"
    shutil.copyfile(book / "feed.xml", outside)
    return outside


CHUNK = bytes(64 << 20)


class _DeflatedZeros:
    """Stands in for zipfile's compressor while the bomb is written: 64 MB of zeros deflated once and
    flushed in full (no reference to earlier data), so the same bytes stand for every 64 MB."""

    def __init__(self, *args):
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.block = compressor.compress(CHUNK) + compressor.flush(zlib.Z_FULL_FLUSH)
        self.end = compressor.flush()

    def compress(self, data):
        assert data is CHUNK
        return self.block

    def flush(self):
        return self.end


def nav_bomb(book):
    """The nav replaced by 5 GB of zeros deflated to 5 MB, declared as 5 GB (zip64). Its CRC is left
    at 0 (computing it takes seconds): a reader inflates all 5 GB before it could notice."""
    rewrite_epub(book, lambda files: files.pop(NAV))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zipfile, "_get_compressor", _DeflatedZeros)
        patch.setattr(zipfile, "crc32", lambda data, crc=0: crc)
        with (
            zipfile.ZipFile(epub_of(book), "a", zipfile.ZIP_DEFLATED) as z,
            z.open(NAV, "w", force_zip64=True) as member,
        ):
            for _ in range(80):
                member.write(CHUNK)
    with zipfile.ZipFile(epub_of(book)) as z:
        assert z.getinfo(NAV).file_size == 80 * len(CHUNK) and z.getinfo(NAV).compress_size < 6 << 20
    return epub_of(book).name


def nav_bomb_declared_small(book):
    """The nav inflating to 200 MB of zeros, its headers declaring 1,000 bytes."""
    rewrite_epub(book, lambda files: files.pop(NAV))
    with zipfile.ZipFile(epub_of(book), "a", zipfile.ZIP_DEFLATED) as z:
        with z.open(NAV, "w") as member:
            for _ in range(200):
                member.write(bytes(1 << 20))
        local = z.getinfo(NAV).header_offset
    raw = bytearray(epub_of(book).read_bytes())
    struct.pack_into("<I", raw, local + 22, 1000)  # the local header's uncompressed size
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46 : central + 46 + len(NAV)] != NAV.encode():
        central = raw.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", raw, central + 24, 1000)  # the central directory's
    epub_of(book).write_bytes(bytes(raw))
    with zipfile.ZipFile(epub_of(book)) as z:
        assert z.getinfo(NAV).file_size == 1000
    return epub_of(book).name


GARBAGE = bytes(range(256)) * 64

CASES = {
    "epub is garbage": epub_bytes(GARBAGE),
    "epub is empty": epub_bytes(b""),
    "epub is a folder": epub_directory,
    "epub lacks container.xml": epub_without("META-INF/container.xml"),
    "epub lacks its OPF": epub_without(OPF),
    "epub lacks its nav": epub_without(NAV),
    "OPF lists no nav": epub_replace(OPF, b'properties="nav"', b'properties="x"'),
    "full-path names a missing entry": epub_replace(
        "META-INF/container.xml", b'full-path="EPUB/content.opf"', b'full-path="EPUB/missing.opf"'
    ),
    "container.xml names no rootfile": epub_member(
        "META-INF/container.xml",
        b'<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"/>',
    ),
    "nav is garbage": epub_member(NAV, GARBAGE),
    "nav has an undefined entity": epub_replace(NAV, b"To Conclude", b"To &undefined; Conclude"),
    "OPF is garbage": epub_member(OPF, b"<package><unclosed>"),
    "media:duration is not a clock value": epub_replace(
        OPF, b'refines="#mo002">0:00:49.000<', b'refines="#mo002">soon<'
    ),
    "media:duration is nan": epub_replace(OPF, b'refines="#mo002">0:00:49.000<', b'refines="#mo002">nan<'),
    "nav is a zip bomb of 5 GB": nav_bomb,
    "nav inflates past its declared size": nav_bomb_declared_small,
    "feed is garbage": write("feed.xml", GARBAGE),
    "feed has no channel": write("feed.xml", b'<?xml version="1.0"?><rss version="2.0"/>'),
    "feed has an undefined entity": write("feed.xml", b'<rss version="2.0"><channel>&nope;</channel></rss>'),
    "feed links out of the folder": link("feed.xml", feed_outside),
    "m4b is garbage": write(f"{SLUG}.m4b", GARBAGE),
    "chapters JSON is garbage": write(f"{SLUG}.chapters.json", GARBAGE),
    "chapters JSON is a list": write(f"{SLUG}.chapters.json", b"[]"),
    "chapters JSON lacks fields": write(f"{SLUG}.chapters.json", b'{"chapters": [{"title": "A"}]}'),
    "chapters JSON has NaN": write(f"{SLUG}.chapters.json", b'{"chapters": [{"startTime": NaN, "title": "A"}]}'),
    "chapters JSON is nested deeply": write(f"{SLUG}.chapters.json", b"[" * 100_000 + b"]" * 100_000),
    "playlist is not UTF-8": write(f"{SLUG}.m3u8", b"#EXTM3U\n#EXTINF:35,caf\xe9\naudio/x.mp3\n"),
    "transcript is not WebVTT": write("transcripts/*.vtt", b"Hello, this is not WebVTT.\n"),
    "transcript is not UTF-8": write("transcripts/*.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xff\xfe\n"),
    "mp3 is truncated": truncated_mp3,
    "a folder is named like an mp3": folder_named_like_an_mp3,
    "mp3 declares a 200 MB ID3 tag": id3_tag_declaring(200 << 20),
    "cover is a FIFO": fifo_cover,
    "cover links to /dev/zero": link("cover.png", "/dev/zero"),
    "cover links to nothing": link("cover.png", "nowhere.png"),
}


@pytest.mark.slow
def test_the_good_book_passes(pristine):
    code, err, _ = check(pristine)
    assert code == 0 and err == "", err


@pytest.mark.slow
def test_an_mp3_of_hours_is_counted_as_a_stream(pristine, tmp_path):
    """5.5 hours of audio (1.7 GB as PCM) decoded within the memory guard, and named as too long."""
    book = tmp_path / SLUG
    shutil.copytree(pristine, book)
    named = hours_long_mp3(book)
    code, err, peak = check(book)
    assert code == 1 and "Traceback" not in err, err
    lasts = re.search(rf"/audio/{named}\.mp3: lasts ([\d.]+) s", err)
    assert lasts and 19800 <= float(lasts[1]) < 19900, err  # 330 minutes of MP3 frames
    assert peak < MEMORY, f"{peak / 1e6:.0f} MB"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_a_damaged_folder_is_one_line_per_problem_naming_the_file(pristine, tmp_path, case):
    book = tmp_path / SLUG
    shutil.copytree(pristine, book, symlinks=True)
    named = CASES[case](book)
    code, err, peak = check(book)
    assert code == 1, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    summary = lines.pop()
    assert summary.startswith(f"{SLUG}: ") and "disagree" in summary, err
    assert lines, err
    for line in lines:
        assert line.startswith(f"{SLUG}/") and named in line, (named, err)
    assert peak < MEMORY, f"{peak / 1e6:.0f} MB"


def _flip(data: bytes, seed: int) -> bytes:
    """Twenty bytes of ``data`` replaced at places chosen by ``seed``."""
    import random

    rnd, out = random.Random(seed), bytearray(data)
    for _ in range(20):
        out[rnd.randrange(len(out))] = rnd.randrange(256)
    return bytes(out)


MEMBERS = ["META-INF/container.xml", OPF, NAV, "EPUB/toc.ncx"]
FILES = [
    "feed.xml",
    f"{SLUG}.m3u8",
    f"{SLUG}.chapters.json",
    f"{SLUG}.m4b",
    f"{SLUG}.mp3",
    f"{SLUG}.vtt",
    "audio/*.mp3",
    "transcripts/*.vtt",
    "cover.png",
]


@pytest.mark.slow
def test_corrupted_outputs_are_reported_never_raised(pristine, tmp_path):
    """Siblings of the cases above: every output, and the EPUB's XML members, cut short or with bytes
    replaced; check_book reports or passes, and never raises."""
    from talkingbook.check import check_book

    book = tmp_path / SLUG
    for target in MEMBERS + FILES:
        for kind in ("cut", 1):
            shutil.rmtree(book, ignore_errors=True)
            shutil.copytree(pristine, book)
            # the lambdas are called within this iteration, so the loop variables they read are current
            damage = (lambda data: data[: len(data) // 3]) if kind == "cut" else (lambda data: _flip(data, kind))  # noqa: B023
            if target in MEMBERS:
                rewrite_epub(book, lambda files: files.__setitem__(target, damage(files[target])))  # noqa: B023
            else:
                path = next(book.glob(target))
                path.write_bytes(damage(path.read_bytes()))
            try:
                check_book(book)
            except Exception as exc:  # noqa: BLE001 - any exception is the failure, named with its case
                pytest.fail(f"{target}, {kind}: {exc!r}")
