"""A second opinion on what the article is, and the rules by which the two opinions agree.

Readability (:mod:`.extract`) chooses one element of the page and cleans it; trafilatura, a second
extractor with other rules (it reads the page block by block and throws out what its patterns and
its own measures call boilerplate), reads the same page. Where they disagree, the reader decides by
reasons that hold on any page, each stated where it is applied:

- :func:`agree`: the article runs from the first to the last paragraph of prose both keep; at its
  edges, short lines the second reading left out, date lines, the byline, kickers, tool labels and
  rights notices go; inside, the first opinion keeps every short block.
- :func:`restore`: the second reading's prose between two of the book's paragraphs comes in.
- :func:`leads_beside_headline` / :func:`place_leads`: prose between the headline and the article.
- :func:`body_chunks` / :func:`join_chunks`: chunks of a body the page gives one tag and class.
- :func:`without_repeats`: what galleries say twice, and pictures' credit lines.
- :func:`loss_warnings`: what the evidence (declared articleBody, the second reading) says is missing.

Measured with ``bench/bench_extract.py``; no rule names a site or a page.
"""

from __future__ import annotations

import bisect
import collections
import copy
import functools
import itertools
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import assert_never

from bs4 import BeautifulSoup, Tag

from ..model import (
    Block,
    CodeBlock,
    Heading,
    Image,
    ListBlock,
    Metadata,
    Paragraph,
    Quote,
    Span,
    Table,
    child_blocks,
    plain_text,
)
from .dom import UNSPACED, link_density, words

log = logging.getLogger(__name__)

FULL_STOP = re.compile(r"[^\s.…][.!?。！？][\"'”’»」』)]*$")  # a sentence's end (not "Loading...")
SHORT_BLOCK = 12  # words (a character, in scripts written without spaces, counts as a word)
KICKER = 8  # words: a label above an article ('EXCLUSIVE', 'World News', 'Highlights')
RIGHTS_LINE = 40  # words: a copyright notice, not a paragraph about copyright
# Pages larger than this (real articles are under 1 MB) are read by the bounded first reading alone.
SECOND_READING_LIMIT = 2_000_000  # characters


@dataclass(frozen=True)
class Reading:
    """A second extractor's text of the page: its lines, and its words to look phrases up in."""

    lines: tuple[str, ...]
    words: str  # ' w1 w2 … ' (lower case, punctuation dropped, spaces around every word)

    def holds(self, phrase: str) -> bool:
        """Whether the words of ``phrase`` are in this reading, in order and together."""
        return f" {phrase} " in self.words


def reading_of(text: str) -> Reading | None:
    """``text`` as a :class:`Reading` (None when it has no words)."""
    found = words(text)
    lines = tuple(" ".join(line.split()) for line in text.splitlines() if line.strip())
    return Reading(lines, " " + " ".join(found) + " ") if found else None


def _cells(line: str) -> list[str]:
    """A line of the second reading, or the cells of a table row it writes '| a | b |' (on pages laid out in
    tables, the article's paragraphs are such cells)."""
    if not line.lstrip().startswith("|"):
        return [line]
    return [" ".join(cell.split()) for cell in re.split(r"(?<!\\)\|", line) if cell.strip()]


@functools.cache
def _trafilatura():
    """trafilatura, imported without its language identifier (py3langid), or None when it is not installed.

    py3langid loads numpy and a model at import, 0.1 s of the second reading's 0.13 s, for a feature we do
    not ask for (``target_language``): trafilatura imports it in a ``try`` and runs without it, so for
    its import only, ``sys.modules`` says it is absent (Python's documented way to refuse an import). A
    process that imported py3langid itself keeps it.
    """
    blocked = "py3langid" not in sys.modules
    if blocked:
        sys.modules["py3langid"] = None
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a dependency; a broken install reads with one opinion
        return None
    finally:
        if blocked:
            del sys.modules["py3langid"]
    return trafilatura


