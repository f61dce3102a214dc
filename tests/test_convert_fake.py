"""The whole pipeline with the fake engine: MP3s decoded, tags read back, all outputs agree."""

import json

import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3

from conftest import DATA, SAMPLE, book_names, decode_mp3, epubcheck5, read_playlist


@pytest.fixture(scope="module")
def book_dir(build):
    """The run's shared sample book (read only)."""
    return build().folder


def test_outputs_exist(book_dir):
    names = sorted(p.name for p in book_dir.iterdir() if not p.name.startswith("."))  # not the marker
    assert names == sorted(
        [
            "audio",
            "feed.xml",
            f"{SAMPLE.stem}.chapters.json",
            f"{SAMPLE.stem}.epub",
            f"{SAMPLE.stem}.m3u8",
            f"{SAMPLE.stem}.m4b",
            f"{SAMPLE.stem}.mp3",
            f"{SAMPLE.stem}.vtt",
            "cover.png",
            "index.html",
            "manifest.json",
            "transcripts",
        ]
    )
    mp3s = sorted(p.name for p in (book_dir / "audio").iterdir())
    assert len(mp3s) == 5
    assert [m[:3] for m in mp3s] == ["01-", "02-", "03-", "04-", "05-"]
    assert mp3s[4] == "05-to-conclude.mp3"


def test_mp3s_decode_are_not_silent_and_last_in_proportion_to_words(book_dir):
    manifest = json.loads((book_dir / "manifest.json").read_text(encoding="utf-8"))
    for section in manifest["sections"]:
        samples, rate = decode_mp3(book_dir / section["mp3"])
        seconds = len(samples) / rate
        rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
        assert rms > 500, f"{section['mp3']} is silent (rms {rms:.0f})"
        assert abs(seconds - section["duration"]) < 0.2
        # the fake voice speaks 4 words a second; pauses add a little on top
        assert section["words"] / 4 <= seconds <= section["words"] / 4 * 1.6 + 4


def test_tags_are_read_back(book_dir):
    files = sorted((book_dir / "audio").iterdir())
    for n, path in enumerate(files, start=1):
        tags = ID3(path)
        assert tags.version[:2] == (2, 4)
        assert str(tags["TRCK"]) == f"{n}/5"
        assert str(tags["TALB"]) == "Japan and South Korea’s Leaders Drum to K-pop in a Rare Show of Harmony"
        assert str(tags["TPE1"]) == "The Meridian Ledger Newsroom"
        assert str(tags["TLAN"]) == "eng"
        assert str(tags["TCON"]) == "Speech"
        assert str(tags["TDRC"]) == "2026-11-27"
        assert str(tags["TPUB"]) == "The Meridian Ledger"
        assert "synthetic voice" in str(tags.getall("COMM")[0]) and "fake" in str(tags.getall("COMM")[0])
        info = MP3(path).info
        assert info.channels == 1 and info.bitrate <= 96000


def test_every_output_names_the_sections_identically(book_dir, epub_parts):
    epub = epub_parts(book_dir / f"{SAMPLE.stem}.epub")
    nav, ncx = epub.nav_top_labels(), epub.ncx_top_labels()
    tags = [str(ID3(p)["TIT2"]) for p in sorted((book_dir / "audio").iterdir())]
    playlist = read_playlist(book_dir / f"{SAMPLE.stem}.m3u8")
    manifest = json.loads((book_dir / "manifest.json").read_text(encoding="utf-8"))
    assert len(nav) == 5
    assert nav == ncx == tags == [t for _, t, _ in playlist] == [s["title"] for s in manifest["sections"]]
    assert [p for _, _, p in playlist] == [s["mp3"] for s in manifest["sections"]]
    for seconds, _, rel in playlist:
        assert (book_dir / rel).is_file()
        assert abs(seconds - MP3(book_dir / rel).info.length) <= 1


def test_playlist_is_utf8_extended_m3u(book_dir):
    raw = (book_dir / f"{SAMPLE.stem}.m3u8").read_bytes()
    text = raw.decode("utf-8")
    assert text.startswith("#EXTM3U\n") and "’" in text and not raw.startswith(b"\xef\xbb\xbf")


