"""The one list of sections that every output reads.

Built once from a :class:`~talkingbook.model.Book`: number, title, slug, file names
and nested sub-entries. The EPUB nav and NCX, MP3 tags, playlist and manifest all
take their titles and order from here, so they cannot disagree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..model import Book, Heading, Paragraph, Section, iter_blocks
from .segment import split_sentences


def slugify(text: str, fallback: str = "section", max_length: int = 60) -> str:
    """Lowercase ASCII letters, digits and hyphens; ``fallback`` when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug or fallback


def unique(slug: str, taken: set[str]) -> str:
    """``slug``, or ``slug-2``, ``slug-3``... whichever is not yet in ``taken``; records it."""
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    taken.add(candidate)
    return candidate


@dataclass(frozen=True)
class SubEntry:
    """A heading inside a section: a nested TOC entry pointing at ``anchor``."""

    title: str
    anchor: str
    depth: int  # 1 = directly under its section


@dataclass(frozen=True)
class TocEntry:
    number: int  # 1-based position, also the MP3 track number
    total: int
    title: str  # the exact label used everywhere
    level: int
    slug: str  # NN-section-slug
    section: Section
    subentries: tuple[SubEntry, ...] = ()

    @property
    def xhtml(self) -> str:
        """The section's document inside the EPUB (the book folder's files are named by ``Layout``)."""
        return f"text/{self.slug}.xhtml"

    @property
    def track(self) -> str:
        return f"{self.number}/{self.total}"


def build_toc(book: Book) -> tuple[TocEntry, ...]:
    """Number, name and nest every section of ``book``."""
    total = len(book.sections)
    width = max(2, len(str(total)))
    entries = []
    for number, section in enumerate(book.sections, start=1):
        slug = f"{number:0{width}d}-{slugify(section.title)}"
        entries.append(TocEntry(number, total, section.title, section.level, slug, section, _subentries(section)))
    return tuple(entries)


def _subentries(section: Section) -> tuple[SubEntry, ...]:
    headings = [b for b in iter_blocks(section.blocks) if isinstance(b, Heading) and b.text]
    ranks = sorted({h.rank for h in headings})
    return tuple(SubEntry(h.text, h.anchor, ranks.index(h.rank) + 1) for h in headings)


def summary(entry: TocEntry, limit: int = 400) -> str:
    """The section's first sentences, up to about ``limit`` characters (its title when it has no prose)."""
    text = " ".join(b.text for b in iter_blocks(entry.section.blocks) if isinstance(b, Paragraph))
    out = ""
    for sentence in split_sentences(text):
        if out and len(out) + len(sentence) > limit:
            break
        out = f"{out} {sentence}".strip()
    return out or entry.title


def book_summary(book: Book, toc: tuple[TocEntry, ...]) -> str:
    """What the book is described with (the audio files' description, the manifest's summary): the page's
    description, else the first sentences of the book."""
    return book.metadata.description or (summary(toc[0]) if toc else "")
