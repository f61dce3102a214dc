"""The full-length audiobook is encoded while the sections are still being spoken: its encoder runs
before the last section is, the audiobook step re-encodes nothing, sections reach the encoder in
TOC order whatever order they finish in, and a failure or a stop mid-narration leaves no ffmpeg
and no partial folder."""

import os
import signal
import subprocess
from pathlib import Path

import pytest

from test_signals import finish, partials, proc_table, start, wait_for


def page(folder: Path, sections: int) -> Path:
    parts = "".join(
        f"<h2>Part {i}</h2><p>Part {i} tells of rivers, lakes and the spring weather, for a while.</p>"
        for i in range(sections)
    )
    path = folder / "parts.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"<!doctype html><html lang='en'><head><title>Parts</title></head><body><article>"
        f"<h1>Parts</h1>{parts}</article></body></html>",
        encoding="utf-8",
    )
    return path


def encoders(parent: int) -> list[int]:
    """The audiobook's encoder (the ffmpeg reading the book from its standard input) among ``parent``'s
    live children."""
    return [
        pid
        for pid, (ppid, state, cmdline) in proc_table().items()
        if ppid == parent and state != "Z" and "ffmpeg" in cmdline and "pipe:0" in cmdline
    ]


def ffmpeg_children(parent: int) -> list[int]:
    return [
        pid
        for pid, (ppid, state, cmdline) in proc_table().items()
        if ppid == parent and state != "Z" and "ffmpeg" in cmdline
    ]


# enough sections that the first ones are finished (handed to the encoder) before the last is spoken
SECTIONS = 2 * (os.cpu_count() or 1) + 3


def test_the_audiobook_is_encoded_while_the_sections_are_spoken(tmp_path, monkeypatch, run):
    from talkingbook.convert import Options, Progress, convert
    from talkingbook.writers import audiobook

    monkeypatch.setattr(audiobook, "_encode", lambda *a: pytest.fail("the book was encoded after the narration"))
    started: list[int] = []
    seen: list[list[int]] = []

    class Watch(Progress):
        def section_started(self, entry) -> None:
            started.append(entry.number)
            if len(started) == SECTIONS + 1:  # the last section (the first is the title's)
                seen.append(encoders(os.getpid()))

    folder = convert(str(page(tmp_path, SECTIONS)), tmp_path / "out", Options(engine="fake", cache=False), Watch())
    assert len(started) == SECTIONS + 1 and seen and seen[0], "no encoder ran while the last section was spoken"
    assert encoders(os.getpid()) == []
    assert (folder / f"{folder.name}.m4b").stat().st_size > 0 and (folder / f"{folder.name}.mp3").stat().st_size > 0
    assert not (folder / ".pcm").exists()
    code, _, err = run("check", folder)
    assert code == 0, err  # the chapters agree with the table of contents


def test_a_failure_mid_narration_leaves_no_ffmpeg_and_no_partial_folder(tmp_path, monkeypatch):
    from talkingbook.convert import Options, convert
    from talkingbook.engines.fake import FakeEngine
    from talkingbook.errors import SynthesisError

    real, seen, paragraphs = FakeEngine.synthesize, [], []

    def failing(self, text):
        paragraphs.extend(["spoken"] if "weather" in text else [])
        if len(paragraphs) == SECTIONS - 1:  # the next to last section's paragraph
            seen.append(encoders(os.getpid()))
            raise SynthesisError("fake", "the engine broke")
        return real(self, text)

    monkeypatch.setattr(FakeEngine, "synthesize", failing)
    out = tmp_path / "out"
    with pytest.raises(SynthesisError):
        convert(str(page(tmp_path, SECTIONS)), out, Options(engine="fake", cache=False))
    assert seen and seen[0], "the encoder was not running when the engine failed"
    assert ffmpeg_children(os.getpid()) == []
    assert not out.exists() or (partials(out) == [] and not (out / "parts").exists())


def test_sections_reach_the_encoder_in_toc_order_whatever_order_they_finish_in(tmp_path):
    """Added out of order, levelled as each section's own MP3 (the compressor, its gain), joined."""
    import numpy as np

    from talkingbook.media.encoder import BookEncoder

    rate, pcms = 16000, []
    for k in range(3):
        tone = (8000 * np.sin(2 * np.pi * (200 + 100 * k) * np.arange(rate // 2) / rate)).astype("<i2")
        pcms.append(tmp_path / f"{k}.pcm")
        pcms[-1].write_bytes(tone.tobytes())

    def encoded(order: list[int], name: str) -> bytes:
        out = tmp_path / f"{name}.f32"
        encoder = BookEncoder(rate, ["-f", "f32le", str(out)], (out,), name, "test encoding")
        for k in order:
            encoder.add(k, pcms[k], -3.0 * k, spoken=k == order[-1])
        assert encoder.started
        encoder.close(3)
        assert encoder.finish() == (out,)
        return out.read_bytes()

    in_order, shuffled = encoded([0, 1, 2], "in-order"), encoded([2, 0, 1], "shuffled")
    assert in_order == shuffled and len(in_order) == 3 * (rate // 2) * 4  # three half-seconds of float samples


def test_an_encoder_never_started_encodes_nothing_and_an_aborted_one_leaves_nothing(tmp_path):
    from talkingbook.media.encoder import BookEncoder

    pcm = tmp_path / "0.pcm"
    pcm.write_bytes(b"\0\0" * 16000 * 60)
    idle = BookEncoder(16000, ["-f", "f32le", str(tmp_path / "idle.f32")], (tmp_path / "idle.f32",), "idle", "test")
    idle.add(0, pcm, None, spoken=False)  # copied from the cache: the book most likely is too
    idle.close(2)
    assert not idle.started and idle.finish() is None

    out = tmp_path / "book.f32"
    busy = BookEncoder(16000, ["-f", "f32le", str(out)], (out,), "busy", "test")
    busy.add(1, pcm, None)  # waits for section 0, which never comes
    pids = encoders(os.getpid())
    assert pids
    busy.abort()
    assert ffmpeg_children(os.getpid()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["0.pcm"]


def test_ctrl_c_while_the_audiobook_is_encoded_stops_its_ffmpeg_and_removes_the_partial_folder(tmp_path):
    source, out = page(tmp_path / "in", 40), tmp_path / "out"
    proc = start(tmp_path, source, out, "--engine", "fake", "--no-cache")
    encoder = wait_for(lambda: encoders(proc.pid), what="the audiobook's encoder")
    assert partials(out)
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc, timeout=60)
    assert code == 128 + signal.SIGINT, err
    assert "Traceback" not in err
    assert not any(pid in proc_table() and proc_table()[pid][1] != "Z" for pid in encoder)
    assert not out.exists() or (partials(out) == [] and not (out / source.stem).exists())
    assert subprocess.run(["pgrep", "-f", str(out)], capture_output=True).stdout == b""
