"""Write the M3U8 playlist of the section MP3s, in table-of-contents order."""

from __future__ import annotations

from pathlib import Path

from ..publication import Publication


def write_playlist(pub: Publication, folder: Path) -> Path:
    """UTF-8 extended M3U: ``#EXTINF:<seconds>,<title>`` then the relative path, per section."""
    lines = ["#EXTM3U"]
    for entry in pub.toc:
        title = " ".join(entry.title.split())  # a line break would end the entry
        lines.append(f"#EXTINF:{round(pub.audio(entry).duration)},{title}")
        lines.append(pub.layout.section_mp3(entry))
    out = folder / pub.layout.playlist
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
