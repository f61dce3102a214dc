"""Text as it should be spoken: numbers, dates, money, units, abbreviations, symbols.

English rules are the fullest; other languages get their numbers read by num2words
where it knows the language. Citation markers ([1]) are never read.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from ..structure.ordinals import (
    AMBIGUOUS_DETERMINERS,
    CONTRACTIONS,
    DETERMINERS,
    PREPOSITIONS,
    ROMAN_DOT,
    SENTENCE_OPENERS,
    ends_sentence,
    german_months,
    german_ordinals,
    word_after,
    words_before,
)
from .years import YEAR_WORDS, years

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
    "US$": ("dollar", "dollars", "cent", "cents"),
}
SCALES = {
    "k": "thousand",
    "thousand": "thousand",
    "m": "million",
    "mn": "million",
    "million": "million",
    "bn": "billion",
    "b": "billion",
    "billion": "billion",
    "trillion": "trillion",
    "tn": "trillion",
}
UNITS = {
    "km": ("kilometer", "kilometers"),
    "m": ("meter", "meters"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"),
    "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"),
    "lb": ("pound", "pounds"),
    "lbs": ("pounds", "pounds"),
    "oz": ("ounce", "ounces"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "in": ("inch", "inches"),
    "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "l": ("liter", "liters"),
    "ml": ("milliliter", "milliliters"),
    "GB": ("gigabyte", "gigabytes"),
    "MB": ("megabyte", "megabytes"),
    "KB": ("kilobyte", "kilobytes"),
    "TB": ("terabyte", "terabytes"),
    "GHz": ("gigahertz", "gigahertz"),
    "MHz": ("megahertz", "megahertz"),
    "kW": ("kilowatt", "kilowatts"),
    "W": ("watt", "watts"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "ms": ("millisecond", "milliseconds"),
    "s": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "hrs": ("hours", "hours"),
    "sq ft": ("square foot", "square feet"),
}
ABBREVIATIONS = [
    (r"\bDr\.(?=\s+[A-Z])", "Doctor"),
    (r"\bMr\.", "Mister"),
    (r"\bMrs\.", "Missus"),
    (r"\bMs\.", "Miz"),
    (r"\bProf\.(?=\s+[A-Z])", "Professor"),
    (r"\bSt\.(?=\s+[A-Z])", "Saint"),
    (r"(?<=[a-z] )St\.", "Street"),
    (r"\bAve\.", "Avenue"),
    (r"\bRd\.", "Road"),
    (r"\bJr\.", "Junior"),
    (r"\bSr\.", "Senior"),
    (r"\be\.g\.,?", "for example,"),
    (r"\bi\.e\.,?", "that is,"),
    (r"\betc\.", "et cetera."),
    (r"\bvs\.?(?=\s)", "versus"),
    (r"\bapprox\.", "approximately"),
    (r"\bNo\.(?=\s*\d)", "number"),
    (r"\bFig\.(?=\s*\d)", "figure"),
    (r"\bU\.S\.A\.", "U S A"),
    (r"\bU\.S\.", "U S"),
    (r"\bU\.K\.", "U K"),
    (r"\bU\.N\.", "U N"),
    (r"\bE\.U\.", "E U"),
    (r"\ba\.m\.", "a m"),
    (r"\bp\.m\.", "p m"),
    (r"\bJan\.(?=\s*\d)", "January"),
    (r"\bFeb\.(?=\s*\d)", "February"),
    (r"\bAug\.(?=\s*\d)", "August"),
    (r"\bSept?\.(?=\s*\d)", "September"),
    (r"\bOct\.(?=\s*\d)", "October"),
    (r"\bNov\.(?=\s*\d)", "November"),
    (r"\bDec\.(?=\s*\d)", "December"),
]


@lru_cache(maxsize=1)
def _num2words():
    from num2words import num2words

    return num2words


def _words(number, lang: str = "en", to: str = "cardinal") -> str:
    try:
        return _num2words()(number, lang=lang, to=to)
    except (NotImplementedError, OverflowError, ValueError, TypeError):
        return str(number)


# Numbers with more digits than this are read digit by digit: num2words names up to sextillions,
# longer ones are identifiers (or a hostile page: int() refuses more than 4,300 digits).
MAX_NUMBER_DIGITS = 21


def _number(text: str) -> int | float | None:
    """The value of '1,234.5'; None when it has too many digits to be read as a number."""
    text = text.replace(",", "")
    whole, _, fraction = text.partition(".")
    if len(whole) > MAX_NUMBER_DIGITS or len(fraction) > MAX_NUMBER_DIGITS:
        return None
    return float(text) if "." in text else int(text)


def _integer(digits: str, lang: str = "en", to: str = "cardinal") -> str:
    """A whole number written in digits, as words ('42' -> 'forty-two'); digit by digit when it is too long."""
    if len(digits.lstrip("0")) > MAX_NUMBER_DIGITS:
        return _digit_by_digit(digits, lang)
    return _words(int(digits), lang, to)


def _digit_by_digit(text: str, lang: str = "en") -> str:
    return " ".join(_digit(c, lang) for c in text if c.isdigit())


@lru_cache(maxsize=256)
def _digit(digit: str, lang: str) -> str:
    return _words(int(digit), lang)


def _foreign_number(raw: str, lang: str) -> str:
    """A number in another language than English: '3,5' is a decimal there when alone."""
    number = _number(raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw)
    return _digit_by_digit(raw, lang) if number is None else _words(number, lang)


def normalize(text: str, language: str = "en") -> str:
    """``text`` rewritten for a speech engine in ``language`` (BCP 47)."""
    text = re.sub(r"\[(?:\d{1,3}|[a-z]|citation needed|note \d+|\d+[a-z]?)\]", "", text)  # citation markers
    lang = language.split("-")[0].lower()
    if lang == "en":
        text = _english(text)
    elif lang == "ja":
        text = _japanese(text)
    else:
        text = NUMERIC_DATE.sub(lambda m: _numeric_date(m, lang), text)
        text = _clock_times(text, lang)
        if lang == "de":
            text = _german_decades(_regnal_numbers(_german_ordinals(text)))
        text = _years(text, lang)
        if _group_symbol(lang) == ".":
            text = DOT_GROUPED.sub(lambda m: _foreign_number(m.group().replace(".", ""), lang), text)
        text = re.sub(r"(?<![\w.,])\d+(?:[.,]\d+)?(?![\w])", lambda m: _foreign_number(m.group(), lang), text)
    return " ".join(text.split())


# A date written in figures, day first as everywhere but in English ('04.05.2015', '4/5/2015'): read as a
# date ('4 mai 2015'), not as a decimal and a number ('quatre virgule zéro cinq, deux mille quinze').
NUMERIC_DATE = re.compile(r"(?<![\w.,/])(\d{1,2})([./])(\d{1,2})\2(\d{4})(?![\w/]|[.,]\d)")


# A whole number grouped by dots ('1.000.000', '3.500,75'): in the languages that write it so (German,
# Italian, Spanish, Portuguese, Dutch… by CLDR), a thousand separator, not a decimal point.
DOT_GROUPED = re.compile(r"(?<![\w.,])\d{1,3}(?:\.\d{3})+(?:,\d+)?(?![\w]|[.,]\d)")


@lru_cache(maxsize=64)
def _group_symbol(lang: str) -> str:
    """The language's thousand separator (Babel's CLDR data); '' when Babel does not know the language."""
    from babel.core import UnknownLocaleError
    from babel.numbers import get_group_symbol

    try:
        return get_group_symbol(lang)
    except (ValueError, UnknownLocaleError):
        return ""


def _numeric_date(m: re.Match, lang: str) -> str:
    """The date as the language writes it in words and figures (Babel's CLDR long format), figures then read."""
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    try:
        day = date(int(m.group(4)), int(m.group(3)), int(m.group(1)))
        return format_date(day, format="long", locale=lang)
    except (ValueError, UnknownLocaleError):
        return m.group()  # not a date (31.02.2015), or a language Babel does not know


def _years(text: str, lang: str) -> str:
    """The years of ``text`` read as years where the language reads them otherwise than quantities
    ('im Jahr 1990': 'im Jahr neunzehnhundertneunzig'; narration.years says which numbers are years)."""
    out, pos = [], 0
    for chain in years(text, lang):
        for i, m in enumerate(chain):
            gap = text[pos : m.start()]
            if i and gap.strip() in ("–", "-"):  # '1990–1995': 'neunzehnhundertneunzig bis …'
                gap = f" {YEAR_WORDS[lang].range_word} "
            out += [gap, _words(int(m.group(1)), lang, "year").replace(" ", "")]  # Dutch writes it as one word
            pos = m.end()
    return "".join(out) + text[pos:]


# A number and '-er': a decade or a century ('die 1990er Jahre', 'in den 1990ern', 'die 20er'), or the
# numeral as a noun ('ein 3er-Pack'): the year's words from 1100 to 1999, else the number's, and '-er'.
_ER = re.compile(r"(?<![\w.,])(\d{1,4})(er|ern|ers)\b")


def _german_decades(text: str) -> str:
    def spoken(m: re.Match) -> str:
        number = int(m.group(1))
        return _words(number, "de", "year" if 1100 <= number <= 1999 else "cardinal") + m.group(2)

    return _ER.sub(spoken, text)


# Clock times, where a word says so: German '17.30 Uhr', '17:30 Uhr', '9–17 Uhr', and a colon after 'um',
# 'ab', 'gegen' or a date ('um 20:00', '19. Februar 2017 20:00'); French '17h30', '17 h 30', '17h'. Without
# such a word '17.30' stays a number: a German page may write an English decimal ('3.65 von 5').
_HOUR = r"(?:[01]?\d|2[0-4])"
_GERMAN_UHR = re.compile(
    rf"(?<![\w.,:])(?:(?P<h1>{_HOUR})(?:[.:](?P<m1>[0-5]\d))?(?P<join>[ \u00a0]?[–-][ \u00a0]?|[ \u00a0]bis[ \u00a0]))?"
    rf"(?P<h>{_HOUR})(?:[.:](?P<m>[0-5]\d))?[ \u00a0]?Uhr\b"
)
_FRENCH_H = re.compile(rf"(?<![\w.,:])(?P<h>{_HOUR})[ \u00a0]?h(?:[ \u00a0]?(?P<m>[0-5]\d))?(?!\w)")


@lru_cache(maxsize=1)
def _german_colon_time() -> re.Pattern:
    months = "|".join(sorted(german_months(), key=len, reverse=True))
    return re.compile(
        rf"(?P<before>\b(?:[Uu]m|[Aa]b|[Gg]egen)[ \u00a0]+|\b(?i:{months})\.?[ \u00a0]+\d{{4}},?[ \u00a0]+)"
        rf"(?P<h>{_HOUR}):(?P<m>[0-5]\d)(?![\d:])"
    )


def _clock_times(text: str, lang: str) -> str:
    if lang == "de":
        text = _GERMAN_UHR.sub(_german_uhr, text)
        return _german_colon_time().sub(lambda m: m.group("before") + _german_time(m.group("h"), m.group("m")), text)
    if lang == "fr":
        return _FRENCH_H.sub(_french_time, text)
    return text


def _german_uhr(m: re.Match) -> str:
    """'9.30–17 Uhr' as 'neun Uhr dreißig bis siebzehn Uhr'; '9–17 Uhr' as 'neun bis siebzehn Uhr'."""
    first = ""
    if m.group("h1") is not None:
        first = _german_time(m.group("h1"), m.group("m1")) if m.group("m1") else _words(int(m.group("h1")), "de")
        first += " bis "
    return first + _german_time(m.group("h"), m.group("m"))


def _german_time(hour: str, minute: str | None) -> str:
    """'17', '30' as 'siebzehn Uhr dreißig'; '1', '00' as 'ein Uhr' (the hour says 'ein', not 'eins')."""
    words = "ein" if int(hour) == 1 else _words(int(hour), "de")
    return f"{words} Uhr" + (f" {_words(int(minute), 'de')}" if minute and int(minute) else "")


def _french_time(m: re.Match) -> str:
    """'17h30' as 'dix-sept heures trente', '1h01' as 'une heure une' (hours and minutes are feminine)."""
    hour, minute = int(m.group("h")), m.group("m")
    words = f"{_feminine(_words(hour, 'fr'))} {'heure' if hour <= 1 else 'heures'}"
    return words + (f" {_feminine(_words(int(minute), 'fr'))}" if minute and int(minute) else "")


def _feminine(words: str) -> str:
    return re.sub(r"\bun$", "une", words)


# Ordinals joined into one phrase take one ending: 'am 3. und 4. Oktober', 'vom 3. bis 5. Mai', '3.–5. Mai'.
_COORDINATION = re.compile(r"\s*(?:,|und|oder|bis|sowie)\s*|[ \u00a0]?[–-][ \u00a0]?")


def _german_ordinals(text: str) -> str:
    """German ordinals ('am 4. Mai', 'der 17. Parteitag', structure.ordinals says which) as words,
    inflected by the word before them: 'am vierten Mai', 'der siebzehnte Parteitag'."""
    chains: list[list[re.Match]] = []
    for m in german_ordinals(text):
        if chains and _COORDINATION.fullmatch(text, chains[-1][-1].end(), m.start()):
            chains[-1].append(m)
        else:
            chains.append([m])
    out, pos = [], 0
    for chain in chains:
        ending = _ordinal_ending(text, chain[0].start(), chain[-1].end())
        for i, m in enumerate(chain):
            gap = text[pos : m.start()]
            out += [" bis " if i and gap.strip() in ("–", "-") else gap, _german_ordinal(m.group(1), ending)]
            pos = m.end()
        if ends_sentence(text, pos):  # the full stop also ended the sentence: keep its pause
            out.append(".")
    out.append(text[pos:])
    return "".join(out)


def _ordinal_ending(text: str, start: int, end: int) -> str:
    """The ending the ordinals of text[start:end] take ('e': 'der vierte', 'en': 'am vierten', 'er': 'vierter
    Mai'): the weak endings after an article or a contraction; a date without one reads 'vierter Mai',
    'bis fünften Mai'."""
    before = words_before(text, start, 2)
    previous = before[-1].lower() if before else ""
    if previous in AMBIGUOUS_DETERMINERS:  # 'der vierte', but 'in der vierten Runde', 'Ende der vierten Runde'
        earlier = before[0] if len(before) == 2 else ""
        dative_or_genitive = earlier.lower() in PREPOSITIONS or (
            earlier[:1].isupper() and earlier.lower() not in SENTENCE_OPENERS
        )
        return "en" if dative_or_genitive else "e"
    if previous in CONTRACTIONS or previous in DETERMINERS:
        return CONTRACTIONS.get(previous) or DETERMINERS[previous]
    if word_after(text, end).lower() in german_months():
        return "en" if previous in PREPOSITIONS else "er"
    return "e"  # 'der 1. bis 3. Klasse' is handled above; '1. bis 3. Klasse' reads 'erste bis dritte Klasse'


def _german_ordinal(digits: str, ending: str) -> str:
    """'4' with the ending 'en' as 'vierten' (num2words gives the form ending in 'e': 'vierte')."""
    word = _integer(digits, "de", "ordinal")
    return word + ending[1:] if word.endswith("e") else word


# Titles, lower case, and whether they are a woman's. A hand-written list: no library we use has one.
TITLES = {
    **dict.fromkeys(
        """könig kaiser papst zar kurfürst herzog großherzog erzherzog fürst prinz graf markgraf landgraf pharao
        sultan kalif schah""".split(),  # noqa: SIM905 - a word list read as prose
        False,
    ),
    **dict.fromkeys(
        """königin kaiserin zarin kurfürstin herzogin großherzogin erzherzogin fürstin prinzessin gräfin
        markgräfin landgräfin pharaonin sultanin""".split(),  # noqa: SIM905 - a word list read as prose
        True,
    ),
}
# Women's regnal names not ending in 'a' (Victoria, Katharina, Christina, Isabella… do).
WOMEN = {"elisabeth", "elizabeth", "margrethe", "margarethe", "margarete", "beatrix", "mary"}
# Nouns that number their parts with Roman numerals: 'Teil II.', 'Kapitel IV.' end a sentence.
NUMBERED = set(
    """teil band kapitel akt abschnitt artikel buch klasse liga folge staffel heft jahrgang anhang tafel szene
    satz sinfonie symphonie vers runde stufe phase gruppe typ grad kategorie episode division korps bezirk
    level saison spieltag abteilung nummer nr paragraf paragraph absatz ziffer punkt studie kongress""".split()  # noqa: SIM905 - a word list read as prose
)
# The case the word before a ruler's name asks for: 'unter Friedrich dem Zweiten', 'für Friedrich den Zweiten'.
_CASE_OF = {
    **dict.fromkeys(("dem", "vom", "zum", "zur", "beim", "am", "im"), "dat"),
    **dict.fromkeys(("aus", "bei", "mit", "nach", "seit", "von", "zu", "gegenüber", "unter", "vor", "neben"), "dat"),
    **dict.fromkeys(("des", "während", "wegen", "trotz", "statt"), "gen"),
    **dict.fromkeys(("den", "für", "gegen", "ohne", "um", "durch"), "acc"),
}
_REGNAL_ARTICLE = {  # (case, a woman's) -> the article and the ordinal's ending
    ("nom", False): ("der", "e"),
    ("nom", True): ("die", "e"),
    ("acc", False): ("den", "en"),
    ("acc", True): ("die", "e"),
    ("dat", False): ("dem", "en"),
    ("dat", True): ("der", "en"),
    ("gen", False): ("des", "en"),
    ("gen", True): ("der", "en"),
}


def _regnal_numbers(text: str) -> str:
    """A Roman numeral and a full stop after a ruler's or a pope's name ('Friedrich II.', 'Papst Benedikt
    XVI.', 'Königin Elisabeth II.') read with its article, in the case the word before the name asks for
    ('Friedrich der Zweite', 'unter Friedrich dem Zweiten'); after an article an ordinal ('im Zweiten
    Weltkrieg'); after other words ('Teil II.', 'Washington DC.') as before."""
    return ROMAN_DOT.sub(lambda m: _regnal(text, m), text)


def _regnal(text: str, m: re.Match) -> str:
    name = m.group(1)
    if name.lower() in DETERMINERS or name.lower() in CONTRACTIONS:  # 'im II. Weltkrieg', 'das II. Vatikanum'
        ordinal = _german_ordinal(str(_roman(m.group(2))), _ordinal_ending(text, m.start(2), m.end()))
        return f"{name} {ordinal[:1].upper()}{ordinal[1:]}{'.' if ends_sentence(text, m.end()) else ''}"
    if not name[:1].isupper() or name.lower() in NUMBERED or name.lower() in SENTENCE_OPENERS:
        return m.group()
    names = [name]  # 'Papst Johannes Paul II.': the capitalised words before the numeral
    governor = ""
    for word in reversed(words_before(text, m.start(), 4)):
        if not word[:1].isupper() or word.lower() in _CASE_OF or word.lower() in DETERMINERS:
            governor = word.lower()
            break
        names.append(word)
    titles = [_title(w) for w in names if _title(w) is not None]
    if not titles and (governor in DETERMINERS or governor in CONTRACTIONS):
        return m.group()  # 'der Teil II.', 'im Band III.': a noun, not a name
    woman = any(titles) or (not titles and (name.endswith("a") or name.lower() in WOMEN))
    case = _CASE_OF.get(governor, "dat" if governor == "der" and woman else "nom")
    article, ending = _REGNAL_ARTICLE[case, woman]
    ordinal = _german_ordinal(str(_roman(m.group(2))), ending)
    end = "." if ends_sentence(text, m.end()) else ""
    return f"{name} {article} {ordinal[:1].upper()}{ordinal[1:]}{end}"


def _title(word: str) -> bool | None:
    """Whether ``word`` is a woman's title ('Königin'), a man's ('König', 'Königs', 'Papstes'); None if neither."""
    word = word.lower()
    for form in (word, word.removesuffix("s"), word.removesuffix("es")):
        if form in TITLES:
            return TITLES[form]
    return None


def _roman(numeral: str) -> int:
    """The value of a Roman numeral ('XIV' -> 14)."""
    values = [{"I": 1, "V": 5, "X": 10}[c] for c in numeral]
    return sum(-v if v < w else v for v, w in zip(values, [*values[1:], 0], strict=True))


# Japanese symbols as words. Digits are left as digits: the Japanese reader (OpenJTalk) reads them
# with their counters (3月 sangatsu, 1人 hitori, 20日 hatsuka, 10分 juppun), which neither of
# num2words' Japanese forms can (its kana reading is context-free: 4 is always よん, so 4月 would
# be yongatsu; its kanji numerals make 8分 'hachibu').
JA_SYMBOLS = {
    "+": "プラス",
    "%": "パーセント",
    "=": "イコール",
    "×": "かける",
    "÷": "わる",
    "&": "アンド",
    "@": "アット",
    "℃": "度",
    "°": "度",
    "#": "番",
    "→": "、",
    "⇒": "、",
    "≒": "ほぼ",
    "≠": "ノットイコール",
    "<": "小なり",
    ">": "大なり",
    "…": "、",
    "※": "、",
}
JA_CURRENCIES = {"$": "ドル", "¥": "円", "€": "ユーロ", "£": "ポンド", "₩": "ウォン"}


def _japanese(text: str) -> str:
    """Japanese text for a Japanese reader: full-width digits and signs made plain, dates and clock
    times with their counters, money with its unit after the number, symbols as words."""
    text = unicodedata.normalize("NFKC", text)  # full-width digits, letters and signs made plain
    text = re.sub(r"(?<!\d)(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?!\d)", r"\1年\2月\3日", text)
    text = re.sub(
        r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])",
        lambda m: f"{m.group(1)}時" + (f"{int(m.group(2))}分" if int(m.group(2)) else ""),
        text,
    )
    text = re.sub(r"([$¥€£₩])\s?(\d[\d,]*(?:\.\d+)?)", lambda m: m.group(2) + JA_CURRENCIES[m.group(1)], text)
    text = re.sub(r"(\d),(?=\d{3}(?!\d))", r"\1", text)  # thousands separators
    text = re.sub(r"(?<![\dA-Za-z)])[-−](?=\d)", "マイナス", text)
    text = text.replace("°C", "度")  # NFKC wrote ℃ so
    # a wave dash is a range ('3〜5人', '東京〜大阪'): 'kara'; elsewhere it only lengthens a sound
    text = re.sub(r"(?<=\S)\s*[〜~]\s*(?=[^\s、。！？!?,.])", "から", text)
    text = re.sub(r"[〜~]", "", text)
    return "".join(JA_SYMBOLS.get(c, c) for c in text)


