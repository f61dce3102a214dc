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
from collections.abc import Sequence
from pathlib import Path

from ..media.audio import COMPRESSOR, LIMITER, TARGET_LUFS, _ffmpeg, book_tags, concat_quoted, join_mp3s, save_tags
from ..model import Cover, Metadata
from ..publication import Publication
from ..structure.toc import TocEntry
from .chapters import chapter_starts

AAC_BITRATE = "48k"  # mono speech at the voice's own rate (22.05 kHz): AAC-LC is transparent there
# changes whenever the encoding or the tagging does
AUDIOBOOK_ID = "m4b-aac-fast-48k;brand-M4B;composer;mp3-joined;chap-ctoc;span;desc-publisher-language;v4"
# What the M4B is encoded as (its muxer below): AAC-LC with ffmpeg's fast coder, mono
AAC_OUTPUT = ("-c:a", "aac", "-aac_coder", "fast", "-b:a", AAC_BITRATE, "-ac", "1")
SUFFIXES = (".m4b", ".mp3")
# The ipod muxer writes both chapter formats players read: a QuickTime chapter track (Apple) and a
# Nero `chpl` atom (most others); the brand audiobook players look for is `M4B ` (ipod's default is
# `M4A `); faststart puts the `moov` first, so a player streaming the file finds the chapters at once.
# A Nero table counts its chapters in one byte: ffmpeg writes a longer book's first 255 there, and
# every chapter in the QuickTime track (which ffmpeg, and so Audiobookshelf, reads first).
M4B_MUXER = ("-brand", "M4B ", "-movflags", "+faststart", "-f", "ipod")


def _ffmetadata(meta: Metadata, voice: str, chapters: list[tuple[float, float, str]]) -> str:
    def esc(value: str) -> str:  # FFMETADATA escapes '=', ';', '#', '\\' and newlines
        return "".join("\\" + c if c in "=;#\\\n" else c for c in " ".join(value.split()))

    # Audiobookshelf reads the title from album, the author from artist (the authors as one line: "Ann Lee,
    # Bob Stone"), the narrator from composer
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
    tagged = [meta.title, list(meta.authors), meta.date, meta.language, meta.publisher, pub.summary, narration.voice]
    digest.update(json.dumps(tagged).encode())
    digest.update(pub.cover.data)
    key = digest.hexdigest()
    if pub.cache is not None and pub.cache.get_files("books", key, outputs):
        return outputs[".m4b"]
    _encode(pub, *outputs.values())
    if pub.cache is not None:
        pub.cache.put_files("books", key, outputs)
    return outputs[".m4b"]


# Sections one ffmpeg levels at once: each is an input of its own (a file, a thread, a command-line
# argument and a part of the filter graph), and a command line holds some 2 MB, its one argument 128 kB.
# A longer book is levelled in parts of this many sections, joined by the concat demuxer.
GROUP = 100


def _levelling(pub: Publication, first: int, entries: Sequence[TocEntry]) -> tuple[list[str], str]:
    """ffmpeg's inputs and filter graph (output ``[levelled]``) for ``entries``, the sections from the
    book's ``first`` on (0-based): each section's PCM compressed and levelled exactly as its MP3 was, and
    padded to the span its MP3's frames take in the joined MP3 (the book's last section is not)."""
    narration = pub.narration
    assert narration is not None and narration.pcm is not None
    inputs, graph = [], []
    for k, entry in enumerate(entries):
        pcm = narration.pcm / f"{entry.slug}.pcm"
        inputs += ["-f", "s16le", "-ar", str(narration.sample_rate), "-ac", "1", "-i", str(pcm)]
        audio = pub.audio(entry)
        gain = f",volume={TARGET_LUFS - audio.loudness:.2f}dB" if audio.loudness is not None else ""
        last = first + k == len(pub.toc) - 1
        pad = f",apad=whole_dur={audio.span:.6f}" if audio.span > audio.duration and not last else ""
        graph.append(f"[{k}:a]{COMPRESSOR}{gain}{pad}[s{k}]")
    n = len(entries)
    graph.append("".join(f"[s{k}]" for k in range(n)) + f"concat=n={n}:v=0:a=1[levelled]")
    return inputs, ";".join(graph)


