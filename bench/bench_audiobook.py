"""What the full-length audiobook (M4B and MP3 with chapters) adds to a conversion.

1. A long English page (default: the corpus's ae-healthline.com, 16 minutes of speech) converted
   from nothing cached (`--no-cache`), with and without `--no-audiobook`, interleaved `--runs`
   times, with the engine given (default Piper): each run's wall time, the best of each, and the
   audiobook's share of the run.
2. The audiobook's encoding alone, on 16 minutes of a synthetic speech-like signal: the M4B (AAC);
   the full-length MP3 encoded again from the PCM (as talkingbook did until the MP3 was joined
   from the sections) against joining 16 one-minute section MP3s' frames (what it does now).

Encoding the audiobook while the sections are spoken was tried (branch `overlap`, 784416a, with
its own bench) and measured slower with Piper on two cores: Piper uses both cores, and a process
beside it costs more than the encoding it hides. See the figures in CHANGELOG.md.

Usage: PYTHONPATH=src python bench/bench_audiobook.py [--engine piper] [--runs 2] [PAGE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT.parent / "shared" / "corpus" / "ae-healthline.com" / "source.html"


def convert(page: Path, engine: str, work: Path, extra: tuple[str, ...]) -> float:
    out = work / "out"
    subprocess.run(["rm", "-rf", str(out)], check=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TALKINGBOOK_CACHE": str(work / "cache")}
    started = time.monotonic()
    command = [sys.executable, "-m", "talkingbook", "convert", str(page), "-o", str(out), "--engine", engine]
    subprocess.run([*command, "--no-cache", "-q", *extra], env=env, check=True)
    return time.monotonic() - started


def encoding_alone(work: Path, minutes: int = 16) -> None:
    import imageio_ffmpeg
    import numpy as np

    from talkingbook.media.audio import COMPRESSOR, LIMITER, MP3_OUTPUT, MP3_RATE, join_mp3s, mp3_span
    from talkingbook.writers.audiobook import AAC_OUTPUT, M4B_MUXER

    ffmpeg, rate = imageio_ffmpeg.get_ffmpeg_exe(), 22050
    n = int(rate * 60 * minutes)
    envelope = np.sin(np.arange(n) / rate * 3) ** 2  # syllable-like bursts
    signal = (np.random.default_rng(1).standard_normal(n) * 3000 * envelope).astype(np.int16)
    pcm = work / "book.pcm"
    pcm.write_bytes(signal.tobytes())
    raw = ["-f", "s16le", "-ar", str(rate), "-ac", "1"]
    graph = f"{COMPRESSOR},volume=2dB,{LIMITER}"
    sections = []
    for k, minute in enumerate(np.split(signal, minutes)):  # a section a minute, encoded as the sections are
        (work / f"{k}.pcm").write_bytes(minute.tobytes())
        section = work / f"{k:02}.mp3"
        subprocess.run(
            [
                ffmpeg,
                "-y",
                "-v",
                "error",
                *raw,
                "-i",
                str(work / f"{k}.pcm"),
                "-af",
                graph,
                "-ar",
                str(MP3_RATE),
                *MP3_OUTPUT,
                str(section),
            ],
            check=True,
        )
        sections.append((section, mp3_span(section)))

    def timed(args: list[str]) -> float:
        started = time.monotonic()
        subprocess.run([ffmpeg, "-y", "-v", "error", *args], check=True)
        return time.monotonic() - started

    m4b = timed([*raw, "-i", str(pcm), "-af", graph, *AAC_OUTPUT, "-ar", str(rate), *M4B_MUXER, str(work / "b.m4b")])
    again = timed([*raw, "-i", str(pcm), "-af", graph, "-ar", str(MP3_RATE), *MP3_OUTPUT, str(work / "b.mp3")])
    started = time.monotonic()
    join_mp3s(sections, work / "list.ffconcat", work / "j.mp3")  # as writers/audiobook.py does
    joined = time.monotonic() - started
    print(
        f"2. {minutes} min of speech: the M4B {m4b:5.2f} s; the full-length MP3 encoded again from PCM "
        f"{again:5.2f} s, joined from {minutes} section MP3s (what talkingbook does) {joined:5.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("page", nargs="?", type=Path, default=PAGE)
    parser.add_argument("--engine", default="piper")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audiobook-") as tmp:
        work = Path(tmp)
        print(f"1. {args.page} with {args.engine}, nothing cached, {os.cpu_count()} cores")
        best = {"with the audiobook": float("inf"), "--no-audiobook": float("inf")}
        for run in range(args.runs):
            for label, extra in (("with the audiobook", ()), ("--no-audiobook", ("--no-audiobook",))):
                took = convert(args.page, args.engine, work, extra)
                best[label] = min(best[label], took)
                print(f"  run {run + 1}: {label:20} {took:6.2f} s")
        full, bare = best["with the audiobook"], best["--no-audiobook"]
        print(
            f"  best: {full:.2f} s with, {bare:.2f} s without: the audiobook is {(full - bare) / full:.1%} of the run"
        )
        encoding_alone(work)


if __name__ == "__main__":
    main()
