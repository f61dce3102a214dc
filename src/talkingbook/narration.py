"""What each section's MP3 says: a script of utterances with the pauses between them.

A section is read as its heading, then its blocks: paragraphs sentence by sentence,
list items one by one, quotes announced, images as their text alternative. The
opening section first announces the article (title, byline, publisher, date) and
says that the voice is synthetic, naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .speech_text import normalize
from .model import (
    Block, CodeBlock, Heading, Image, ListBlock, Metadata, Paragraph, Quote, Section, Table, iter_text_blocks,
    plain_text, spoken_date,
)

# Pauses in milliseconds: clearly longer between larger units.
PAUSE_SENTENCE = 350
PAUSE_ITEM = 500
PAUSE_PARAGRAPH = 750
PAUSE_HEADING = 900
LEAD_IN = 300
LEAD_OUT = 1500  # silence closing each section's MP3, before the next track starts

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-Z0-9À-ÖØ-Þ])|[。！？]+")
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sr|Jr|vs|etc|e\.g|i\.e|No|Fig|U\.S|U\.K)\.$")


@dataclass(frozen=True)
class Utterance:
    text: str
    pause_after: int  # milliseconds of silence after it
    lang: str = ""  # the language to speak it in; '' is the book's


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; a break after a common abbreviation is undone."""
    cuts = [m.end() for m in _SENTENCE_END.finditer(text)]
    pieces = [text[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(text)])]
    pieces = [p for p in pieces if p]
    sentences: list[str] = []
    for piece in pieces:
        if sentences and _ABBREVIATIONS.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def speakable(text: str) -> str:
    """Text as an engine should receive it: typographic quotes made plain, spaces collapsed."""
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "}))
    return " ".join(text.split())


def spoken_voice_name(voice: str) -> str:
    """'Piper en_US-joe-medium' as 'Piper joe medium': no language codes read aloud."""
    name = re.sub(r"\b[a-z]{2,3}[_-][A-Z]{2}\b[-_]?", "", voice)
    return " ".join(re.sub(r"[-_]+", " ", name).split())


def announcement(meta: Metadata, voice: str) -> list[str]:
    """The opening lines: title, byline, publisher and date, and the synthetic-voice notice."""
    lines = [meta.title]
    if meta.author:
        lines.append(f"By {meta.author}.")
    published = spoken_date(meta.date) if meta.date else ""
    if meta.publisher and published:
        lines.append(f"Published by {meta.publisher} on {published}.")
    elif meta.publisher:
        lines.append(f"Published by {meta.publisher}.")
    elif published:
        lines.append(f"Published on {published}.")
    lines.append(f"This narration is read by a synthetic voice: {spoken_voice_name(voice)}.")
    return lines


def section_script(section: Section, meta: Metadata, voice: str, *, read_code: bool = False) -> list[Utterance]:
    """The utterances of one section's MP3, in reading order, as the engine should receive them."""
    script: list[Utterance] = []
    if section.is_opening:
        lines = announcement(meta, voice)
        script.append(Utterance(lines[0], PAUSE_HEADING))
        script.extend(Utterance(line, PAUSE_PARAGRAPH if i == len(lines) - 2 else PAUSE_SENTENCE)
                      for i, line in enumerate(lines[1:]))
    else:
        script.append(Utterance(section.title, PAUSE_HEADING, section.lang))
    for block in section.blocks:
        script.extend(_block_script(block, "", read_code))
    out = []
    for u in script:
        lang = u.lang or meta.language
        text = normalize(speakable(u.text), lang)
        if re.search(r"\w", text):
            out.append(Utterance(text, u.pause_after, u.lang if u.lang != meta.language else ""))
    return out


def _with_pause(utterances: list[Utterance], pause: int) -> list[Utterance]:
    """The same utterances, the last one followed by ``pause``."""
    if utterances:
        utterances[-1] = replace(utterances[-1], pause_after=pause)
    return utterances


