"""Speech engines: a tiny protocol, a registry, and the one place that picks an engine.

An engine is any object with ``name``, ``voice`` (a human name for the voice),
``sample_rate`` and ``synthesize(text) -> bytes`` returning 16-bit mono PCM for one
utterance. ``open_engine`` applies the language rules and raises
:class:`~talkingbook.errors.EngineUnavailableError` with an install hint; ``book_engine``
is the same for a whole book, where ``auto`` may decide that no offline voice is clear
enough and the book is better without audio.
"""

from __future__ import annotations

import logging
from typing import NamedTuple, Protocol

from ..errors import EngineUnavailableError, UsageError

log = logging.getLogger(__name__)


class Engine(Protocol):
    name: str
    voice: str
    sample_rate: int

    rate: float

    def synthesize(self, text: str) -> bytes:
        """16-bit little-endian mono PCM at ``sample_rate`` for ``text``."""


def _piper(language, voice, rate):
    from .piper import PiperEngine

    return PiperEngine.open(language, voice, rate)


def _espeak(language, voice, rate):
    from .espeak import EspeakEngine

    return EspeakEngine.open(language, voice, rate)


def _kokoro(language, voice, rate):
    from .kokoro import KokoroEngine

    return KokoroEngine.open(language, voice, rate)


def _gtts(language, voice, rate):
    from .gtts import GttsEngine

    return GttsEngine.open(language, voice, rate)


def _fake(language, voice, rate):
    from .fake import FakeEngine

    return FakeEngine(language, rate)


# Which engine speaks which languages well enough (the README shows the same table).
LANGUAGES = {
    "piper": "English with the bundled en_US-joe-medium voice; other languages with --voice PATH.onnx",
    "kokoro": "Japanese natively; French, Spanish, German, Polish, Indonesian, English... through espeak-ng's "
    "phonemes, with a Japanese accent (see `talkingbook voices` for how clearly)",
    "espeak": "every language of its bundled voices except Japanese (kanji are read as 'Chinese letter')",
    "gtts": "the languages of Google Translate, Japanese included (online)",
}

# name -> opener(language, voice, rate) ; 'auto' is resolved by open_engine.
ENGINES = {"piper": _piper, "kokoro": _kokoro, "espeak": _espeak, "gtts": _gtts, "fake": _fake}
CHOICES = ("auto", *ENGINES)


class Measured(NamedTuple):
    """One row of the measured table: how clearly Whisper base understood a voice, and how fast it was."""

    language: str  # its English name
    engine: str
    voice: str | None
    recall: float  # mean over the sample's sections (bench/bench_voices.py)
    cpu: float  # CPU seconds of synthesis per second of speech (2 cores, shared: noisy)


# `auto`'s choice per language (primary subtag), from bench/bench_voices.py on the shared corpus
# and bench/passages (`--choose` applies this rule): among the voices within the speed budget,
# the one Whisper base (language forced) understands best, or the clearest voice of a faster
# engine within RECALL_MARGIN of it. The budget is in CPU seconds per second of speech (steadier
# than wall-clock time on a shared machine): Kokoro takes about 1 (half real time on two cores,
# about 10x Piper), which we accept for a voice understood far better; nothing slower.
# Languages not listed fall back to espeak-ng when it speaks them.
SPEED_BUDGET = 1.5
RECALL_MARGIN = 0.03
CLEAR_ENOUGH = 0.3  # below this recall, auto makes the text-only book
# A voice that is a native speaker of the language (Kokoro's voices are Japanese: they speak
# other languages with a Japanese accent) wins when it is within NATIVE_MARGIN of the clearest:
# the judge's lead for Kokoro in English (0.04-0.09 by page and length) is the size of Piper's own
# spread from one fresh synthesis to the next (one section: 0.89-1.0), the whole sample book is
# heard as well from both (Whisper tiny.en: Piper 0.95-0.97, Kokoro 0.974), and Piper takes a
# seventh of the CPU (the sample in ~40 s instead of 3 min 20 s; a batch of English pages 7x
# faster). `--engine kokoro` reads English with Kokoro.
NATIVE = {"en": "piper"}
NATIVE_MARGIN = 0.10
# Recall counted in characters is far from 0 by chance alone: the text of another section of the
# same page or passage shares this much with a reference (measured: Chinese 0.11-0.19, Thai
# 0.28-0.44, Japanese kana readings 0.31). For those languages the floor is CLEAR_ENOUGH of the way
# from chance to 1.
CHANCE = {"zh": 0.19, "th": 0.44, "ja": 0.31}


def clear_enough(language: str) -> float:
    """The recall a voice must reach in ``language`` for auto to use it."""
    chance = CHANCE.get(language.split("-")[0].lower(), 0.0)
    return round(chance + CLEAR_ENOUGH * (1 - chance), 2)


