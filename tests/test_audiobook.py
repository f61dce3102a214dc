"""The full-length audiobook (M4B and MP3 with chapters) and its chapters JSON, read back with
ffprobe and mutagen: a chapter per section, each within 50 ms of its section's start."""

import json
import shutil
import subprocess

import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from conftest import DATA, SAMPLE, need


@pytest.fixture(scope="module")
def books(build):
    """The run's shared books (read only)."""
    return {"sample": build().folder, "nested": build(DATA / "nested.html").folder}


def ffprobe_chapters(path):
    need(shutil.which("ffprobe") is not None, "Debian's ffmpeg (ffprobe) is not installed")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    # mutagen stores CHAP frames by size, so ffprobe lists an MP3's chapters out of order: sort by start
    chapters = sorted(data["chapters"], key=lambda c: float(c["start_time"]))
    return [(float(c["start_time"]), c["tags"]["title"]) for c in chapters], float(data["format"]["duration"])


def frame_spans(folder, sections):
    """Each section MP3's length in whole frames, as ffprobe counts them: how far on the next
    section begins in the full-length MP3, which joins the sections' frames."""
    need(shutil.which("ffprobe") is not None, "Debian's ffmpeg (ffprobe) is not installed")
    spans = []
    for section in sections:
        out = subprocess.run(
            [
                *("ffprobe", "-v", "error", "-count_packets", "-select_streams", "a"),
                *("-show_entries", "stream=nb_read_packets,sample_rate", "-of", "json", str(folder / section["mp3"])),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        stream = json.loads(out)["streams"][0]
        spans.append(int(stream["nb_read_packets"]) * 1152 / int(stream["sample_rate"]))
    return spans


@pytest.mark.parametrize("name", ["sample", "nested"])
@pytest.mark.parametrize("suffix", [".m4b", ".mp3"])
def test_a_chapter_per_section_within_50_ms_of_its_start(books, name, suffix):
    folder = books[name]
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    chapters, duration = ffprobe_chapters(folder / f"{folder.name}{suffix}")
    assert [t for _, t in chapters] == [s["title"] for s in sections]
    spans = frame_spans(folder, sections)
    at = 0.0
    for (start, _), span in zip(chapters, spans):
        assert abs(start - at) < 0.05, (start, at)
        at += span
    # the last section's padding is not heard
    assert abs(duration - (at - spans[-1] + sections[-1]["duration"])) < 0.15


def decoded(path):
    """16-bit mono PCM at 44.1 kHz, as Debian's ffmpeg decodes ``path``."""
    need(shutil.which("ffmpeg") is not None, "Debian's ffmpeg is not installed")
    return subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "44100", "-"],
        capture_output=True,
        check=True,
    ).stdout


def test_each_section_is_heard_whole_at_its_chapter_mark_in_the_full_length_mp3(books):
    """The full-length MP3 joins the section MP3s' frames: decoded, a second of each section's
    speech is found sample for sample in the book, exactly where its chapter mark says it starts."""
    folder = books["sample"]
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    chapters, _ = ffprobe_chapters(folder / f"{folder.name}.mp3")
    book = decoded(folder / f"{folder.name}.mp3")
    assert len(sections) > 1
    for (start, title), section in zip(chapters, sections):
        sound = decoded(folder / section["mp3"])
        samples = memoryview(sound).cast("h")
        loud = 2 * next(k for k, sample in enumerate(samples) if abs(sample) > 1000)
        window = sound[loud : loud + 2 * 44100]
        # searched from a little before the mark: the fake voice says the same sounds in every section
        found = book.find(window, max(0, round((start - 0.2) * 44100)) * 2 + loud)
        assert found >= 0 and found % 2 == 0, title  # found, and on a sample
        assert abs((found - loud) / 2 / 44100 - start) < 0.002, (title, (found - loud) / 2 / 44100, start)


