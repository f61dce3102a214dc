"""The full-length audiobook: `<slug>.m4b` (AAC, MP4 chapters) and `<slug>.mp3` (ID3 CHAP and
CTOC frames), one chapter per section.

Both are encoded in one ffmpeg run from the sections' own PCM, each section levelled exactly
as its MP3 was (same compressor, same gain), then joined as PCM: joining MP3 files would put
each file's encoder delay between chapters. Chapter starts are therefore the running sum of
the sections' exact lengths.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..media.audio import COMPRESSOR, LIMITER, MP3_OUTPUT, TARGET_LUFS, _ffmpeg, book_tags, save_tags
from ..model import Cover, Metadata
from ..publication import Publication
from .chapters import chapter_starts

AAC_BITRATE = "48k"  # mono speech at the voice's own rate (22.05 kHz): AAC-LC is transparent there
AUDIOBOOK_ID = "m4b-aac-fast-48k;brand-M4B;composer;mp3;chap-ctoc;v2"  # changes whenever the encoding does
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
        loudness = pub.audio(entry).loudness
        gain = f",volume={TARGET_LUFS - loudness:.2f}dB" if loudness is not None else ""
        graph.append(f"[{k}:a]{COMPRESSOR}{gain}[s{k}]")
    n = len(pub.toc)
    graph.append("".join(f"[s{k}]" for k in range(n)) + f"concat=n={n}:v=0:a=1,{LIMITER},asplit=2[book][tape]")
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
            "-c:a",
            "aac",
            "-aac_coder",
            "fast",
            "-b:a",
            AAC_BITRATE,
            "-ac",
            "1",
            "-ar",
            str(sample_rate),
            *M4B_MUXER,
            str(m4b),
            "-map",
            "[tape]",
            "-map_chapters",
            "-1",
            "-c:a",
            "libmp3lame",
            "-ac",
            "1",
            *MP3_OUTPUT,
            str(mp3),
        ],
        str(m4b),
        "M4B audiobook encoding",
    )
    metadata.unlink(missing_ok=True)
    save_tags(book_tags(meta.title, meta, voice, cover, chapters), mp3)  # a CHAP per section, and the CTOC
    _tag_m4b_cover(m4b, cover)


def _tag_m4b_cover(path: Path, cover: Cover) -> None:
    """The M4B's cover art (``covr``), added with mutagen after ffmpeg: ffmpeg's ipod muxer would
    need the picture as a video stream, and mutagen keeps the chapter track as it is."""
    from mutagen.mp4 import MP4, MP4Cover

    book = MP4(str(path))
    kind = MP4Cover.FORMAT_JPEG if cover.media_type == "image/jpeg" else MP4Cover.FORMAT_PNG
    book["covr"] = [MP4Cover(cover.data, imageformat=kind)]
    book.save()
