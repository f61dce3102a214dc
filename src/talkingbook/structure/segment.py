"""Spoken units: every element the narration speaks gets an id, every paragraph its sentences.

``segment(book)`` is a pass over the model (as a pandoc filter is): each paragraph is
cut into :class:`~talkingbook.model.Sentence` objects, and headings, quotes, images,
captions, tables, table rows and code blocks that lack an id get one. The narration
says which id each utterance belongs to, and the EPUB writes the same ids, so audio
and text meet element by element (read-along needs exactly that).

Generated ids start with ``tb-``; the HTML reader never gives out such ids (see ``RESERVED_ID_PREFIXES``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import assert_never

from ..model import (
    Block,
    Book,
    CodeBlock,
    Heading,
    Image,
    Inlines,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Section,
    Sentence,
    Span,
    Table,
)
from .ids import ID_PREFIX
from .ordinals import is_german, ordinal_stops

# A sentence longer than this (in characters) is read and highlighted in pieces, cut after a
# comma, semicolon or colon, else at a space: one engine call on a sentence of 300,000 words
# took gigabytes, and a highlight or a transcript cue minutes long helps no one. News prose
# sentences run 100-250 characters; legal prose reaches 400.
MAX_SENTENCE = 400

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-Z0-9À-ÖØ-Þ])|[。！？]+")
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|vs|etc|e\.g|i\.e|No|Fig|U\.S|U\.K)\.$")
_MARKER = re.compile(r"^\W*(\d{1,3}|[a-z]|[ivx]{1,4}|note \d+|citation needed)\W*$", re.IGNORECASE)


def sentence_bounds(text: str, limit: int = MAX_SENTENCE, language: str = "") -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, whitespace excluded; no break after 'Dr.' and the like,
    nor in German after an ordinal's full stop ('am 4. Mai'); a sentence longer than ``limit`` cut in
    pieces (see ``MAX_SENTENCE``)."""
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    if is_german(language) and cuts:
        stops = set(ordinal_stops(text))
        cuts = [cut for cut in cuts if cut not in stops]
    bounds: list[tuple[int, int]] = []
    for a, b in zip([0, *cuts], [*cuts, len(text)]):
        piece = text[a:b]
        if not piece.strip():
            continue
        start = a + len(piece) - len(piece.lstrip())
        end = a + len(piece.rstrip())
        # only the end of the sentence so far is searched: linear however many abbreviations join it
        if bounds and _ABBREVIATIONS.search(text, max(bounds[-1][0], bounds[-1][1] - 8), bounds[-1][1]):
            bounds[-1] = (bounds[-1][0], end)
        else:
            bounds.append((start, end))
    return [piece for a, b in bounds for piece in _pieces(text, a, b, limit)]


_CLAUSE_END = re.compile(r"[,;:](?=\s)|[、，；：]")
_SPACE = re.compile(r"\s")


