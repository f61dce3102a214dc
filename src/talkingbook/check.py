"""`talkingbook check DIR`: read every output back from the files, with parsers independent of
the writers (lxml for the EPUB and the feed, mutagen for the MP3s, m3u8 for the playlist,
webvtt-py for the transcripts; never manifest.json), and report where titles, order,
numbers or durations disagree with the EPUB's table of contents.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

NS = {"x": "http://www.w3.org/1999/xhtml", "ncx": "http://www.daisy.org/z3986/2005/ncx/",
      "opf": "http://www.idpf.org/2007/opf", "epub": "http://www.idpf.org/2007/ops",
      "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}
DURATION_TOLERANCE = 0.05  # seconds, for durations stored to the millisecond
ROUNDED_TOLERANCE = 1.0  # for durations stored in whole seconds (playlist, feed)


@dataclass
class Report:
    problems: dict[str, list[str]] = field(default_factory=dict)  # output -> what is wrong with it
    checked: list[str] = field(default_factory=list)

    def add(self, output: str, problem: str) -> None:
        self.problems.setdefault(output, []).append(problem)

    @property
    def ok(self) -> bool:
        return not self.problems


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split())


def _clock(value: str) -> float:
    parts = [float(p) for p in value.strip().rstrip("s").split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def check_book(folder: Path) -> Report:
    """Every output in ``folder`` compared with the EPUB's table of contents."""
    report = Report()
    epubs = sorted(folder.glob("*.epub"))
    if len(epubs) != 1:
        report.add(folder.name, f"expected one EPUB, found {len(epubs)}")
        return report
    epub = epubs[0]
    report.checked.append(epub.name)
    with zipfile.ZipFile(epub) as z:
        container = etree.fromstring(z.read("META-INF/container.xml"))
        opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        base = opf_path.rsplit("/", 1)[0] + "/" if "/" in opf_path else ""
        opf = etree.fromstring(z.read(opf_path))
        items = {i.get("id"): i for i in opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
        nav_item = next(i for i in items.values() if "nav" in (i.get("properties") or "").split())
        nav = etree.fromstring(z.read(base + nav_item.get("href")))
        toc = nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li/x:a", namespaces=NS)
        titles = [_text(a) for a in toc]
        hrefs = [a.get("href") for a in toc]
        ncx_item = next((i for i in items.values() if i.get("media-type") == "application/x-dtbncx+xml"), None)
        if ncx_item is not None:
            ncx = etree.fromstring(z.read(base + ncx_item.get("href")))
            labels = [" ".join(t.split()) for t in
                      ncx.xpath("/ncx:ncx/ncx:navMap/ncx:navPoint/ncx:navLabel/ncx:text/text()", namespaces=NS)]
            if labels != titles:
                report.add(f"{epub.name} (NCX)", f"titles differ from the nav: {_diff(titles, labels)}")
        overlay = {m.get("refines", "")[1:]: _clock(m.text) for m in
                   opf.xpath("//opf:meta[@property='media:duration']", namespaces=NS)}
        by_href = {i.get("href"): i for i in items.values()}
        smil_durations = []
        for href in hrefs:
            item = by_href.get(href.split("#")[0])
            smil = item.get("media-overlay") if item is not None else None
            smil_durations.append(overlay.get(smil) if smil else None)
        cover_item = next((i for i in items.values() if "cover-image" in (i.get("properties") or "").split()), None)
        epub_cover = z.read(base + cover_item.get("href")) if cover_item is not None else None
    _check_audio(folder, titles, smil_durations, report)
    _check_cover(folder, epub.name, epub_cover, report)
    return report


COVER_MIN = 1400  # pixels, square: what podcast directories accept


def _check_cover(folder: Path, epub_name: str, epub_cover: bytes | None, report: Report) -> None:
    """One cover file, square and at least 1400 pixels, and the same picture in the EPUB, in every
    MP3's and the M4B's tags, and named by the feed."""
    from PIL import Image, UnidentifiedImageError

    covers = [p for p in (folder / "cover.jpg", folder / "cover.png") if p.exists()]
    if len(covers) != 1:
        report.add("cover", f"expected one cover.jpg or cover.png, found {len(covers)}")
        return
    cover = covers[0]
    report.checked.append(cover.name)
    data = cover.read_bytes()
    try:
        with Image.open(cover) as picture:
            kind, size = picture.format, picture.size
    except (UnidentifiedImageError, OSError):
        report.add(cover.name, "not a readable image")
        return
    if kind != {".jpg": "JPEG", ".png": "PNG"}[cover.suffix]:
        report.add(cover.name, f"is {kind}, not what its name says")
    if size[0] != size[1] or size[0] < COVER_MIN:
        report.add(cover.name, f"is {size[0]}x{size[1]}; podcast directories need a square of {COVER_MIN} or more")
    if epub_cover != data:
        report.add(epub_name, "its cover-image is not " + cover.name if epub_cover else "has no cover-image")
    mp3s = sorted((folder / "audio").glob("*.mp3")) if (folder / "audio").is_dir() else []
    book = folder / f"{folder.name}.mp3"
    if mp3s:
        from mutagen.id3 import ID3, ID3NoHeaderError

        for path in [*mp3s, *([book] if book.exists() else [])]:
            try:
                pictures = [f.data for f in ID3(path).getall("APIC") if f.type == 3]
            except ID3NoHeaderError:
                pictures = []
            if pictures != [data]:
                report.add(str(path.relative_to(folder)), f"its front-cover picture is not {cover.name}")
    for path in sorted(folder.glob("*.m4b")):
        from mutagen.mp4 import MP4

        if [bytes(c) for c in (MP4(path).tags or {}).get("covr", [])] != [data]:
            report.add(path.name, f"its cover art is not {cover.name}")
    feed = folder / "feed.xml"
    if feed.exists():
        channel = etree.parse(str(feed)).getroot().find("channel")
        named = [channel.findtext("image/url") or "",
                 next(iter(channel.xpath("itunes:image/@href", namespaces=NS)), "")]
        if not all(url == cover.name or url.endswith("/" + cover.name) for url in named):
            report.add(feed.name, f"its image is not {cover.name}")


def _diff(expected: list[str], found: list[str]) -> str:
    if len(expected) != len(found):
        return f"{len(found)} entries where the table of contents has {len(expected)}"
    k = next(i for i, (a, b) in enumerate(zip(expected, found)) if a != b)
    return f"entry {k + 1} is {found[k]!r}, the table of contents says {expected[k]!r}"


def _decoded_length(path: Path) -> float:
    """An MP3's length as a player hears it: decoded by ffmpeg, which drops the encoder's delay and
    padding (mutagen's frame count includes them, some 30-40 ms too long)."""
    import subprocess

    import imageio_ffmpeg

    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1",
                           "-ar", "44100", "pipe:1"], capture_output=True)
    return len(proc.stdout) / 2 / 44100


