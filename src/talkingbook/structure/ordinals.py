"""German ordinals: where '17.' is 'the seventeenth' and where it is a number ending a sentence.

German writes an ordinal as figures and a full stop ('am 4. Mai', 'der 17. Parteitag'): the full stop
that also ends a sentence ('… im Jahr 2024. Die Regierung …'). Capitals cannot tell them apart (nouns
are capitalised), so the rule takes reasons it can state, and where it has none the full stop ends
the sentence, as before. One rule for both readers of the text: the sentence cutter (no sentence
ends after the '4.' of 'am 4. Mai') and the narration (which says 'am vierten Mai').

The word lists below are German grammar's closed classes (articles, contractions, prepositions,
pronouns): neither Babel nor num2words has them; month names come from Babel's CLDR data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from itertools import chain

# Figures and a full stop, alone: not '1.000', '4.5.2015', '17.30', 'v1.2.', '3.,5'.
NUMBER_DOT = re.compile(r"(?<![\w.,:/])(\d{1,4})\.(?![\w.]|,\d)")
_WORD_AFTER = re.compile(r"[ \t\n\r\u00a0]+([^\W\d_]+)")
# '3.–5. Mai', '3., 4. und 5. Mai': a range or list of ordinals, whose first full stop ends no sentence.
JOINED = re.compile(r"[ \u00a0]?[–-][ \u00a0]?(?=\d)|,[ \u00a0]*(?=\d)")
# A word, then a Roman numeral and a full stop: 'im II. Weltkrieg', 'Friedrich II.' (I to XXXIX: no
# regnal number is higher, and 'DC.' is not one).
ROMAN_DOT = re.compile(r"\b([^\W\d_]+)[ \u00a0](?=[IVX])(X{0,3}(?:IX|IV|V?I{0,3}))\.(?![\w.])")
_TOKEN = re.compile(r"[^\W\d_]+|[^\w\s]|\d+")

# What an ordinal takes from the word before it: the contractions and articles after which a number
# with a full stop is an ordinal, with the ending they give it ('e': 'vierte', 'en': 'vierten').
# 'der', 'dieser' and 'jeder' are nominative ('der vierte') or dative and genitive ('in der vierten'):
# the narration looks one word further back.
CONTRACTIONS = {"am": "en", "im": "en", "zum": "en", "zur": "en", "vom": "en", "beim": "en", "ins": "e", "ans": "e"}
_DER_WORDS = {
    "der": "e",
    "die": "e",
    "das": "e",
    "den": "en",
    "dem": "en",
    "des": "en",
    **{
        f"{stem}{end}": ("e" if end in ("e", "es") else "en")
        for stem in ("dies", "jed")
        for end in ("er", "e", "es", "em", "en")
    },
}
_EIN_WORDS = {  # with an ending only: 'ein', 'sein', 'ihr' need the noun's gender ('sein drittes Album')
    f"{stem}{end}": ("e" if end == "e" else "en")
    for stem in ("ein", "kein", "mein", "dein", "sein", "ihr", "unser", "eur")
    for end in ("e", "em", "en", "er", "es")
}
DETERMINERS = {**_DER_WORDS, **_EIN_WORDS}
AMBIGUOUS_DETERMINERS = {"der", "dieser", "jeder"}  # nominative masculine, or dative/genitive feminine
PREPOSITIONS = set(
    """ab an auf aus außer bei bis durch für gegen gegenüber hinter in mit nach neben ohne seit statt trotz über um
    unter von vor während wegen zu zwischen laut samt""".split()  # noqa: SIM905 - a word list read as prose
)
# Words that begin a sentence and never follow an ordinal: after 'die 17.' one of these means the full
# stop ended the sentence ('Wir nahmen die 17. Sie fuhr …'); an ordinal is followed by its noun or adjective.
SENTENCE_OPENERS = set(
    """der die das den dem des ein eine einen einem einer eines ich du er sie es wir ihr man dies diese dieser
    dieses diesen diesem jene jener jenes aber doch denn dann danach dabei damit daher darum deshalb dort da
    trotzdem zudem außerdem auch so nun jetzt heute gestern morgen bereits schon noch nur und oder als wenn
    weil dass ob obwohl nachdem bevor wer was wie wo wann warum wieso am im zum zur vom beim ins in an auf aus
    bei mit nach seit von vor zu für gegen ohne um durch über unter bis ab hier nicht kein keine alle viele
    mehr insgesamt zuletzt zunächst später inzwischen mittlerweile""".split()  # noqa: SIM905 - a word list read as prose
)


def is_german(language: str) -> bool:
    """German, in any of its regions ('de', 'de-AT', 'de-CH')."""
    return language.split("-")[0].lower() == "de"


GERMAN_LOCALES = ("de", "de_AT", "de_CH")  # Austria's 'Jänner'


@lru_cache(maxsize=8)
def month_names(locales: tuple[str, ...]) -> frozenset[str]:
    """The month names of Babel's ``locales`` and their abbreviations, lower case ('mai', 'okt', 'jänner')."""
    from babel.dates import get_month_names

    return frozenset(
        name.rstrip(".").lower()
        for locale in locales
        for width in ("wide", "abbreviated")
        for context in ("format", "stand-alone")
        for name in get_month_names(width, context, locale).values()
    )