def _english(text: str) -> str:
    text = re.sub(
        r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b", lambda m: m.group().replace("@", " at ").replace(".", " dot "), text
    )
    # a URL ends before the punctuation that ends its sentence or clause, which is still read as a pause
    url_rest = r"(?:\S*[^\s.,;:!?)\]'\"”’])?"
    text = re.sub(
        r"\bhttps?://(?:www\.)?([\w-]+(?:\.[\w-]+)+)" + url_rest,
        lambda m: "link to " + m.group(1).replace(".", " dot "),
        text,
    )
    text = re.sub(r"\bwww\.([\w-]+(?:\.[\w-]+)+)" + url_rest, lambda m: m.group(1).replace(".", " dot "), text)
    for pattern, spoken in ABBREVIATIONS:
        text = re.sub(pattern, spoken, text)
    text = re.sub(r"\b(\d{4})-(\d{2})-(\d{2})\b", _iso_date, text)
    text = re.sub(rf"\b({'|'.join(MONTHS)})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(,?\s+(\d{{4}}))?", _month_day, text)
    text = re.sub(
        r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(MONTHS) + r")\b",
        lambda m: f"the {_words(int(m.group(1)), to='ordinal')} of {m.group(2)}",
        text,
    )
    text = re.sub(
        r"(US\$|[$€£¥])\s?(\d[\d,]*(?:\.\d+)?)(?:\s?(k|m|mn|bn|b|tn|thousand|million|billion|trillion)\b)?",
        _money,
        text,
    )
    text = re.sub(r"(\d[\d,]*(?:\.\d+)?)\s?%", lambda m: f"{_decimal(m.group(1))} percent", text)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\s?([ap])\.?m\.?\b", _clock, text, flags=re.IGNORECASE)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", _clock, text)
    text = re.sub(r"\b(\d{4})s\b", lambda m: _decade(int(m.group(1))), text)
    text = re.sub(r"\b(\d{4})\s?[–-]\s?(\d{4})\b", lambda m: f"{m.group(1)} to {m.group(2)}", text)
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: _integer(m.group(1), to="ordinal"), text)
    unit_names = sorted(UNITS, key=len, reverse=True)
    text = re.sub(
        r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s?(" + "|".join(re.escape(u) for u in unit_names) + r")(?![\w/])", _unit, text
    )
    text = re.sub(r"(?<![\w.,])(1[1-9]\d\d|20\d\d)(?![\w,.]\d)", lambda m: _words(int(m.group(1)), to="year"), text)
    text = re.sub(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])", lambda m: _cardinal(m.group()), text)
    text = text.replace("&", " and ").replace("+", " plus ").replace("=", " equals ").replace("×", " times ")
    text = text.replace("°", " degrees ").replace("#", " number ").replace("~", " about ")
    text = text.replace("^", " to the power of ")  # a formula's text: E=mc^2
    text = re.sub(r"\s[–—-]\s|—|–", ", ", text)
    return text.replace("…", "...")


