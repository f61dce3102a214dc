"""What each section's MP3 says: a script of utterances with the pauses between them.

A section is read as its heading, then its blocks: paragraphs sentence by sentence,
list items one by one, quotes announced, images as their text alternative. The
opening section first announces the article (title, byline, publisher, date) and
says that the voice is synthetic, naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import assert_never

from ..model import (
    Block,
    CodeBlock,
    Heading,
    Image,
    ListBlock,
    Metadata,
    Paragraph,
    Quote,
    Section,
    Sentence,
    Table,
    iter_blocks,
    plain_text,
)
from ..phrases import list_of_names, long_date, narrator_notice, phrase, phrase_language
from ..structure.ids import BYLINE_ID, CREDIT_ID, DATELINE_ID, NARRATOR_ID, TITLE_ID
from ..structure.segment import cut_sentences, is_marker, split_long, spoken_text
from .speech_text import normalize

# Pauses in milliseconds: clearly longer between larger units.
PAUSE_SENTENCE = 350
PAUSE_ITEM = 500
PAUSE_PARAGRAPH = 750
PAUSE_HEADING = 900
LEAD_IN = 300
LEAD_OUT = 1500  # silence closing each section's MP3, before the next track starts


@dataclass(frozen=True)
class Utterance:
    text: str
    pause_after: int  # milliseconds of silence after it
    lang: str = ""  # the language to speak it in; '' is the book's
    unit: str = ""  # id of the element of the text it belongs to (its clip in read-along)
    display: str = ""  # what it says as written ('2026', not 'twenty twenty-six', 法律 not ほうりつ): the transcript


def speakable(text: str) -> str:
    """Text as an engine should receive it: typographic quotes made plain, spaces collapsed."""
    # apostrophes as typed on German and other keyboards (´ `), and modifier-letter ones, too: an engine
    # reads "tut´s" as three words
    plain: dict[str, str | int | None] = {
        "’": "'",
        "‘": "'",
        "´": "'",
        "`": "'",
        "ʼ": "'",
        "“": '"',
        "”": '"',
        "\u00a0": " ",
    }
    text = text.translate(str.maketrans(plain))
    return " ".join(text.split())


def announcement(meta: Metadata, voice: str) -> list[tuple[str, str]]:
    """The opening lines with the ids of their elements: title, byline, publisher and date, notice."""
    lang = meta.language
    lines = [(meta.title, TITLE_ID)]
    if meta.author:
        authors = list_of_names(meta.authors, phrase_language(lang))  # in the language the line is spoken in
        lines.append((phrase(lang, "by", author=authors), BYLINE_ID))
    published = long_date(meta.date, phrase_language(lang)) if meta.date else ""
    if meta.publisher and published:
        lines.append((phrase(lang, "published_by_on", publisher=meta.publisher, date=published), DATELINE_ID))
    elif meta.publisher:
        lines.append((phrase(lang, "published_by", publisher=meta.publisher), DATELINE_ID))
    elif published:
        lines.append((phrase(lang, "published_on", date=published), DATELINE_ID))
    credit = credit_line(meta)
    if credit:
        lines.append((credit, CREDIT_ID))
    lines.append((narrator_notice(voice, lang), NARRATOR_ID))
    return lines


def credit_line(meta: Metadata) -> str:
    """'Source: URL. Licensed under CC BY-SA 3.0.' in the book's language; '' when there is neither."""
    parts = []
    if meta.source_url:
        parts.append(phrase(meta.language, "source", source=meta.source_label))
    if meta.license:
        parts.append(phrase(meta.language, "license", license=meta.license))
    return " ".join(parts)


def _phrases_lang(meta: Metadata) -> str:
    """'' when the announcements are in the book's language, else 'en' (read by an English voice)."""
    return "" if phrase_language(meta.language) == meta.language.split("-")[0].lower() else "en"


