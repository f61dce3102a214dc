"""gTTS: Google Translate's online voice. The one engine that needs the network.

Opening it makes no request; speaking does. Connection failures become one
:class:`~talkingbook.errors.SynthesisError`; MP3 bytes are kept in memory and decoded
to PCM, so a failure can never leave a 0-byte file behind.
"""

from __future__ import annotations

import io
import logging
import random
import time

from ..errors import EngineUnavailableError, SynthesisError

log = logging.getLogger(__name__)
SAMPLE_RATE = 24000
ATTEMPTS = 5  # for rate limiting (429) and server errors (5xx)
CONNECT_ATTEMPTS = 2  # no network is rarely fixed by waiting
BACKOFF = 1.0  # seconds before the first retry, doubled each time, with jitter
_sleep = time.sleep  # tests replace it


def _lang_code(language: str, supported: dict) -> str | None:
    lang = language.lower()
    for candidate in (language, lang, lang.split("-")[0]):
        if candidate in supported:
            return candidate
    return None


class GttsEngine:
    name = "gtts"
    sample_rate = SAMPLE_RATE

    def __init__(self, lang: str, tld: str = "com", rate: float = 1.0) -> None:
        self._lang = lang
        self._tld = tld
        self.rate = rate
        self.voice = f"Google Translate text-to-speech ({lang}, online)"

    @classmethod
    def open(cls, language: str, voice: str | None = None, rate: float = 1.0) -> GttsEngine:
        try:
            from gtts.lang import tts_langs
        except ImportError as exc:
            raise EngineUnavailableError("gtts", "gTTS is not installed; pip install gTTS") from exc
        code = _lang_code(language, tts_langs())
        if code is None:
            raise EngineUnavailableError(f"language '{language}'", "gTTS does not speak it; try --no-audio")
        return cls(code, voice or "com", rate)

    def synthesize(self, text: str) -> bytes:
        """Speak ``text``, retrying 429 and 5xx answers with exponential backoff and jitter."""
        attempt = 0
        while True:
            attempt += 1
            try:
                data = self._request(text)
            except _Retryable as exc:
                limit = CONNECT_ATTEMPTS if exc.status is None else ATTEMPTS
                if attempt >= limit:
                    raise SynthesisError(
                        "gtts",
                        f"{exc.message} after {attempt} tries (gTTS is an online "
                        "engine; the default offline voice needs no network)",
                    ) from exc.__cause__
                delay = BACKOFF * 2 ** (attempt - 1) * (1 + random.random())
                log.warning("gtts: %s; retrying in %.1f s", exc.message, delay)
                _sleep(delay)
                continue
            from ..media.audio import decode_mp3

            return decode_mp3(data, SAMPLE_RATE)

    def _request(self, text: str) -> bytes:
        from gtts import gTTS, gTTSError

        buffer = io.BytesIO()
        try:
            gTTS(text, lang=self._lang, tld=self._tld, slow=self.rate < 0.8, lang_check=False).write_to_fp(buffer)
        except gTTSError as exc:
            status = getattr(getattr(exc, "rsp", None), "status_code", None)
            if status is None or status == 429 or status >= 500:
                raise _Retryable(str(exc), status) from exc
            raise SynthesisError("gtts", str(exc)) from exc
        except Exception as exc:  # gTTS lets some of requests' and its own parsing errors through
            raise SynthesisError("gtts", f"the request failed ({exc.__class__.__name__}: {exc})") from exc
        if not buffer.getvalue():
            raise _Retryable("the server returned no audio", 200)
        return buffer.getvalue()


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())
        self.status = status