def test_the_mp3_has_a_ctoc_in_section_order_and_the_json_matches(books):
    folder = books["sample"]
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    tags = ID3(folder / f"{folder.name}.mp3")
    ctoc = tags.getall("CTOC")[0]
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    assert [str(chaps[i].sub_frames["TIT2"]) for i in ctoc.child_element_ids] == [s["title"] for s in sections]
    assert str(tags["TIT2"]) == json.loads((folder / "manifest.json").read_text())["metadata"]["title"]
    chapters = json.loads((folder / f"{folder.name}.chapters.json").read_text(encoding="utf-8"))
    assert chapters["version"] == "1.2.0"
    assert [c["title"] for c in chapters["chapters"]] == [s["title"] for s in sections]


@pytest.mark.slow
def test_the_audiobook_is_at_podcast_loudness(books):
    from test_narration import loudness

    for suffix in (".m4b", ".mp3"):
        integrated, peak = loudness(books["sample"] / f"{SAMPLE.stem}{suffix}")
        assert -17.0 <= integrated <= -15.0 and peak <= -1.0, (suffix, integrated, peak)


@pytest.mark.slow
def test_a_second_run_reuses_the_audiobook(books, tmp_path, run):
    import os

    cache = os.environ["TALKINGBOOK_CACHE"]
    assert run("convert", SAMPLE, "-o", tmp_path / "a", "--engine", "fake", "-q")[0] == 0
    assert run("convert", SAMPLE, "-o", tmp_path / "b", "--engine", "fake", "-q")[0] == 0
    for suffix in (".m4b", ".mp3", ".chapters.json"):
        first = (tmp_path / "a" / SAMPLE.stem / f"{SAMPLE.stem}{suffix}").read_bytes()
        assert first == (tmp_path / "b" / SAMPLE.stem / f"{SAMPLE.stem}{suffix}").read_bytes()
    assert any((__import__("pathlib").Path(cache) / "books").rglob("*.m4b"))


@pytest.mark.slow
def test_check_fails_on_a_chapter_moved_by_200_ms(books, tmp_path, run):
    from mutagen.id3 import CHAP

    copy = tmp_path / SAMPLE.stem
    shutil.copytree(books["sample"], copy)
    assert run("check", copy)[0] == 0
    mp3 = copy / f"{SAMPLE.stem}.mp3"
    tags = ID3(mp3)
    third = next(c for c in tags.getall("CHAP") if c.element_id == "chp3")
    tags.delall("CHAP:chp3")
    tags.add(
        CHAP(element_id="chp3", start_time=third.start_time + 200, end_time=third.end_time, sub_frames=third.sub_frames)
    )
    tags.save(mp3, v2_version=4)
    code, _, err = run("check", copy)
    assert code == 1 and f"{mp3.name}: chapter" in err and "starts at" in err


def test_mp3val_accepts_the_full_length_mp3(books):
    need(shutil.which("mp3val") is not None, "Debian's mp3val is not installed")
    for folder in books.values():
        report = subprocess.run(["mp3val", str(folder / f"{folder.name}.mp3")], capture_output=True, text=True).stdout
        assert "WARNING" not in report and "ERROR" not in report, report


@pytest.mark.slow
def test_no_audiobook_skips_it_and_the_rest_still_agrees(tmp_path, run):
    assert run("convert", SAMPLE, "-o", tmp_path, "--engine", "fake", "-q", "--no-audiobook")[0] == 0
    folder = tmp_path / SAMPLE.stem
    assert not list(folder.glob("*.m4b")) and not (folder / f"{SAMPLE.stem}.mp3").exists()
    assert not (folder / ".pcm").exists() and not list((folder / "audio").glob("*.pcm"))
    assert run("check", folder)[0] == 0