AUTO: dict[str, Measured] = {
    "es": Measured("Spanish", "kokoro", "jm_kumo", 1.00, 0.99),
    "ja": Measured("Japanese", "kokoro", "jf_tebukuro", 0.93, 1.03),
    # English is the one language with a native voice (NATIVE); Kokoro jm_kumo was heard a little
    # better (250 words: 0.996 against 0.96 on the sample, 0.89 against 0.84 on eHow) but speaks it
    # with a Japanese accent at ~7x Piper's CPU: see NATIVE_MARGIN.
    "en": Measured("English", "piper", None, 0.84, 0.15),
    "fr": Measured("French", "kokoro", "jf_nezumi", 0.79, 1.15),
    "de": Measured("German", "kokoro", "jm_kumo", 0.78, 1.06),
    "pl": Measured("Polish", "kokoro", "jm_kumo", 0.77, 1.09),
    "id": Measured("Indonesian", "kokoro", "jf_nezumi", 0.62, 1.03),
    "ru": Measured("Russian", "kokoro", "jm_kumo", 0.61, 1.02),
}
# Languages measured where no offline voice reached clear_enough(): the best one, for the warning.
UNCLEAR: dict[str, Measured] = {
    "zh": Measured("Chinese", "kokoro", "jm_kumo", 0.38, 0.99),
    "ko": Measured("Korean", "kokoro", "jm_kumo", 0.24, 0.91),
    "th": Measured("Thai", "espeak", None, 0.20, 0.00),
    "ar": Measured("Arabic", "kokoro", "jm_kumo", 0.08, 0.87),
}


def default_voice(engine: str, language: str) -> str | None:
    """The voice `auto` uses for ``language`` with ``engine``, when it is that engine's; else None."""
    row = AUTO.get(language.split("-")[0].lower())
    return row.voice if row is not None and row.engine == engine else None


def open_engine(name: str, language: str, voice: str | None = None, rate: float = 1.0) -> Engine:
    """The engine ``name`` ready to speak ``language`` (BCP 47); 'auto' picks an offline one."""
    if name == "auto":
        return _auto(language, voice, rate)
    try:
        opener = ENGINES[name]
    except KeyError:
        raise UsageError(f"--engine {name}", f"unknown engine; select one of: {', '.join(CHOICES)}") from None
    return opener(language, voice, rate)


def book_engine(name: str, language: str, voice: str | None = None, rate: float = 1.0) -> Engine | None:
    """The engine for a book in ``language``, or None when 'auto' finds no offline voice clear enough
    (said in one warning); a forced engine or a given voice is always used."""
    if name == "auto" and not voice:
        primary = language.split("-")[0].lower()
        if primary in UNCLEAR or not _any_offline(language):
            log.warning("%s", unclear_notice(language))
            return None
    return open_engine(name, language, voice, rate)


def unclear_notice(language: str) -> str:
    """The one line that says why a book in ``language`` gets no audio from 'auto', and the options."""
    best = UNCLEAR.get(language.split("-")[0].lower())
    why = (
        f"no offline voice here is understood well enough in '{language}' (the best, {best.engine}"
        f"{' ' + best.voice if best.voice else ''}, let a speech recognizer recover {best.recall:.0%} of the "
        "words)"
        if best
        else f"no offline voice here speaks '{language}'"
    )
    return (
        f"{why}; making the book without audio. For audio use --engine gtts (online) or force an "
        "offline one with --engine espeak"
    )


def _any_offline(language: str) -> bool:
    from . import espeak, piper

    primary = language.split("-")[0].lower()
    return primary in AUTO or piper.speaks(language) or espeak.speaks(language)


def _auto(language: str, voice: str | None, rate: float) -> Engine:
    from . import espeak, piper

    if voice:
        return _by_voice(language, voice, rate)
    row = AUTO.get(language.split("-")[0].lower())
    if row is not None:
        try:
            return ENGINES[row.engine](language, row.voice, rate)
        except EngineUnavailableError as exc:
            if not espeak.speaks(language) or row.engine == "espeak":
                raise
            log.warning("%s: %s; reading '%s' with espeak-ng instead", exc.what, exc.why, language)
    if piper.speaks(language):
        return _piper(language, None, rate)
    if espeak.speaks(language):
        return _espeak(language, None, rate)
    raise EngineUnavailableError(
        f"language '{language}'",
        "no offline voice here speaks it; use --engine gtts (online) or --no-audio",
    )


def _by_voice(language: str, voice: str, rate: float) -> Engine:
    """'auto' with --voice: the engine that has a voice of that name."""
    from . import kokoro, piper

    if voice.endswith(".onnx") or piper._voice_package(voice) or voice in (piper.BUNDLED_NAME, "joe"):
        return _piper(language, voice, rate)
    if voice in kokoro.voices():
        return _kokoro(language, voice, rate)
    return _espeak(language, voice, rate)
