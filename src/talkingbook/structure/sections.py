"""Sections: the reader's flat blocks cut at headings, then segmented into spoken units.

This is the step between reading and writing (pandoc cuts chapters writer-side, from
``writerSplitLevel``): the reader knows nothing of ``--split-level``.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import Block, Book, Document, Heading, Section, Span
from .segment import segment
from .toc import slugify, unique


def structure(document: Document, split_level: int | None = None) -> Book:
    """The document as a book: sections cut at headings (see the README, 'Sections'), every
    spoken element given an id and every paragraph its sentences."""
    sections = _split(document.blocks, document.metadata.title, split_level, set(document.ids))
    if document.title_anchor:  # "back to the top" links lead to the opening
        sections = (replace(sections[0], anchor=document.title_anchor), *sections[1:])
    return segment(
        Book(
            metadata=document.metadata,
            sections=sections,
            source_name=document.source_name,
            lead_image=document.lead_image,
            warnings=document.warnings,
        )
    )


def _split(blocks: tuple[Block, ...], title: str, split_level: int | None, taken: set[str]) -> tuple[Section, ...]:
    """Cut the flat block list at section headings: by default the highest rank present, else every
    rank up to ``split_level``; deeper headings stay inside, each with an id for the TOC."""
    ranks = sorted({b.rank for b in blocks if isinstance(b, Heading)})
    split_ranks = ranks[:1] if split_level is None else [r for r in ranks if r <= split_level]
    sections: list[Section] = []
    current = Section(title, 1, (), is_opening=True)
    body: list[Block] = []
    for block in blocks:
        if isinstance(block, Heading) and block.rank in split_ranks:
            sections.append(replace(current, blocks=tuple(body)))
            # Links to the heading (its own id, or one inside it) lead to the section.
            anchor = block.anchor or next((s.anchor for s in block.spans if s.anchor), "")
            # the id goes on the section (links lead to it), not again on the heading's text
            heading = tuple(replace(s, anchor="") if s.anchor == anchor else s for s in block.spans)
            current = Section(
                block.text, split_ranks.index(block.rank) + 1, (), lang=block.lang, anchor=anchor, heading=heading
            )
            body = []
        elif isinstance(block, Heading):
            body.append(replace(block, anchor=block.anchor or unique("h-" + slugify(block.text, "heading"), taken)))
        else:
            body.append(block)
    sections.append(replace(current, blocks=tuple(body)))
    return tuple(_distinct_titles(_fix_levels(sections)))


def _fix_levels(sections: list[Section]) -> list[Section]:
    """A section never sits more than one level below the one before it."""
    fixed, previous = [], 0
    for section in sections:
        level = min(section.level, previous + 1)
        fixed.append(replace(section, level=level))
        previous = level
    return fixed


def _distinct_titles(sections: list[Section]) -> list[Section]:
    """Two sections never share a label: players would show two identical tracks."""
    seen: dict[str, int] = {}
    out = []
    for section in sections:
        count = seen.get(section.title, 0) + 1
        seen[section.title] = count
        if count > 1:
            suffix = f" ({count})"
            section = replace(
                section,
                title=section.title + suffix,
                heading=(*section.heading, Span(suffix)) if section.heading else (),
            )
        out.append(section)
    return out
