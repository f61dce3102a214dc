"""Where four figures are a year, in the languages that read a year otherwise than a quantity.

German says 'neunzehnhundertneunzig' for the year 1990 and 'eintausendneunhundertneunzig' for 1990
people (Dutch: 'negentienhonderdnegentig', 'duizendnegenhonderdnegentig'); from 2000 on both read
the same, so only 1100 to 1999 are decided here. French, Spanish, Italian, Polish… read a year as a
cardinal (num2words' 'year' is its cardinal there), so nothing needs deciding for them.

The rule takes reasons it can state, and where it has none the number stays a quantity, as before:

- a year's own context, whatever follows: a month before it ('4. Mai 1990', also what Babel writes
  for '04.05.1990'), a word that names a time ('im Jahr 1990', 'Ende 1990', 'Jahrgang 1990'),
  'geboren' after it ('1990 geboren'), 'seit' before it unless a duration follows ('seit 1990
  Mitglied', but 'seit 1200 Jahren');
- German only, where no such word is there: German capitalises its nouns, so a number followed by a
  noun ('1990 Menschen', the corpus's 'von 1990 Bewertungen'), by an adjective or a plural verb
  ('1500 neue Wohnungen', '1500 starben'), by a unit or a sign ('1500 km', '1500 €'), or after a
  word that counts ('rund 1500', 'auf 1500') is a quantity; one followed by a full stop, a comma or
  a singular verb ('Die Mauer fiel 1990.', '1990 fiel die Mauer', '1990 in Berlin'), or alone in
  brackets ('Helmut Kohl (1930–2017)'), is a year; a number alone in its text (a table's cell) is not.
  Dutch does not capitalise its nouns: there the year's own context counts, and a preposition before a
  number that ends its clause ('Dat was in 1990.'); 'in 1990 mensen' and 'in 1990 viel' cannot be told apart.

Numbers joined into a range ('1990–1995', 'von 1990 bis 1995', 'zwischen 1990 und 1995') are decided
together, by what stands before the first and after the last.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ..structure.ordinals import CONTRACTIONS, DETERMINERS, GERMAN_LOCALES, PREPOSITIONS, month_names, words_before

# Four figures alone: not '1.990', '1990,5', '3.65', 'v1990', '1990er' (a decade, read elsewhere).
FOUR_FIGURES = re.compile(r"(?<![\w.,:/])(\d{4})(?![\w]|[.,:]\d)")
# What joins the years of a range: a dash, a slash, 'bis', 'und', 'tot', 'en'.
_JOIN = re.compile(r"[ \u00a0]?[–-][ \u00a0]?|/|[ \u00a0]+(?:bis|und|oder|tot|en)[ \u00a0]+")
_NEXT = re.compile(r"[ \u00a0]*(?:([^\W\d_]+)|(\S))?")
_SENTENCE_PUNCTUATION = set(".,;:!?)]»«\"'”“…–—")


def _wordset(words: str) -> frozenset[str]:
    """A word list written as prose, one space between words."""
    return frozenset(words.split())


@dataclass(frozen=True)
class YearWords:
    """One language's words around a year (lower case)."""

    locales: tuple[str, ...]  # Babel's, for the month names
    before: frozenset[str]  # 'Jahr', 'Ende': a year follows, whatever comes after it
    born: tuple[str, ...]  # the beginnings of the word after a year of birth or death
    since: frozenset[str]  # 'seit': a year, unless a duration follows
    durations: frozenset[str]  # 'Jahren', 'Monaten'
    prepositions: frozenset[str]  # 'in', 'tot': a year where nothing follows in the clause (Dutch)
    range_word: str  # what a dash between years is read as: 'bis', 'tot'
    nouns_capitalised: bool  # whether a capital after the number shows a noun (German)


_GERMAN = YearWords(
    GERMAN_LOCALES,
    _wordset("""jahr jahre jahres jahrgang jahrgangs anno anfang ende mitte frühjahr frühling sommer herbst winter
        sommers winters herbstes wahljahr"""),
    ("geboren", "gestorben", "verstorben"),
    frozenset({"seit"}),
    _wordset("""jahren monaten wochen tagen stunden minuten sekunden jahrzehnten jahrhunderten jahrtausenden
        generationen"""),
    frozenset(),
    "bis",
    True,
)
_DUTCH = YearWords(
    ("nl", "nl_BE"),
    _wordset("jaar jaren anno begin eind einde midden voorjaar najaar zomer herfst winter lente"),
    ("geboren", "overleden", "gestorven"),
    frozenset({"sinds", "sedert"}),
    _wordset("jaar jaren maanden weken dagen uur uren eeuwen"),
    _wordset("in tot vanaf van na voor rond omstreeks"),
    "tot",
    False,
)
YEAR_WORDS = {"de": _GERMAN, "nl": _DUTCH}

