"""The document model every reader produces and every writer consumes.

Nothing here knows about HTML, EPUB or MP3: small frozen dataclasses only.
A :class:`Book` is its :class:`Metadata` plus a flat tuple of :class:`Section`;
each section holds its blocks. Inline text is a tuple of :class:`Span`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Span:
    """A run of inline text; ``kind`` is '' (plain), 'em', 'strong', 'code' or 'link'."""

    text: str
    kind: str = ""
    href: str | None = None


Inlines = tuple[Span, ...]


def plain_text(spans: Inlines) -> str:
    """The spans' text joined, whitespace collapsed."""
    return " ".join("".join(s.text for s in spans).split())


@dataclass(frozen=True)
class Paragraph:
    spans: Inlines

    @property
    def text(self) -> str:
        return plain_text(self.spans)


@dataclass(frozen=True)
class Heading:
    """A heading inside a section (deeper than the split level): a nested TOC entry."""

    rank: int  # the HTML heading rank, 1-6
    spans: Inlines
    anchor: str = ""  # unique id within the book, set by the TOC builder

    @property
    def text(self) -> str:
        return plain_text(self.spans)


@dataclass(frozen=True)
class ListBlock:
    items: tuple[tuple["Block", ...], ...]  # each item is a run of blocks
    ordered: bool = False


@dataclass(frozen=True)
class Quote:
    blocks: tuple["Block", ...]


@dataclass(frozen=True)
class Image:
    """An image; ``alt`` None means the source gave no text alternative."""

    src: str
    alt: str | None
    caption: Inlines = ()


Block = Union[Paragraph, Heading, ListBlock, Quote, Image]


@dataclass(frozen=True)
class Metadata:
    title: str
    language: str = "en"  # BCP 47
    author: str = ""
    publisher: str = ""
    date: str = ""  # ISO 8601 date (YYYY-MM-DD) or ''
    description: str = ""
    source_url: str = ""  # canonical URL of the article, '' when unknown
    identifier: str = ""  # urn:uuid:..., stable across edits of the text


@dataclass(frozen=True)
class Section:
    """One unit of the book: one XHTML document, one MP3, one TOC entry.

    ``level`` is the depth in the table of contents (1 = top). ``is_opening`` marks
    the text before the first section heading, titled with the article title.
    """

    title: str
    level: int
    blocks: tuple[Block, ...]
    is_opening: bool = False


@dataclass(frozen=True)
class Book:
    metadata: Metadata
    sections: tuple[Section, ...]
    source_name: str = ""  # file name or URL the book was read from


def iter_text_blocks(blocks: tuple[Block, ...]):
    """Yield every block, depth first, descending into lists and quotes."""
    for block in blocks:
        yield block
        if isinstance(block, ListBlock):
            for item in block.items:
                yield from iter_text_blocks(item)
        elif isinstance(block, Quote):
            yield from iter_text_blocks(block.blocks)


def section_words(section: Section) -> int:
    """Number of words of readable text in a section, heading included."""
    words = len(section.title.split())
    for block in iter_text_blocks(section.blocks):
        if isinstance(block, (Paragraph, Heading)):
            words += len(block.text.split())
        elif isinstance(block, Image):
            words += len((block.alt or "").split()) + len(plain_text(block.caption).split())
    return words
