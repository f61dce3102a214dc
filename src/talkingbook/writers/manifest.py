"""Write manifest.json: the sections and the options used, for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from ..model import Book, section_words
from ..structure.toc import TocEntry
from .transcripts import transcript_path


def write_manifest(book: Book, toc: tuple[TocEntry, ...], audio: dict | None,
                   options: dict, epub_name: str, out: Path) -> Path:
    """One JSON document describing the book, its sections (with each MP3's clips: which
    element of the text each stretch of audio belongs to) and the options used."""
    meta = book.metadata
    data = {
        "generator": f"talkingbook {__version__}",
        "source": book.source_name,
        "epub": epub_name,
        "playlist": options.get("playlist"),
        "transcript": options.get("transcript"),
        "cover": options.get("cover"),
        "metadata": {
            "title": meta.title, "author": meta.author, "publisher": meta.publisher,
            "language": meta.language, "date": meta.date, "source_url": meta.source_url,
            "identifier": meta.identifier,
        },
        "sections": [
            {
                "number": entry.number,
                "title": entry.title,
                "level": entry.level,
                "xhtml": entry.xhtml,
                "mp3": entry.mp3 if audio is not None else None,
                "transcript": transcript_path(entry) if audio is not None else None,
                "duration": round(audio[entry.number].duration, 3) if audio is not None else None,
                "words": section_words(entry.section),
                "clips": [{"id": c.unit, "begin": c.begin, "end": c.end, "text": c.text}
                          for c in audio[entry.number].clips]
                if audio is not None else None,
            }
            for entry in toc
        ],
        "options": {k: v for k, v in options.items() if k not in ("playlist", "transcript", "cover")},
    }
    # errors="replace": an option that was not UTF-8 (a file name, an argument) is kept as the
    # command line gave it in the options, and is written with "?" where it cannot be encoded
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8", errors="replace")
    return out
