"""`talkingbook check DIR`: read every output back from the files, with parsers independent of
the writers (lxml for the EPUB and the feed, mutagen for the MP3s and the M4B's Nero chapters,
ffmpeg for the M4B's QuickTime chapter track and the MP3s' lengths, m3u8 for the playlist,
webvtt-py for the transcripts; never manifest.json), and report where titles, order, numbers or
durations disagree with the EPUB's table of contents.

The folder may be damaged or hostile: a file is read only when it is a regular file inside the
folder (a link out of it, a FIFO, a device are named, never opened), every read is capped (zip
members by their declared and their actual size), the MP3s are decoded as a stream, and each
output that cannot be read is one problem naming it, never a traceback.
"""

from __future__ import annotations

import io
import json
import math
import os
import posixpath
import re
import stat
import struct
import subprocess
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import unquote

import mutagen
import webvtt.errors
from lxml import etree

from .media.audio import mp3_span
from .publication import Layout
from .system.processes import exit_reason

NS = {
    "x": "http://www.w3.org/1999/xhtml",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "opf": "http://www.idpf.org/2007/opf",
    "epub": "http://www.idpf.org/2007/ops",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
}
DURATION_TOLERANCE = 0.05  # seconds, for durations stored to the millisecond
ROUNDED_TOLERANCE = 1.0  # for durations stored in whole seconds (playlist, feed)

MB = 1 << 20
# What is read into memory is capped far above what a book of many hours writes.
XML_CAP = 16 * MB  # the OPF, nav, NCX, the feed
TEXT_CAP = 16 * MB  # the playlist, a transcript, the chapters JSON
IMAGE_CAP = 32 * MB  # the cover
TAG_CAP = 64 * MB  # an MP3's ID3 tag, an M4B's moov (cover, lyrics, chapters)
CENTRAL_DIRECTORY_CAP = 16 * MB  # an EPUB's list of members (zipfile holds it all in memory)
MP3_RATE = 44100  # the rate MP3s are decoded at to count their samples

# What parsers raise on damaged input; each is reported as one line naming the output.
READ_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    IndexError,
    ArithmeticError,
    RecursionError,
    EOFError,
    struct.error,
    zlib.error,
    zipfile.BadZipFile,
    NotImplementedError,
    etree.LxmlError,
    mutagen.MutagenError,
    webvtt.errors.MalformedFileError,
    webvtt.errors.MalformedCaptionError,
)


class Damaged(Exception):
    """An output that cannot be read: its name in the folder and why."""

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{name}: {why}")
        self.name, self.why = name, why


@dataclass
class Report:
    problems: dict[str, list[str]] = field(default_factory=dict)  # output -> what is wrong with it
    checked: list[str] = field(default_factory=list)

    def add(self, output: str, problem: str) -> None:
        found = self.problems.setdefault(output, [])
        if problem not in found:  # a damaged file is read by more than one check
            found.append(problem)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Guard:
    """``with _Guard(report, name):`` reports a damaged output as one problem, and goes on."""

    def __init__(self, report: Report, name: str) -> None:
        self.report, self.name = report, name

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, Damaged):
            self.report.add(exc.name, exc.why)
            return True
        if isinstance(exc, READ_ERRORS):
            self.report.add(self.name, f"cannot be read ({_reason(exc)})")
            return True
        return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, etree.XMLSyntaxError):  # its str() repeats the position
        return exc.msg
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- reading files safely -------------------------------------------------------------------


def _name(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
}