def _block_script(block: Block, lang: str, read_code: bool = False) -> list[Utterance]:
    lang = getattr(block, "lang", "") or lang
    if isinstance(block, Heading):
        return [Utterance(block.text, PAUSE_HEADING, lang)]
    if isinstance(block, Paragraph):
        return _sentences(spoken_text(block.spans), PAUSE_PARAGRAPH, lang)
    if isinstance(block, ListBlock):
        out: list[Utterance] = []
        for item in block.items:
            start = len(out)
            for inner in item.blocks:
                out.extend(_block_script(inner, lang, read_code))
            # inside an item, nothing pauses longer than the step to the next item
            out[start:] = [replace(u, pause_after=min(u.pause_after, PAUSE_ITEM)) for u in out[start:]]
            _with_pause(out, PAUSE_ITEM)
        return _with_pause(out, PAUSE_PARAGRAPH)
    if isinstance(block, Quote):
        inner = [u for b in block.blocks for u in _block_script(b, lang, read_code)]
        return [Utterance("Quote.", PAUSE_SENTENCE), *inner, Utterance("End of quote.", PAUSE_PARAGRAPH)]
    if isinstance(block, Table):
        return _table_script(block)
    if isinstance(block, CodeBlock):
        if read_code:
            lines = [line.strip() for line in block.text.splitlines() if line.strip()]
            return _with_pause([Utterance("Code example.", PAUSE_SENTENCE)]
                               + [Utterance(line, PAUSE_SENTENCE) for line in lines], PAUSE_PARAGRAPH)
        return [Utterance("A code example is skipped.", PAUSE_PARAGRAPH)]
    if isinstance(block, Image):
        out = []
        if block.alt:
            out.append(Utterance(f"Image: {block.alt}", PAUSE_SENTENCE))
        caption = plain_text(block.caption)
        if caption:
            out.extend(_sentences(caption, PAUSE_SENTENCE))
        if out:
            out[-1] = Utterance(out[-1].text, PAUSE_PARAGRAPH)
        return out
    return []


def _cell_text(cell) -> str:
    return " ".join(b.text for b in iter_text_blocks(cell.blocks) if isinstance(b, (Paragraph, Heading)))


def _table_script(table: Table) -> list[Utterance]:
    """A table row by row, each cell preceded by its column's header."""
    caption = plain_text(table.caption)
    out = [Utterance(f"Table: {caption}" if caption else "Table.", PAUSE_SENTENCE)]
    headers: list[str] = []
    for row in table.rows:
        if all(cell.header for cell in row):
            headers = [_cell_text(cell) for cell in row]
            continue
        parts = []
        for i, cell in enumerate(row):
            text = _cell_text(cell)
            if text:
                name = headers[i] if i < len(headers) and headers[i] and not cell.header else ""
                parts.append(f"{name}: {text}" if name else text)
        if parts:
            out.append(Utterance("; ".join(parts) + ".", PAUSE_ITEM))
    out.append(Utterance("End of table.", PAUSE_PARAGRAPH))
    return out


def _sentences(text: str, last_pause: int, lang: str = "") -> list[Utterance]:
    sentences = split_sentences(text)
    return [Utterance(s, last_pause if i == len(sentences) - 1 else PAUSE_SENTENCE, lang)
            for i, s in enumerate(sentences)]


_MARKER = re.compile(r"^\W*(\d{1,3}|[a-z]|[ivx]{1,4}|note \d+|citation needed)\W*$", re.I)


def spoken_text(spans) -> str:
    """A paragraph's text as it is read: footnote and citation markers left out."""
    kept = [s.text for s in spans
            if not (s.kind in ("sup", "link") and (s.href or "").startswith("#") and _MARKER.match(s.text))
            and not (s.kind == "sup" and _MARKER.match(s.text))]
    return " ".join("".join(kept).split())
