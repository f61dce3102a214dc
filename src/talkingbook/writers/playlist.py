"""Write the M3U8 playlist of the section MP3s, in table-of-contents order."""

from __future__ import annotations

from pathlib import Path

from ..structure.toc import TocEntry


def write_playlist(toc: tuple[TocEntry, ...], durations: dict[int, float], out: Path) -> Path:
    """UTF-8 extended M3U: ``#EXTINF:<seconds>,<title>`` then the relative path, per section."""
    lines = ["#EXTM3U"]
    for entry in toc:
        title = " ".join(entry.title.split())  # a line break would end the entry
        lines.append(f"#EXTINF:{round(durations[entry.number])},{title}")
        lines.append(entry.mp3)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
