"""Section audio: PCM assembled with pydub, MP3 encoded by imageio-ffmpeg's ffmpeg, tagged by mutagen."""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Sequence
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from ..errors import OutputError, SynthesisError
from ..model import Cover, Metadata
from ..structure.toc import TocEntry

log = logging.getLogger(__name__)

MP3_RATE = 44100  # MPEG-1 Layer III: what every player and podcast directory accepts
MP3_BITRATE = "64k"  # mono speech
# LAME's quality/speed trade-off: 7 encodes twice as fast as the default for speech that
# Whisper hears as well (measured on the sample); the encoder is most of the pipeline's own time.
MP3_QUALITY = "7"
# What every MP3 we write is encoded as (the sections and the full-length book): one list, so they cannot drift
MP3_OUTPUT = (
    "-b:a",
    MP3_BITRATE,
    "-compression_level",
    MP3_QUALITY,
    "-id3v2_version",
    "0",
    "-write_id3v1",
    "0",
    "-f",
    "mp3",
)


@lru_cache(maxsize=1)
def _pydub():
    """pydub, pointed at the ffmpeg shipped by imageio-ffmpeg (no system ffmpeg needed)."""
    import warnings

    import imageio_ffmpeg

    with warnings.catch_warnings():  # pydub looks for ffmpeg on the PATH as it is imported; we give it ours
        warnings.filterwarnings("ignore", "Couldn't find ffmpeg or avconv", RuntimeWarning)
        from pydub import AudioSegment

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    return AudioSegment


# Changes whenever the encoding of a section changes, so cached sections are not reused.
ENCODER_ID = "mp3-64k-44100-mono-q7;compress-24-3;lufs-16;tp-1.5;limit-2.5-latency;v5"


def resample(pcm: bytes, source_rate: int, target_rate: int) -> bytes:
    """16-bit mono PCM converted from one sample rate to another (pydub)."""
    segment = _pydub()(data=pcm, sample_width=2, frame_rate=source_rate, channels=1)
    return segment.set_frame_rate(target_rate).raw_data


def silence(ms: int, sample_rate: int) -> bytes:
    """``ms`` milliseconds of 16-bit mono silence."""
    return b"\0\0" * (sample_rate * ms // 1000)


# The podcast loudness norm: -16 LUFS integrated, true peak at most -1 dBTP (with a margin).
TARGET_LUFS = -16.0
TARGET_TP = -1.5
# Synthetic voices peak near full scale on every sentence; a gentle compressor lowers the
# crest so that -16 LUFS fits under the true-peak ceiling without audible limiting.
COMPRESSOR = "acompressor=threshold=-24dB:ratio=3:attack=5:release=80:knee=4"


# What ffmpeg says when it cannot write: the system's own messages, mapped back to their errno
# so that the caller names the output file and the real reason (a full disk), not "encoding failed".
_WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EIO)


def _ffmpeg(args: list[str], what: str, task: str = "MP3 encoding") -> str:
    """Run the ffmpeg shipped by imageio-ffmpeg; its log (stderr) on success. ``what`` is the output
    file a user knows (never an internal temporary); a failure to write it raises OSError with the
    system's reason, any other failure OutputError saying ``task`` failed."""
    import imageio_ffmpeg

    from ..system.processes import exit_reason, run

    try:
        status, err = run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-y", *args])
    except OSError as exc:
        raise OutputError(what, f"cannot run ffmpeg ({exc.strerror or exc})") from exc
    log = err.decode("utf-8", "replace")
    if status < 0:  # killed: what it last wrote says nothing of why (often a line of its banner)
        raise OutputError(what, f"{task} failed ({exit_reason('ffmpeg', status)})")
    if status != 0:
        for code in _WRITE_ERRORS:
            if os.strerror(code) in log:
                raise OSError(code, os.strerror(code), what)
        last = [line for line in log.splitlines() if line.strip()][-1:] or [exit_reason("ffmpeg", status)]
        raise OutputError(what, f"{task} failed ({last[0].strip()})")
    return log