def second_reading(html: str) -> Reading | None:
    """trafilatura's text of the page, or None when it finds none (or cannot run)."""
    trafilatura = _trafilatura()
    if trafilatura is None:  # pragma: no cover - a dependency; a broken install reads with one opinion
        return None
    # Its own notes ("discarding data: None") are about its reading, not the user's page: the reader says
    # what matters (a loss) itself.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    if len(html) > SECOND_READING_LIMIT:
        return None  # lxml would hold the whole page at once: the bounded first reading is all there is
    try:
        text = trafilatura.extract(html, include_comments=False, include_tables=True, fast=True)
    except Exception as exc:  # noqa: BLE001 - a second opinion that fails is no opinion, never a failed book
        log.debug("trafilatura: %s", exc)
        return None
    return reading_of(text or "")


def agree(blocks: Sequence[Block], reading: Reading | None, metadata: Metadata) -> list[Block]:
    """``blocks`` without the short ones at the article's edges that ``reading`` left out, and without headings
    left with nothing under them.

    Furniture gathers at the edges of the article: before its first paragraph both readings keep (date lines,
    bylines, credits, "Highlights") and after its last (newsletter prompts, copyright, "Comments").
    Inside, a short block is more often the article's own (a step's label, a picture's caption), and the
    first opinion keeps it. At the edges, a line that is a date or the byline goes too (the book states
    the date and the author itself), and after the article, the site's copyright line.
    """
    if reading is None:
        return list(blocks)
    shared = [i for i, b in enumerate(blocks) if _is_agreed_paragraph(b, reading, metadata)]
    if not shared:
        return list(blocks)
    first, last = shared[0], shared[-1]
    islands = _teaser_islands(blocks, first, last, reading)
    kept: list[Block] = []
    for i, block in enumerate(blocks):
        if i in islands:
            continue
        if first <= i <= last:
            kept.append(block)
            continue
        judged = _agreed(block, reading)
        if judged is None and i < first and _heads_content(blocks[:first], i, metadata):
            judged = block
        if judged is not None and not _is_edge_furniture(judged, metadata, before=i < first):
            kept.append(judged)
    return _without_emptied_headings(kept, removed=len(kept) < len(blocks))


ISLAND_BLOCKS = 4  # short lines in a row inside the article that the second reading skips whole: a rail


def _teaser_islands(blocks: Sequence[Block], first: int, last: int, reading: Reading) -> set[int]:
    """The indexes of runs, inside the article, of ``ISLAND_BLOCKS`` or more headings and short lines that are not
    sentences, none of which the second reading holds: a rail of teasers set in the article ('Most read',
    a kicker and a headline per story). The article's own short lines (a step's label, a subheading) sit
    between its paragraphs, one or two at a time."""
    found: set[int] = set()
    run: list[int] = []
    for i in range(first + 1, last + 1):
        block = blocks[i]
        if _is_teaser_line(block, reading):
            run.append(i)
            continue
        if len(run) >= ISLAND_BLOCKS and any(isinstance(blocks[j], Paragraph) for j in run):
            found.update(run)
        run = []
    return found


def _is_teaser_line(block: Block, reading: Reading) -> bool:
    """A heading or a paragraph shorter than prose, not a sentence, with words, that the second reading lacks."""
    if not isinstance(block, (Heading, Paragraph)):
        return False
    said = words(block.text)
    return (
        0 < len(said) < PROSE_WORDS
        and _has_words(block.text)
        and FULL_STOP.search(block.text) is None
        and not reading.holds(" ".join(said))
    )