def test_deeper_headings_are_chapter_marks_inside_their_section_mp3(books, epub_parts):
    folder = books["nested"]
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    epub = epub_parts(next(folder.glob("*.epub")))
    marked = 0
    for section in sections:
        chapters, _ = ffprobe_chapters(folder / section["mp3"])
        nested = epub.nav.xpath(
            f"//x:nav[@epub:type='toc']//x:a[@href='{section['xhtml']}']/../x:ol//x:a",
            namespaces={"x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"},
        )
        if not nested:
            assert chapters == []
            continue
        marked += 1
        assert [t for _, t in chapters] == [section["title"]] + [" ".join(a.text.split()) for a in nested]
        begins = {c["id"]: c["begin"] for c in section["clips"]}
        anchors = [a.get("href").split("#")[1] for a in nested]
        for (start, _), anchor in zip(chapters[1:], anchors):
            assert abs(start - begins[anchor]) < 0.05
    assert marked > 0


@pytest.mark.parametrize("suffix", [".m4b", ".mp3"])
def test_the_audiobook_carries_the_cover_as_its_attached_picture(books, suffix, tmp_path):
    """ffprobe sees the cover as an attached picture, and ffmpeg extracts the very bytes of cover.png."""
    need(shutil.which("ffprobe") is not None, "Debian's ffmpeg (ffprobe) is not installed")
    folder = books["sample"]
    book = folder / f"{folder.name}{suffix}"
    streams = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(book)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["streams"]
    pictures = [s for s in streams if s.get("disposition", {}).get("attached_pic") == 1]
    assert len(pictures) == 1 and (pictures[0]["width"], pictures[0]["height"]) == (1400, 1400)
    out = tmp_path / "picture.png"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(book), "-map", "0:v", "-c", "copy", "-f", "image2", str(out)], check=True
    )
    assert out.read_bytes() == (folder / "cover.png").read_bytes()


# --- what players read: brand, layout, both chapter formats, the narrator as composer -------------


def ffprobe_format(path):
    need(shutil.which("ffprobe") is not None, "Debian's ffmpeg (ffprobe) is not installed")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)["format"]


def top_level_atoms(path) -> list[bytes]:
    from mutagen.mp4 import Atoms

    with open(path, "rb") as stream:
        return [a.name for a in Atoms(stream).atoms]


def rename_atom(path, container: tuple, old: bytes, new: bytes) -> None:
    """Rename every ``old`` atom found below ``container`` (a path of atom names) in place."""
    from mutagen.mp4 import Atoms

    with open(path, "r+b") as stream:
        atoms = Atoms(stream)
        found = (
            list(atoms[container].findall(old, recursive=True))
            if container
            else [a for t in atoms.atoms for a in t.findall(old, recursive=True)]
        )
        assert found, old
        for atom in found:
            stream.seek(atom.offset + 4)
            stream.write(new)


@pytest.mark.parametrize("name", ["sample", "nested"])
def test_the_m4b_is_branded_m4b_with_its_index_first(books, name):
    folder = books[name]
    m4b = folder / f"{folder.name}.m4b"
    assert ffprobe_format(m4b)["tags"]["major_brand"] == "M4B "
    atoms = top_level_atoms(m4b)
    assert atoms[0] == b"ftyp" and atoms.index(b"moov") < atoms.index(b"mdat")  # players stream it from the start


@pytest.mark.parametrize("name", ["sample", "nested"])
def test_the_m4b_carries_nero_and_quicktime_chapters_each_on_its_own(books, name, tmp_path):
    """mutagen reads the Nero `chpl` atom; with that atom renamed away, ffprobe still finds every
    chapter in the QuickTime chapter track (what Apple's players read)."""
    from mutagen.mp4 import MP4

    folder = books[name]
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    spans = frame_spans(folder, sections)
    titles, starts = [s["title"] for s in sections], [sum(spans[:k]) for k in range(len(sections))]
    m4b = folder / f"{folder.name}.m4b"
    nero = [(c.start, c.title) for c in MP4(m4b).chapters]
    assert [t for _, t in nero] == titles
    assert all(abs(start - at) < 0.05 for (start, _), at in zip(nero, starts))
    copy = tmp_path / m4b.name
    shutil.copyfile(m4b, copy)
    rename_atom(copy, (b"moov", b"udta"), b"chpl", b"free")
    assert not MP4(copy).chapters  # the Nero chapters are gone from the copy
    quicktime, _ = ffprobe_chapters(copy)
    assert [t for _, t in quicktime] == titles
    assert all(abs(start - at) < 0.05 for (start, _), at in zip(quicktime, starts))