def german_months() -> frozenset[str]:
    """German month names and their abbreviations, lower case (CLDR's for Germany, Austria, Switzerland)."""
    return month_names(GERMAN_LOCALES)


def words_before(text: str, position: int, count: int = 3) -> list[str]:
    """The last ``count`` words and punctuation marks of ``text`` before ``position`` ('Ende', 'der')."""
    return _TOKEN.findall(text, max(0, position - 32 * count - 32), position)[-count:]


def word_after(text: str, position: int) -> str:
    """The word after the space at ``position`` ('' when none follows at once)."""
    m = _WORD_AFTER.match(text, position)
    return m.group(1) if m else ""


def is_ordinal(text: str, m: re.Match) -> bool:
    """Whether the number and full stop matched by ``NUMBER_DOT`` is a German ordinal, by the words around it."""
    if _ordinal_by_words(text, m):
        return True
    joined = JOINED.match(text, m.end())  # '3.–5. Mai': the first is an ordinal when the second is
    second = NUMBER_DOT.match(text, joined.end()) if joined else None
    return second is not None and _ordinal_by_words(text, second)


def _ordinal_by_words(text: str, m: re.Match) -> bool:
    number = int(m.group(1))
    after = word_after(text, m.end())
    before = words_before(text, m.start(), 1)
    previous = before[-1].lower() if before else ""
    if after.islower():  # no sentence begins in lower case: 'der 3. und 4.', 'die 2. bundesweite'
        return True
    if after.lower() in german_months() and 1 <= number <= 31:  # '4. Mai', '1. Januar 2024'
        return True
    if previous in CONTRACTIONS:  # 'am 3.' is 'on the third', even at a sentence's end
        return True
    # 'der 17. Parteitag'; but 'Wir nahmen die 17. Sie fuhr …' ends a sentence
    return previous in DETERMINERS and bool(after) and after.lower() not in SENTENCE_OPENERS


def german_ordinals(text: str) -> Iterator[re.Match]:
    """Each number and full stop of German ``text`` that is an ordinal ('4.' in 'am 4. Mai')."""
    return (m for m in NUMBER_DOT.finditer(text) if is_ordinal(text, m))


_AT_END = re.compile(r"\s*\Z")


def ends_sentence(text: str, position: int) -> bool:
    """Whether an ordinal's full stop before ``position`` also ends its sentence (German writes one full
    stop for both): at the end of the text, or before a word that opens sentences ('Er kam am 3. Die …')."""
    after = word_after(text, position)
    return bool(_AT_END.match(text, position)) or (after[:1].isupper() and after.lower() in SENTENCE_OPENERS)


def ordinal_stops(text: str) -> Iterator[int]:
    """The end of each full stop of German ``text`` that only marks an ordinal ('am 4. Mai', 'im II. Weltkrieg'):
    no sentence ends there. (After a name, 'Friedrich II. König von Preußen', the cut stays: names are not known.)"""
    numbers = (m.end() for m in german_ordinals(text))
    romans = (m.end() for m in ROMAN_DOT.finditer(text) if m.group(1).lower() in DETERMINERS | CONTRACTIONS.keys())
    return (end for end in chain(numbers, romans) if not ends_sentence(text, end))