def _heads_content(blocks: Sequence[Block], at: int, metadata: Metadata) -> bool:
    """Whether ``blocks[at]``, a heading before the article's first agreed paragraph, heads content both readings
    would not call furniture: a formula, a long paragraph, a picture, a table or code, before the next heading
    of its rank and before the article's first agreed paragraph. A page of formulas under headings (a reference
    sheet) starts there; the second reading, which reads no formulas, does not see where. (A heading over the
    first agreed paragraph itself is judged as any edge block: sites put their section's name there.)"""
    heading = blocks[at]
    if not isinstance(heading, Heading):
        return False
    for block in blocks[at + 1 :]:
        if isinstance(block, Heading):
            if block.rank <= heading.rank:
                return False
            continue
        if isinstance(block, (Image, Table, CodeBlock)):
            return True
        if isinstance(block, Paragraph) and not _is_edge_furniture(block, metadata, before=True):
            said = words(block.text)
            if len(said) > SHORT_BLOCK or (said and not _has_words(block.text)):
                return True
    return False


def _is_edge_furniture(block: Block, metadata: Metadata, before: bool) -> bool:
    """Whether ``block``, before the article (``before``) or after it, is the page's and not the article's: a
    date line or the byline; before, a kicker ('EXCLUSIVE', 'World News'); after, a tool's label or the rights
    notice. A line the page marks as written in another language is the author's choice, never a label."""
    if _is_dated_or_signed(block, metadata):
        return True
    if _other_language(block, metadata):
        return False
    if before:
        return _is_label(block, words_at_most=KICKER)
    return _is_label(block) or _is_rights_line(block)


DATE_LINE = 20  # words at most in a line that only dates the article
SIGNED_LINE = 30  # words at most in a line that dates and signs it (site, dates, 'updated', the authors)
ORDINAL = re.compile(r"\d+(st|nd|rd|th|er|e|º|ª)?")
# Words of times and dates in every language: zones, and the characters East Asian dates are written with.
DATE_MARKS = frozenset(
    [
        "am",
        "pm",
        "gmt",
        "utc",
        "est",
        "edt",
        "cst",
        "cdt",
        "mst",
        "mdt",
        "pst",
        "pdt",
        "bst",
        "cet",
        "cest",
        "hst",
        "aest",
        "jst",
        "kst",
        "年",
        "月",
        "日",
        "时",
        "時",
        "分",
        "秒",
        "午",
        "前",
        "后",
        "後",
        "년",
        "월",
        "일",
        "시",
        "분",
        "오",
        "전",
        "후",
    ]
)


def _is_dated_or_signed(block: Block, metadata: Metadata) -> bool:
    """A short paragraph that dates the article ('Updated 10:14 am, Tuesday, May 5, 2026'), names its authors
    ('By Ann Example'), or names them all with dates and not as a sentence (a dateline and byline in one):
    the book says both itself, before the text."""
    if not isinstance(block, Paragraph):
        return False
    said = words(block.text)
    if not said or len(said) > SIGNED_LINE:
        return False
    author = words(metadata.author)
    if len(author) >= 2 and _holds_all(said, author):
        if len(said) <= SHORT_BLOCK:
            return True  # 'By Ann Example'
        if any(w.isdigit() for w in said) and FULL_STOP.search(block.text) is None:
            return True  # 'Le Monde | 04.05.2015 à 13h36 • Mis à jour le … | Par Ann Example (avec …)'
    if len(said) > DATE_LINE:
        return False
    dated = _date_words(metadata.language)
    datish = sum(1 for w in said if ORDINAL.fullmatch(w) or w in dated or w in DATE_MARKS)
    return any(w.isdigit() for w in said) and datish >= 0.6 * len(said)


def _holds_all(said: tuple[str, ...], name: tuple[str, ...]) -> bool:
    return not collections.Counter(name) - collections.Counter(said)


@functools.lru_cache(maxsize=16)
def _date_words(language: str) -> frozenset[str]:
    """The names of months and days in ``language`` and in English, as words (Babel's CLDR data)."""
    from babel import Locale, UnknownLocaleError
    from babel.dates import get_day_names, get_month_names

    names: set[str] = set()
    for tag in {"en", language.split("-")[0] or "en"}:
        try:
            locale = Locale.parse(tag)
        except (ValueError, UnknownLocaleError):
            continue
        for width in ("wide", "abbreviated"):
            for table in (get_month_names(width, locale=locale), get_day_names(width, locale=locale)):
                names.update(w for name in table.values() for w in words(name))
    return frozenset(names)