def test_the_narrator_is_the_composer_of_every_audio_file(books):
    """Audiobookshelf reads the narrator from composer, the author from artist, the title from album."""
    from mutagen.mp4 import MP4

    folder = books["sample"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    voice, meta = manifest["narration"]["voice"], manifest["metadata"]
    assert voice
    book = MP4(folder / f"{folder.name}.m4b").tags
    assert (book["\xa9wrt"], book["\xa9ART"], book["\xa9alb"]) == ([voice], [meta["author"]], [meta["title"]])
    for suffix in (".m4b", ".mp3"):
        tags = ffprobe_format(folder / f"{folder.name}{suffix}")["tags"]
        assert (tags["composer"], tags["artist"], tags["album"]) == (voice, meta["author"], meta["title"])
    for section in manifest["sections"]:
        tags = ID3(folder / section["mp3"])
        assert (str(tags["TCOM"]), str(tags["TPE1"]), str(tags["TALB"])) == (voice, meta["author"], meta["title"])


def _without_composer_m4b(folder):
    from mutagen.mp4 import MP4

    book = MP4(folder / f"{folder.name}.m4b")
    del book.tags["\xa9wrt"]
    book.save()
    return f"{folder.name}.m4b", "no composer"


def _without_composer_mp3(folder):
    mp3 = sorted((folder / "audio").glob("*.mp3"))[1]
    tags = ID3(mp3)
    tags.delall("TCOM")
    tags.save(mp3)
    return f"audio/{mp3.name}", "no composer"


def _branded_m4a(folder):
    m4b = folder / f"{folder.name}.m4b"
    with open(m4b, "r+b") as stream:
        stream.seek(8)
        stream.write(b"M4A ")
    return m4b.name, "its brand is 'M4A '"


def _without_nero_chapters(folder):
    rename_atom(folder / f"{folder.name}.m4b", (b"moov", b"udta"), b"chpl", b"free")
    return f"{folder.name}.m4b (Nero chapters)", "chapter titles differ"


def _without_chapter_track(folder):
    rename_atom(folder / f"{folder.name}.m4b", (), b"tref", b"free")
    return f"{folder.name}.m4b", "no QuickTime chapter track"


def _episode_without_image(folder):
    feed = folder / "feed.xml"
    text = feed.read_text(encoding="utf-8")
    first = text.index("<item>")
    at = text.index("<itunes:image", first)
    feed.write_text(text[:at] + text[text.index("/>", at) + 2 :], encoding="utf-8")
    return "feed.xml", "has no itunes:image cover.png"


@pytest.mark.parametrize(
    "damage",
    [
        _without_composer_m4b,
        _without_composer_mp3,
        _branded_m4a,
        _without_nero_chapters,
        _without_chapter_track,
        _episode_without_image,
    ],
)
@pytest.mark.slow
def test_check_names_what_players_would_miss(books, tmp_path, run, damage):
    copy = tmp_path / SAMPLE.stem
    shutil.copytree(books["sample"], copy)
    output, problem = damage(copy)
    code, _, err = run("check", copy)
    assert code == 1, err
    assert any(line.startswith(f"{SAMPLE.stem}/{output}: ") and problem in line for line in err.splitlines()), err


def table_of_contents(tags):
    """The CHAP frames in the order the ID3 tables of contents give, walked from the top-level CTOC through
    the nested ones (the ID3v2 Chapter Frame Addendum), and the tables' entry counts."""
    tables = {t.element_id: t for t in tags.getall("CTOC")}
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    (top,) = [t for t in tables.values() if t.flags & 0x2]
    ordered = []

    def walk(table):
        for child in table.child_element_ids:
            if child in tables:
                assert not tables[child].flags & 0x2, "only one top-level table"
                walk(tables[child])
            else:
                ordered.append(chaps[child])

    walk(top)
    return ordered, [len(t.child_element_ids) for t in tables.values()]


@pytest.mark.parametrize(("entries", "count"), [(255, 255), (255, 256), (255, 600), (3, 30)])
def test_any_number_of_chapters_is_written_in_tables_of_255_entries_at_most(
    books, tmp_path, monkeypatch, entries, count
):
    """A CTOC's entry count is one byte: past 255 chapters they go into nested tables, which ffprobe and
    mutagen read back whole and in order (tables of 3 entries stand for 255 where a book would need three
    levels: 65,026 chapters take mutagen minutes)."""
    from talkingbook.media import audio
    from talkingbook.media.audio import book_tags, save_tags
    from talkingbook.model import Metadata

    monkeypatch.setattr(audio, "CTOC_ENTRIES", entries, raising=False)

    mp3 = tmp_path / "book.mp3"
    shutil.copy(books["sample"] / f"{books['sample'].name}.mp3", mp3)
    chapters = [(k * 0.001, (k + 1) * 0.001, f"Part {k + 1}") for k in range(count)]
    save_tags(book_tags("A long book", Metadata("A long book"), "Voice", chapters=chapters), mp3)
    ordered, sizes = table_of_contents(ID3(mp3))
    assert [str(c.sub_frames["TIT2"]) for c in ordered] == [t for _, _, t in chapters]
    assert max(sizes) <= entries
    found, _ = ffprobe_chapters(mp3)
    assert [t for _, t in found] == [t for _, _, t in chapters]


@pytest.mark.slow
def test_a_page_of_2000_sections_gives_every_output_and_check_passes(tmp_path, run):
    """Past 255 sections the MP3's table of contents was one byte short; past about 1,080 the M4B's ffmpeg
    command line was too long for the system: both failed after the whole narration."""
    page = tmp_path / "long.html"
    body = "".join(f"<h2>Part {k}</h2><p>Section {k} says one short thing.</p>\n" for k in range(1, 2001))
    page.write_text(
        "<!doctype html><html lang=en><head><title>A long book</title></head><body><article>"
        f"<h1>A long book</h1><p>An introduction long enough to be the lead of the article.</p>\n{body}"
        "</article></body></html>",
        encoding="utf-8",
    )
    code, _, err = run("convert", page, "-o", tmp_path / "out", "--engine", "fake", "-q")
    assert code == 0, err
    folder = tmp_path / "out" / "long"
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    assert len(sections) == 2001
    titles = [s["title"] for s in sections]
    for suffix in (".m4b", ".mp3", ".epub", ".chapters.json", ".m3u8", ".vtt"):
        assert (folder / f"long{suffix}").stat().st_size > 0, suffix
    ordered, sizes = table_of_contents(ID3(folder / "long.mp3"))
    assert [str(c.sub_frames["TIT2"]) for c in ordered] == titles and max(sizes) <= 255
    for suffix in (".m4b", ".mp3"):
        chapters, _ = ffprobe_chapters(folder / f"long{suffix}")
        assert [t for _, t in chapters] == titles, suffix
    # a Nero table counts its chapters in one byte: it holds the first 255 (the QuickTime track all of them)
    assert [c.title for c in MP4(folder / "long.m4b").chapters] == titles[:255]
    code, _, err = run("check", folder)
    assert code == 0, err


@pytest.mark.slow
def test_a_book_levelled_in_parts_keeps_its_chapters_where_its_sections_begin(tmp_path, run, monkeypatch):
    """The M4B of a long book is levelled a part at a time and the parts joined: the sections still begin at
    their chapter marks, and check agrees."""
    from talkingbook.writers import audiobook

    monkeypatch.setattr(audiobook, "GROUP", 2)
    assert run("convert", DATA / "nested.html", "-o", tmp_path, "--engine", "fake", "-q")[0] == 0
    folder = tmp_path / "nested"
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    assert len(sections) > 2
    chapters, duration = ffprobe_chapters(folder / "nested.m4b")
    assert [t for _, t in chapters] == [s["title"] for s in sections]
    spans = frame_spans(folder, sections)
    at = 0.0
    for (start, _), span in zip(chapters, spans):
        assert abs(start - at) < 0.05, (start, at)
        at += span
    assert abs(duration - (at - spans[-1] + sections[-1]["duration"])) < 0.15
    assert run("check", folder)[0] == 0
    assert not list(folder.rglob("levelled*"))


def ffprobe_tags(path):
    need(shutil.which("ffprobe") is not None, "Debian's ffmpeg (ffprobe) is not installed")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)["format"]["tags"]