def _open(folder: Path, path: Path) -> BinaryIO:
    """``path`` opened for reading when it is a regular file inside ``folder`` (links resolved);
    Damaged otherwise: a link out of the folder is never followed, and a FIFO (which blocks) or a
    device (``/dev/zero`` never ends) is never opened."""
    name = _name(folder, path)
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise Damaged(name, "missing (a link to nothing)") from None
    except (OSError, RuntimeError) as exc:  # a loop of links (RuntimeError before Python 3.13)
        raise Damaged(name, f"cannot be opened ({_reason(exc)})") from None
    if not real.is_relative_to(folder):
        raise Damaged(name, "a link to a file outside the book's folder")
    try:
        kind = stat.S_IFMT(os.stat(real).st_mode)
        if kind != stat.S_IFREG:
            raise Damaged(name, f"not a regular file but {_KINDS.get(kind, 'a special file')}")
        # O_NONBLOCK: should the file become a FIFO after the check above, opening it does not wait
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise Damaged(name, f"cannot be opened ({_reason(exc)})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise Damaged(name, "not a regular file")
    return os.fdopen(fd, "rb")


def _capped(stream: BinaryIO, cap: int, name: str) -> bytes:
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise Damaged(name, f"larger than {cap // MB} MB, more than a book writes")
    return data


def _read(folder: Path, path: Path, cap: int) -> bytes:
    with _open(folder, path) as stream:
        return _capped(stream, cap, _name(folder, path))


def _text(folder: Path, path: Path, cap: int = TEXT_CAP) -> str:
    try:
        return _read(folder, path, cap).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Damaged(_name(folder, path), f"not UTF-8 text (byte {exc.start})") from None


# A parser that never fetches, never expands entities and keeps lxml's limits on depth and size.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _xml(data: bytes, name: str, member: str = ""):
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        what = f"{member} is not" if member else "not"
        raise Damaged(name, f"{what} well-formed XML ({_reason(exc)})") from None


def _inner_text(element) -> str:
    return " ".join("".join(element.itertext()).split())


_TIMECOUNT = re.compile(r"(\d{1,12}(?:\.\d{1,9})?)(h|min|s|ms)?")
_FULL_CLOCK = re.compile(r"(?:(\d{1,9}):)?(\d{1,2}):(\d{1,2}(?:\.\d{1,9})?)")


def _clock(value) -> float:
    """Seconds in a clock value: '1:02:03.5', '02:03.5', '12.5s', '2min', '12'; ValueError otherwise.
    A regular expression, not float(): float() takes 'nan' and 'inf', which compare as agreeing."""
    text = (value or "").strip()
    if match := _TIMECOUNT.fullmatch(text):
        return float(match[1]) * {"h": 3600, "min": 60, "ms": 0.001}.get(match[2], 1)
    if match := _FULL_CLOCK.fullmatch(text):
        return int(match[1] or 0) * 3600 + int(match[2]) * 60 + float(match[3])
    raise ValueError(f"{value!r} is not a clock value")


# --- the EPUB -------------------------------------------------------------------------------


@dataclass
class Contents:
    """What the EPUB says: the table of contents and what the other outputs are compared with."""

    titles: list[str]
    smil_durations: list[float | None]
    cover: bytes | None
    narrator: str | None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (output, why): the EPUB disagrees with itself


def _central_directory_size(stream: BinaryIO) -> int:
    """The size of a zip's central directory, from its end record; zipfile would read it whole
    into memory, with an object per member, before anything could be checked (-1: no end record,
    which zipfile then reports)."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(max(0, size - 22 - 0xFFFF))  # the end record: 22 bytes and a comment of up to 64 KB
    tail = stream.read()
    at = tail.rfind(b"PK\x05\x06")
    stream.seek(0)
    if at < 0 or len(tail) - at < 22:
        return -1
    return struct.unpack("<I", tail[at + 12 : at + 16])[0]


def _member(z: zipfile.ZipFile, name: str, member: str, cap: int) -> bytes:
    """One member of the EPUB, capped by its declared size and by what it really inflates to."""
    try:
        info = z.getinfo(member)
    except KeyError:
        raise Damaged(name, f"{member} is missing") from None
    if info.file_size > cap:
        raise Damaged(name, f"{member} would inflate to {info.file_size // MB} MB, more than a book holds")
    with z.open(info) as stream:  # zipfile stops at the declared size, and checks the CRC there
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise Damaged(name, f"{member} inflates to more than {cap // MB} MB, more than a book holds")
    return data


def _join(directory: str, href: str) -> str:
    """A member's name in the zip from a link relative to ``directory`` (fragment dropped)."""
    return posixpath.normpath(posixpath.join(directory, unquote(href.split("#")[0])))


def _read_epub(folder: Path, epub: Path) -> Contents:
    name = _name(folder, epub)
    with _open(folder, epub) as stream:
        if _central_directory_size(stream) > CENTRAL_DIRECTORY_CAP:
            raise Damaged(name, "its list of members is larger than a book writes")
        try:
            with zipfile.ZipFile(stream) as z:
                return _epub_contents(z, name)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError, ValueError, struct.error) as exc:
            raise Damaged(name, f"not a readable EPUB ({_reason(exc)})") from None


def _one(found: list, name: str, what: str):
    if not found:
        raise Damaged(name, what)
    return found[0]