# How pages claim their rights; a notice names one of these.
RIGHTS_MARKS = re.compile(
    r"©|\bcopyright\b|all rights reserved|tous droits réservés|alle rechte vorbehalten"
    r"|todos los derechos reservados|tutti i diritti riservati|todos os direitos reservados"
    r"|wszelkie prawa zastrzeżone|版权所有|版權所有|無断転載|무단",
    re.IGNORECASE,
)


def _is_rights_line(block: Block) -> bool:
    """A short paragraph claiming the page's copyright ('© 2019 Site. All rights reserved.'): after the article,
    it is the site's, not the article's (the book states its own rights)."""
    return (
        isinstance(block, Paragraph)
        and RIGHTS_MARKS.search(block.text) is not None
        and len(words(block.text)) <= RIGHTS_LINE
    )


def _other_language(block: Block, metadata: Metadata) -> bool:
    """Whether the paragraph is marked as written in another language than the book's."""
    lang = block.lang if isinstance(block, Paragraph) else ""
    return bool(lang) and lang.split("-")[0] != metadata.language.split("-")[0]


def _is_label(block: Block, words_at_most: int = SHORT_BLOCK) -> bool:
    """A short line with words that is not a sentence: after the article, the page's tools, section names and
    buttons ('Print this article', 'Multimedia', 'Font:')."""
    if not isinstance(block, Paragraph):
        return False
    said = words(block.text)
    if any(w.isdigit() for w in said):
        return False  # figures (a scoreboard, a table set as lines) are data, not a button
    return len(said) <= words_at_most and _has_words(block.text) and FULL_STOP.search(block.text) is None


def _has_words(text: str) -> bool:
    """Whether ``text`` has a word of letters (a formula or a number has none)."""
    return bool(UNSPACED.search(text) or re.search(r"[^\W\d_]{2}", text))


REPEAT_WORDS = 6  # a block this long said twice is said once


def without_repeats(blocks: Sequence[Block]) -> list[Block]:
    """``blocks`` without a paragraph, heading or list item whose words (six or more) repeat those of an earlier
    block of another kind (a picture's caption, a list item, a paragraph), and without pictures' credit lines.

    Pages say things twice for the eye: a gallery repeats its captions as paragraphs, a slideshow its
    list of captions. Read aloud, the second time is noise. Two paragraphs alike are the author's own
    and both stay. A credit line ('Photo: Ann Example / AP', 'Image copyright Getty Images') belongs to
    a picture the listener does not see.
    """
    seen: dict[tuple[str, ...], str] = {}
    judged = (
        _pruned(block, lambda leaf, kind: not _is_credit(leaf) and _is_unrepeated(leaf, kind, seen)) for block in blocks
    )
    kept = [b for b in judged if b is not None]
    return _without_emptied_headings(kept, removed=len(kept) < len(blocks))


# A picture's credit: a short line that opens with the word for a photo or picture and a colon or a
# claim of rights, in the languages the reader meets most ('Photo: …', 'Foto: …', '写真：…', '사진=…').
CREDIT_LINE = re.compile(
    r"^\(?(photo(graph)?s?|pictures?|images?|credits?|foto(grafie|grafía|s)?|bild(er)?|imagen|immagine|crédits?"
    r"|zdjęcie|фото|写真|사진|图片|圖片)\b\s*(credit|copyright|courtesy)?\s*[:：=©/|]",
    re.IGNORECASE,
)
CREDIT_WORDS = 12


def _is_credit(leaf: Paragraph | Heading | Image) -> bool:
    return (
        isinstance(leaf, Paragraph)
        and len(words(leaf.text)) <= CREDIT_WORDS
        and (
            CREDIT_LINE.search(leaf.text) is not None
            or re.match(r"(?i)(image|photo) copyright\b", leaf.text) is not None
        )
    )


