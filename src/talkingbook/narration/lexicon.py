"""Pronunciation lexicons applied before any engine speaks: a TOML word list or W3C PLS.

TOML::

    [words]
    "K-pop" = "kay pop"
    Seoul = "sole"

PLS (https://www.w3.org/TR/pronunciation-lexicon/): each ``<lexeme>``'s ``<grapheme>``
is replaced by its ``<alias>``. Phoneme entries cannot be shared by every engine (each
has its own phoneme set), so lexemes with only ``<phoneme>`` are skipped with a warning.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import InputError

log = logging.getLogger(__name__)
PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"


# A word, or one other visible character: where a grapheme may begin ("K-pop" begins with "K").
_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD_CHAR = re.compile(r"\w")


@dataclass(frozen=True)
class Lexicon:
    """Graphemes and their spoken forms, longest first (so "New York City" wins over "New York")."""

    entries: tuple[tuple[str, str], ...] = ()
    # graphemes by their first token, longest first: a lookup per token of the text, where one
    # pattern per entry took 372 s for 20,000 entries on a 500-sentence article
    _index: dict[str, list[tuple[str, str]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[tuple[str, str]]] = {}
        for grapheme, alias in self.entries:
            first = _TOKEN.match(grapheme)
            if first is not None:
                index.setdefault(first.group(), []).append((grapheme, alias))
        object.__setattr__(self, "_index", index)

    def apply(self, text: str) -> str:
        """``text`` with every whole-word grapheme replaced by its spoken form, taken literally
        (an alias is never a pattern, and the text it puts in is not looked up again)."""
        if not self._index:
            return text
        out: list[str] = []
        done = 0
        for token in _TOKEN.finditer(text):
            start = token.start()
            candidates = self._index.get(token.group())
            if start < done or candidates is None or (start and _WORD_CHAR.match(text, start - 1)):
                continue
            for grapheme, alias in candidates:
                end = start + len(grapheme)
                if text.startswith(grapheme, start) and not _WORD_CHAR.match(text, end):
                    out += (text[done:start], alias)
                    done = end
                    break
        out.append(text[done:])
        return "".join(out)


def load_lexicon(path: str | None) -> Lexicon:
    """Read a .toml word list or a .pls lexicon; None gives the empty lexicon."""
    if not path:
        return Lexicon()
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(str(path), exc.strerror or "cannot read the lexicon") from exc
    if file.suffix.lower() in (".pls", ".xml") or data.lstrip().startswith(b"<"):
        entries = _pls(data, path)
    else:
        try:
            words = tomllib.loads(data.decode("utf-8")).get("words", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(str(path), f"not a TOML lexicon ({exc})") from exc
        if not isinstance(words, dict) or not all(isinstance(v, str) for v in words.values()):
            raise InputError(str(path), 'expected a [words] table of "word" = "spoken form"')
        entries = [(word.strip(), spoken) for word, spoken in words.items() if word.strip()]
    # longest first, so that "New York City" wins over "New York"
    return Lexicon(tuple(sorted(entries, key=lambda e: -len(e[0]))))


def _pls(data: bytes, path) -> list[tuple[str, str]]:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise InputError(str(path), f"not a PLS lexicon ({exc})") from exc
    entries: list[tuple[str, str]] = []
    for lexeme in root.iter(f"{{{PLS_NS}}}lexeme"):
        alias = lexeme.find(f"{{{PLS_NS}}}alias")
        spoken = (alias.text or "").strip() if alias is not None else ""
        graphemes = [g.text.strip() for g in lexeme.iter(f"{{{PLS_NS}}}grapheme") if g.text and g.text.strip()]
        if not spoken:
            log.warning("%s: lexeme %s has no <alias>; phonemes are not used", path, graphemes[:1])
            continue
        entries.extend((g, spoken) for g in graphemes)
    return entries