def _check_audio(folder: Path, titles: list[str], smil_durations: list, report: Report) -> None:
    from mutagen.id3 import ID3, ID3NoHeaderError

    mp3s = sorted((folder / "audio").glob("*.mp3")) if (folder / "audio").is_dir() else []
    if not mp3s:
        return  # a text-only book
    durations = []
    for k, path in enumerate(mp3s, start=1):
        name = f"audio/{path.name}"
        report.checked.append(name)
        try:
            tags = ID3(path)
        except ID3NoHeaderError:
            report.add(name, "no ID3 tags")
            durations.append(None)
            continue
        durations.append(_decoded_length(path))
        title = str(tags.get("TIT2", ""))
        track = str(tags.get("TRCK", ""))
        if k > len(titles):
            report.add(name, "a track the table of contents does not have")
            continue
        if title != titles[k - 1]:
            report.add(name, f"title {title!r}, the table of contents says {titles[k - 1]!r}")
        if track != f"{k}/{len(titles)}":
            report.add(name, f"track {track!r}, expected '{k}/{len(titles)}'")
        expected = smil_durations[k - 1] if k - 1 < len(smil_durations) else None
        if expected is not None and abs(durations[-1] - expected) > DURATION_TOLERANCE:
            report.add(name, f"lasts {durations[-1]:.3f} s, its media overlay says {expected:.3f} s")
    if len(mp3s) != len(titles):
        report.add("audio/", f"{len(mp3s)} MP3s for {len(titles)} sections")
    _check_playlist(folder, mp3s, titles, durations, report)
    _check_audiobook(folder, titles, durations, report)
    _check_feed(folder, mp3s, titles, durations, report)
    _check_transcripts(folder, mp3s, titles, durations, report)


def _check_playlist(folder, mp3s, titles, durations, report) -> None:
    import m3u8

    for path in sorted(folder.glob("*.m3u8")):
        report.checked.append(path.name)
        segments = m3u8.loads(path.read_text(encoding="utf-8")).segments
        found = [s.title for s in segments]
        if found != titles:
            report.add(path.name, f"titles differ: {_diff(titles, found)}")
        if [s.uri for s in segments] != [f"audio/{p.name}" for p in mp3s]:
            report.add(path.name, "its files are not the MP3s in table-of-contents order")
        for segment, seconds in zip(segments, durations):
            if seconds is not None and abs(segment.duration - seconds) > ROUNDED_TOLERANCE:
                report.add(path.name, f"{segment.uri} lasts {seconds:.0f} s, the playlist says {segment.duration:.0f}")