def _encode(pub: Publication, m4b: Path, mp3: Path) -> None:
    narration, meta, cover = pub.narration, pub.book.metadata, pub.cover
    assert narration is not None and narration.pcm is not None
    voice, sample_rate = narration.voice, narration.sample_rate
    chapters = chapter_starts(pub)
    metadata = narration.pcm / "chapters.ffmetadata"
    metadata.write_text(_ffmetadata(meta, voice, chapters), encoding="utf-8")
    parts = [pub.toc[at : at + GROUP] for at in range(0, len(pub.toc), GROUP)]
    levelled = [narration.pcm / f"levelled-{k}.wav" for k in range(len(parts))]
    listing = narration.pcm / "levelled.ffconcat"
    try:
        if len(parts) == 1:  # the whole book in one pass
            inputs, graph = _levelling(pub, 0, pub.toc)
            args = [*inputs, "-f", "ffmetadata", "-i", str(metadata)]
            args += ["-filter_complex", f"{graph};[levelled]{LIMITER}[book]", "-map", "[book]"]
            tagged = len(pub.toc)  # the input the tags and chapters come from
        else:  # each part levelled into a WAV (32-bit float: the gain may exceed full scale before the limiter)
            for k, part in enumerate(parts):
                inputs, graph = _levelling(pub, k * GROUP, part)
                levelling = ["-filter_complex", graph, "-map", "[levelled]", "-c:a", "pcm_f32le", "-rf64", "auto"]
                _ffmpeg([*inputs, *levelling, str(levelled[k])], str(m4b), "M4B audiobook encoding")
            files = "".join(f"file {concat_quoted(path)}\n" for path in levelled)
            listing.write_text(f"ffconcat version 1.0\n{files}", encoding="utf-8")
            args = ["-f", "concat", "-safe", "0", "-i", str(listing), "-f", "ffmetadata", "-i", str(metadata)]
            args += ["-af", LIMITER, "-map", "0:a"]
            tagged = 1
        args += ["-map_metadata", str(tagged), "-map_chapters", str(tagged), *AAC_OUTPUT, "-ar", str(sample_rate)]
        _ffmpeg([*args, *M4B_MUXER, str(m4b)], str(m4b), "M4B audiobook encoding")
    finally:
        for path in (metadata, listing, *levelled):
            path.unlink(missing_ok=True)
    _tag_m4b(m4b, meta, cover, pub.summary)
    sections = [(m4b.parent / pub.layout.section_mp3(e), pub.audio(e).span) for e in pub.toc]
    join_mp3s(sections, narration.pcm / "sections.ffconcat", mp3, "joining the section MP3s")
    # a CHAP per section, and the CTOC(s) ordering them
    save_tags(book_tags(meta.title, meta, voice, cover, chapters, pub.summary), mp3)


def _tag_m4b(path: Path, meta: Metadata, cover: Cover, description: str) -> None:
    """The M4B's tags ffmpeg's ipod muxer does not write, added with mutagen (which keeps the chapter
    track as it is): the cover art (``covr``; ffmpeg would need the picture as a video stream), the
    description (``desc``), and the publisher and language as iTunes free-form atoms
    (``----:com.apple.iTunes:PUBLISHER``, ``LANGUAGE``: where Audiobookshelf reads them)."""
    from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

    book = MP4(str(path))
    kind = MP4Cover.FORMAT_JPEG if cover.media_type == "image/jpeg" else MP4Cover.FORMAT_PNG
    book["covr"] = [MP4Cover(cover.data, imageformat=kind)]
    if description:
        book["desc"] = [" ".join(description.split())]
    if len(meta.authors) > 1:  # ©art holds them as one line (ffmpeg reads one value); each name on its own here
        book["----:com.apple.iTunes:ARTISTS"] = [MP4FreeForm(name.encode("utf-8")) for name in meta.authors]
    if meta.publisher:
        book["----:com.apple.iTunes:PUBLISHER"] = [MP4FreeForm(meta.publisher.encode("utf-8"))]
    book["----:com.apple.iTunes:LANGUAGE"] = [MP4FreeForm(meta.language.encode("utf-8"))]
    book.save()