def _is_unrepeated(leaf: Paragraph | Heading | Image, kind: str, seen: dict[tuple[str, ...], str]) -> bool:
    """Whether ``leaf`` repeats no block of another kind in ``seen`` (words -> kind), which it adds to."""
    if isinstance(leaf, Image):
        caption = words(plain_text(leaf.caption))
        if len(caption) >= REPEAT_WORDS:
            seen.setdefault(caption, "caption")
        return True
    said = words(leaf.text)
    if seen.get(said, kind) != kind:
        return False
    if len(said) >= REPEAT_WORDS:
        seen.setdefault(said, kind)
    return True


def _is_agreed_paragraph(block: Block, reading: Reading, metadata: Metadata) -> bool:
    """A paragraph longer than a short block, not a date line or a rights notice, that the second reading holds
    too: the article runs from the first to the last of them."""
    if not isinstance(block, Paragraph):
        return False
    said = words(block.text)
    if len(said) <= SHORT_BLOCK or _is_dated_or_signed(block, metadata) or _is_rights_line(block):
        return False
    return reading.holds(" ".join(said))


def _agreed(block: Block, reading: Reading) -> Block | None:
    """``block`` as both readings keep it; None when it is a short block the second reading left out."""
    return _pruned(block, lambda leaf, _: _is_kept_by(leaf, reading))


def _is_kept_by(leaf: Paragraph | Heading | Image, reading: Reading) -> bool:
    """Whether a paragraph or heading is long, held by ``reading``, a sentence or no words; pictures are kept."""
    if isinstance(leaf, Image):
        return True  # pictures are not the second reading's to judge (it reads no pictures)
    said = words(leaf.text)
    if not 0 < len(said) <= SHORT_BLOCK or reading.holds(" ".join(said)):
        return True
    if not _has_words(leaf.text):
        return True  # a formula or a number ('a^2+b^2=c^2'): no words that furniture is made of
    # A sentence of the article's own is worth more to a listener than the furniture it could be.
    return isinstance(leaf, Paragraph) and len(said) >= 2 and FULL_STOP.search(leaf.text) is not None


def _pruned(
    block: Block, keep: Callable[[Paragraph | Heading | Image, str], bool], kind: str = "paragraph"
) -> Block | None:
    """``block`` without the paragraphs, headings and pictures ``keep`` refuses (given the leaf and whether it is
    a 'paragraph' or a list's 'item'), inside lists and quotes too; None when nothing of it is left."""
    match block:
        case Paragraph() | Heading() | Image():
            return block if keep(block, kind) else None
        case ListBlock():
            items = []
            for item in block.items:
                inner = [b for b in (_pruned(b, keep, "item") for b in item.blocks) if b is not None]
                if inner or not item.blocks:
                    items.append(replace(item, blocks=tuple(inner)))
            return replace(block, items=tuple(items)) if items else None
        case Quote():
            inner = [b for b in (_pruned(b, keep, kind) for b in block.blocks) if b is not None]
            return replace(block, blocks=tuple(inner)) if inner else None
        case Table() | CodeBlock():  # data and code: kept whole
            return block
        case _:
            assert_never(block)


def _without_emptied_headings(blocks: list[Block], removed: bool) -> list[Block]:
    """Headings followed by nothing but a heading of the same or a higher rank, once their content went."""
    if not removed:
        return blocks
    out: list[Block] = []
    for i, block in enumerate(blocks):
        if isinstance(block, Heading):
            following = next((b for b in blocks[i + 1 :]), None)
            if following is None or (isinstance(following, Heading) and following.rank <= block.rank):
                continue
        out.append(block)
    return out


# A paragraph the second reading adds must read as prose: this many words (or characters, in scripts
# written without spaces) and a sentence's end. Teasers, labels and link lists rarely are both.
PROSE_WORDS = 15
PROSE_CHARACTERS = 40
SENTENCE_END = re.compile(r"[.!?。！？…:;)\"'”’»」』]$")