def _check_feed(folder, mp3s, titles, durations, report) -> None:
    path = folder / "feed.xml"
    if not path.exists():
        return
    report.checked.append(path.name)
    channel = etree.parse(str(path)).getroot().find("channel")
    items = channel.findall("item")
    found = [" ".join((i.findtext("title") or "").split()) for i in items]
    if found != titles:
        report.add(path.name, f"episode titles differ: {_diff(titles, found)}")
    numbers = [i.findtext("itunes:episode", namespaces=NS) for i in items]
    if numbers != [str(k) for k in range(1, len(items) + 1)]:
        report.add(path.name, f"episode numbers are {numbers}, expected 1 to {len(items)} in order")
    for item, mp3, seconds in zip(items, mp3s, durations):
        enclosure = item.find("enclosure")
        if enclosure is None or not enclosure.get("url", "").endswith(f"audio/{mp3.name}"):
            report.add(path.name, f"episode {item.findtext('title')!r} does not point at audio/{mp3.name}")
        elif int(enclosure.get("length", "-1")) != mp3.stat().st_size:
            report.add(path.name, f"the enclosure length of audio/{mp3.name} is not its size")
        listed = item.findtext("itunes:duration", namespaces=NS)
        if seconds is not None and listed and abs(_clock(listed) - seconds) > ROUNDED_TOLERANCE:
            report.add(path.name, f"audio/{mp3.name} lasts {seconds:.0f} s, the feed says {listed}")


def _check_transcripts(folder, mp3s, titles, durations, report) -> None:
    import webvtt

    vtts = sorted((folder / "transcripts").glob("*.vtt")) if (folder / "transcripts").is_dir() else []
    if not vtts:
        return
    if [p.stem for p in vtts] != [p.stem for p in mp3s]:
        report.add("transcripts/", "the transcripts are not one per MP3, named as the MP3s")
        return
    for path, title, seconds in zip(vtts, titles, durations):
        name = f"transcripts/{path.name}"
        report.checked.append(name)
        cues = webvtt.read(str(path)).captions
        if not cues or " ".join(cues[0].text.split()) != title:
            report.add(name, f"its first cue is not the section title {title!r}")
        starts = [_clock(c.start) for c in cues]
        if starts != sorted(starts):
            report.add(name, "cues out of order")
        if seconds is not None and cues and _clock(cues[-1].end) > seconds + DURATION_TOLERANCE:
            report.add(name, f"cues run past the end of the MP3 ({seconds:.3f} s)")


CHAPTER_TOLERANCE = 0.05  # seconds between a chapter mark and its section's boundary


def _check_chapters(report: Report, name: str, found: list[tuple[float, str]], titles: list[str],
                    starts: list[float]) -> None:
    if [t for _, t in found] != titles:
        report.add(name, f"chapter titles differ: {_diff(titles, [t for _, t in found])}")
        return
    for (start, title), expected in zip(found, starts):
        if abs(start - expected) > CHAPTER_TOLERANCE:
            report.add(name, f"chapter {title!r} starts at {start:.3f} s, its section at {expected:.3f} s")


def _check_audiobook(folder: Path, titles: list[str], durations: list, report: Report) -> None:
    """The full-length M4B, MP3 and chapters JSON: one chapter per section, each starting where
    the sections before it end (their MP3s' lengths)."""
    import json

    if None in durations:
        return
    starts = [sum(durations[:k]) for k in range(len(durations))]
    for path in sorted(folder.glob("*.m4b")):
        from mutagen.mp4 import MP4

        report.checked.append(path.name)
        chapters = MP4(path).chapters or []
        _check_chapters(report, path.name, [(c.start, c.title) for c in chapters], titles, starts)
    for path in sorted(folder.glob("*.chapters.json")):
        report.checked.append(path.name)
        data = json.loads(path.read_text(encoding="utf-8")).get("chapters", [])
        _check_chapters(report, path.name, [(float(c["startTime"]), c["title"]) for c in data], titles, starts)
    book = folder / f"{folder.name}.mp3"
    if book.exists():
        from mutagen.id3 import ID3

        report.checked.append(book.name)
        tags = ID3(book)
        toc = tags.getall("CTOC")
        chaps = {c.element_id: c for c in tags.getall("CHAP")}
        if not toc:
            report.add(book.name, "no CTOC frame (players ignore CHAP frames without one)")
            return
        ordered = [chaps[i] for i in toc[0].child_element_ids if i in chaps]
        found = [(c.start_time / 1000, str(c.sub_frames.get("TIT2", ""))) for c in ordered]
        _check_chapters(report, book.name, found, titles, starts)