def section_script(section: Section, meta: Metadata, voice: str, *, read_code: bool = False) -> list[Utterance]:
    """The utterances of one section's MP3, in reading order, as the engine should receive them."""
    script: list[Utterance] = []
    say = _Say(meta.language, _phrases_lang(meta))
    if section.is_opening:
        lines = announcement(meta, voice)
        script.append(Utterance(lines[0][0], PAUSE_HEADING, "", lines[0][1]))
        script.extend(
            Utterance(line, PAUSE_PARAGRAPH if i == len(lines) - 2 else PAUSE_SENTENCE, say.lang, unit)
            for i, (line, unit) in enumerate(lines[1:])
        )
    else:
        script.append(Utterance(section.title, PAUSE_HEADING, section.lang, TITLE_ID))
    for block in section.blocks:
        script.extend(_block_script(block, "", say, read_code))
    out: list[Utterance] = []
    for u in _bounded(script):
        lang = u.lang or meta.language
        text = normalize(speakable(u.text), lang)
        if re.search(r"\w", text):
            out.append(
                Utterance(
                    text,
                    u.pause_after,
                    u.lang if u.lang != meta.language else "",
                    u.unit,
                    " ".join((u.display or u.text).split()),
                )
            )
        elif out and out[-1].unit == u.unit:  # a silent piece of a sentence keeps its pause
            out[-1] = replace(out[-1], pause_after=max(out[-1].pause_after, u.pause_after))
    return out


def _bounded(script: list[Utterance]):
    """The utterances, a too long one (a heading, a table row, an image's text) cut into several of
    the same element, with no pause between them; sentences are cut so already (``segment``). Its
    written form (``display``) is cut alike, or where it cannot be (a ruby reading is not the same
    length as its kanji) each piece shows what it says."""
    for u in script:
        pieces = split_long(u.text)
        if len(pieces) == 1:
            yield u
            continue
        shown = split_long(u.display) if u.display else pieces
        if len(shown) != len(pieces):
            shown = pieces
        for piece, display in zip(pieces[:-1], shown):
            yield replace(u, text=piece, display=display, pause_after=0)
        yield replace(u, text=pieces[-1], display=shown[-1])


def _with_pause(utterances: list[Utterance], pause: int) -> list[Utterance]:
    """The same utterances, the last one followed by ``pause``."""
    if utterances:
        utterances[-1] = replace(utterances[-1], pause_after=pause)
    return utterances


@dataclass(frozen=True)
class _Say:
    """Announcements ('Quote.', 'Table: ...') in the book's language, or in English marked as such."""

    book_lang: str
    lang: str  # '' or 'en'

    def __call__(self, key: str, pause: int, unit: str, **values: str) -> Utterance:
        return Utterance(phrase(self.book_lang, key, **values), pause, self.lang, unit)


def _block_script(block: Block, lang: str, say: _Say, read_code: bool = False) -> list[Utterance]:
    lang = getattr(block, "lang", "") or lang  # images and code have no language of their own
    match block:
        case Heading():
            return [Utterance(reading(block.spans), PAUSE_HEADING, lang, block.anchor, block.text)]
        case Paragraph():
            return _paragraph(block, lang, PAUSE_PARAGRAPH)
        case ListBlock():
            out: list[Utterance] = []
            for item in block.items:
                start = len(out)
                for inner in item.blocks:
                    out.extend(_block_script(inner, lang, say, read_code))
                # inside an item, nothing pauses longer than the step to the next item
                out[start:] = [replace(u, pause_after=min(u.pause_after, PAUSE_ITEM)) for u in out[start:]]
                _with_pause(out, PAUSE_ITEM)
            return _with_pause(out, PAUSE_PARAGRAPH)
        case Quote():
            quoted = [u for b in block.blocks for u in _block_script(b, lang, say, read_code)]
            return [
                say("quote", PAUSE_SENTENCE, block.anchor),
                *quoted,
                say("end_quote", PAUSE_PARAGRAPH, block.anchor),
            ]
        case Table():
            return _table_script(block, say)
        case CodeBlock():
            if read_code:
                lines = [line.strip() for line in block.text.splitlines() if line.strip()]
                return _with_pause(
                    [say("code", PAUSE_SENTENCE, block.anchor)]
                    + [Utterance(line, PAUSE_SENTENCE, "", block.anchor) for line in lines],
                    PAUSE_PARAGRAPH,
                )
            return [say("code_skipped", PAUSE_PARAGRAPH, block.anchor)]
        case Image():
            shown: list[Utterance] = []
            if block.alt:
                shown.append(say("image", PAUSE_SENTENCE, block.anchor, alt=block.alt))
            if block.caption:
                caption = Paragraph(block.caption, lang=lang or say.book_lang)  # its sentences cut in its language
                shown.extend(_paragraph(caption, lang, PAUSE_SENTENCE, unit=block.caption_id))
            return _with_pause(shown, PAUSE_PARAGRAPH)
        case _:
            assert_never(block)


