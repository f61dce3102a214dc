"""`talkingbook check`: passes on a fresh book, and fails naming the output on every tampered copy."""

import shutil
import zipfile

import pytest
from mutagen.id3 import ID3, TIT2

from conftest import DATA, SAMPLE


@pytest.fixture(scope="module")
def pristine(build):
    """The run's shared books (read only), by folder name."""
    return {SAMPLE.stem: build().folder, "nested": build(DATA / "nested.html").folder}


@pytest.fixture
def book(pristine, tmp_path):
    copy = tmp_path / SAMPLE.stem
    shutil.copytree(pristine[SAMPLE.stem], copy)
    return copy


@pytest.mark.parametrize("name", [SAMPLE.stem, "nested"])
def test_check_passes_on_a_fresh_book(pristine, run, name):
    code, out, err = run("check", pristine[name])
    assert code == 0 and "outputs agree" in out and err == ""


def failing(run, folder) -> str:
    code, _, err = run("check", folder)
    assert code == 1
    return err


def test_a_changed_title_tag_is_named(book, run):
    mp3 = sorted((book / "audio").glob("*.mp3"))[2]
    tags = ID3(mp3)
    tags.add(TIT2(encoding=3, text="Chapter 3"))
    tags.save(mp3)
    err = failing(run, book)
    assert f"audio/{mp3.name}: title 'Chapter 3'" in err and "1 of" in err


def test_two_swapped_playlist_entries_are_named(book, run):
    playlist = next(book.glob("*.m3u8"))
    lines = playlist.read_text(encoding="utf-8").splitlines()
    lines[1:3], lines[3:5] = lines[3:5], lines[1:3]
    playlist.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = failing(run, book)
    assert f"{playlist.name}: titles differ: entry 1 is" in err


def test_a_removed_feed_item_is_named(book, run):
    feed = book / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    start = text.index("<item>", text.index("<item>") + 1)
    feed.write_text(text[:start] + text[text.index("</item>", start) + len("</item>") :], encoding="utf-8")
    err = failing(run, book)
    assert "feed.xml: episode titles differ: 4 entries where the table of contents has 5" in err


def test_a_renamed_nav_entry_is_named_in_every_output_that_then_differs(book, run):
    epub = next(book.glob("*.epub"))
    with zipfile.ZipFile(epub) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["EPUB/nav.xhtml"] = files["EPUB/nav.xhtml"].replace(b">To Conclude<", b">Conclusion<")
    with zipfile.ZipFile(epub, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    err = failing(run, book)
    for output in ("(NCX)", "05-to-conclude.mp3", ".m3u8", "feed.xml", "transcripts/05-to-conclude.vtt"):
        assert output in err, output


def test_a_transcript_running_past_its_mp3_is_named(book, run):
    vtt = max((book / "transcripts").glob("*.vtt"))
    text = vtt.read_text(encoding="utf-8").rstrip("\n")
    vtt.write_text(text + "\n\n99\n00:59:00.000 --> 00:59:01.000\nA cue after the end\n", encoding="utf-8")
    err = failing(run, book)
    assert f"transcripts/{vtt.name}: cues run past the end" in err


def test_check_on_a_folder_that_is_not_a_book(tmp_path, run):
    code, _, err = run("check", tmp_path / "nowhere")
    assert code == 1 and "not a book folder" in err


def test_a_section_mp3_with_another_cover_is_named(book, run):
    from mutagen.id3 import APIC

    mp3 = sorted((book / "audio").glob("*.mp3"))[1]
    tags = ID3(mp3)
    tags.delall("APIC")
    tags.add(APIC(encoding=3, mime="image/png", type=3, desc="Cover", data=b"\x89PNG\r\n\x1a\nnot the cover"))
    tags.save(mp3)
    err = failing(run, book)
    assert f"audio/{mp3.name}: its front-cover picture is not cover.png" in err


def test_a_cover_too_small_for_podcast_directories_is_named(book, run):
    from PIL import Image

    Image.new("RGB", (600, 600), "navy").save(book / "cover.png")
    err = failing(run, book)
    assert "cover.png: is 600x600; podcast directories need a square of 1400 or more" in err
    assert "has no cover-image" not in err and "its cover-image is not cover.png" in err


def test_an_ffmpeg_killed_while_checking_is_named_by_its_signal(pristine, run, monkeypatch, tmp_path):
    """A decoder the system killed says nothing about the file: check says it was killed, not that the MP3 is
    not audio."""
    import imageio_ffmpeg

    ffmpeg = tmp_path / "ffmpeg"
    ffmpeg.write_text("#!/bin/sh\nkill -KILL $$\n")
    ffmpeg.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(ffmpeg))
    err = failing(run, pristine[SAMPLE.stem])
    assert "cannot be decoded (ffmpeg was killed by signal 9 (SIGKILL))" in err
    assert "not MP3 audio" not in err


def test_nested_tables_of_contents_are_walked_from_the_top_level_one_and_each_read_once(book, run):
    """The full-length MP3's chapters are found by walking its CTOCs from the top-level one, through the
    nested ones (a book of more than 255 chapters has them); a table that lists itself or its parent (a
    damaged or hostile file) is not followed again, and the lost order is named."""
    from mutagen.id3 import CTOC, CTOCFlags

    mp3 = book / f"{book.name}.mp3"
    tags = ID3(mp3)
    ids = [c.element_id for c in sorted(tags.getall("CHAP"), key=lambda c: c.start_time)]
    top, ordered = CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, CTOCFlags.ORDERED

    def tables(*frames):
        tags.delall("CTOC")
        for frame in frames:
            tags.add(frame)
        tags.save(mp3)

    tables(
        CTOC(element_id="part2", flags=ordered, child_element_ids=ids[2:]),
        CTOC(element_id="part1", flags=ordered, child_element_ids=ids[:2]),
        CTOC(element_id="toc", flags=top, child_element_ids=["part1", "part2"]),
    )
    assert run("check", book)[0] == 0
    tables(
        CTOC(element_id="toc", flags=top, child_element_ids=["toc", "part", *ids[:1]]),
        CTOC(element_id="part", flags=ordered, child_element_ids=["toc", "part", *ids[2:], ids[1]]),
    )
    assert f"{book.name}/{mp3.name}: chapter titles differ" in failing(run, book)
