"""Heard back: the voice `auto` picks, judged by Whisper base (tests/judge.py) on shared pages.

The Japanese page becomes a whole read-along book with default options (validated like the
sample); the French and German pages are judged on the first 50 words of each of their first three
sections (to keep CI short). Slow: Kokoro speaks at roughly half real time on two cores.
"""

import json
import os
import subprocess
import sys

import pytest

import judge
from conftest import ROOT, ace, book_names, epubcheck5, epubcheck42, need

pytestmark = pytest.mark.slow
CORPUS = next(
    (p for p in (ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus") if p.exists()),
    ROOT.parent / "shared" / "corpus",
)
NHK = CORPUS / "tf-nhk.or.jp-easy" / "source.html"
WORDS, SECTIONS = 50, 3  # judged per page: so many words of each of its first sections


@pytest.fixture(scope="module")
def japanese_book(tmp_path_factory):
    """The shared NHK News Web Easy page converted with default options, in a separate process."""
    need(NHK.exists(), "the shared corpus (../shared/corpus) is absent")
    out = tmp_path_factory.mktemp("ja")
    env = dict(os.environ, TALKINGBOOK_CACHE=str(tmp_path_factory.mktemp("ja-cache")))  # really spoken
    proc = subprocess.run(
        [sys.executable, "-m", "talkingbook", "convert", str(NHK), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    (name,) = book_names(out)  # the book, not the library's catalog beside it
    folder = out / name
    return folder, json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_japanese_page_is_a_read_along_book_by_default(japanese_book):
    from talkingbook.check import check_book

    folder, manifest = japanese_book
    assert manifest["narration"]["engine"] == "kokoro" and manifest["options"]["engine"] == "auto"
    assert manifest["options"]["read_along"] is True
    assert all((folder / s["mp3"]).is_file() and s["clips"] for s in manifest["sections"])
    epub = folder / f"{folder.name}.epub"
    assert epubcheck5(epub) == []
    assert epubcheck42(epub) == []
    report = check_book(folder)
    assert report.ok, report.problems


def test_japanese_book_passes_ace(japanese_book, tmp_path):
    folder, _ = japanese_book
    assert ace(folder / f"{folder.name}.epub", tmp_path) == []


def test_judge_hears_each_japanese_section(japanese_book, epub_parts):
    """At least 0.85 of each section's characters, compared as readings (the page's ruby where it has one)."""
    folder, manifest = japanese_book
    epub = epub_parts(folder / f"{folder.name}.epub")
    recalls = {}
    for section in manifest["sections"]:
        reference = judge.section_text(epub.zip.read(f"{epub.base}{section['xhtml']}"), ruby="reading")
        assert "ほうりつ" in reference or section["number"] > 1  # the ruby reading, not only the kanji
        heard = judge.transcribe(folder / section["mp3"], "ja")
        recalls[section["number"]] = round(judge.recall(reference, heard, "ja"), 3)
    print("Japanese recall per section:", recalls)
    assert all(r >= 0.85 for r in recalls.values()), recalls


@pytest.mark.parametrize(
    "page, language, floor",
    [
        ("mr-lemonde-1", "fr", 0.75),
        ("tf-backenmachtgluecklich.de", "de", 0.70),
    ],
)
def test_default_voice_is_understood(page, language, floor, tmp_path):
    from builders import read
    from talkingbook.engines import AUTO, book_engine

    path = CORPUS / page / "source.html"
    need(path.exists(), "the shared corpus (../shared/corpus) is absent")
    book = read(path.read_bytes(), name=path.name)
    assert book.metadata.language.split("-")[0] == language
    engine = book_engine("auto", book.metadata.language)
    assert (engine.name, engine.voice.split()[-1]) == (AUTO[language].engine, AUTO[language].voice)
    heard = judge.narrate(engine, judge.sample(book, language, WORDS, SECTIONS), language, tmp_path)
    recalls = [round(h.recall, 3) for h in heard]
    print(f"{language} recall per section:", recalls, [h.heard for h in heard])
    assert sum(recalls) / len(recalls) >= floor, recalls


def test_japanese_with_latin_letters_digits_and_dates_is_read_whole(tmp_path):
    """Nothing of a mixed sentence is skipped: Latin words, digits with counters, a date, a symbol."""
    from talkingbook.engines import open_engine
    from talkingbook.narration.script import Utterance
    from talkingbook.narration.speech_text import normalize

    text = (
        "2026年3月11日の10時30分から、NHKのニュースでiPhoneとWindowsの新しいアプリが"
        "5人のエンジニアによって紹介され、価格は10％下がりました。"
    )
    engine = open_engine("auto", "ja")
    heard = judge.narrate(engine, [[Utterance(normalize(text, "ja"), 0, display=text)]], "ja", tmp_path)[0]
    print("heard:", heard.heard, heard.recall)
    assert heard.recall >= 0.85, heard.heard
    assert heard.seconds > 8  # the whole sentence, not a piece of it