def restore(blocks: Sequence[Block], reading: Reading | None, declared: Reading | None) -> list[Block]:
    """``blocks`` with the second reading's prose paragraphs that no block holds and that the second reading
    puts inside the article: after a line the book holds and before another, or right before its first.

    An article split over several containers (chunks between advertisements, rows with an ad column)
    is where Readability keeps one part and the second reading reads them all; a lead paragraph set
    beside the headline is read just before the book's first. What the second reading has after the
    book's last line (comments, teasers, "about us") is not added. When the page declares its
    article's text (JSON-LD ``articleBody``, ``itemprop="articleBody"``), only what it declares is.
    """
    if reading is None:
        return list(blocks)
    book = _BookWords(blocks)
    held = [book.holder(line) for line in reading.lines]  # for each line of the second reading
    found = [i for i, h in enumerate(held) if h is not None]
    if not found:
        return list(blocks)
    added: dict[int, list[Block]] = {}
    position = 0  # insert before this block
    for n, line in enumerate(reading.lines):
        holder = held[n]
        if holder is not None:
            position = max(position, holder + 1)
            continue
        if n > found[-1]:
            continue  # after the article as the book has it: comments, teasers, "about us"
        if n < found[0] and not all(_is_prose(reading.lines[m]) for m in range(n, found[0])):
            continue  # before it, but not in the run of prose that leads into its first line
        said = words(line)
        shared = sum((collections.Counter(said) & book.counts).values())
        if shared >= len(said) / 2 or not _is_prose(line):
            continue  # the book has it in other words, or it is not a paragraph of the article
        if declared is not None and not declared.holds(" ".join(said)):
            continue
        added.setdefault(position, []).append(Paragraph((Span(line),)))
    if not added:
        return list(blocks)
    log.debug("the second reading adds %d paragraphs", sum(map(len, added.values())))
    out: list[Block] = []
    for i, block in enumerate(blocks):
        out.extend(added.get(i, ()))
        out.append(block)
    out.extend(added.get(len(blocks), ()))
    return out


class _BookWords:
    """The words of the book's blocks, to find which block holds a line of the second reading."""

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.texts = [" " + " ".join(words(_block_text(b))) + " " for b in blocks]
        # One string for one search per line; blocks meet at a double space, which no phrase spans.
        self.joined = "".join(self.texts)
        self.starts = list(itertools.accumulate((len(t) for t in self.texts[:-1]), initial=0))
        self.counts = collections.Counter(w for t in self.texts for w in t.split())

    def holder(self, line: str) -> int | None:
        """The block whose words hold ``line``'s, or are at least half of them (a line joining blocks)."""
        said = words(line)
        phrase = f" {' '.join(said)} "
        at = self.joined.find(phrase)
        if at >= 0:
            return bisect.bisect_right(self.starts, at) - 1
        least = max(3, len(said) / 2)
        return next((i for i, t in enumerate(self.texts) if t.count(" ") - 1 >= least and t in phrase), None)


def _is_prose(line: str) -> bool:
    """Whether a line of the second reading reads as a paragraph of prose (not a list item: trafilatura writes
    those '- item', and a list of teasers is made of sentences too)."""
    if line.startswith(("- ", "| ")):
        return False
    said = words(line)
    long_enough = len(said) >= PROSE_WORDS or (UNSPACED.search(line) is not None and len(said) >= PROSE_CHARACTERS)
    return long_enough and SENTENCE_END.search(line.rstrip()) is not None


def _block_text(block: Block) -> str:
    """Every word ``block`` shows, its inner blocks' included."""
    match block:
        case Paragraph() | Heading():
            return block.text
        case Image():
            return plain_text(block.caption) + " " + (block.alt or "")
        case CodeBlock():
            return block.text
        case ListBlock() | Quote() | Table():
            return " ".join(_block_text(b) for b in child_blocks(block))
        case _:
            assert_never(block)


