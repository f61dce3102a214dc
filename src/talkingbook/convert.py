"""The conversion pipeline: read the article, build the TOC once, write every output.

Outputs are built in a temporary folder beside the target and moved into place
only when everything succeeded, so a failed run leaves the output folder as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .audiobook import write_audiobook
from .cover import make_cover
from .cache import SpeechCache
from .engines import book_engine
from .epub_writer import ReadAlong, write_epub
from .errors import OutputError
from .feed import write_feed
from .html_reader import read_html
from .images import ImageResolver
from .manifest import write_manifest
from .lexicon import load_lexicon
from .listening_page import write_listening_page
from .narrator import Voices, render_audio
from .playlist import write_playlist
from .sources import Source, load, url_slug
from .transcripts import write_transcripts
from .toc import TocEntry, build_toc, slugify, unique

log = logging.getLogger(__name__)


@dataclass
class Options:
    engine: str = "auto"
    voice: str | None = None
    audio: bool = True
    split_level: int | None = None
    fetch_images: bool = False
    rate: float = 1.0
    read_code: bool = False
    pause_scale: float = 1.0
    lexicon: str | None = None
    cache: bool = True
    read_along: bool = True  # the EPUB carries the MP3s and media overlays when audio is made
    base_url: str | None = None  # where the book's folder will be published (absolute feed URLs)
    audiobook: bool = True  # the full-length M4B and MP3 with chapters
    overrides: dict = field(default_factory=dict)


class Progress:
    """Receives progress events; the CLI shows them, the library only calls these."""

    def book_started(self, title: str, sections: int, utterances: int) -> None: ...
    def section_started(self, entry: TocEntry) -> None: ...
    def utterance_done(self, entry: TocEntry) -> None: ...
    def section_finished(self, entry: TocEntry, seconds: float | None) -> None: ...
    def stage(self, name: str) -> None: ...


def book_slug(source: Source, title: str, taken: set[str]) -> str:
    """The output folder's name: from the file name, a URL's last path segment, or the title."""
    if source.url:
        stem = url_slug(source.url)
    elif source.name != "stdin":
        stem = Path(source.name).name.rsplit(".", 1)[0]
    else:
        stem = ""
    return unique(slugify(stem, fallback="") or slugify(title, fallback="article"), taken)


def modified_time(source: str) -> datetime:
    """dcterms:modified: SOURCE_DATE_EPOCH when set, else the input file's mtime (reproducible)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    try:
        return datetime.fromtimestamp(int(Path(source).stat().st_mtime), tz=timezone.utc)
    except OSError:
        return datetime.now(timezone.utc).replace(microsecond=0)


def convert(source: str, out_parent: Path, options: Options, progress: Progress | None = None,
            taken: set[str] | None = None) -> Path:
    """Convert one article into ``out_parent/<slug>/``; returns that folder."""
    progress = progress or Progress()
    loaded = load(source)
    images = ImageResolver(loaded.folder, loaded.url, fetch_remote=options.fetch_images)
    book = read_html(loaded.data, source_name=loaded.name, base_url=loaded.url, charset=loaded.charset,
                     http_language=loaded.language, overrides=options.overrides,
                     split_level=options.split_level, images=images)
    toc = build_toc(book)
    # None also when 'auto' finds no offline voice clear enough in this language (it says so)
    engine = book_engine(options.engine, book.metadata.language, options.voice, options.rate) \
        if options.audio else None
    lexicon = load_lexicon(options.lexicon)
    slug = book_slug(loaded, book.metadata.title, taken if taken is not None else set())
    target = out_parent / slug
    cache = SpeechCache(enabled=options.cache)
    cover = make_cover(book, images, cache if engine is not None else None)  # a text-only run leaves no cache

    def build(folder: Path) -> None:
        audio = durations = None
        (folder / cover.name).write_bytes(cover.data)
        if engine is not None:
            voices = Voices(engine, book.metadata.language, options.engine, options.rate)
            pcm = folder / ".pcm"  # the sections' PCM, for the full-length audiobook; removed below
            pcm.mkdir()
            try:
                audio = render_audio(book, toc, voices, folder, progress, cache, lexicon, options.read_code,
                                     options.pause_scale, keep_pcm=pcm if options.audiobook else None, cover=cover)
                durations = {number: section.duration for number, section in audio.items()}
                if options.audiobook:
                    progress.stage("audiobook")
                    write_audiobook(toc, audio, pcm, engine.sample_rate, book.metadata, engine.voice, folder, slug,
                                    cache, cover)
            finally:
                shutil.rmtree(pcm, ignore_errors=True)
        read_along = ReadAlong(audio, folder) if audio is not None and options.read_along else None
        write_epub(book, toc, folder / f"{slug}.epub", modified=modified_time(source),
                   narrator=engine.voice if engine else "", read_along=read_along, cover=cover)
        playlist = transcript = None
        if durations is not None:
            playlist = write_playlist(toc, durations, folder / f"{slug}.m3u8").name
            transcript = write_transcripts(toc, audio, folder, f"{slug}.vtt").name
            write_feed(book, toc, audio, folder, folder / "feed.xml", modified=modified_time(source),
                       base_url=options.base_url, epub_name=f"{slug}.epub", cover=cover)
            write_listening_page(book, toc, audio, folder / "index.html", slug=slug, voice=engine.voice, files={
                "EPUB (read-along)" if read_along else "EPUB": f"{slug}.epub",
                **({"Audiobook (M4B, with chapters)": f"{slug}.m4b", "Audiobook (MP3, with chapters)": f"{slug}.mp3"}
                   if options.audiobook else {}),
                "Podcast feed": "feed.xml", "Playlist": playlist, "Transcript": transcript}, cover=cover)
        used = {
            "engine": engine.name if engine else None,
            "voice": engine.voice if engine else None,
            "audio": audio is not None,
            "split_level": options.split_level,
            "fetch_images": options.fetch_images,
            "rate": options.rate,
            "read_code": options.read_code,
            "read_along": read_along is not None,
            "pause_scale": options.pause_scale,
            "lexicon": options.lexicon,
            "overrides": {k: v for k, v in options.overrides.items() if v is not None},
            "playlist": playlist,
            "base_url": options.base_url,
            "audiobook": options.audiobook and audio is not None,
            "transcript": transcript,
            "cover": cover.name,
        }
        write_manifest(book, toc, audio, used, f"{slug}.epub", folder / "manifest.json")

    publish(target, build)
    return target


def publish(target: Path, build) -> None:
    """Run ``build(tmp)`` in a temporary folder beside ``target``, then swap it into place.

    On any failure (Ctrl-C included) the temporary folder is removed, as is any parent
    folder this call created, so the parent is left exactly as it was.
    """
    parent = target.parent
    created = _missing_ancestor(parent)
    if target.exists() and not target.is_dir():
        raise OutputError(str(target), "exists and is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=parent))
    except OSError as exc:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise OutputError(str(parent), exc.strerror or str(exc)) from exc
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        build(tmp)
        _swap(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise


def _missing_ancestor(folder: Path) -> Path | None:
    """The top-most ancestor of ``folder`` (itself included) that does not exist yet."""
    missing = None
    for candidate in [folder, *folder.parents]:
        if candidate.exists():
            break
        missing = candidate
    return missing


def _swap(tmp: Path, target: Path) -> None:
    old = None
    try:
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
        tmp.rename(target)
    except OSError as exc:
        if old is not None and not target.exists():
            old.rename(target)
        raise OutputError(str(target), exc.strerror or str(exc)) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
