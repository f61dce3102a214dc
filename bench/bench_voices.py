"""Which offline voice is understood best, per language: narrate, judge, time.

    python bench/bench_voices.py [--languages en,fr,...] [--voices piper,espeak,jm_kumo,...]
                                 [--words 100] [--json results.jsonl]
    python bench/bench_voices.py --choose results.jsonl


For each language it takes one page (the shared corpus: en, fr, de, pl, ja, ko, ar; our own
passages in bench/passages: es, ru, id, zh, th, hi) and narrates the utterances of its first sections
(title and text; the narrator notice, which names the voice, is left out) up to about ``--words``
words (2.5 characters a word for Japanese, Chinese and Thai) with every offline engine and voice
that speaks the language (Piper joe for English, espeak-ng, the Kokoro voices), one WAV per
section. Whisper base (tests/judge.py, language forced; Hindi as Urdu) transcribes each WAV;
recall is the share of the section's units heard in order (words; characters, Simplified for
Chinese; kana readings for Japanese; consonant skeletons of words for Hindi, compared across
Devanagari and Urdu script: the judge's docstring says exactly what is compared with what),
averaged over the sections. It prints a table: language, engine and voice, recall, real-time
factor (wall-clock synthesis time / audio time) and CPU seconds per audio second.

Speed figures are noisy when the machine is shared (the CPU-seconds column less so). Recall is
repeatable for the same audio: the judge decodes at temperature 0 only (faster-whisper's default
fallback to higher temperatures samples at random, and moved one WAV between 0.60 and 0.70 from
run to run). Kokoro and espeak-ng speak the same samples each time; Piper's vary a little, so its
recall can too.

``--choose`` reads saved results and applies auto's rule (``talkingbook.engines``): per language,
among the voices within the speed budget (CPU seconds per second of speech), the best recall, or a
voice of a faster engine within RECALL_MARGIN of it; below ``clear_enough`` (0.3, or for languages
counted in characters 0.3 of the way from chance to 1), no audio. It prints the rows for
``talkingbook.engines.AUTO`` and ``UNCLEAR``; the README shows the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the judge, shared with the tests
sys.path.insert(0, str(ROOT / "src"))

import judge  # noqa: E402
from builders import read  # noqa: E402  (the page read as convert reads it, into sections)
from talkingbook.engines import open_engine  # noqa: E402
from talkingbook.errors import TalkingbookError  # noqa: E402

# beside the repository (CI, the main checkout), or beside the folder of worktrees
CORPUS = next(
    (p for p in (ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus") if p.exists()),
    ROOT.parent / "shared" / "corpus",
)
PASSAGES = ROOT / "bench" / "passages"
PAGES = {
    "en": CORPUS / "mr-ehow-1" / "source.html",
    "fr": CORPUS / "mr-lemonde-1" / "source.html",
    "de": CORPUS / "tf-backenmachtgluecklich.de" / "source.html",
    "es": PASSAGES / "es.html",
    "pl": CORPUS / "tf-rp.pl-unijne-fundusze" / "source.html",
    "ru": PASSAGES / "ru.html",
    "id": PASSAGES / "id.html",
    "ja": CORPUS / "tf-nhk.or.jp-easy" / "source.html",
    "ko": CORPUS / "ae-entermedia.co.kr" / "source.html",
    "zh": PASSAGES / "zh.html",
    "ar": CORPUS / "np-arabic_article" / "source.html",
    "th": PASSAGES / "th.html",
    "hi": PASSAGES / "hi.html",
}


def candidates(language: str, wanted: set[str] | None) -> list[tuple[str, str | None]]:
    """(engine, voice) pairs that speak the language here."""
    from talkingbook.engines import espeak, kokoro, piper

    out = []
    if piper.speaks(language):
        out.append(("piper", None))
    if espeak.speaks(language):
        out.append(("espeak", None))
    if kokoro.speaks(language):
        out.extend(("kokoro", v) for v in kokoro.voices())
    return [(e, v) for e, v in out if not wanted or e in wanted or v in wanted]


def measure(language: str, engine_name: str, voice: str | None, groups, folder: Path) -> dict:
    """One voice on the sample: recall per section, synthesis time per second of audio."""
    engine = open_engine(engine_name, language, voice)
    engine.synthesize("。" if language == "ja" else ".")  # loads the model: not counted
    heard = judge.narrate(engine, groups, language, folder)
    audio = sum(h.seconds for h in heard)
    return {
        "language": language,
        "engine": engine_name,
        "voice": voice,
        "voice_name": engine.voice,
        "recall": round(sum(h.recall for h in heard) / len(heard), 3),
        "sections": [round(h.recall, 3) for h in heard],
        "rtf": round(sum(h.wall for h in heard) / audio, 3),
        "cpu_per_second": round(sum(h.cpu for h in heard) / audio, 3),
        "audio_seconds": round(audio, 1),
    }


def choose(rows: list[dict]) -> dict[str, tuple[dict, bool]]:
    """Per language: auto's voice by the rule, and whether it is clear enough to be used."""
    from talkingbook.engines import NATIVE, NATIVE_MARGIN, RECALL_MARGIN, SPEED_BUDGET, clear_enough

    latest = {(r["language"], r["engine"], r["voice"]): r for r in rows}  # a later run replaces an earlier
    out = {}
    for language in dict.fromkeys(r["language"] for r in latest.values()):
        mine = [r for r in latest.values() if r["language"] == language and r["cpu_per_second"] <= SPEED_BUDGET]
        best = max(r["recall"] for r in mine)
        close = [r for r in mine if r["recall"] >= best - RECALL_MARGIN]
        # the faster engine among those (the voices of one engine differ in speed only by noise),
        # then its clearest voice
        engine = min(
            {r["engine"] for r in close}, key=lambda e: max(r["cpu_per_second"] for r in close if r["engine"] == e)
        )
        pick = max((r for r in close if r["engine"] == engine), key=lambda r: r["recall"])
        native = [r for r in mine if r["engine"] == NATIVE.get(language) and r["recall"] >= best - NATIVE_MARGIN]
        if native:  # a native speaker of the language, nearly as clear (engines.NATIVE_MARGIN)
            pick = max(native, key=lambda r: r["recall"])
        out[language] = (pick, pick["recall"] >= clear_enough(language))
    return out