def _epub_contents(z: zipfile.ZipFile, name: str) -> Contents:
    container = _xml(_member(z, name, "META-INF/container.xml", XML_CAP), name, "META-INF/container.xml")
    opf_path = _one(
        container.xpath("//*[local-name()='rootfile']/@full-path"),
        name,
        "META-INF/container.xml names no package document (rootfile full-path)",
    )
    base = posixpath.dirname(opf_path)
    opf = _xml(_member(z, name, opf_path, XML_CAP), name, opf_path)
    items = [i for i in opf.xpath("//opf:manifest/opf:item", namespaces=NS) if i.get("href")]
    nav_item = _one(
        [i for i in items if "nav" in (i.get("properties") or "").split()],
        name,
        "its package document lists no nav document",
    )
    nav_path = _join(base, nav_item.get("href"))
    nav = _xml(_member(z, name, nav_path, XML_CAP), name, nav_path)
    toc = nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li/x:a", namespaces=NS)
    if not toc:
        raise Damaged(name, f"{nav_path} has no table of contents")
    titles = [_inner_text(a) for a in toc]
    hrefs = [a.get("href") or "" for a in toc]
    problems = []
    ncx_item = next((i for i in items if i.get("media-type") == "application/x-dtbncx+xml"), None)
    if ncx_item is not None:
        ncx_path = _join(base, ncx_item.get("href"))
        ncx = _xml(_member(z, name, ncx_path, XML_CAP), name, ncx_path)
        labels = [
            " ".join(t.split())
            for t in ncx.xpath("/ncx:ncx/ncx:navMap/ncx:navPoint/ncx:navLabel/ncx:text/text()", namespaces=NS)
        ]
        if labels != titles:
            problems.append((f"{name} (NCX)", f"titles differ from the nav: {_diff(titles, labels)}"))
    overlay = {}
    for meta in opf.xpath("//opf:meta[@property='media:duration']", namespaces=NS):
        try:
            overlay[(meta.get("refines") or "")[1:]] = _clock(meta.text)
        except ValueError:
            raise Damaged(name, f"media:duration {meta.text!r} is not a clock value") from None
    by_href = {_join(base, i.get("href")): i for i in items}
    smil_durations = []
    for href in hrefs:
        item = by_href.get(_join(posixpath.dirname(nav_path), href))
        smil = item.get("media-overlay") if item is not None else None
        smil_durations.append(overlay.get(smil) if smil else None)
    cover_item = next((i for i in items if "cover-image" in (i.get("properties") or "").split()), None)
    cover = _member(z, name, _join(base, cover_item.get("href")), IMAGE_CAP) if cover_item is not None else None
    narrator = next(iter(opf.xpath("//opf:meta[@property='media:narrator']/text()", namespaces=NS)), None)
    return Contents(titles, smil_durations, cover, " ".join(narrator.split()) if narrator else None, problems)


def check_book(folder: Path) -> Report:
    """Every output in ``folder`` compared with the EPUB's table of contents."""
    report = Report()
    folder = folder.resolve()
    epubs = sorted(folder.glob("*.epub"))
    if len(epubs) != 1:
        report.add(folder.name, f"expected one EPUB, found {len(epubs)}")
        return report
    epub = epubs[0]
    report.checked.append(epub.name)
    try:
        contents = _read_epub(folder, epub)
    except Damaged as exc:
        report.add(exc.name, exc.why)
        return report  # nothing to compare the other outputs with
    for output, problem in contents.problems:
        report.add(output, problem)
    channel = _read_feed(folder, report)
    _check_audio(folder, contents, channel, report)
    _check_cover(folder, epub.name, contents.cover, channel, report)
    return report


# --- the cover ------------------------------------------------------------------------------

COVER_MIN = 1400  # pixels, square: what podcast directories accept