def compress(pcm: Path, sample_rate: int, out: Path, what: Path | None = None) -> float | None:
    """Write the compressor's output for the 16-bit mono PCM file ``pcm`` to ``out``; returns the
    integrated loudness (LUFS) of the result, measured by ffmpeg's ebur128 in the same pass
    (None for silence). Files, not memory: a section may be hours long. ``what`` is the output
    the compressed PCM is for, named in errors."""
    import re

    raw = ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1"]
    log = _ffmpeg(
        [*raw, "-i", str(pcm), "-af", f"{COMPRESSOR},ebur128=framelog=quiet", *raw, str(out)], str(what or out)
    )
    match = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", log.rpartition("Summary:")[2])
    if match is None or match.group(1) == "-inf" or float(match.group(1)) < -70:
        return None
    return float(match.group(1))


def _level_filter(measured: float | None) -> list[str]:
    """One gain for the whole (compressed) section, then a limiter for the rare peaks.

    loudnorm's own second pass falls short of the target on synthetic speech (its peaks
    sit near full scale): compression, a linear gain and a limiter at the MP3's rate
    reach -16 LUFS and keep the true peak under -1 dBTP.
    """
    if measured is None:
        return []
    return ["-af", f"volume={TARGET_LUFS - measured:.2f}dB,{LIMITER}"]


# Resampled to the MP3's rate, then limited there, with a margin for peaks between samples.
LIMITER = (
    f"aresample={MP3_RATE},alimiter=limit={10 ** ((TARGET_TP - 1.0) / 20):.4f}:attack=1:release=60"
    f":level=false:latency=true"
)


def encode_mp3(pcm: Path | bytes, sample_rate: int, out: Path) -> tuple[float, float | None]:
    """Encode 16-bit mono PCM (a file, or bytes) as a loudness-normalised MP3 at ``out``; returns
    the duration in seconds and the measured loudness. Two ffmpeg passes: compress and measure,
    then level and encode."""
    if isinstance(pcm, bytes):
        source = out.with_name(f".{out.name}.pcm")
        source.write_bytes(pcm)
    else:
        source = pcm
    compressed = out.with_name(f".{out.name}.compressed.pcm")
    try:
        measured = compress(source, sample_rate, compressed, out)
        _ffmpeg(
            [
                "-f",
                "s16le",
                "-ar",
                str(sample_rate),
                "-ac",
                "1",
                "-i",
                str(compressed),
                *_level_filter(measured),
                "-ac",
                "1",
                "-ar",
                str(MP3_RATE),
                *MP3_OUTPUT,
                str(out),
            ],
            str(out),
        )
        return source.stat().st_size / 2 / sample_rate, measured
    finally:
        compressed.unlink(missing_ok=True)
        if source is not pcm:
            source.unlink(missing_ok=True)


def mp3_span(source: Path | BinaryIO) -> float:
    """An MP3's length in whole frames, in seconds: its sound plus the encoder's delay and padding.
    Joined frame by frame (as the full-length MP3 is made from the sections), the next file's sound
    begins exactly this far on; decoded on its own, the file lasts some 30 ms less. ``source`` is
    a path or a file opened for reading in binary; ValueError when it has no frame count.

    Read from the Xing/Info frame ffmpeg writes first (after the ID3v2 tag). By hand because
    mutagen reads that frame count but gives only a length, with the delay and padding taken off
    or not depending on which encoder's name the frame carries."""
    with open(source, "rb") if isinstance(source, Path) else nullcontext(source) as stream:
        stream.seek(0)
        head = stream.read(10)
        start = 0
        if head[:3] == b"ID3" and len(head) == 10:
            size = 0  # synchsafe: 7 bits a byte
            for b in head[6:10]:
                size = size << 7 | (b & 0x7F)
            start = 10 + size + (10 if head[5] & 0x10 else 0)
        stream.seek(start)
        frame = stream.read(64)
    if len(frame) < 4 or frame[0] != 0xFF or frame[1] & 0xE0 != 0xE0:
        raise ValueError("no MPEG frame where the audio should begin")
    mpeg1 = frame[1] & 0x18 == 0x18
    rates = {0x18: (44100, 48000, 32000), 0x10: (22050, 24000, 16000), 0x00: (11025, 12000, 8000)}
    rate = rates[frame[1] & 0x18][(frame[2] >> 2) & 3]
    mono = frame[3] >> 6 == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = frame[4 + side : 8 + side]
    flags = int.from_bytes(frame[8 + side : 12 + side], "big")
    if tag not in (b"Xing", b"Info") or not flags & 1:
        raise ValueError("no frame count (Xing/Info frame) at the start")
    frames = int.from_bytes(frame[12 + side : 16 + side], "big")
    return frames * (1152 if mpeg1 else 576) / rate


