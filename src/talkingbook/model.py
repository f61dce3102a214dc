"""The document model every reader produces and every writer consumes.

Nothing here knows about HTML, EPUB or MP3: small frozen dataclasses only.
A :class:`Book` is its :class:`Metadata` plus a flat tuple of :class:`Section`;
each section holds its blocks. Inline text is a tuple of :class:`Span`.
``lang`` is set on a block or span only where it differs from what surrounds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, TypeAlias, assert_never

# Pixels an embedded image may have (an Image's ``data``): decoded as RGBA that is 160 MB (a
# 13,000 x 13,000 PNG of 164 kB took 2.1 GB). A 40-megapixel photograph passes; article images
# are a few megapixels.
MAX_IMAGE_PIXELS = 40_000_000

RTL_LANGUAGES = {"ar", "he", "fa", "ur", "yi", "ps", "dv", "ug", "ckb", "sd", "syr"}

# What XML 1.0 cannot carry (every writer's format is XML or is parsed by XML tools): C0 controls
# other than tab, line feed and carriage return (vertical tab and form feed are whitespace, so
# they become spaces), U+FFFE and U+FFFF. Lone surrogates (a file name or argument that was not
# UTF-8, decoded by Python with surrogateescape) cannot even be encoded: they become U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NOT_XML_AS = {"\x0b": " ", "\x0c": " "}


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (see ``_NOT_XML``); the model holds only such text."""
    if _NOT_XML.search(text) is None:  # the common case: no copy
        return text
    return _NOT_XML.sub(lambda m: _NOT_XML_AS.get(m.group(), "\ufffd" if m.group() >= "\ud800" else ""), text)


# The kinds of inline text: '' is plain; 'link' carries an ``href``.
SpanKind: TypeAlias = Literal["", "em", "strong", "code", "sup", "sub", "link"]
# A text direction as the page states it; '' where it states none (the surrounding one holds).
Direction: TypeAlias = Literal["", "rtl", "ltr"]
# What a header cell heads ('' for a data cell), as HTML's scope attribute says.
CellScope: TypeAlias = Literal["", "col", "row", "colgroup", "rowgroup"]


@dataclass(frozen=True)
class Span:
    """A run of inline text.

    ``kind`` is '' (plain), 'em', 'strong', 'code', 'sup', 'sub' or 'link' (with ``href``:
    an absolute URL, or '#anchor' inside the book). ``ruby`` is a reading annotation
    (furigana) of the text; ``anchor`` an id that links may point at.
    """

    text: str
    kind: SpanKind = ""
    href: str | None = None
    lang: str = ""
    dir: Direction = ""
    ruby: str = ""
    anchor: str = ""


Inlines = tuple[Span, ...]


def plain_text(spans: Inlines) -> str:
    """The spans' text joined (without ruby annotations), whitespace collapsed."""
    return " ".join("".join(s.text for s in spans).split())


@dataclass(frozen=True)
class Sentence:
    """One sentence of a paragraph: the unit the narration speaks and read-along highlights."""

    id: str  # element id in the section's XHTML
    spans: Inlines


@dataclass(frozen=True)
class Paragraph:
    spans: Inlines
    lang: str = ""
    dir: Direction = ""
    anchor: str = ""
    sentences: tuple[Sentence, ...] = ()  # set by segment.segment(); their spans are ``spans`` cut up

    @property
    def text(self) -> str:
        return plain_text(self.spans)


@dataclass(frozen=True)
class Heading:
    """A heading inside a section (deeper than the split level): a nested TOC entry."""

    rank: int  # the HTML heading rank, 1-6
    spans: Inlines
    anchor: str = ""  # unique id within the book
    lang: str = ""
    dir: Direction = ""

    @property
    def text(self) -> str:
        return plain_text(self.spans)


@dataclass(frozen=True)
class ListItem:
    blocks: tuple[Block, ...]
    anchor: str = ""


@dataclass(frozen=True)
class ListBlock:
    items: tuple[ListItem, ...]
    ordered: bool = False
    start: int = 1
    lang: str = ""
    dir: Direction = ""