def print_choice(path: str) -> None:
    from babel import Locale

    with open(path, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    for language, (row, clear) in choose(rows).items():
        name = Locale.parse(language).get_display_name("en")
        print(
            f'    "{language}": Measured("{name}", "{row["engine"]}", {row["voice"]!r}, {row["recall"]:.2f}, '
            f"{row['cpu_per_second']:.2f}),  # {'AUTO' if clear else 'UNCLEAR'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default=",".join(PAGES), help="comma-separated, from: " + ", ".join(PAGES))
    parser.add_argument("--voices", default="", help="only these engines or Kokoro voices (comma-separated)")
    parser.add_argument("--words", type=int, default=100, help="words of text per language (default 100)")
    parser.add_argument("--json", metavar="FILE", help="also append each result as a JSON line to FILE")
    parser.add_argument("--choose", metavar="FILE", help="print auto's choice from saved results, and stop")
    args = parser.parse_args(argv)
    if args.choose:
        print_choice(args.choose)
        return 0
    wanted = set(filter(None, args.voices.split(","))) or None
    print("| language | engine | voice | recall | sections | real-time factor | CPU s per audio s |")
    print("|---|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for language in args.languages.split(","):
            page = PAGES[language]
            groups = judge.sample(read(page.read_bytes(), page.name, folder=page.parent), language, args.words)
            for engine_name, voice in candidates(language, wanted):
                try:
                    row = measure(language, engine_name, voice, groups, Path(tmp))
                except TalkingbookError as exc:
                    print(f"| {language} | {engine_name} | {voice or ''} | unavailable: {exc.why} | | | |")
                    continue
                print(
                    f"| {language} | {engine_name} | {voice or row['voice_name']} | {row['recall']:.2f} | "
                    f"{' '.join(f'{r:.2f}' for r in row['sections'])} | {row['rtf']:.2f} | "
                    f"{row['cpu_per_second']:.2f} |",
                    flush=True,
                )
                if args.json:
                    with open(args.json, "a", encoding="utf-8") as out:
                        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
