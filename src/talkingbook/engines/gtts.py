"""gTTS: Google Translate's online voice. The one engine that needs the network.

Opening it makes no request; speaking does. Connection failures become one
:class:`~talkingbook.errors.SynthesisError`; MP3 bytes are kept in memory and decoded
to PCM, so a failure can never leave a 0-byte file behind.
"""

from __future__ import annotations

import io

from ..errors import EngineUnavailableError, SynthesisError

SAMPLE_RATE = 24000


def _lang_code(language: str, supported: dict) -> str | None:
    lang = language.lower()
    for candidate in (language, lang, lang.split("-")[0]):
        if candidate in supported:
            return candidate
    return None


class GttsEngine:
    name = "gtts"
    sample_rate = SAMPLE_RATE

    def __init__(self, lang: str, tld: str = "com") -> None:
        self._lang = lang
        self._tld = tld
        self.voice = f"Google Translate text-to-speech ({lang}, online)"

    @classmethod
    def open(cls, language: str, voice: str | None = None) -> "GttsEngine":
        try:
            from gtts.lang import tts_langs
        except ImportError as exc:
            raise EngineUnavailableError("gtts", "gTTS is not installed; pip install gTTS") from exc
        code = _lang_code(language, tts_langs())
        if code is None:
            raise EngineUnavailableError(f"language '{language}'", "gTTS does not speak it; try --no-audio")
        return cls(code, voice or "com")

    def synthesize(self, text: str) -> bytes:
        from gtts import gTTS, gTTSError

        from ..audio import decode_mp3

        buffer = io.BytesIO()
        try:
            gTTS(text, lang=self._lang, tld=self._tld, lang_check=False).write_to_fp(buffer)
        except gTTSError as exc:
            raise SynthesisError("gtts", f"{exc} (gTTS is an online engine; the default offline "
                                 "voice needs no network)") from exc
        except Exception as exc:  # gTTS lets some of requests' and its own parsing errors through
            raise SynthesisError("gtts", f"the request failed ({exc.__class__.__name__}: {exc})") from exc
        if not buffer.getvalue():
            raise SynthesisError("gtts", "the server returned no audio")
        return decode_mp3(buffer.getvalue(), SAMPLE_RATE)