@dataclass(frozen=True)
class Quote:
    blocks: tuple[Block, ...]
    lang: str = ""
    dir: Direction = ""
    anchor: str = ""


@dataclass(frozen=True)
class Image:
    """An image. ``alt`` None: the source gave no text alternative; '' marks it decorative.

    ``data`` and ``media_type`` hold the image when it could be embedded; otherwise only
    its text alternative is kept.
    """

    src: str
    alt: str | None
    caption: Inlines = ()
    data: bytes | None = None
    media_type: str = ""
    anchor: str = ""
    caption_id: str = ""  # id of the figure caption (set by segment.segment())


@dataclass(frozen=True)
class Cell:
    blocks: tuple[Block, ...]
    header: bool = False
    scope: CellScope = ""  # for header cells
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True)
class Table:
    rows: tuple[tuple[Cell, ...], ...]
    caption: Inlines = ()
    anchor: str = ""
    lang: str = ""
    dir: Direction = ""
    row_ids: tuple[str, ...] = ()  # one id per row (set by segment.segment())


@dataclass(frozen=True)
class CodeBlock:
    text: str
    anchor: str = ""


# Every kind of block. A switch over kinds is a ``match`` ending in ``case _: assert_never(block)``,
# so a kind added here is a type error wherever it is not handled, not silently dropped.
Block: TypeAlias = Paragraph | Heading | ListBlock | Quote | Image | Table | CodeBlock


@dataclass(frozen=True)
class Metadata:
    title: str
    language: str = "en"  # BCP 47
    authors: tuple[str, ...] = ()  # each author's name, in the byline's order
    publisher: str = ""
    date: str = ""  # ISO 8601 date (YYYY-MM-DD) or ''
    description: str = ""
    source_url: str = ""  # canonical URL of the article, '' when unknown
    identifier: str = ""  # urn:uuid:..., stable across edits of the text
    license: str = ""  # the licence the page states ('CC BY-SA 3.0'), '' when it states none
    license_url: str = ""
    image: str = ""  # the page's declared lead image (og:image, twitter:image, JSON-LD), as given

    @property
    def author(self) -> str:
        """The authors' names as one line ("Ann Lee, Bob Stone"), '' when none: how a byline shows them."""
        return ", ".join(self.authors)

    @property
    def source_host(self) -> str:
        """The host of the article's URL without 'www.' ('' when the URL is unknown)."""
        return self.source_url.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")

    @property
    def source_label(self) -> str:
        """How the source is named aloud and as its link's text: the publisher, else the site's host."""
        return self.publisher or self.source_host

    @property
    def rights(self) -> str:
        """Credit and rights as one line (dc:rights, the feed's copyright)."""
        parts = []
        if self.license:
            parts.append(f"Licensed under {self.license}" + (f" ({self.license_url})" if self.license_url else ""))
        if self.publisher:
            parts.append(f"Published by {self.publisher}")
        if self.source_url:
            parts.append(f"Source: {self.source_url}")
        return ". ".join(parts) + "." if parts else ""

    @property
    def direction(self) -> Literal["rtl", "ltr"]:
        return "rtl" if self.language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


@dataclass(frozen=True)
class Document:
    """What a reader produces: the article's metadata and its blocks in reading order, flat.

    Sections are cut later (:func:`talkingbook.structure.sections.structure`), as pandoc's
    writers chunk a document, so the reader knows nothing of ``--split-level``.
    """

    metadata: Metadata
    blocks: tuple[Block, ...]
    source_name: str = ""  # file name or URL the document was read from
    title_anchor: str = ""  # the id in-article links gave the title heading (they lead to the opening)
    ids: frozenset[str] = frozenset()  # every id the reader gave out: ids made later stay distinct
    lead_image: Image | None = None  # the page's declared lead image (og:image...), when it could be read
    warnings: tuple[str, ...] = ()  # what the reader doubts about the text it kept (part of the article missing)