# When the book lacks this share of an evidence's words, and at least so many, the reader says so.
DECLARED_LOSS = (0.2, 25)  # the text the page declares is the article's: a fifth of it missing is a loss
READING_LOSS = (0.15, 40)  # of the book's own length: prose the second reading has and the book lacks


def loss_warnings(blocks: Sequence[Block], declared: Reading | None, reading: Reading | None) -> tuple[str, ...]:
    """What the evidence says the book may lack: one line, or none when the book holds what it says.

    The declared text counts whole; of the second reading, only its prose paragraphs the book lacks count,
    the cells of its table rows included (pages laid out in tables hold the article in one); its lists,
    labels and link lines are more often furniture than article. They count against the book's length.
    """
    have = collections.Counter(w for b in blocks for w in words(_block_text(b)))
    if declared is not None:
        want = collections.Counter(declared.words.split())
        missing, total = sum((want - have).values()), sum(want.values())
        share, least = DECLARED_LOSS
        if missing >= least and missing >= share * total:
            return (
                (
                    f"part of the article may be missing: {missing} of the {total} words of the article text "
                    f"the page declares (articleBody) are not in the book"
                ),
            )
        return ()
    if reading is not None:
        book = _BookWords(blocks)
        cells = [cell for line in reading.lines for cell in _cells(line)]
        lacking = _lacking_prose(cells, book)
        missing = sum(sum((collections.Counter(words(line)) - have).values()) for line in lacking)
        share, least = READING_LOSS
        if missing >= least and missing >= share * sum(have.values()):
            return (
                (
                    f"part of the article may be missing: a second reading of the page (trafilatura) finds "
                    f"{len(lacking)} paragraphs of prose ({missing} words) that are not in the book"
                ),
            )
    return ()


SENTENCE_RUN = 3  # short sentences in a row that read as prose together (a timeline, a list of events)
SHORT_SENTENCE_WORDS = 6


def _lacking_prose(cells: Sequence[str], book: _BookWords) -> list[str]:
    """The lines of the second reading the book lacks that are prose: paragraphs, and runs of short sentences
    ('11:05 p.m.: Paramedics arrive.'), each too short alone to tell from a label."""
    lacking: list[str] = []
    run: list[str] = []  # lines in a row the book lacks, each prose or a short sentence
    for cell in [*cells, ""]:
        missing = bool(cell) and book.holder(cell) is None
        if missing and (_is_prose(cell) or _is_short_sentence(cell)):
            run.append(cell)
            continue
        lacking.extend(line for line in run if _is_prose(line) or len(run) >= SENTENCE_RUN)
        run = []
    return lacking


def _is_short_sentence(line: str) -> bool:
    return (
        not line.startswith(("- ", "| "))
        and len(words(line)) >= SHORT_SENTENCE_WORDS
        and FULL_STOP.search(line) is not None
    )


def reading_as_blocks(reading: Reading | None) -> list[Block]:
    """The second reading's prose lines as paragraphs: the book of a page where the first opinion found no text."""
    if reading is None:
        return []
    return [Paragraph((Span(line),)) for line in reading.lines if _is_prose(line)]


LEAD_PARAGRAPHS = 6  # paragraphs after the headline looked at for a lead set beside it


def leads_beside_headline(soup: BeautifulSoup, title: str) -> list[Tag]:
    """Copies of the prose paragraphs that follow the page's headline (its visible <h1> saying ``title``), before
    the extractor cuts the page: the lead (standfirst) some pages set in the headline's block, outside the
    element that holds the rest of the article."""
    wanted = words(title)
    headline = next((h for h in soup.find_all("h1") if wanted and words(h.get_text(" ")) == wanted), None)
    if headline is None:
        return []
    found = headline.find_all_next("p", limit=LEAD_PARAGRAPHS)
    return [copy.copy(p) for p in found if _is_prose(p.get_text(" ")) and link_density(p) < 0.25]