def concat_quoted(path: Path) -> str:
    """``path`` as the concat demuxer's lists name a file: absolute, quoted (' ends the quote, \\' is one ')."""
    return "'" + str(path.resolve()).replace("'", "'\\''") + "'"


def join_mp3s(parts: Sequence[tuple[Path, float]], listing: Path, out: Path, task: str = "joining MP3s") -> None:
    """The frames of the MP3 files ``parts`` (each with its :func:`mp3_span`) joined into ``out`` as
    they are, without encoding them again and without their tags (ffmpeg's concat demuxer, whose
    list is written to ``listing`` and removed). Each file's ``duration`` is its span, so the
    timestamps run on without overlapping."""

    lines = ["ffconcat version 1.0"]
    for path, span in parts:
        lines += [f"file {concat_quoted(path)}", f"duration {span:.6f}"]
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        _ffmpeg(
            [
                *("-f", "concat", "-safe", "0", "-i", str(listing)),
                *("-map", "0:a", "-c", "copy", "-map_metadata", "-1"),
                *("-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", str(out)),
            ],
            str(out),
            task,
        )
    finally:
        listing.unlink(missing_ok=True)


def decode_mp3(data: bytes, sample_rate: int) -> bytes:
    """16-bit mono PCM at ``sample_rate`` from MP3 bytes."""
    import io

    try:
        segment = _pydub().from_file(io.BytesIO(data), format="mp3", codec="mp3")
    except Exception as exc:
        raise SynthesisError("mp3", f"cannot decode audio ({str(exc).splitlines()[0] if str(exc) else exc})") from exc
    return segment.set_channels(1).set_frame_rate(sample_rate).set_sample_width(2).raw_data


def iso639_2(language: str) -> str:
    """ISO 639-2 code for a BCP 47 tag ('en-US' -> 'eng'), 'und' when unknown."""
    import pycountry

    primary = language.split("-")[0].lower()
    found = pycountry.languages.get(alpha_2=primary) if len(primary) == 2 else None
    if found is None and len(primary) == 3:
        found = pycountry.languages.get(alpha_3=primary)
    if found is None:
        return "und"
    return getattr(found, "bibliographic", None) or found.alpha_3


def cover_frame(cover: Cover):
    """The ID3 front-cover picture (APIC type 3) that players and podcast apps show."""
    from mutagen.id3 import APIC, PictureType

    return APIC(encoding=3, mime=cover.media_type, type=PictureType.COVER_FRONT, desc="Cover", data=cover.data)


# The entries one CTOC frame may list: its entry count is a single byte (ID3v2 Chapter Frame Addendum).
CTOC_ENTRIES = 255


def chapter_tables(title: str, chapters: Sequence[tuple[str, str]]) -> list:
    """The CTOC frames ordering the CHAP frames ``chapters`` (element id, title): one top-level table
    titled ``title`` when it can list them all; past :data:`CTOC_ENTRIES`, the chapters are shared
    evenly among ordered child tables (the addendum's nested tables of contents, titled by their
    first and last chapter), as many levels deep as the count needs, and the top-level table lists
    those. A reader that follows the tables from the top-level one finds every chapter in order."""
    from mutagen.id3 import CTOC, TIT2, CTOCFlags

    tables, level, depth = [], [(element_id, name, name) for element_id, name in chapters], 0
    while len(level) > CTOC_ENTRIES:
        depth += 1
        count = -(-len(level) // CTOC_ENTRIES)  # as few tables as hold them, their sizes within one
        size, extra = divmod(len(level), count)
        grouped, at = [], 0
        for k in range(count):
            part, at = level[at : at + size + (k < extra)], at + size + (k < extra)
            element_id, label = f"toc{depth}.{k + 1}", f"{part[0][1]} – {part[-1][2]}"
            tables.append(
                CTOC(
                    element_id=element_id,
                    flags=CTOCFlags.ORDERED,
                    child_element_ids=[child for child, _, _ in part],
                    sub_frames=[TIT2(encoding=3, text=label)],
                )
            )
            grouped.append((element_id, part[0][1], part[-1][2]))
        level = grouped
    tables.append(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=[child for child, _, _ in level],
            sub_frames=[TIT2(encoding=3, text=title)],
        )
    )
    return tables