@pytest.mark.parametrize("name", ["sample", "nested"])
def test_the_audio_carries_publisher_language_and_description_where_audiobookshelf_reads_them(books, name):
    """Audiobookshelf takes an M4B's publisher and language from iTunes free-form atoms and its description
    from `desc`, an MP3's description from TXXX:DESCRIPTION (else it shows the comment, "Narrated by a
    synthetic voice"). The description is the page's, else the book's first sentences (the manifest's summary);
    the sample page has a description, the nested one none."""
    folder = books[name]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    meta, description = manifest["metadata"], manifest["metadata"]["summary"]
    assert description and not description.startswith("Narrated")
    m4b = MP4(folder / f"{folder.name}.m4b")
    assert m4b.tags["desc"] == [description]
    assert m4b.tags["----:com.apple.iTunes:LANGUAGE"] == [meta["language"].encode()]
    assert [bytes(v) for v in m4b.tags.get("----:com.apple.iTunes:PUBLISHER", [])] == (
        [meta["publisher"].encode()] if meta["publisher"] else []
    )
    tags = ffprobe_tags(folder / f"{folder.name}.m4b")
    assert tags["description"] == description and tags["LANGUAGE"] == meta["language"]
    assert tags.get("PUBLISHER", "") == meta["publisher"]
    for mp3 in [folder / f"{folder.name}.mp3", *(folder / s["mp3"] for s in manifest["sections"])]:
        assert ID3(mp3)["TXXX:DESCRIPTION"].text == [description], mp3.name
        assert ffprobe_tags(mp3)["DESCRIPTION"] == description, mp3.name


