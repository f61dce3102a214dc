"""Small builders for tests: a page read as the pipeline reads it, model values written by hand, and
an in-memory Publication, so that a writer can be tested without a whole conversion.

    book(section("Intro", para("Hello ", em("world"))))
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from talkingbook.model import (
    Block,
    Book,
    Clip,
    Cover,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Metadata,
    Paragraph,
    Quote,
    Section,
    SectionAudio,
    Span,
)
from talkingbook.publication import Layout, Narration, Options, Publication
from talkingbook.readers.html import ReaderOptions, read_html
from talkingbook.readers.metadata import with_overrides
from talkingbook.readers.sources import Source
from talkingbook.structure.sections import structure
from talkingbook.structure.segment import segment
from talkingbook.structure.toc import build_toc

MODIFIED = datetime(2026, 1, 1, tzinfo=UTC)


def read(
    data: bytes | str,
    name: str = "page.html",
    *,
    split_level: int | None = None,
    folder: Path | None = None,
    url: str = "",
    charset: str = "",
    language: str = "",
    fetch_images: bool = False,
    overrides: dict | None = None,
) -> Book:
    """A page as ``convert`` reads it: read_html, the overrides, then sections and spoken units."""
    raw = data.encode() if isinstance(data, str) else data
    document = read_html(
        Source(raw, name, url=url, charset=charset, language=language, folder=folder),
        ReaderOptions(fetch_images=fetch_images),
    )
    if overrides:
        document = replace(document, metadata=with_overrides(document.metadata, overrides))
    return structure(document, split_level)


# --- the model by hand ----------------------------------------------------------------------------


def text(value: str) -> Span:
    return Span(value)


def em(value: str) -> Span:
    return Span(value, "em")


def strong(value: str) -> Span:
    return Span(value, "strong")


def ruby(value: str, reading: str) -> Span:
    return Span(value, ruby=reading)


def link(value: str, href: str) -> Span:
    return Span(value, "link", href=href)


def _spans(parts) -> tuple[Span, ...]:
    return tuple(Span(p) if isinstance(p, str) else p for p in parts)


def para(*parts: str | Span, anchor: str = "") -> Paragraph:
    return Paragraph(_spans(parts), anchor=anchor)


def heading(rank: int, *parts: str | Span) -> Heading:
    return Heading(rank, _spans(parts))


def items(*paragraphs: Paragraph, ordered: bool = False) -> ListBlock:
    return ListBlock(tuple(ListItem((p,)) for p in paragraphs), ordered=ordered)


def quote(*blocks: Block) -> Quote:
    return Quote(tuple(blocks))


def image(alt: str | None, data: bytes | None = None, caption: str = "") -> Image:
    return Image(
        src="picture.png",
        alt=alt,
        caption=_spans([caption]) if caption else (),
        data=data,
        media_type="image/png" if data else "",
    )


def section(title: str | tuple[str | Span, ...], *blocks: Block, level: int = 1) -> Section:
    """A section headed ``title`` (a string, or spans with markup)."""
    spans = _spans(title) if isinstance(title, tuple) else (Span(title),)
    return Section("".join(s.text for s in spans), level, tuple(blocks), heading=spans)


def book(
    *sections: Section,
    title: str = "A small book",
    language: str = "en",
    opening: tuple[Block, ...] = (),
    **metadata,
) -> Book:
    """A segmented book: an opening section (``opening``), then ``sections``; ``author="Ann Lee"`` is
    ``authors=("Ann Lee",)``."""
    if "author" in metadata:
        metadata["authors"] = (metadata.pop("author"),)
    meta = Metadata(
        title=title, language=language, identifier="urn:uuid:00000000-0000-0000-0000-000000000001", **metadata
    )
    first = Section(title, 1, opening, is_opening=True)
    return segment(Book(meta, (first, *sections), source_name="built.html"))


# one black pixel's PNG: enough for tags and the EPUB's cover-image, no Pillow needed
COVER = Cover(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944"
        "4154789c63606060000000040001f61738550000000049454e44ae426082"
    ),
    "image/png",
    "generated",
)


def publication(
    the_book: Book,
    *,
    narrated: bool = True,
    slug: str = "small-book",
    options: Options = Options(),
    folder: Path | None = None,
) -> Publication:
    """A Publication of ``the_book`` without speaking it: each section's audio is one clip per spoken
    unit, a second each, saying what the script writes for it (sizes and digests made up; only a
    read-along EPUB reads files: the section MP3s, from the folder it is written to)."""
    from talkingbook.narration.script import section_script
    from talkingbook.writers import planned

    toc = build_toc(the_book)
    narration = None
    if narrated:
        sections = {}
        for entry in toc:
            said: dict[str, list[str]] = {}
            for utterance in section_script(entry.section, the_book.metadata, "Test voice"):
                said.setdefault(utterance.unit, []).append(utterance.display)
            clips = tuple(
                Clip(unit, float(k), float(k + 1), " ".join(pieces)) for k, (unit, pieces) in enumerate(said.items())
            )
            sections[entry.number] = SectionAudio(
                float(len(clips)), clips, -20.0, size=1000 + entry.number, sha256=f"{entry.number:064x}"
            )
        narration = Narration("fake", "Test voice", 16000, sections, folder)
    pub = Publication(the_book, toc, Layout(slug), options, MODIFIED, COVER, narration)
    return replace(pub, outputs=planned(pub))


def write_epub_of(the_book: Book, folder: Path, slug: str = "book", narrator: bool = False) -> Path:
    """Only the EPUB of ``the_book`` (text only; ``narrator``: as a narrated book's opening shows it)."""
    from talkingbook.writers.epub import write_epub

    folder.mkdir(parents=True, exist_ok=True)
    return write_epub(publication(the_book, narrated=narrator, slug=slug, options=Options(read_along=False)), folder)


def replace_writer(monkeypatch, function_name: str, replacement) -> None:
    """Make the output step whose writer is ``function_name`` (``write_playlist``...) call ``replacement``."""
    from talkingbook import convert
    from talkingbook.writers import STEPS

    steps = tuple(replace(step, write=replacement) if step.write.__name__ == function_name else step for step in STEPS)
    assert steps != STEPS, f"no step writes with {function_name}"
    monkeypatch.setattr(convert, "STEPS", steps)
