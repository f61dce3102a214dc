"""A fake engine for fast tests, as httpx ships MockTransport: a tone per word.

It produces real, non-silent PCM whose length follows the text (0.25 s per word),
so the audio pipeline, tags and timings are exercised without a speech model.
"""

from __future__ import annotations

import array
import math

_RATE = 16000
# One period of a 400 Hz tone at 16 kHz (40 samples), repeated.
_PERIOD = array.array("h", (int(8000 * math.sin(2 * math.pi * i / 40)) for i in range(40))).tobytes()


class FakeEngine:
    name = "fake"
    sample_rate = _RATE

    def __init__(self, language: str = "en", rate: float = 1.0) -> None:
        self.voice = f"fake tone voice ({language})"
        self.rate = rate
        self.calls: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.calls.append(text)
        periods = int(_RATE * 0.25 / self.rate * max(1, len(text.split()))) // 40
        return _PERIOD * periods