# German words before a number that count it ('rund 1500', 'stieg auf 1500', 'Seite 1234').
_COUNTING = _wordset(
    """rund etwa ca circa zirka über knapp fast insgesamt nur weitere zu mindestens höchstens exakt genau unter
    auf nr nummer seite s platz tel telefon band bd heft kapitel artikel paragraf §"""
)
# After the number, lower case: units and signs that make it a quantity ('1500 km', '1500 mal').
_UNITS = _wordset("km m cm mm kg g mg t l ml ha qm kw kwh mw ps mio mrd tsd mal h min s ct")
# Lower-case words after a year ('1990 fiel', '1990 in Berlin'); a quantity would take a plural verb.
_CLOSED = PREPOSITIONS | CONTRACTIONS.keys() | DETERMINERS.keys() | {"und", "oder", "als", "wie", "bis"}
_SINGULAR_VERBS = _wordset("wurde war ist hat hatte gab kam ging begann fand lag stand starb wird")


def years(text: str, lang: str) -> Iterator[list[re.Match]]:
    """The years of ``text`` in ``lang``, alone or joined into a range ('1990' in 'im Jahr 1990', '1990' and
    '1995' in 'von 1990 bis 1995'), where one of them is from 1100 to 1999 and all are from 1100 to 2099."""
    rules = YEAR_WORDS.get(lang)
    if rules is None:
        return
    matches = list(FOUR_FIGURES.finditer(text))
    i = 0
    while i < len(matches):
        chain = [matches[i]]
        while i + 1 < len(matches) and _JOIN.fullmatch(text, chain[-1].end(), matches[i + 1].start()):
            i += 1
            chain.append(matches[i])
        i += 1
        numbers = [int(m.group(1)) for m in chain]
        if (
            any(n <= 1999 for n in numbers)
            and all(1100 <= n <= 2099 for n in numbers)
            and _is_year(text, chain[0].start(), chain[-1].end(), rules)
        ):
            yield chain


def _is_year(text: str, start: int, end: int, rules: YearWords) -> bool:
    before = [w.lower() for w in words_before(text, start, 2)]
    previous = before[-1] if before else ""
    if previous == "." and len(before) == 2:  # 'Okt. 1990'
        previous = before[0] if before[0] in month_names(rules.locales) else "."
    following, sign = _next(text, end)
    if previous in month_names(rules.locales) or previous in rules.before or following.startswith(rules.born):
        return True
    if previous in rules.since:
        return following not in rules.durations
    if not rules.nouns_capitalised:  # Dutch: 'in 1990.', but 'in 1990 mensen' or 'in 1990 viel' cannot be told
        return previous in rules.prepositions and not following and (sign is None or sign in _SENTENCE_PUNCTUATION)
    if previous in _COUNTING:
        return False
    if not following:  # the end, or punctuation that ends a clause: 'Die Mauer fiel 1990.'
        # but a number alone (a table's cell, a widget's count: the corpus's '1990' ratings) says nothing
        if previous == "(" and sign == ")":  # a name's or a work's dates: 'Helmut Kohl (1930–2017)'
            return True
        return previous.isalpha() and (sign is None or sign in _SENTENCE_PUNCTUATION)
    return _verb_or_closed_word(text, end, following)


def _next(text: str, position: int) -> tuple[str, str | None]:
    """The word after ``position``, lower case ('' if none), and the sign there instead (None at the end)."""
    m = _NEXT.match(text, position)
    assert m is not None  # everything in it is optional
    return (m.group(1) or "").lower(), m.group(2)


def _verb_or_closed_word(text: str, end: int, following: str) -> bool:
    """Whether the word after a German number shows a year: a preposition, an article, a singular verb
    ('1990 in Berlin', '1990 fiel'), not a noun, an adjective or a plural verb ('1990 Menschen', '1500 neue
    Wohnungen', '1500 starben'), nor a unit ('1500 km')."""
    m = _NEXT.match(text, end)
    assert m is not None
    if m.group(1)[:1].isupper():
        return False
    if following in _CLOSED or following in _SINGULAR_VERBS:
        return True
    if following in _UNITS or text[m.end() : m.end() + 1] == "-":  # '1500 km', '1500 mal'
        return False
    return not following.endswith(("e", "en", "er", "es", "em"))  # 'neue', 'neuen', 'starben'
