"""Speech engines: a tiny protocol, a registry, and the one place that picks an engine.

An engine is any object with ``name``, ``voice`` (a human name for the voice),
``sample_rate`` and ``synthesize(text) -> bytes`` returning 16-bit mono PCM for one
utterance. ``open_engine`` applies the language rules and raises
:class:`~talkingbook.errors.EngineUnavailableError` with an install hint.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import EngineUnavailableError, UsageError


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


def _gtts(language, voice, rate):
    from .gtts import GttsEngine
    return GttsEngine.open(language, voice, rate)


def _fake(language, voice, rate):
    from .fake import FakeEngine
    return FakeEngine(language, rate)


# Which engine speaks which languages well enough (the README shows the same table).
LANGUAGES = {
    "piper": "English with the bundled en_US-joe-medium voice; other languages with --voice PATH.onnx",
    "espeak": "every language of its bundled voices except Japanese (kanji are read as 'Chinese letter')",
    "gtts": "the languages of Google Translate, Japanese included (online)",
}

# name -> opener(language, voice, rate) ; 'auto' is resolved by open_engine.
ENGINES = {"piper": _piper, "espeak": _espeak, "gtts": _gtts, "fake": _fake}
CHOICES = ("auto", *ENGINES)


def open_engine(name: str, language: str, voice: str | None = None, rate: float = 1.0) -> Engine:
    """The engine ``name`` ready to speak ``language`` (BCP 47); 'auto' picks an offline one."""
    if name == "auto":
        return _auto(language, voice, rate)
    try:
        opener = ENGINES[name]
    except KeyError:
        raise UsageError(f"--engine {name}", f"unknown engine; select one of: {', '.join(CHOICES)}") from None
    return opener(language, voice, rate)


def _auto(language: str, voice: str | None, rate: float) -> Engine:
    from . import espeak, piper

    if piper.speaks(language) or (voice and (voice.endswith(".onnx") or piper._voice_package(voice))):
        return _piper(language, voice, rate)
    if espeak.speaks(language):
        return _espeak(language, voice, rate)
    raise EngineUnavailableError(
        f"language '{language}'",
        "no offline voice here speaks it; use --engine gtts (online) or --no-audio",
    )