def _check_cover(folder: Path, epub_name: str, epub_cover: bytes | None, channel, report: Report) -> None:
    """One cover file, square and at least 1400 pixels, and the same picture in the EPUB, in every
    MP3's and the M4B's tags, and named by the feed and each of its episodes."""
    import io

    from PIL import Image, UnidentifiedImageError

    covers = [folder / name for name in Layout.COVERS.values() if os.path.lexists(folder / name)]
    if len(covers) != 1:
        report.add("cover", f"expected one of {' or '.join(Layout.COVERS.values())}, found {len(covers)}")
        return
    cover = covers[0]
    report.checked.append(cover.name)
    try:
        data = _read(folder, cover, IMAGE_CAP)
    except Damaged as exc:
        report.add(exc.name, exc.why)
        return
    try:
        with Image.open(io.BytesIO(data)) as picture:  # reads the header only: no decompression bomb
            kind, size = picture.format, picture.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        report.add(cover.name, "not a readable image")
        return
    if kind != {".jpg": "JPEG", ".png": "PNG"}[cover.suffix]:
        report.add(cover.name, f"is {kind}, not what its name says")
    if size[0] != size[1] or size[0] < COVER_MIN:
        report.add(cover.name, f"is {size[0]}x{size[1]}; podcast directories need a square of {COVER_MIN} or more")
    if epub_cover != data:
        report.add(epub_name, "its cover-image is not " + cover.name if epub_cover else "has no cover-image")
    mp3s = _files(folder, Layout.AUDIO, "*.mp3")
    book = folder / Layout(folder.name).mp3
    if mp3s:
        for path in [*mp3s, *([book] if os.path.lexists(book) else [])]:
            name = _name(folder, path)
            with _Guard(report, name):
                tags = _id3(folder, path)
                pictures = [f.data for f in tags.getall("APIC") if f.type == 3] if tags is not None else []
                if pictures != [data]:
                    report.add(name, f"its front-cover picture is not {cover.name}")
    for path in sorted(folder.glob("*.m4b")):
        with _Guard(report, path.name):
            if [bytes(c) for c in (_mp4(folder, path).tags or {}).get("covr", [])] != [data]:
                report.add(path.name, f"its cover art is not {cover.name}")
    if channel is not None:
        named = [
            channel.findtext("image/url") or "",
            next(iter(channel.xpath("itunes:image/@href", namespaces=NS)), ""),
        ]
        if not all(_names(url, cover.name) for url in named):
            report.add(Layout.FEED, f"its image is not {cover.name}")
        for item in channel.findall("item"):
            if not _names(next(iter(item.xpath("itunes:image/@href", namespaces=NS)), ""), cover.name):
                report.add(Layout.FEED, f"episode {item.findtext('title')!r} has no itunes:image {cover.name}")


def _names(url: str, name: str) -> bool:
    return url == name or url.endswith("/" + name)


def _diff(expected: list[str], found: list[str]) -> str:
    if len(expected) != len(found):
        return f"{len(found)} entries where the table of contents has {len(expected)}"
    k = next(i for i, (a, b) in enumerate(zip(expected, found)) if a != b)
    return f"entry {k + 1} is {found[k]!r}, the table of contents says {expected[k]!r}"


def _files(folder: Path, sub: str, pattern: str) -> list[Path]:
    """The files of ``folder/sub`` matching ``pattern``, sorted (none when ``sub`` is not a folder)."""
    where = folder / sub
    return sorted(where.glob(pattern)) if where.is_dir() else []


# --- audio ----------------------------------------------------------------------------------


def _id3(folder: Path, path: Path):
    """The MP3's ID3v2 tag (None when it has none), its declared size capped before mutagen reads it."""
    from mutagen.id3 import ID3, ID3NoHeaderError

    name = _name(folder, path)
    with _open(folder, path) as stream:
        head = stream.read(10)
        if head[:3] == b"ID3" and len(head) == 10:
            size = sum((b & 0x7F) << (7 * (3 - k)) for k, b in enumerate(head[6:10]))  # syncsafe
            if size > TAG_CAP:
                raise Damaged(name, f"its ID3 tag declares {size // MB} MB, more than a book writes")
        stream.seek(0)
        try:
            return ID3(stream)
        except ID3NoHeaderError:
            return None


