"""espeak-ng through the library and data shipped in the ``espeakng-loader`` wheel.

No Python binding on PyPI wraps espeak-ng's C API without a system install, so
this module calls the few functions it needs through ctypes: to speak, and to turn
text into IPA (:func:`ipa`) for the Kokoro engine. The GPL ``phonemizer`` package
would do the latter through the same C function; it is not needed for one call.
"""

from __future__ import annotations

import ctypes
import re
import threading
from functools import lru_cache
from pathlib import Path

from ..errors import EngineUnavailableError, SynthesisError, UsageError

INSTALL_HINT = "pip install espeakng-loader"
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_CHARS_UTF8 = 1
ESPEAK_RATE = 1
# espeak_TextToPhonemes' phonememode (speak_lib.h): bit 1 = IPA; bit 7 = bits 8-23 hold a tie
# character written inside multi-letter phonemes (t͡ʃ), so that they can be told from two phonemes.
IPA_MODE = 0x02
TIE = "\u0361"
TIE_MODE = 0x80 | (ord(TIE) << 8)
# Punctuation ending a clause: espeak-ng returns one clause per call without it, so it is put back.
CLAUSE_PUNCTUATION = ",.!?;:—…"
# Languages espeak-ng's voices mangle rather than read (measured here: Japanese kanji come out
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
    variants = (
        {path.name.lower() for path in (data / "voices" / "!v").iterdir() if path.is_file()}
        if (data / "voices" / "!v").is_dir()
        else set()
    )
    return frozenset(names), frozenset(variants)


def check_voice(voice: str) -> str:
    """``voice`` ('fr', 'en-gb', 'en+f3') when espeak-ng has that voice and variant. espeak-ng
    reads a variant as a file path, so 'en+../../etc/passwd' must never reach it."""
    name, _, variant = voice.partition("+")
    names, variants = _known()
    if name.lower() not in names or ("+" in voice and variant.lower() not in variants):
        raise UsageError(
            f"--voice {voice}",
            "espeak-ng has no such voice or variant; 'talkingbook voices' lists its voices (variants: f1-f5, m1-m7...)",
        )
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


def ipa(text: str, language: str) -> str:
    """``text`` as espeak-ng's IPA for ``language``, with stress marks, ties (t͡ʃ) inside
    multi-letter phonemes and each clause's closing punctuation; language-switch flags removed."""
    ident = voice_for(language) if language.split("-")[0].lower() not in UNFIT else None
    if ident is None:
        raise EngineUnavailableError(f"language '{language}'", "espeak-ng has no voice for it")
    lib = EspeakEngine._initialise()
    data = text.encode("utf-8") + b"\0"
    buffer = ctypes.create_string_buffer(data, len(data))
    start = ctypes.addressof(buffer)
    pointer = ctypes.c_void_p(start)
    clauses: list[str] = []
    with _lock:
        if lib.espeak_SetVoiceByName(ident.encode()) != 0:
            raise EngineUnavailableError(f"language '{language}'", f"espeak-ng cannot load voice {ident}")
        while pointer.value is not None and pointer.value - start < len(data) - 1:
            before = pointer.value
            phonemes = lib.espeak_TextToPhonemes(ctypes.byref(pointer), ESPEAK_CHARS_UTF8, IPA_MODE | TIE_MODE)
            after = pointer.value if pointer.value is not None else start + len(data) - 1
            if after <= before:  # no progress: never loop
                break
            # the clause read ends with its punctuation (the pointer also passes the next clause's
            # first character, which is never clause punctuation)
            consumed = data[before - start : after - start].decode("utf-8", errors="ignore")
            marks = [c for c in consumed if c in CLAUSE_PUNCTUATION]
            said = (phonemes or b"").decode("utf-8", errors="replace").strip()
            if said:
                clauses.append(said + (marks[-1] if marks else ""))
    # espeak-ng marks a word it reads in another language as '(en)word(fr)' (the tie falls inside)
    return re.sub(f"\\((?:[a-z0-9-]|{TIE})+\\)", "", " ".join(clauses)).strip()


class EspeakEngine:
    name = "espeak"
    _lib: ctypes.CDLL | None = None  # loaded once, by the first engine opened
    _rate = 0

    def __init__(self, language: str, ident: str, rate: float = 1.0) -> None:
        self.voice = f"espeak-ng {ident.rsplit('/', 1)[-1]}"
        self._ident = ident
        self.sample_rate = self._rate
        self.rate = rate

    @classmethod
    def open(cls, language: str, voice: str | None = None, rate: float = 1.0) -> EspeakEngine:
        ident = check_voice(voice) if voice else voice_for(language)
        if ident is None:
            raise EngineUnavailableError(
                f"language '{language}'", "espeak-ng cannot read it well; use --engine gtts (online) or --no-audio"
            )
        lib = cls._initialise()
        engine = cls(language, ident, rate)
        with _lock:
            if lib.espeak_SetVoiceByName(ident.encode()) != 0:
                raise EngineUnavailableError(f"--voice {ident}", "espeak-ng has no such voice")
        return engine

    @classmethod
    def _initialise(cls) -> ctypes.CDLL:
        """The library, loaded and initialised on the first call."""
        if cls._lib is not None:
            return cls._lib
        loader = _loader()
        try:
            lib = ctypes.CDLL(loader.get_library_path())
            lib.espeak_Initialize.restype = ctypes.c_int
            rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, loader.get_data_path().encode(), 0)
        except (OSError, RuntimeError) as exc:
            raise EngineUnavailableError("espeak-ng", f"cannot load its library ({exc})") from exc
        if rate <= 0:
            raise EngineUnavailableError("espeak-ng", "initialisation failed")
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        cls._lib, cls._rate = lib, rate
        return lib

    def synthesize(self, text: str) -> bytes:
        chunks: list[bytes] = []

        def collect(wav, count, events):
            if count > 0:
                chunks.append(ctypes.string_at(wav, count * 2))
            return 0

        callback = _SynthCallback(collect)
        data = text.encode("utf-8") + b"\0"
        with _lock:
            lib = self._initialise()  # loaded when the engine was opened
            lib.espeak_SetVoiceByName(self._ident.encode())
            lib.espeak_SetParameter(ESPEAK_RATE, int(175 * self.rate), 0)
            lib.espeak_SetSynthCallback(callback)
            status = lib.espeak_Synth(data, ctypes.c_size_t(len(data)), 0, 1, 0, ESPEAK_CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
        if status != 0:
            raise SynthesisError("espeak-ng", f"could not speak {text[:40]!r} (status {status})")
        return b"".join(chunks)
