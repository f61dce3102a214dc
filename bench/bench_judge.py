"""The judge itself, on a narrated book: is it deterministic, and what does its figure mean?

    python bench/bench_judge.py BOOK_FOLDER [--repeat 3] [--fallback]

BOOK_FOLDER is a book ``talkingbook convert`` wrote (its ``manifest.json``, EPUB and section MP3s).
Each section's MP3 is transcribed ``--repeat`` times by ``judge.transcribe`` (Whisper base, greedy
at temperature 0) and, with ``--fallback``, as many times with faster-whisper's default temperature
fallback (0.0, 0.2 … 1.0: it samples where a decode looks unsure), which the judge used before. It
prints each run's recall: the judge's runs must agree to the digit.

For a Japanese book it also prints what a plain character comparison gives on the same transcript
(the first temperature-0 run), so a figure from elsewhere can be set beside the judge's:

- ``kana``: the judge's figure, the reference (the page's ruby readings in place of their kanji) and
  the transcript both read into katakana by OpenJTalk, compared character by character;
- ``written``: the transcript's characters against the written text (kanji as on the page);
- ``ruby``: the transcript's characters against the text with ruby readings in place of the kanji.

The plain comparisons count letters and digits after NFKC, as the judge counts characters for
Chinese and Thai.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the judge, shared with the tests
sys.path.insert(0, str(ROOT / "src"))

import judge  # noqa: E402


def characters(text: str) -> list[str]:
    """Letters and digits, NFKC, lower-cased: a plain character comparison's units."""
    text = unicodedata.normalize("NFKC", text).lower()
    return [c for c in text if c.isalnum() or unicodedata.category(c) in ("Mn", "Mc", "Lm")]


def with_fallback(audio: Path, language: str) -> str:
    """The judge's transcription as it was: faster-whisper's default temperature fallback."""
    lang = language.split("-")[0].lower()
    segments, _ = judge.whisper().transcribe(
        str(audio), language=judge.HEARD_AS.get(lang, lang), beam_size=1, condition_on_previous_text=False
    )
    return " ".join(s.text for s in segments)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("book", type=Path, help="a book folder written by talkingbook convert")
    parser.add_argument("--repeat", type=int, default=3, help="transcriptions of each section (default 3)")
    parser.add_argument("--fallback", action="store_true", help="also with the temperature fallback")
    args = parser.parse_args(argv)
    manifest = json.loads((args.book / "manifest.json").read_text(encoding="utf-8"))
    language = manifest["metadata"]["language"].split("-")[0].lower()
    epub = zipfile.ZipFile(args.book / manifest["epub"])
    opf = next(n for n in epub.namelist() if n.endswith(".opf"))
    base = opf.rsplit("/", 1)[0] + "/" if "/" in opf else ""
    print("| section | transcription | recall per run | kana | written | ruby |")
    print("|---|---|---|---|---|---|", flush=True)
    for section in manifest["sections"]:
        xhtml = epub.read(base + section["xhtml"])
        spoken = judge.section_text(xhtml, ruby="reading")
        audio = args.book / section["mp3"]
        ways = [("temperature 0", judge.transcribe)] + ([("fallback", with_fallback)] if args.fallback else [])
        for name, transcribe in ways:
            heard = [transcribe(audio, language) for _ in range(args.repeat)]
            recalls = " ".join(f"{judge.recall(spoken, h, language):.3f}" for h in heard)
            plain = ["", "", ""]
            if language == "ja" and name == "temperature 0":
                written = judge.section_text(xhtml, ruby="base")
                plain = [
                    f"{judge.recall(spoken, heard[0], language):.3f}",
                    f"{judge.lcs_recall(characters(written), characters(heard[0])):.3f}",
                    f"{judge.lcs_recall(characters(spoken), characters(heard[0])):.3f}",
                ]
            print(f"| {section['number']} | {name} | {recalls} | {' | '.join(plain)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
