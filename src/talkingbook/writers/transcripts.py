"""Transcripts: WebVTT files with one cue per spoken unit (a sentence, a heading, a table row),
timed by the engine's own clip boundaries, for each section and for the whole book.

Written by hand: WebVTT is a few lines of text, and the libraries for it (webvtt-py) are
readers first; the test suite reads these files back with webvtt-py.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from ..publication import Publication


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def cue_text(text: str) -> str:
    """Plain text as WebVTT cue text, which is markup: '&', '<' and '>' escaped as character references
    (so a quoted '<b>' or '<3' is shown, not taken for a tag, and no '-->' is left to end the cue), and
    on one line (a blank line would end the cue)."""
    return escape(" ".join(text.split()), quote=False)


def _vtt(cues: list[tuple[float, float, str]]) -> str:
    lines = ["WEBVTT", ""]
    for number, (begin, end, text) in enumerate(cues, start=1):
        lines += [str(number), f"{_timestamp(begin)} --> {_timestamp(end)}", cue_text(text), ""]
    return "\n".join(lines)


def write_transcripts(pub: Publication, folder: Path) -> Path:
    """One WebVTT file per section (``Layout.section_vtt``) and one for the whole book (cues shifted by
    the lengths of the sections before); returns the whole book's file."""
    (folder / pub.layout.TRANSCRIPTS).mkdir(exist_ok=True)
    whole: list[tuple[float, float, str]] = []
    offset = 0.0
    for entry in pub.toc:
        section = pub.audio(entry)
        cues = [(c.begin, c.end, c.text) for c in section.clips if c.text.strip()]
        (folder / pub.layout.section_vtt(entry)).write_text(_vtt(cues), encoding="utf-8")
        whole += [(offset + begin, offset + end, text) for begin, end, text in cues]
        offset += section.duration
    out = folder / pub.layout.transcript
    out.write_text(_vtt(whole), encoding="utf-8")
    return out