def _cell_text(cell, read=False) -> str:
    return " ".join(
        reading(b.spans) if read else b.text for b in iter_blocks(cell.blocks) if isinstance(b, (Paragraph, Heading))
    )


def _table_script(table: Table, say: _Say) -> list[Utterance]:
    """A table row by row, each cell preceded by its column's header."""
    caption = plain_text(table.caption)
    out = [
        say("table_caption", PAUSE_SENTENCE, table.anchor, caption=caption)
        if caption
        else say("table", PAUSE_SENTENCE, table.anchor)
    ]
    headers: list[str] = []
    row_ids = table.row_ids or ("",) * len(table.rows)
    for row, row_id in zip(table.rows, row_ids):
        if all(cell.header for cell in row):
            headers = [_cell_text(cell) for cell in row]
            continue
        parts, shown = [], []
        for i, cell in enumerate(row):
            text = _cell_text(cell)
            if text:
                name = headers[i] if i < len(headers) and headers[i] and not cell.header else ""
                parts.append(f"{name}: {_cell_text(cell, read=True)}" if name else _cell_text(cell, read=True))
                shown.append(f"{name}: {text}" if name else text)
        if parts:
            out.append(Utterance("; ".join(parts) + ".", PAUSE_ITEM, "", row_id, "; ".join(shown) + "."))
    out.append(say("end_table", PAUSE_PARAGRAPH, table.anchor))
    return out


def _paragraph(block: Paragraph, lang: str, last_pause: int, unit: str = "") -> list[Utterance]:
    """A paragraph sentence by sentence; a sentence with words in another language is read in
    pieces, each by the voice of its language, with no pause between them."""
    sentences = block.sentences or tuple(Sentence(unit, group) for group in cut_sentences(block.spans, block.lang))
    out: list[Utterance] = []
    for k, sentence in enumerate(sentences):
        runs = _language_runs(sentence.spans, lang)
        for i, (run_lang, spans) in enumerate(runs):
            pause = 0 if i < len(runs) - 1 else (last_pause if k == len(sentences) - 1 else PAUSE_SENTENCE)
            out.append(Utterance(reading(spans), pause, run_lang, unit or sentence.id, spoken_text(spans)))
    return out


_KANA_READING = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\s]+")


def reading(spans) -> str:
    """Inline text as it is read aloud: where the page gives a reading in kana (furigana on
    ``<ruby>``), the reading instead of the kanji it annotates, as the page wants them read;
    footnote markers left out. Other ruby (pinyin, glosses) is not a reading to speak."""
    return " ".join(
        "".join(
            s.ruby.replace(" ", "") if s.ruby and _KANA_READING.fullmatch(s.ruby) else s.text
            for s in spans
            if not is_marker(s)
        ).split()
    )


def _language_runs(spans, lang: str) -> list[tuple[str, list]]:
    """Consecutive spans grouped by the language they are in."""
    runs: list[tuple[str, list]] = []
    for span in spans:
        span_lang = span.lang or lang
        if runs and (runs[-1][0] == span_lang or not span.text.strip()):
            runs[-1][1].append(span)
        else:
            runs.append((span_lang, [span]))
    return runs