def place_leads(article: Tag, leads: list[Tag]) -> None:
    """Put at the start of ``article`` the ``leads`` that come before the first one it holds, if it holds
    none of them: what lies between the headline and the article's own first paragraph is its lead."""
    held = " " + " ".join(words(article.get_text(" "))) + " "
    missing = []
    for lead in leads:
        if f" {' '.join(words(lead.get_text(' ')))} " in held:
            break
        missing.append(lead)
    else:
        return  # none of them is in the article: they are not next to it
    for lead in reversed(missing):
        article.insert(0, lead)


# A class naming an article's body, and what a chunk of it may be; a page splitting its body in chunks
# (between advertisements, in rows of a grid) gives them all one tag and class.
BODY_CLASS = re.compile(r"body|content|text|story|article|chunk|entry|post|paragraph", re.IGNORECASE)
CHUNK_TAGS = ("div", "section", "article")
MAX_CHUNKS = 40
NOT_IN_A_CHUNK = ("script", "style", "noscript", "template", "iframe", "form", "button", "aside", "nav", "svg")


def body_chunks(soup: BeautifulSoup) -> list[list[Tag]]:
    """Copies of the page's repeated body chunks, before the extractor cuts the page: groups of two or more
    elements of one tag and one class naming a body ('article-body', 'story-text'), none inside another, each
    holding a paragraph of prose, in document order."""
    groups: dict[tuple[str, str], list[Tag]] = {}
    for tag in soup.find_all(CHUNK_TAGS, class_=BODY_CLASS):
        classes = tag.get("class")
        key = (tag.name, " ".join(sorted(classes)) if isinstance(classes, list) else str(classes))
        groups.setdefault(key, []).append(tag)
    found = []
    for members in groups.values():
        if not 2 <= len(members) <= MAX_CHUNKS:
            continue
        ids = {id(m) for m in members}
        if any(id(parent) in ids for m in members for parent in m.parents):
            continue  # nested: one body's wrappers, not its chunks
        if all(_prose_paragraphs(m) for m in members):
            found.append([_cleaned(copy.copy(m)) for m in members])
    return found


def join_chunks(article: Tag, groups: list[list[Tag]], declared: Reading | None) -> None:
    """Put in ``article`` the chunks of a body it holds a chunk of: those before the first it holds at its start,
    those after the last at its end (in the page's order). With the page's declared article text, only chunks
    whose prose it holds."""
    for chunks in groups:
        held = " " + " ".join(words(article.get_text(" "))) + " "
        inside = [_is_held(chunk, held) for chunk in chunks]
        if not any(inside) or all(inside):
            continue
        first, last = inside.index(True), len(inside) - 1 - inside[::-1].index(True)
        if not all(inside[first : last + 1]):
            continue  # it holds chunks apart from each other: no place to put the ones between is sure
        wanted = [declared is None or _is_held(chunk, declared.words) for chunk in chunks]
        for i in reversed(range(first)):
            if wanted[i]:
                article.insert(0, chunks[i])
        for i in range(last + 1, len(chunks)):
            if wanted[i]:
                article.append(chunks[i])


def _prose_paragraphs(element: Tag) -> list[str]:
    return [text for text in (p.get_text(" ") for p in element.find_all("p")) if _is_prose(" ".join(text.split()))]


def _is_held(chunk: Tag, held: str) -> bool:
    """Whether the words of ``chunk``'s longest paragraph of prose are in ``held`` (' w1 w2 … ')."""
    prose = _prose_paragraphs(chunk)
    return bool(prose) and f" {' '.join(words(max(prose, key=len)))} " in held


def _cleaned(chunk: Tag) -> Tag:
    """``chunk`` without scripts, forms, frames, asides and navigation (the extractor cleaned the rest)."""
    for tag in chunk.find_all(NOT_IN_A_CHUNK):
        if not tag.decomposed:
            tag.decompose()
    return chunk
