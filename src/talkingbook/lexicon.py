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
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .errors import InputError

log = logging.getLogger(__name__)
PLS_NS = "http://www.w3.org/2005/01/pronunciation-lexicon"


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[tuple[str, str], ...] = ()

    def apply(self, text: str) -> str:
        """``text`` with every whole-word grapheme replaced by its spoken form."""
        for grapheme, alias in self.entries:
            text = re.sub(rf"(?<!\w){re.escape(grapheme)}(?!\w)", alias, text)
        return text


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
        entries = list(words.items())
    # longest first, so that "New York City" wins over "New York"
    return Lexicon(tuple(sorted(entries, key=lambda e: -len(e[0]))))


def _pls(data: bytes, path) -> list[tuple[str, str]]:
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise InputError(str(path), f"not a PLS lexicon ({exc})") from exc
    entries = []
    for lexeme in root.iter(f"{{{PLS_NS}}}lexeme"):
        alias = lexeme.find(f"{{{PLS_NS}}}alias")
        graphemes = [g.text.strip() for g in lexeme.iter(f"{{{PLS_NS}}}grapheme") if g.text and g.text.strip()]
        if alias is None or not (alias.text or "").strip():
            log.warning("%s: lexeme %s has no <alias>; phonemes are not used", path, graphemes[:1])
            continue
        entries.extend((g, alias.text.strip()) for g in graphemes)
    return entries
