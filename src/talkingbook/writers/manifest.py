"""Write manifest.json: the book, its sections, every file written and the options used, for scripts.

The manifest is published with the book (served, uploaded with the folder): it names the input, the
lexicon and --base-dir by their file names only, never by where they are on this machine. Nothing
reads those paths back: a book's article and what it was made from are digests in its marker
(system/publish.py), computed from the absolute paths before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import __version__
from ..model import section_words
from ..publication import Publication
from ..system.publish import public_name
from .chapters import chapter_starts


def write_manifest(pub: Publication, folder: Path) -> Path:
    """One JSON document describing the book, its sections (with each MP3's clips: which element
    of the text each stretch of audio belongs to), the files of the folder and the options used."""
    meta, layout, narration = pub.book.metadata, pub.layout, pub.narration
    mp3s = [layout.section_mp3(entry) for entry in pub.toc] if narration else []
    files = [*mp3s, *(o.path for outputs in pub.outputs.values() for o in outputs)]
    data = {
        "generator": f"talkingbook {__version__}",
        "source": public_name(pub.book.source_name),
        "epub": layout.epub,
        "playlist": layout.playlist if layout.playlist in files else None,
        "transcript": layout.transcript if layout.transcript in files else None,
        "cover": layout.cover(pub.cover),
        # what the library (index.html, feed.xml, catalog/) lists the book with, without parsing its files
        "audiobook": {"mp3": layout.mp3, "m4b": layout.m4b, "chapters": layout.chapters} if pub.audiobook else None,
        "page": layout.PAGE if layout.PAGE in files else None,
        "duration": _duration(pub),
        "modified": pub.modified.isoformat(),
        "metadata": {
            "title": meta.title,
            "author": meta.author,  # the authors' names as one line
            "authors": list(meta.authors),
            "publisher": meta.publisher,
            "language": meta.language,
            "date": meta.date,
            "source_url": meta.source_url,
            "identifier": meta.identifier,
            # the page's description, else the first sentences: what the library's feed and catalog show
            "summary": pub.summary,
        },
        "sections": [
            {
                "number": entry.number,
                "title": entry.title,
                "level": entry.level,
                "xhtml": entry.xhtml,
                "mp3": layout.section_mp3(entry) if narration else None,
                "transcript": layout.section_vtt(entry) if narration else None,
                "duration": round(pub.audio(entry).duration, 3) if narration else None,
                "words": section_words(entry.section),
                "clips": [
                    {"id": c.unit, "begin": c.begin, "end": c.end, "text": c.text} for c in pub.audio(entry).clips
                ]
                if narration
                else None,
            }
            for entry in pub.toc
        ],
        "files": files,
        "narration": {"engine": narration.engine, "voice": narration.voice} if narration else None,
        "options": _public_options(pub.options.recorded()),
        "warnings": list(pub.book.warnings),  # the reader's doubts: part of the article may be missing
    }
    # errors="replace": an option that was not UTF-8 (a file name, an argument) is kept as the
    # command line gave it in the options, and is written with "?" where it cannot be encoded
    out = folder / layout.MANIFEST
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8", errors="replace")
    return out


def _public_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options as recorded, the local paths among them (lexicon, base_dir) by their names alone."""
    return {k: public_name(v) if k in ("lexicon", "base_dir") and isinstance(v, str) else v for k, v in options.items()}


def _duration(pub: Publication) -> float | None:
    """Seconds of narration: the full-length book's (the library's episode is its MP3, whose joins
    add some 30 ms a section), else the sections' together."""
    if pub.narration is None:
        return None
    if pub.audiobook and pub.toc:
        return round(chapter_starts(pub)[-1][1], 3)
    return round(sum(pub.narration.durations.values()), 3)