@pytest.mark.slow
def test_a_section_of_300_headings_has_every_chapter_mark_in_its_mp3(tmp_path, run):
    """A section's deeper headings are chapter marks in its MP3: past 255 the one-byte CTOC failed after the
    narration."""
    page = tmp_path / "deep.html"
    body = "".join(f"<h3>Point {k}</h3><p>Point {k} is short.</p>\n" for k in range(1, 301))
    page.write_text(
        "<!doctype html><html lang=en><head><title>Deep</title></head><body><article><h1>Deep</h1>"
        f"<p>An introduction long enough to be the lead of the article.</p><h2>All the points</h2>{body}"
        "</article></body></html>",
        encoding="utf-8",
    )
    code, _, err = run("convert", page, "-o", tmp_path / "out", "--engine", "fake", "-q", "--no-audiobook")
    assert code == 0, err
    folder = tmp_path / "out" / "deep"
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    (deep,) = [s for s in sections if s["title"] == "All the points"]
    titles = ["All the points"] + [f"Point {k}" for k in range(1, 301)]
    ordered, sizes = table_of_contents(ID3(folder / deep["mp3"]))
    assert [str(c.sub_frames["TIT2"]) for c in ordered] == titles and max(sizes) <= 255
    chapters, _ = ffprobe_chapters(folder / deep["mp3"])
    assert [t for _, t in chapters] == titles
    assert run("check", folder)[0] == 0