@dataclass(frozen=True)
class Section:
    """One unit of the book: one XHTML document, one MP3, one TOC entry.

    ``level`` is the depth in the table of contents (1 = top). ``is_opening`` marks
    the text before the first section heading, titled with the article title.
    ``title`` is the plain-text label every output shows; ``heading`` the heading as the page
    marks it up (emphasis, ruby, language), for the outputs that show markup.
    """

    title: str
    level: int
    blocks: tuple[Block, ...]
    is_opening: bool = False
    lang: str = ""  # the heading's own language, when it differs from the book's
    anchor: str = ""  # the id that in-article links gave the section's heading (they lead to the section)
    heading: Inlines = ()  # the heading's inline markup; () for the opening (its title is the book's)


@dataclass(frozen=True)
class Book:
    """The article cut into sections, each segmented into its spoken units."""

    metadata: Metadata
    sections: tuple[Section, ...]
    source_name: str = ""  # file name or URL the book was read from
    lead_image: Image | None = None  # the page's declared lead image, when it could be read
    warnings: tuple[str, ...] = ()  # the reader's doubts about the text (Document.warnings), kept in manifest.json


def child_blocks(block: Block) -> tuple[Block, ...]:
    """The blocks directly inside ``block`` (list items, quote, table cells)."""
    match block:
        case ListBlock():
            return tuple(b for item in block.items for b in item.blocks)
        case Quote():
            return block.blocks
        case Table():
            return tuple(b for row in block.rows for cell in row for b in cell.blocks)
        case Paragraph() | Heading() | Image() | CodeBlock():
            return ()
        case _:
            assert_never(block)


def iter_blocks(blocks: tuple[Block, ...]) -> Iterator[Block]:
    """Every block in reading order, depth first: nested ones in lists, quotes and tables included.

    The one walk over the block tree (segmenting, the TOC, the cover, the feed and the EPUB use it)."""
    for block in blocks:
        yield block
        yield from iter_blocks(child_blocks(block))


def _block_words(block: Block) -> int:
    """Words of readable text a block holds itself (a list's, quote's or cell's are in its children)."""
    match block:
        case Paragraph() | Heading():
            return len(block.text.split())
        case Image():
            return len((block.alt or "").split()) + len(plain_text(block.caption).split())
        case Table():
            return len(plain_text(block.caption).split())
        case ListBlock() | Quote() | CodeBlock():  # code is no prose: it counts no words
            return 0
        case _:
            assert_never(block)


def section_words(section: Section) -> int:
    """Number of words of readable text in a section, heading included."""
    return len(section.title.split()) + sum(_block_words(b) for b in iter_blocks(section.blocks))


CoverType: TypeAlias = Literal["image/jpeg", "image/png"]
CoverOrigin: TypeAlias = Literal["article", "generated"]  # the page's own image, or one made from the title


@dataclass(frozen=True)
class Cover:
    """The book's cover image: square, at least 1400 pixels, JPEG or PNG."""

    data: bytes
    media_type: CoverType
    origin: CoverOrigin


@dataclass(frozen=True)
class Clip:
    """The stretch of a section's MP3 that belongs to one element of the text (seconds)."""

    unit: str  # the element's id in the section's XHTML
    begin: float
    end: float
    text: str = ""  # what the clip says, as written (its transcript cue)


@dataclass(frozen=True)
class SectionAudio:
    """A section's finished MP3: its length and its clips, contiguous and in reading order.

    ``size`` and ``sha256`` describe the tagged MP3 file, so later steps (the feed's enclosure
    length, the audiobook's cache key) never read it back."""

    duration: float  # seconds
    clips: tuple[Clip, ...]
    loudness: float | None = None  # LUFS after the compressor, before levelling (None: silence)
    size: int = 0  # bytes of the tagged MP3
    sha256: str = ""  # of the tagged MP3
    # seconds in whole MP3 frames (the encoder's delay and padding included): how far on the next
    # section begins in the full-length MP3, which joins the sections' frames (media.audio.mp3_span)
    span: float = 0.0
