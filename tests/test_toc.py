from builders import read
from conftest import DATA
from talkingbook.publication import Layout
from talkingbook.structure.toc import build_toc, slugify, unique


def test_slugify_keeps_ascii_letters_digits_hyphens():
    assert slugify("Japan and South Korea’s Leaders: 2026!") == "japan-and-south-koreas-leaders-2026"
    assert slugify("Café déjà vu") == "cafe-deja-vu"
    assert slugify("日本語") == "section"
    assert slugify("x" * 100, max_length=10) == "x" * 10


def test_unique_appends_numbers():
    taken: set[str] = set()
    assert [unique("a", taken) for _ in range(3)] == ["a", "a-2", "a-3"]


def test_entries_are_numbered_zero_padded_and_nested():
    book = read((DATA / "nested.html").read_bytes(), name="nested.html")
    toc = build_toc(book)
    assert [e.slug for e in toc][:2] == ["01-a-nested-article", "02-first-part"]
    layout = Layout("nested")
    assert all(
        e.xhtml == f"text/{e.slug}.xhtml"
        and layout.section_mp3(e) == f"audio/{e.slug}.mp3"
        and layout.section_vtt(e) == f"transcripts/{e.slug}.vtt"
        for e in toc
    )
    assert [e.track for e in toc] == [f"{n}/{len(toc)}" for n in range(1, len(toc) + 1)]
    first = toc[1]
    assert [(s.title, s.depth) for s in first.subentries] == [("Background", 1), ("Details", 2), ("Method", 1)]