def book_tags(
    title: str,
    meta: Metadata,
    voice: str,
    cover: Cover | None = None,
    chapters: Sequence[tuple[float, float, str]] = (),
    description: str = "",
):
    """The ID3v2.4 frames every MP3 of the book carries: its title, the article as album, author,
    language, genre, date, publisher, the synthetic voice (as composer, where Audiobookshelf looks
    for the narrator, and in a comment), the book's ``description`` (TXXX:DESCRIPTION, which
    Audiobookshelf shows instead of the comment), the cover; and, given ``chapters``
    (start, end, title), a CHAP frame for each with the CTOC that orders them (Apple Podcasts
    ignores CHAP frames without a CTOC; mutagen stores frames by size, the CTOC keeps the order)."""
    from mutagen.id3 import CHAP, COMM, ID3, TALB, TCOM, TCON, TDRC, TIT2, TLAN, TPE1, TPUB, TXXX

    tags = ID3()
    tags.add(TIT2(encoding=3, text=title))
    tags.add(TALB(encoding=3, text=meta.title))
    if meta.authors:
        # the names as one line: ffmpeg (and so Audiobookshelf) reads only the first of several TPE1 values
        tags.add(TPE1(encoding=3, text=meta.author))
    if len(meta.authors) > 1:  # and each name on its own, as MusicBrainz's taggers write it
        tags.add(TXXX(encoding=3, desc="ARTISTS", text=list(meta.authors)))
    tags.add(TLAN(encoding=3, text=iso639_2(meta.language)))
    tags.add(TCON(encoding=3, text="Speech"))
    if meta.date:
        tags.add(TDRC(encoding=3, text=meta.date))
    if meta.publisher:
        tags.add(TPUB(encoding=3, text=meta.publisher))
    tags.add(TCOM(encoding=3, text=voice))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=f"Narrated by a synthetic voice: {voice}"))
    if description:
        tags.add(TXXX(encoding=3, desc="DESCRIPTION", text=description))
    if cover is not None:
        tags.add(cover_frame(cover))
    if chapters:
        ids = [f"chp{k}" for k in range(1, len(chapters) + 1)]
        for element_id, (start, end, chapter) in zip(ids, chapters):
            tags.add(
                CHAP(
                    element_id=element_id,
                    start_time=round(start * 1000),
                    end_time=round(end * 1000),
                    sub_frames=[TIT2(encoding=3, text=chapter)],
                )
            )
        for table in chapter_tables(title, list(zip(ids, (chapter for _, _, chapter in chapters)))):
            tags.add(table)
    return tags


def save_tags(tags, path: Path) -> None:
    try:
        tags.save(str(path), v2_version=4)
    except OSError as exc:
        raise OutputError(str(path), exc.strerror or str(exc)) from exc


def tag_mp3(
    path: Path,
    entry: TocEntry,
    meta: Metadata,
    voice: str,
    transcript: str = "",
    chapters: Sequence[tuple[float, float, str]] = (),
    cover: Cover | None = None,
    description: str = "",
) -> None:
    """Write the ID3v2.4 tags of a section MP3: the book's (:func:`book_tags`), with TIT2 exactly the
    TOC label and TRCK its number; USLT holds what it says; ``chapters``, when the section has deeper
    headings, become CHAP frames."""
    from mutagen.id3 import TRCK, USLT

    tags = book_tags(entry.title, meta, voice, cover, chapters, description)
    tags.add(TRCK(encoding=3, text=entry.track))
    if transcript:
        tags.add(USLT(encoding=3, lang=iso639_2(meta.language), desc="", text=transcript))
    save_tags(tags, path)