def _cardinal(raw: str) -> str:
    negative = raw.startswith("-")
    raw = raw.lstrip("-")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", raw) is None:
        return raw
    words = _decimal(raw)
    return f"minus {words}" if negative else words


def _decimal(raw: str) -> str:
    """An English number as read aloud, the digits after the point one by one as written:
    '3.0' is 'three point zero' (a version, a licence), '3.50' 'three point five zero'."""
    whole, _, fraction = raw.replace(",", "").partition(".")
    words = _integer(whole or "0")
    if fraction:
        words += " point " + _digit_by_digit(fraction)
    return words


def _iso_date(m: re.Match) -> str:
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group()
    return f"{MONTHS[month - 1]} {_words(day, to='ordinal')}, {_words(year, to='year')}"


def _month_day(m: re.Match) -> str:
    day = int(m.group(2))
    if not 1 <= day <= 31:
        return m.group()
    out = f"{m.group(1)} {_words(day, to='ordinal')}"
    if m.group(4):
        out += f", {_words(int(m.group(4)), to='year')}"
    return out


def _money(m: re.Match) -> str:
    one, many, sub_one, sub_many = CURRENCIES[m.group(1)]
    amount, scale = m.group(2).replace(",", ""), m.group(3)
    if scale:
        return f"{_decimal(amount)} {SCALES[scale.lower()]} {many}"
    whole, _, cents = amount.partition(".")
    words = f"{_integer(whole)} {one if whole.lstrip('0') == '1' else many}"
    if cents and sub_one and int(cents[:2].ljust(2, "0")):
        value = int(cents[:2].ljust(2, "0"))
        words += f" and {_words(value)} {sub_one if value == 1 else sub_many}"
    return words


def _clock(m: re.Match) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour > 24 or minute > 59:
        return m.group()
    suffix = f" {m.group(3).lower()} m" if m.lastindex and m.lastindex >= 3 and m.group(3) else ""
    if minute == 0:
        return f"{_words(hour)} o'clock{suffix}" if not suffix else f"{_words(hour)}{suffix}"
    minutes = f"oh {_words(minute)}" if minute < 10 else _words(minute)
    return f"{_words(hour)} {minutes}{suffix}"


def _decade(year: int) -> str:
    words = _words(year, to="year")
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _unit(m: re.Match) -> str:
    value = _number(m.group(1))  # None: too long a number, read digit by digit, in the plural
    singular, plural = UNITS[m.group(2)]
    return f"{_decimal(m.group(1))} {singular if value == 1 else plural}"