def _decoded_length(folder: Path, path: Path) -> float:
    """An MP3's length as a player hears it: decoded by ffmpeg, which drops the encoder's delay and
    padding (mutagen's frame count includes them, some 30-40 ms too long). The samples are counted
    as they stream by, never kept: a book of hours is gigabytes of PCM."""
    import imageio_ffmpeg

    name = _name(folder, path)
    with _open(folder, path) as stream:
        # ffmpeg reads the file checked above by its descriptor, seekable (from a pipe the lengths came
        # out 3-17 ms longer than from the file), and opens nothing by name
        proc = subprocess.Popen(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-nostdin",
                "-v",
                "quiet",
                "-f",
                "mp3",
                "-i",
                f"/dev/fd/{stream.fileno()}",
                "-f",
                "s16le",
                "-ac",
                "1",
                "-ar",
                str(MP3_RATE),
                "pipe:1",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            pass_fds=(stream.fileno(),),
        )
        count, buffer = 0, bytearray(1 << 20)
        stdout = cast(io.BufferedReader, proc.stdout)  # stdout=PIPE, buffered (Popen's default)
        try:
            while read := stdout.readinto(buffer):
                count += read
        finally:
            stdout.close()
            proc.wait()
    if proc.returncode < 0:  # killed (out of memory, a user's kill): nothing is known of the file
        raise Damaged(name, f"cannot be decoded ({exit_reason('ffmpeg', proc.returncode)})")
    if proc.returncode != 0 or count == 0:
        raise Damaged(name, "not MP3 audio that ffmpeg can decode")
    return count / 2 / MP3_RATE


def _check_composer(report: Report, name: str, composer: str, narrator: str | None) -> None:
    """Audiobookshelf and other players show the composer as the narrator: the synthetic voice."""
    if not composer:
        report.add(name, "no composer (the narrator players show)")
    elif narrator and composer != narrator:
        report.add(name, f"composer {composer!r}, the EPUB's media:narrator says {narrator!r}")


def _check_audio(folder: Path, contents: Contents, channel, report: Report) -> None:
    titles, smil_durations = contents.titles, contents.smil_durations
    mp3s = _files(folder, Layout.AUDIO, "*.mp3")
    if not mp3s:
        return  # a text-only book
    durations: list[float | None] = []
    spans: list[float | None] = []
    for k, path in enumerate(mp3s, start=1):
        name = _name(folder, path)
        report.checked.append(name)
        durations.append(None)
        spans.append(None)
        with _Guard(report, name):
            tags = _id3(folder, path)
            if tags is None:
                report.add(name, "no ID3 tags")
                continue
            durations[-1] = length = _decoded_length(folder, path)
            title = str(tags.get("TIT2", ""))
            track = str(tags.get("TRCK", ""))
            if k > len(titles):
                report.add(name, "a track the table of contents does not have")
                continue
            if title != titles[k - 1]:
                report.add(name, f"title {title!r}, the table of contents says {titles[k - 1]!r}")
            if track != f"{k}/{len(titles)}":
                report.add(name, f"track {track!r}, expected '{k}/{len(titles)}'")
            _check_composer(report, name, str(tags.get("TCOM", "")), contents.narrator)
            expected = smil_durations[k - 1] if k - 1 < len(smil_durations) else None
            if expected is not None and abs(length - expected) > DURATION_TOLERANCE:
                report.add(name, f"lasts {length:.3f} s, its media overlay says {expected:.3f} s")
            spans[-1] = _span(folder, path)
    if len(mp3s) != len(titles):
        report.add(f"{Layout.AUDIO}/", f"{len(mp3s)} MP3s for {len(titles)} sections")
    _check_playlist(folder, mp3s, titles, durations, report)
    _check_audiobook(folder, contents, spans, report)
    _check_feed(folder, channel, mp3s, titles, durations, report)
    _check_transcripts(folder, mp3s, titles, durations, report)


def _check_playlist(folder, mp3s, titles, durations, report) -> None:
    import m3u8

    for path in sorted(folder.glob("*.m3u8")):
        report.checked.append(path.name)
        with _Guard(report, path.name):
            segments = m3u8.loads(_text(folder, path)).segments
            found = [s.title for s in segments]
            if found != titles:
                report.add(path.name, f"titles differ: {_diff(titles, found)}")
            if [s.uri for s in segments] != [f"{Layout.AUDIO}/{p.name}" for p in mp3s]:
                report.add(path.name, "its files are not the MP3s in table-of-contents order")
            for segment, seconds in zip(segments, durations):
                if segment.duration is None or not math.isfinite(segment.duration):
                    report.add(path.name, f"{segment.uri} has no duration")
                elif seconds is not None and abs(segment.duration - seconds) > ROUNDED_TOLERANCE:
                    report.add(
                        path.name, f"{segment.uri} lasts {seconds:.0f} s, the playlist says {segment.duration:.0f}"
                    )


