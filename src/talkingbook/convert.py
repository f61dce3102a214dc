"""The conversion pipeline, as a recipe: load → read → structure → cover → narrate → each output step.

Outputs are built in a temporary folder beside the target and moved into place only when
everything succeeded, so a failed run leaves the output folder as it was (see
:mod:`talkingbook.system.publish` for which folder a book may replace).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from . import __version__
from .cover import make_cover
from .engines import Engine, book_engine
from .errors import TalkingbookError
from .library import CATALOG, refresh_locked
from .model import Book, Cover
from .narration.lexicon import load_lexicon
from .narration.render import Voices, render_audio
from .publication import Layout, Narration, Options, Publication
from .readers.html import ReaderOptions, read_html
from .readers.metadata import with_overrides
from .readers.net import Reach
from .readers.sources import Source, load, url_slug
from .structure.sections import structure
from .structure.toc import TocEntry, build_toc, slugify
from .system.cache import SpeechCache
from .system.publish import Article, current_book, output_file, publish
from .writers import STEPS, planned

log = logging.getLogger(__name__)

__all__ = ["Converted", "Options", "Progress", "convert_article"]


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
    slug = slugify(stem, fallback="") or slugify(title, fallback="article")
    return f"{slug}-book" if slug == CATALOG else slug  # DIR/catalog/ is the library's OPDS catalog


@dataclass(frozen=True)
class Converted:
    """Where a book is, and whether it was left as it was (made earlier from the same page and options)."""

    folder: Path
    unchanged: bool = False


def article_of(source: Source, metadata, digest: str = "") -> Article:
    """Which article a book is, to tell its folder from another article's of the same name: its
    URL (the page's canonical one, else where it was fetched), else the input file's absolute
    path, else (standard input) its title."""
    if metadata.source_url or source.url:
        origin = f"url:{metadata.source_url or source.url}"
    elif source.name != "stdin":
        origin = f"file:{Path(source.name).resolve()}"
    else:
        origin = f"stdin:{metadata.title}"
    return Article.of(origin, metadata.identifier, source.name, digest)


def made_from(source: Source, name: str, options: Options, engine: Engine | None = None) -> str:
    """A digest of everything a book is made from that a batch can know before making it: the page's
    bytes and address, the options, the voice that reads it (``engine``: 'auto' picks another once
    a better voice is installed), the lexicon's text, the modification date and our version."""
    lexicon = b""
    if options.lexicon:
        try:
            lexicon = Path(options.lexicon).read_bytes()
        except OSError:
            lexicon = b"unreadable"  # the conversion reports it
    parts = {
        "version": __version__,
        "page": hashlib.sha256(source.data).hexdigest(),
        "url": source.url,
        "options": options.recorded(),
        "voice": [engine.name, engine.voice, engine.sample_rate, engine.rate] if engine is not None else None,
        "lexicon": hashlib.sha256(lexicon).hexdigest(),
        "modified": modified_time(name).isoformat() if not source.url else os.environ.get("SOURCE_DATE_EPOCH", ""),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def modified_time(source: str) -> datetime:
    """dcterms:modified: SOURCE_DATE_EPOCH when set, else the input file's mtime (reproducible)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    try:
        return datetime.fromtimestamp(int(Path(source).stat().st_mtime), tz=UTC)
    except OSError:
        return datetime.now(UTC).replace(microsecond=0)


def convert_article(
    source: str,
    out_parent: Path,
    options: Options,
    progress: Progress | None = None,
    keep_unchanged: bool = False,
    library: bool = True,
    linked_from: Reach | None = None,
) -> Converted:
    """Convert one article into ``out_parent/<slug>/``. With ``keep_unchanged``, a book made earlier
    from the same page, options and version (its marker's digest) is left as it is. Without
    ``library``, the library files are left for the caller to refresh (a cluster's client does).
    ``linked_from``: the reach of the feed whose link ``source`` is (see readers.sources.load)."""
    progress = progress or Progress()
    loaded = load(source, base_dir=options.base_dir, private_network=options.private_network, linked_from=linked_from)
    document = read_html(loaded, ReaderOptions(fetch_images=options.fetch_images))
    document = replace(document, metadata=with_overrides(document.metadata, options.overrides))
    language = document.metadata.language
    # None also when 'auto' finds no offline voice clear enough in this language (it says so)
    engine = book_engine(options.engine, language, options.voice, options.rate) if options.audio else None
    article = article_of(loaded, document.metadata, made_from(loaded, source, options, engine))
    slug = book_slug(loaded, document.metadata.title)
    if keep_unchanged and (earlier := current_book(out_parent, slug, article)) is not None:
        return Converted(earlier, unchanged=True)
    book = structure(document, options.split_level)
    assert book.metadata.language == language, "the voice was chosen for the page's language"
    toc = build_toc(book)
    # a text-only run neither reads nor leaves a cache (nor looks for where it would be)
    cache = SpeechCache(enabled=options.cache) if engine is not None else None
    cover = make_cover(book, cache)

    def build(folder: Path, slug: str) -> None:
        layout = Layout(slug)
        pcm = folder / ".pcm"  # the sections' PCM, for the full-length audiobook; removed at the end
        try:
            with output_file(out_parent / slug / layout.AUDIO, folder):
                narration = _narrate(book, toc, layout, engine, options, folder, pcm, cache, cover, progress)
            pub = Publication(
                book,
                toc,
                layout,
                options,
                modified_time(source),
                cover,
                narration,
                cache,
            )
            pub = replace(pub, outputs=planned(pub))
            for step in STEPS:
                if step.applies(pub):
                    progress.stage(step.name)
                    first = pub.outputs[step.name][0].path
                    with output_file(out_parent / slug / first, folder):  # a full disk names this output
                        step.write(pub, folder)
        finally:
            shutil.rmtree(pcm, ignore_errors=True)

    return Converted(publish(out_parent, slug, article, build, refresh_library if library else None))


def refresh_library(folder: Path) -> None:
    """The library files of ``folder`` (index.html, feed.xml, catalog/), now that the book is in place;
    a failure is a warning: the book itself is written."""
    try:
        refresh_locked(folder)
    except (OSError, TalkingbookError) as exc:
        log.warning(
            "%s: the library files were not refreshed (%s); `talkingbook library %s` retries",
            folder,
            exc.strerror if isinstance(exc, OSError) else exc.why,
            folder,
        )


def _narrate(
    book: Book,
    toc: tuple[TocEntry, ...],
    layout: Layout,
    engine: Engine | None,
    options: Options,
    folder: Path,
    pcm: Path,
    cache: SpeechCache | None,
    cover: Cover,
    progress: Progress,
) -> Narration | None:
    """Speak every section into its tagged MP3 (None for a text-only book); with the audiobook, each
    section's unlevelled PCM is kept in ``pcm`` for it."""
    if engine is None or cache is None:
        return None
    voices = Voices(engine, book.metadata.language, options.engine, options.rate)
    keep = pcm if options.audiobook else None
    if keep is not None:
        keep.mkdir()
    sections = render_audio(
        book,
        toc,
        layout,
        voices,
        folder,
        progress,
        cache,
        load_lexicon(options.lexicon),
        options.read_code,
        options.pause_scale,
        keep_pcm=keep,
        cover=cover,
    )
    return Narration(engine.name, engine.voice, engine.sample_rate, sections, keep)