def test_manifest_describes_sections_and_options(book_dir):
    manifest = json.loads((book_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["engine"] == "fake"
    assert manifest["options"]["audio"] is True and manifest["narration"]["engine"] == "fake"
    first = manifest["sections"][0]
    assert set(first) == {"number", "title", "level", "xhtml", "mp3", "duration", "words", "clips", "transcript"}
    assert [s["number"] for s in manifest["sections"]] == [1, 2, 3, 4, 5]
    assert all(s["level"] == 1 and s["words"] > 5 for s in manifest["sections"])


def test_epub_with_audio_run_is_valid(book_dir):
    assert epubcheck5(book_dir / f"{SAMPLE.stem}.epub") == []


def test_opening_announces_the_article_and_the_synthetic_voice():
    from builders import read
    from talkingbook.narration.script import section_script

    book = read(SAMPLE.read_bytes(), name=SAMPLE.name)
    script = [u.text for u in section_script(book.sections[0], book.metadata, "Piper en_US-joe-medium")]
    assert script[0] == "Japan and South Korea's Leaders Drum to K-pop in a Rare Show of Harmony"
    assert script[1] == "By The Meridian Ledger Newsroom."
    assert script[2] == "Published by The Meridian Ledger on November twenty-seventh, twenty twenty-six."
    assert script[3] == "Source: The Meridian Ledger."
    assert script[4] == "This narration is read by a synthetic voice: Piper joe medium."
    assert script[5].startswith("In a surprising and spirited display")


def test_sections_read_heading_then_items_one_by_one():
    from builders import read
    from talkingbook.narration.script import PAUSE_HEADING, PAUSE_ITEM, PAUSE_PARAGRAPH, PAUSE_SENTENCE, section_script

    book = read((DATA / "nested.html").read_bytes(), name="nested.html")
    script = section_script(book.sections[2], book.metadata, "v")
    assert [u.text for u in script] == [
        "Second part",
        "Step one",
        "Step two",
        "Sub-step",
        "Second part details",
        "More text.",
    ]
    assert script[0].pause_after == PAUSE_HEADING
    assert script[1].pause_after == PAUSE_ITEM
    assert PAUSE_SENTENCE < PAUSE_ITEM < PAUSE_PARAGRAPH < PAUSE_HEADING
    first = section_script(book.sections[1], book.metadata, "v")
    assert "Image: A bar chart of rising numbers" in [u.text for u in first]
    assert "Quote." in [u.text for u in first]


@pytest.mark.slow
def test_split_level_makes_an_mp3_per_split_heading(tmp_path, run):
    code, _, _ = run("convert", DATA / "nested.html", "-o", tmp_path, "--engine", "fake", "--split-level", "3", "-q")
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "nested" / "audio").iterdir())
    assert names == [
        "01-a-nested-article.mp3",
        "02-first-part.mp3",
        "03-background.mp3",
        "04-method.mp3",
        "05-second-part.mp3",
        "06-second-part-details.mp3",
    ]
    assert str(ID3(tmp_path / "nested" / "audio" / names[2])["TIT2"]) == "Background"


def test_two_inputs_with_one_name_get_unique_slugs(tmp_path, run):
    other = tmp_path / "in" / SAMPLE.name
    other.parent.mkdir()
    other.write_bytes(SAMPLE.read_bytes().replace(b"japan-south-korea-leaders-k-pop-drums", b"another-article"))
    copy = tmp_path / "copy" / SAMPLE.name  # the same article (its canonical URL) saved elsewhere: the same book
    copy.parent.mkdir()
    copy.write_bytes(SAMPLE.read_bytes())
    code, _, err = run("convert", SAMPLE, other, copy, "-o", tmp_path / "out", "--no-audio", "--progress", "plain")
    assert code == 0, err
    assert book_names(tmp_path / "out") == [SAMPLE.stem, f"{SAMPLE.stem}-2"]


@pytest.mark.slow
def test_plain_progress_prints_one_line_per_section(tmp_path, run):
    code, out, err = run("convert", SAMPLE, "-o", tmp_path, "--engine", "fake", "--progress", "plain")
    assert code == 0 and out == ""
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in lines] == ["[1/5", "[2/5", "[3/5", "[4/5", "[5/5"]
    assert "\r" not in err


def test_rerun_replaces_the_book(tmp_path, run):
    for title in ("First", "Second"):
        assert run("convert", SAMPLE, "-o", tmp_path, "--no-audio", "--title", title, "-q")[0] == 0
    manifest = json.loads((tmp_path / SAMPLE.stem / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["title"] == "Second"
    assert book_names(tmp_path) == [SAMPLE.stem]


def test_standard_input_book_is_named_after_its_title(tmp_path, run, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SAMPLE.read_bytes())))
    code, _, err = run("convert", "-", "-o", tmp_path, "--no-audio", "-q")
    assert code == 0, err
    assert book_names(tmp_path) == ["japan-and-south-koreas-leaders-drum-to-k-pop-in-a-rare-show"]
