"""The audiobook's chapters as Podcasting 2.0 JSON (``podcast:chapters``): one per section."""

from __future__ import annotations

import json
from pathlib import Path

from ..publication import Publication


def chapter_starts(pub: Publication) -> list[tuple[float, float, str]]:
    """(start, end, title) of each section in the full-length book, in seconds: the M4B and the MP3
    share one timeline, where each section takes its MP3's whole frames (``SectionAudio.span``),
    since the full-length MP3 joins the sections' frames as they are."""
    out, at = [], 0.0
    for k, entry in enumerate(pub.toc, start=1):
        audio = pub.audio(entry)
        step = audio.span or audio.duration
        out.append((at, at + (step if k < len(pub.toc) else audio.duration), entry.title))
        at += step
    return out


def write_chapters(pub: Publication, folder: Path) -> Path:
    """``Layout.chapters``: each section's start, end and title, as podcast apps read chapters."""
    out = folder / pub.layout.chapters
    out.write_text(
        json.dumps(
            {
                "version": "1.2.0",
                "chapters": [
                    {"startTime": round(start, 3), "endTime": round(end, 3), "title": title}
                    for start, end, title in chapter_starts(pub)
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return out