def _read_feed(folder: Path, report: Report):
    """The feed's channel element; None when there is no feed, or it is damaged (then reported)."""
    path = folder / Layout.FEED
    if not os.path.lexists(path):
        return None
    report.checked.append(path.name)
    with _Guard(report, path.name):
        root = _xml(_read(folder, path, XML_CAP), path.name)
        channel = root.find("channel")
        if root.tag != "rss" or channel is None:
            raise Damaged(path.name, "not an RSS feed with a channel")
        return channel
    return None


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _check_feed(folder, channel, mp3s, titles, durations, report) -> None:
    if channel is None:
        return
    name = Layout.FEED
    items = channel.findall("item")
    found = [" ".join((i.findtext("title") or "").split()) for i in items]
    if found != titles:
        report.add(name, f"episode titles differ: {_diff(titles, found)}")
    numbers = [i.findtext("itunes:episode", namespaces=NS) for i in items]
    if numbers != [str(k) for k in range(1, len(items) + 1)]:
        report.add(name, f"episode numbers are {numbers}, expected 1 to {len(items)} in order")
    for item, mp3, seconds in zip(items, mp3s, durations):
        enclosure = item.find("enclosure")
        if enclosure is None or not enclosure.get("url", "").endswith(f"{Layout.AUDIO}/{mp3.name}"):
            report.add(name, f"episode {item.findtext('title')!r} does not point at audio/{mp3.name}")
        elif _int(enclosure.get("length")) != _size(mp3):
            report.add(name, f"the enclosure length of audio/{mp3.name} is not its size")
        listed = item.findtext("itunes:duration", namespaces=NS)
        if not listed:
            continue
        try:
            listed_seconds = _clock(listed)
        except ValueError:
            report.add(name, f"the itunes:duration of audio/{mp3.name} is {listed!r}, not a duration")
            continue
        if seconds is not None and abs(listed_seconds - seconds) > ROUNDED_TOLERANCE:
            report.add(name, f"audio/{mp3.name} lasts {seconds:.0f} s, the feed says {listed}")


def _cue_text(cue) -> str:
    """What a cue shows: webvtt-py drops the tags; the character references are decoded here, the
    last step of the WebVTT cue text parsing that webvtt-py leaves out."""
    import html

    return " ".join(html.unescape(cue.text).split())


def _check_transcripts(folder, mp3s, titles, durations, report) -> None:
    vtts = _files(folder, Layout.TRANSCRIPTS, "*.vtt")
    if not vtts:
        return
    if [p.stem for p in vtts] != [p.stem for p in mp3s]:
        report.add(f"{Layout.TRANSCRIPTS}/", "the transcripts are not one per MP3, named as the MP3s")
        return
    for path, title, seconds in zip(vtts, titles, durations):
        name = _name(folder, path)
        report.checked.append(name)
        with _Guard(report, name):
            try:
                cues = webvtt.WebVTT.from_string(_text(folder, path)).captions
            except webvtt.errors.MalformedFileError:
                raise Damaged(name, "not a WebVTT file") from None
            if not cues or _cue_text(cues[0]) != title:
                report.add(name, f"its first cue is not the section title {title!r}")
            starts = [_clock(c.start) for c in cues]
            if starts != sorted(starts):
                report.add(name, "cues out of order")
            if seconds is not None and cues and _clock(cues[-1].end) > seconds + DURATION_TOLERANCE:
                report.add(name, f"cues run past the end of the MP3 ({seconds:.3f} s)")


# --- the full-length audiobook --------------------------------------------------------------


def _table_chapters(tags) -> list | None:
    """The CHAP frames of ``tags`` in the order its tables of contents give, from the top-level CTOC
    through any nested ones; None when it has no CTOC. Each frame is visited once (a table that lists
    itself, or an ancestor, is not followed again)."""
    tables = {t.element_id: t for t in tags.getall("CTOC")}
    if not tables:
        return None
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    top = next((t for t in tables.values() if t.flags & 0x2), next(iter(tables.values())))
    out, seen, stack = [], set(), [top.element_id]
    while stack:
        element_id = stack.pop()
        if element_id in seen:
            continue
        seen.add(element_id)
        if element_id in chaps:
            out.append(chaps[element_id])
        elif element_id in tables:
            stack.extend(reversed(tables[element_id].child_element_ids))
    return out


# Chapters a Nero `chpl` atom can list: its count is one byte, and ffmpeg writes a longer book's first
# 255 there (all of them go in the QuickTime chapter track).
NERO_CHAPTERS = 255
CHAPTER_TOLERANCE = 0.05  # seconds between a chapter mark and its section's boundary
M4B_BRAND = b"M4B "  # what audiobook players look for