def _pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """text[start:end] as pieces of at most ``limit`` characters, cut after the last clause end
    (comma, semicolon, colon) in the second half of each window, else at its last space."""
    pieces = []
    while end - start > limit:
        window = text[start : start + limit]
        cut = (
            max((m.end() for m in _CLAUSE_END.finditer(window, limit // 2)), default=0)
            or max((m.start() for m in _SPACE.finditer(window, 1)), default=0)
            or limit
        )
        piece = window[:cut].rstrip()
        if piece:
            pieces.append((start, start + len(piece)))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def split_long(text: str, limit: int = MAX_SENTENCE) -> list[str]:
    """``text`` (one sentence, a heading, a table row...) in pieces of at most ``limit`` characters."""
    return [text[a:b] for a, b in _pieces(text, 0, len(text), limit)] if len(text) > limit else [text]


def split_sentences(text: str, language: str = "") -> list[str]:
    """The sentences of plain ``text`` in ``language`` (BCP 47; '' for rules common to all)."""
    return [text[a:b] for a, b in sentence_bounds(text, language=language)]


def is_marker(span: Span) -> bool:
    """A footnote or citation marker ([1], a superscript letter): shown, never read."""
    if span.kind == "sup" and _MARKER.match(span.text):
        return True
    return span.kind == "link" and (span.href or "").startswith("#") and bool(_MARKER.match(span.text))


def spoken_text(spans: Sequence[Span]) -> str:
    """Inline text as it is read: footnote and citation markers left out, spaces collapsed."""
    return " ".join("".join(s.text for s in spans if not is_marker(s)).split())


def cut_sentences(spans: Inlines, language: str = "") -> list[Inlines]:
    """The spans grouped by sentence (of ``language``); a span crossing a sentence break is cut in two.

    Breaks are found in the spoken text (markers left out), so '...end.[1] Next' breaks
    after the marker, which stays with its sentence. Ruby, superscripts and subscripts are
    never cut; nothing is ever dropped.
    """
    spoken = "".join("" if is_marker(s) else s.text for s in spans)
    bounds = sentence_bounds(spoken, language=language)
    if len(bounds) <= 1:
        return [_trim(spans)] if spoken.strip() else []
    starts = [a for a, _ in bounds[1:]]  # where each later sentence begins
    nxt = 0  # the next of ``starts`` to reach (an index: popping the list's head would be quadratic)
    groups: list[list[Span]] = [[]]
    pos = 0
    for span in spans:
        if is_marker(span) or not span.text:
            groups[-1].append(span)
            continue
        end = pos + len(span.text)
        whole = bool(span.ruby) or span.kind in ("sup", "sub")  # one unit: "p. 234" in a superscript is not two
        piece = pos  # where the part of the span not yet placed begins
        while nxt < len(starts) and starts[nxt] < end and not whole:
            cut = starts[nxt]
            nxt += 1
            if cut > piece:  # an id stays on the first piece
                groups[-1].append(
                    replace(span, text=span.text[piece - pos : cut - pos], anchor=span.anchor if piece == pos else "")
                )
                piece = cut
            groups.append([])
        while nxt < len(starts) and starts[nxt] <= end and whole:
            nxt += 1
        groups[-1].append(span if piece == pos else replace(span, text=span.text[piece - pos :], anchor=""))
        pos = end
        if nxt < len(starts) and starts[nxt] == end:
            nxt += 1
            groups.append([])
    return [_trim(tuple(g)) for g in _join_silent(groups)]


def _join_silent(groups: list[list[Span]]) -> list[list[Span]]:
    """Groups with nothing to say (markers only: "... p.[4] 234[5]" cuts a page number off as a marker)
    joined to the sentence before them (or after, at the start), so no marker, link or id is lost."""
    joined: list[list[Span]] = []
    waiting: list[Span] = []
    for group in groups:
        if "".join(s.text for s in group if not is_marker(s)).strip():
            joined.append(waiting + group)
            waiting = []
        elif joined:
            joined[-1].extend(group)
        else:
            waiting.extend(group)
    return joined or ([waiting] if waiting else [])


def _trim(spans: Inlines) -> Inlines:
    """Leading and trailing whitespace removed from a sentence's spans."""
    trimmed = list(spans)
    texts = [i for i, s in enumerate(trimmed) if s.text]
    if texts:
        first, last = texts[0], texts[-1]
        trimmed[first] = replace(trimmed[first], text=trimmed[first].text.lstrip())
        trimmed[last] = replace(trimmed[last], text=trimmed[last].text.rstrip())
    return tuple(s for s in trimmed if s.text or s.anchor)


class _Ids:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, existing: str = "") -> str:
        if existing:
            return existing
        self.count += 1
        return f"{ID_PREFIX}{self.count}"


def segment(book: Book) -> Book:
    """The book with sentences and ids on every spoken element (ids unique within each section)."""
    return replace(book, sections=tuple(_section(s, book.metadata.language) for s in book.sections))


def _section(section: Section, language: str) -> Section:
    ids = _Ids()
    return replace(section, blocks=tuple(_block(b, ids, language) for b in section.blocks))


def _block(block: Block, ids: _Ids, language: str) -> Block:
    language = getattr(block, "lang", "") or language  # images and code have no language of their own
    match block:
        case Paragraph():
            groups = cut_sentences(block.spans, language)
            return replace(block, sentences=tuple(Sentence(ids(), group) for group in groups))
        case Heading():
            return replace(block, anchor=ids(block.anchor))
        case ListBlock():
            return replace(
                block,
                items=tuple(
                    ListItem(tuple(_block(b, ids, language) for b in item.blocks), item.anchor) for item in block.items
                ),
            )
        case Quote():
            blocks = tuple(_block(b, ids, language) for b in block.blocks)
            return replace(block, anchor=ids(block.anchor), blocks=blocks)
        case Image():
            return replace(block, anchor=ids(block.anchor), caption_id=ids() if block.caption else "")
        case Table():  # read row by row: rows are the units, cells are not cut up
            return replace(block, anchor=ids(block.anchor), row_ids=tuple(ids() for _ in block.rows))
        case CodeBlock():
            return replace(block, anchor=ids(block.anchor))
        case _:
            assert_never(block)
