"""espeak-ng through the library and data shipped in the ``espeakng-loader`` wheel.

No Python binding on PyPI wraps espeak-ng's C API without a system install, so
this module calls the four functions it needs through ctypes.
"""

from __future__ import annotations

import ctypes
import threading
from functools import lru_cache
from pathlib import Path

from ..errors import EngineUnavailableError, SynthesisError, UsageError

INSTALL_HINT = "pip install espeakng-loader"
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_CHARS_UTF8 = 1
ESPEAK_RATE = 1
# Languages espeak-ng's voices mangle rather than read (FACTS.md: Japanese kanji come out
# as the English words "Chinese letter"); never chosen for these.
UNFIT = {"ja"}

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_lock = threading.Lock()


def _loader():
    try:
        import espeakng_loader
    except ImportError as exc:
        raise EngineUnavailableError("espeak-ng", f"espeakng-loader is not installed; {INSTALL_HINT}") from exc
    return espeakng_loader


@lru_cache(maxsize=1)
def voices() -> dict[str, str]:
    """espeak-ng voice identifiers by language code ('fr' -> 'roa/fr'), from its data folder."""
    try:
        data = Path(_loader().get_data_path())
    except (EngineUnavailableError, RuntimeError):
        return {}
    found: dict[str, str] = {}
    for path in sorted((data / "lang").rglob("*")):
        if not path.is_file():
            continue
        ident = path.relative_to(data / "lang").as_posix()
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "language":
                found.setdefault(parts[1].lower(), ident)
    return found


@lru_cache(maxsize=1)
def _known() -> tuple[frozenset[str], frozenset[str]]:
    """The voice names espeak-ng answers to (language codes, identifiers, their last parts, the
    voices' own names) and its variants (the files of voices/!v), lower-cased."""
    try:
        data = Path(_loader().get_data_path())
    except (EngineUnavailableError, RuntimeError):
        return frozenset(), frozenset()
    names = set(voices()) | {ident.lower() for ident in voices().values()}
    names |= {ident.rsplit("/", 1)[-1].lower() for ident in voices().values()}
    for path in (data / "lang").rglob("*"):
        if path.is_file():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split(None, 1)
                if len(parts) == 2 and parts[0] == "name":
                    names.add(parts[1].strip().lower())
    variants = {path.name.lower() for path in (data / "voices" / "!v").iterdir() if path.is_file()} \
        if (data / "voices" / "!v").is_dir() else set()
    return frozenset(names), frozenset(variants)


def check_voice(voice: str) -> str:
    """``voice`` ('fr', 'en-gb', 'en+f3') when espeak-ng has that voice and variant. espeak-ng
    reads a variant as a file path, so 'en+../../etc/passwd' must never reach it."""
    name, _, variant = voice.partition("+")
    names, variants = _known()
    if name.lower() not in names or ("+" in voice and variant.lower() not in variants):
        raise UsageError(f"--voice {voice}", "espeak-ng has no such voice or variant; "
                                             "'talkingbook voices' lists its voices (variants: f1-f5, m1-m7...)")
    return voice


def voice_for(language: str) -> str | None:
    """The espeak-ng voice for a BCP 47 tag ('en-GB' -> en-gb, 'fr-CA' -> fr), or None."""
    lang = language.lower()
    if lang.split("-")[0] in UNFIT:
        return None
    table = voices()
    return table.get(lang) or table.get(lang.split("-")[0])


def speaks(language: str) -> bool:
    return voice_for(language) is not None


class EspeakEngine:
    name = "espeak"
    _lib = None
    _rate = 0

    def __init__(self, language: str, ident: str, rate: float = 1.0) -> None:
        self.voice = f"espeak-ng {ident.rsplit('/', 1)[-1]}"
        self._ident = ident
        self.sample_rate = self._rate
        self.rate = rate

    @classmethod
    def open(cls, language: str, voice: str | None = None, rate: float = 1.0) -> "EspeakEngine":
        ident = check_voice(voice) if voice else voice_for(language)
        if ident is None:
            raise EngineUnavailableError(
                f"language '{language}'", "espeak-ng cannot read it well; use --engine gtts (online) or --no-audio")
        cls._initialise()
        engine = cls(language, ident, rate)
        with _lock:
            if cls._lib.espeak_SetVoiceByName(ident.encode()) != 0:
                raise EngineUnavailableError(f"--voice {ident}", "espeak-ng has no such voice")
        return engine

    @classmethod
    def _initialise(cls) -> None:
        if cls._lib is not None:
            return
        loader = _loader()
        try:
            lib = ctypes.CDLL(loader.get_library_path())
            lib.espeak_Initialize.restype = ctypes.c_int
            rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, loader.get_data_path().encode(), 0)
        except (OSError, RuntimeError) as exc:
            raise EngineUnavailableError("espeak-ng", f"cannot load its library ({exc})") from exc
        if rate <= 0:
            raise EngineUnavailableError("espeak-ng", "initialisation failed")
        cls._lib, cls._rate = lib, rate

    def synthesize(self, text: str) -> bytes:
        chunks: list[bytes] = []

        def collect(wav, count, events):
            if count > 0:
                chunks.append(ctypes.string_at(wav, count * 2))
            return 0

        callback = _SynthCallback(collect)
        data = text.encode("utf-8") + b"\0"
        with _lock:
            lib = self._lib
            lib.espeak_SetVoiceByName(self._ident.encode())
            lib.espeak_SetParameter(ESPEAK_RATE, int(175 * self.rate), 0)
            lib.espeak_SetSynthCallback(callback)
            status = lib.espeak_Synth(data, ctypes.c_size_t(len(data)), 0, 1, 0, ESPEAK_CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
        if status != 0:
            raise SynthesisError("espeak-ng", f"could not speak {text[:40]!r} (status {status})")
        return b"".join(chunks)