def _check_chapters(
    report: Report, name: str, found: list[tuple[float, str]], titles: list[str], starts: list[float]
) -> None:
    if [t for _, t in found] != titles:
        report.add(name, f"chapter titles differ: {_diff(titles, [t for _, t in found])}")
        return
    for (start, title), expected in zip(found, starts):
        if abs(start - expected) > CHAPTER_TOLERANCE:
            report.add(name, f"chapter {title!r} starts at {start:.3f} s, its section at {expected:.3f} s")


def _atoms(stream: BinaryIO, name: str):
    """The MP4's atoms (headers only, as mutagen reads them)."""
    from mutagen.mp4 import AtomError, Atoms

    try:
        return Atoms(stream)
    except AtomError as exc:
        raise Damaged(name, f"not an MP4 file ({_reason(exc)})") from None


def _mp4(folder: Path, path: Path):
    """The M4B read by mutagen, its ``moov`` (the index, tags and chapters) capped first."""
    from mutagen.mp4 import MP4

    name = _name(folder, path)
    with _open(folder, path) as stream:
        moov = next((a for a in _atoms(stream, name).atoms if a.name == b"moov"), None)
        if moov is None:
            raise Damaged(name, "no moov atom: not an MP4 file")
        if moov.length > TAG_CAP:
            raise Damaged(name, f"its moov atom declares {moov.length // MB} MB, more than a book writes")
        stream.seek(0)
        return MP4(stream)


def _m4b_layout(folder: Path, path: Path) -> list[str]:
    """What players need of the M4B's layout that is missing: the M4B brand, the moov before the
    audio, and a QuickTime chapter track (a track referenced as 'chap')."""
    missing = []
    with _open(folder, path) as stream:
        head = stream.read(12)
        stream.seek(0)
        atoms = _atoms(stream, _name(folder, path))
        if head[4:8] != b"ftyp" or head[8:12] != M4B_BRAND:
            missing.append(f"its brand is {head[8:12].decode('latin-1')!r}, audiobook players look for 'M4B '")
        names = [a.name for a in atoms.atoms]
        if b"mdat" in names and b"moov" in names and names.index(b"moov") > names.index(b"mdat"):
            missing.append("its moov atom follows the audio (players streaming it wait for the end)")
        references = []  # the kinds of track reference, each a box of (size, kind, track ids)
        for tref in (t for a in atoms.atoms for t in a.findall(b"tref", recursive=True)):
            data, at = tref.read(stream)[1], 0
            while at + 8 <= len(data):
                size, kind = struct.unpack(">I4s", data[at : at + 8])
                references.append(kind)
                at += max(size, 8)
        if b"chap" not in references:
            missing.append("no QuickTime chapter track (the chapters Apple's players read)")
    return missing


def _ffmetadata_chapters(text: str) -> list[dict[str, str]]:
    """The chapters in ffmpeg's FFMETADATA output, their keys and values unescaped. Written by hand:
    no library reads this format, and ffmpeg (from imageio-ffmpeg) has no ffprobe to give JSON."""
    sections: list[dict[str, str]] = [{}]
    key: list[str] = []
    value: list[str] = []
    escaped = in_value = False
    for ch in text + "\n":
        if escaped:
            (value if in_value else key).append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "=" and not in_value:
            in_value = True
        elif ch == "\n":
            line = "".join(key)
            if line == "[CHAPTER]":
                sections.append({})
            elif in_value and not line.startswith((";", "#")):
                sections[-1][line] = "".join(value)
            key, value, in_value = [], [], False
        else:
            (value if in_value else key).append(ch)
    return sections[1:]


def _ffmpeg_chapters(folder: Path, path: Path) -> list[tuple[float, str]]:
    """The M4B's chapters as ffmpeg reads them: from its QuickTime chapter track."""
    import imageio_ffmpeg

    name = _name(folder, path)
    with _open(folder, path) as stream:  # ffmpeg reads the file checked, by its descriptor
        try:
            proc = subprocess.run(
                [
                    imageio_ffmpeg.get_ffmpeg_exe(),
                    "-nostdin",
                    "-v",
                    "quiet",
                    "-i",
                    f"/dev/fd/{stream.fileno()}",
                    "-f",
                    "ffmetadata",
                    "pipe:1",
                ],
                capture_output=True,
                pass_fds=(stream.fileno(),),
                timeout=120,
            )
        except subprocess.TimeoutExpired:
            raise Damaged(name, "ffmpeg took more than two minutes to read its chapters") from None
    if proc.returncode < 0:
        raise Damaged(name, f"its chapters cannot be read ({exit_reason('ffmpeg', proc.returncode)})")
    if proc.returncode != 0:
        raise Damaged(name, "ffmpeg cannot read it")
    out = []
    for chapter in _ffmetadata_chapters(_capped_text(proc.stdout, name)):
        num, _, den = chapter.get("TIMEBASE", "1/1000").partition("/")
        out.append((int(chapter.get("START", "0")) * int(num) / int(den or 1), chapter.get("title", "")))
    return out


