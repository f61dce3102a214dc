"""The conversion pipeline: read the article, build the TOC once, write every output.

Outputs are built in a temporary folder beside the target and moved into place
only when everything succeeded, so a failed run leaves the output folder as it was
(see :mod:`talkingbook.publish` for which folder a book may replace).
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .writers.audiobook import write_audiobook
from .cover import make_cover
from .system.cache import SpeechCache
from .engines import book_engine
from .writers.epub import ReadAlong, write_epub
from .writers.feed import write_feed
from .readers.html import read_html
from .readers.images import ImageResolver
from .writers.manifest import write_manifest
from .narration.lexicon import load_lexicon
from .writers.listening_page import write_listening_page
from .narration.render import Voices, render_audio
from .writers.playlist import write_playlist
from .readers.sources import Source, load, url_slug
from .writers.transcripts import write_transcripts
from .system.publish import Article, output_file, publish
from .structure.toc import TocEntry, build_toc, slugify

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
    private_network: str = "auto"  # auto | allow | deny: may fetches reach loopback and private addresses
    base_dir: str | None = None  # where local images may come from (a file's own folder; none for stdin)
    overrides: dict = field(default_factory=dict)


class Progress:
    """Receives progress events; the CLI shows them, the library only calls these."""

    def book_started(self, title: str, sections: int, utterances: int) -> None: ...
    def section_started(self, entry: TocEntry) -> None: ...
    def utterance_done(self, entry: TocEntry) -> None: ...
    def section_finished(self, entry: TocEntry, seconds: float | None) -> None: ...
    def stage(self, name: str) -> None: ...


def book_slug(source: Source, title: str) -> str:
    """The output folder's name: from the file name, a URL's last path segment, or the title."""
    if source.url:
        stem = url_slug(source.url)
    elif source.name != "stdin":
        stem = Path(source.name).name.rsplit(".", 1)[0]
    else:
        stem = ""
    return slugify(stem, fallback="") or slugify(title, fallback="article")


def article_of(source: Source, metadata) -> Article:
    """Which article a book is, to tell its folder from another article's of the same name: its
    URL (the page's canonical one, else where it was fetched), else the input file's absolute
    path, else (standard input) its title."""
    if metadata.source_url or source.url:
        origin = f"url:{metadata.source_url or source.url}"
    elif source.name != "stdin":
        origin = f"file:{Path(source.name).resolve()}"
    else:
        origin = f"stdin:{metadata.title}"
    return Article.of(origin, metadata.identifier, source.name)


def modified_time(source: str) -> datetime:
    """dcterms:modified: SOURCE_DATE_EPOCH when set, else the input file's mtime (reproducible)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    try:
        return datetime.fromtimestamp(int(Path(source).stat().st_mtime), tz=timezone.utc)
    except OSError:
        return datetime.now(timezone.utc).replace(microsecond=0)


def convert(source: str, out_parent: Path, options: Options, progress: Progress | None = None) -> Path:
    """Convert one article into ``out_parent/<slug>/``; returns that folder."""
    progress = progress or Progress()
    loaded = load(source, base_dir=options.base_dir, private_network=options.private_network)
    images = ImageResolver(loaded.folder, loaded.url, fetch_remote=options.fetch_images, reach=loaded.reach)
    book = read_html(loaded.data, source_name=loaded.name, base_url=loaded.url, charset=loaded.charset,
                     http_language=loaded.language, overrides=options.overrides,
                     split_level=options.split_level, images=images)
    toc = build_toc(book)
    # None also when 'auto' finds no offline voice clear enough in this language (it says so)
    engine = book_engine(options.engine, book.metadata.language, options.voice, options.rate) \
        if options.audio else None
    lexicon = load_lexicon(options.lexicon)
    cache = SpeechCache(enabled=options.cache)
    cover = make_cover(book, images, cache if engine is not None else None)  # a text-only run leaves no cache

    def build(folder: Path, slug: str) -> None:
        def writing(name: str):  # a full disk names the output being written, never a temporary file
            return output_file(out_parent / slug / name, folder)

        audio = durations = None
        with writing(cover.name):
            (folder / cover.name).write_bytes(cover.data)
        if engine is not None:
            voices = Voices(engine, book.metadata.language, options.engine, options.rate)
            pcm = folder / ".pcm"  # the sections' PCM, for the full-length audiobook; removed below
            pcm.mkdir()
            try:
                with writing("audio"):
                    audio = render_audio(book, toc, voices, folder, progress, cache, lexicon, options.read_code,
                                         options.pause_scale, keep_pcm=pcm if options.audiobook else None,
                                         cover=cover)
                durations = {number: section.duration for number, section in audio.items()}
                if options.audiobook:
                    progress.stage("audiobook")
                    with writing(f"{slug}.m4b"):
                        write_audiobook(toc, audio, pcm, engine.sample_rate, book.metadata, engine.voice, folder,
                                        slug, cache, cover)
            finally:
                shutil.rmtree(pcm, ignore_errors=True)
        read_along = ReadAlong(audio, folder) if audio is not None and options.read_along else None
        with writing(f"{slug}.epub"):
            write_epub(book, toc, folder / f"{slug}.epub", modified=modified_time(source),
                       narrator=engine.voice if engine else "", read_along=read_along, cover=cover)
        playlist = transcript = None
        if durations is not None:
            with writing(f"{slug}.m3u8"):
                playlist = write_playlist(toc, durations, folder / f"{slug}.m3u8").name
            with writing(f"{slug}.vtt"):
                transcript = write_transcripts(toc, audio, folder, f"{slug}.vtt").name
            with writing("feed.xml"):
                write_feed(book, toc, audio, folder, folder / "feed.xml", modified=modified_time(source),
                           base_url=options.base_url, epub_name=f"{slug}.epub", cover=cover)
            with writing("index.html"):
                write_listening_page(book, toc, audio, folder / "index.html", slug=slug, voice=engine.voice, files={
                    "EPUB (read-along)" if read_along else "EPUB": f"{slug}.epub",
                    **({"Audiobook (M4B, with chapters)": f"{slug}.m4b",
                        "Audiobook (MP3, with chapters)": f"{slug}.mp3"} if options.audiobook else {}),
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
        with writing("manifest.json"):
            write_manifest(book, toc, audio, used, f"{slug}.epub", folder / "manifest.json")

    return publish(out_parent, book_slug(loaded, book.metadata.title), article_of(loaded, book.metadata), build)
