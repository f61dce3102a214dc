"""The full-length audiobook: `<slug>.m4b` (AAC, MP4 chapters) and `<slug>.mp3` (ID3 CHAP and
CTOC frames), one chapter per section.

The MP3 joins the section MP3s' frames as they are (ffmpeg's concat demuxer, no re-encoding):
encoding the whole book again was a quarter of a conversion's CPU time. Each section keeps its
encoder delay and padding, some 30 ms of silence at each join, so a section begins where the
previous one's whole frames end (``SectionAudio.span``); decoded, the join is sample-exact.

The M4B is encoded from the sections' own PCM, each levelled exactly as its MP3 was (same
compressor, same gain) and padded to the same span, so both books and the chapters JSON share
one timeline.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..media.audio import COMPRESSOR, LIMITER, TARGET_LUFS, _ffmpeg, book_tags, join_mp3s, save_tags
from ..model import Cover, Metadata
from ..publication import Publication
from .chapters import chapter_starts

AAC_BITRATE = "48k"  # mono speech at the voice's own rate (22.05 kHz): AAC-LC is transparent there
AUDIOBOOK_ID = "m4b-aac-fast-48k;brand-M4B;composer;mp3-joined;chap-ctoc;span;v3"  # changes whenever the encoding does
# What the M4B is encoded as (its muxer below): AAC-LC with ffmpeg's fast coder, mono
AAC_OUTPUT = ("-c:a", "aac", "-aac_coder", "fast", "-b:a", AAC_BITRATE, "-ac", "1")
SUFFIXES = (".m4b", ".mp3")
# The ipod muxer writes both chapter formats players read: a QuickTime chapter track (Apple) and a
# Nero `chpl` atom (most others); the brand audiobook players look for is `M4B ` (ipod's default is
# `M4A `); faststart puts the `moov` first, so a player streaming the file finds the chapters at once.
M4B_MUXER = ("-brand", "M4B ", "-movflags", "+faststart", "-f", "ipod")


def _ffmetadata(meta: Metadata, voice: str, chapters: list[tuple[float, float, str]]) -> str:
    def esc(value: str) -> str:  # FFMETADATA escapes '=', ';', '#', '\\' and newlines
        return "".join("\\" + c if c in "=;#\\\n" else c for c in " ".join(value.split()))

    # Audiobookshelf reads the title from album, the author from artist, the narrator from composer
    lines = [
        ";FFMETADATA1",
        f"title={esc(meta.title)}",
        f"album={esc(meta.title)}",
        "genre=Speech",
        f"composer={esc(voice)}",
    ]
    if meta.author:
        lines.append(f"artist={esc(meta.author)}")
    if meta.date:
        lines.append(f"date={meta.date}")
    for start, end, title in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(start * 1000)}",
            f"END={round(end * 1000)}",
            f"title={esc(title)}",
        ]
    return "\n".join(lines) + "\n"


def write_audiobook(pub: Publication, folder: Path) -> Path:
    """The M4B and the full-length MP3 (``Layout.m4b``, ``Layout.mp3``),
    encoded from the sections' PCM files, or copied from the cache when the same sections were made
    into a book before (the key is the finished section MP3s, tags included, and the encoder
    settings); returns the M4B's path."""
    narration, layout, meta = pub.narration, pub.layout, pub.book.metadata
    assert narration is not None and narration.pcm is not None, "the audiobook is made from the narration's PCM"
    outputs = {suffix: folder / name for suffix, name in zip(SUFFIXES, (layout.m4b, layout.mp3))}
    digest = hashlib.sha256(AUDIOBOOK_ID.encode())
    for entry in pub.toc:
        digest.update(pub.audio(entry).sha256.encode())
    digest.update(json.dumps([meta.title, meta.author, meta.date, meta.language, narration.voice]).encode())
    digest.update(pub.cover.data)
    key = digest.hexdigest()
    if pub.cache is not None and pub.cache.get_files("books", key, outputs):
        return outputs[".m4b"]
    _encode(pub, *outputs.values())
    if pub.cache is not None:
        pub.cache.put_files("books", key, outputs)
    return outputs[".m4b"]


def _encode(pub: Publication, m4b: Path, mp3: Path) -> None:
    narration, meta, cover = pub.narration, pub.book.metadata, pub.cover
    assert narration is not None and narration.pcm is not None
    voice, sample_rate = narration.voice, narration.sample_rate
    chapters = chapter_starts(pub)
    metadata = narration.pcm / "chapters.ffmetadata"
    metadata.write_text(_ffmetadata(meta, voice, chapters), encoding="utf-8")
    inputs, graph = [], []
    for k, entry in enumerate(pub.toc):
        inputs += ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", str(narration.pcm / f"{entry.slug}.pcm")]
        audio = pub.audio(entry)
        gain = f",volume={TARGET_LUFS - audio.loudness:.2f}dB" if audio.loudness is not None else ""
        # padded to the span its MP3's frames take in the joined MP3 (the last one need not be)
        pad = f",apad=whole_dur={audio.span:.6f}" if audio.span > audio.duration and k < len(pub.toc) - 1 else ""
        graph.append(f"[{k}:a]{COMPRESSOR}{gain}{pad}[s{k}]")
    n = len(pub.toc)
    graph.append("".join(f"[s{k}]" for k in range(n)) + f"concat=n={n}:v=0:a=1,{LIMITER}[book]")
    _ffmpeg(
        [
            *inputs,
            "-f",
            "ffmetadata",
            "-i",
            str(metadata),
            "-filter_complex",
            ";".join(graph),
            "-map",
            "[book]",
            "-map_metadata",
            str(n),
            "-map_chapters",
            str(n),
            *AAC_OUTPUT,
            "-ar",
            str(sample_rate),
            *M4B_MUXER,
            str(m4b),
        ],
        str(m4b),
        "M4B audiobook encoding",
    )
    metadata.unlink(missing_ok=True)
    _tag_m4b_cover(m4b, cover)
    sections = [(m4b.parent / pub.layout.section_mp3(e), pub.audio(e).span) for e in pub.toc]
    join_mp3s(sections, narration.pcm / "sections.ffconcat", mp3, "joining the section MP3s")
    save_tags(book_tags(meta.title, meta, voice, cover, chapters), mp3)  # a CHAP per section, and the CTOC


def _tag_m4b_cover(path: Path, cover: Cover) -> None:
    """The M4B's cover art (``covr``), added with mutagen after ffmpeg: ffmpeg's ipod muxer would
    need the picture as a video stream, and mutagen keeps the chapter track as it is."""
    from mutagen.mp4 import MP4, MP4Cover

    book = MP4(str(path))
    kind = MP4Cover.FORMAT_JPEG if cover.media_type == "image/jpeg" else MP4Cover.FORMAT_PNG
    book["covr"] = [MP4Cover(cover.data, imageformat=kind)]
    book.save()