def _capped_text(data: bytes, name: str) -> str:
    if len(data) > TEXT_CAP:
        raise Damaged(name, "its metadata is larger than a book writes")
    return data.decode("utf-8", "replace")


def _chapters_json(folder: Path, path: Path) -> list[tuple[float, str]]:
    name = _name(folder, path)
    try:
        data = json.loads(_text(folder, path))
    except RecursionError:
        raise Damaged(name, "nested too deeply") from None
    except ValueError as exc:
        raise Damaged(name, f"not JSON ({_reason(exc)})") from None
    chapters = data.get("chapters") if isinstance(data, dict) else None
    if not isinstance(chapters, list):
        raise Damaged(name, "not a chapters object (no list of chapters)")
    found = []
    for k, chapter in enumerate(chapters, start=1):
        start = chapter.get("startTime") if isinstance(chapter, dict) else None
        title = chapter.get("title") if isinstance(chapter, dict) else None
        if (
            isinstance(start, bool)
            or not isinstance(start, (int, float))
            or not math.isfinite(start)
            or not isinstance(title, str)
        ):
            raise Damaged(name, f"chapter {k} lacks a startTime in seconds or a title")
        found.append((float(start), title))
    return found


def _span(folder: Path, path: Path) -> float:
    """A section MP3's length in whole frames: how far on the next section begins in the full-length
    MP3, which joins the sections' frames (and in the M4B, which keeps the same timeline)."""
    with _open(folder, path) as stream:
        try:
            return mp3_span(stream)
        except ValueError as exc:
            raise Damaged(_name(folder, path), str(exc)) from None


def _check_audiobook(folder: Path, contents: Contents, spans: list, report: Report) -> None:
    """The full-length M4B, MP3 and chapters JSON: one chapter per section, each starting where
    the sections before it end (their MP3s' whole frames, as they are joined); the M4B's layout and
    chapters in both the formats players read; the synthetic voice as composer. Chapters are
    compared only when every section MP3 could be measured."""
    titles = contents.titles
    starts = None if None in spans else [sum(spans[:k]) for k in range(len(spans))]
    for path in sorted(folder.glob("*.m4b")):
        report.checked.append(path.name)
        with _Guard(report, path.name):
            book = _mp4(folder, path)
            for problem in _m4b_layout(folder, path):
                report.add(path.name, problem)
            _check_composer(report, path.name, " ".join((book.tags or {}).get("\xa9wrt", [])), contents.narrator)
            if starts is not None:
                nero = [(c.start, c.title) for c in (book.chapters or [])]
                held = NERO_CHAPTERS  # what a Nero table can hold: the first chapters of a longer book
                _check_chapters(report, f"{path.name} (Nero chapters)", nero, titles[:held], starts[:held])
                _check_chapters(
                    report, f"{path.name} (QuickTime chapters)", _ffmpeg_chapters(folder, path), titles, starts
                )
    for path in sorted(folder.glob("*.chapters.json")):
        report.checked.append(path.name)
        with _Guard(report, path.name):
            chapters = _chapters_json(folder, path)
            if starts is not None:
                _check_chapters(report, path.name, chapters, titles, starts)
    book = folder / Layout(folder.name).mp3
    if os.path.lexists(book):
        report.checked.append(book.name)
        with _Guard(report, book.name):
            tags = _id3(folder, book)
            if tags is None:
                raise Damaged(book.name, "no ID3 tags")
            _check_composer(report, book.name, str(tags.get("TCOM", "")), contents.narrator)
            ordered = _table_chapters(tags)
            if ordered is None:
                report.add(book.name, "no CTOC frame (players ignore CHAP frames without one)")
                return
            found = [(c.start_time / 1000, str(c.sub_frames.get("TIT2", ""))) for c in ordered]
            if starts is not None:
                _check_chapters(report, book.name, found, titles, starts)
