"""Spoken units: sentences cut from paragraphs, ids on spoken elements, audio clips matched to them."""

import json
import zipfile
from itertools import pairwise

from hypothesis import given, settings, strategies as st
from lxml import etree

from builders import read
from conftest import DATA, NS, SAMPLE
from talkingbook.model import Paragraph, Span, iter_blocks
from talkingbook.narration.script import section_script
from talkingbook.structure.segment import cut_sentences, spoken_text


def texts(groups):
    return ["".join(s.text for s in group) for group in groups]


def test_a_span_crossing_a_sentence_break_is_cut_and_keeps_its_id_on_the_first_piece():
    spans = (Span("It rained. "), Span("Then it ", "em", anchor="a1"), Span("snowed. Later sun.", "em"))
    groups = cut_sentences(spans)
    assert texts(groups) == ["It rained.", "Then it snowed.", "Later sun."]
    assert [s.kind for s in groups[1]] == ["em", "em"] and groups[1][0].anchor == "a1"
    assert all(not s.anchor for g in (groups[0], groups[2]) for s in g)


def test_a_footnote_marker_stays_with_its_sentence_and_is_not_read():
    spans = (Span("Claims were made."), Span("[1]", "link", href="#fn1"), Span(" Then came silence."))
    groups = cut_sentences(spans)
    assert texts(groups) == ["Claims were made.[1]", "Then came silence."]
    assert spoken_text(groups[0]) == "Claims were made."


def test_a_sentence_of_markers_only_joins_the_one_before():
    """Regression (Wikipedia "defined as:[3]:p. 234[5]"): the cut left "234[5]" a sentence of markers
    only (a superscript number reads as one), which was dropped with the [5] link and its id."""
    spans = (
        Span("It is defined as:"),
        Span("[3]", "link", href="#n3", anchor="r3"),
        Span(":p. 234", "sup"),
        Span("[5]", "link", href="#n5", anchor="r5"),
    )
    groups = cut_sentences(spans)
    assert "".join(texts(groups)) == "It is defined as:[3]:p. 234[5]"
    assert {s.anchor for g in groups for s in g if s.anchor} == {"r3", "r5"}
    assert all(spoken_text(g) for g in groups)


def test_no_break_after_an_abbreviation_and_ruby_is_never_cut():
    assert texts(cut_sentences((Span("Dr. Smith came. He left."),))) == ["Dr. Smith came.", "He left."]
    ruby = (Span("A. B", ruby="x"), Span(" rest."))
    assert texts(cut_sentences(ruby)) == ["A. B rest."]


def test_no_break_after_a_german_ordinal_but_after_a_number_ending_a_sentence():
    def cut(text, language="de"):
        return texts(cut_sentences((Span(text),), language))

    assert cut("Am 4. Mai 2024 wurde gewählt. Danach nicht.") == ["Am 4. Mai 2024 wurde gewählt.", "Danach nicht."]
    assert cut("Der 17. Parteitag beginnt zum 100. Geburtstag.") == ["Der 17. Parteitag beginnt zum 100. Geburtstag."]
    assert cut("Er wurde 1990 geboren. Danach zog er um.") == ["Er wurde 1990 geboren.", "Danach zog er um."]
    assert cut("Es war im Jahr 2024. Die Regierung tagte.") == ["Es war im Jahr 2024.", "Die Regierung tagte."]
    assert cut("Er kam am 3. Die Feier begann.") == ["Er kam am 3.", "Die Feier begann."]
    assert cut("Berlin, 4. Mai 2024", "de-AT") == ["Berlin, 4. Mai 2024"]
    assert cut("Im II. Weltkrieg fielen viele. Dann nicht.") == ["Im II. Weltkrieg fielen viele.", "Dann nicht."]
    assert cut("Le 4. Mai", "fr") == ["Le 4.", "Mai"]  # German only: other languages as before


def test_a_german_paragraph_is_cut_by_german_rules_also_in_an_english_book():
    book = read(
        "<html lang='en'><body><article><h1>T</h1><p>An English text. Another one.</p>"
        "<p lang='de'>Am 4. Mai 2024 wurde gewählt. Danach nicht.</p></article></body></html>"
    )
    paragraphs = [b for b in iter_blocks(book.sections[0].blocks) if isinstance(b, Paragraph)]
    german = paragraphs[-1]
    assert [spoken_text(s.spans) for s in german.sentences] == ["Am 4. Mai 2024 wurde gewählt.", "Danach nicht."]


WORDS = st.sampled_from(
    ["Alpha", "beta.", "Gamma?", "delta", "E.", "(Zeta)", "eta!", "9.", "Dr.", "“Theta.”", "am", "Mai", "Die", "3.–"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(WORDS, min_size=1, max_size=6), st.sampled_from(["", "em", "strong"])),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(["en", "de"]),
)
def test_sentences_put_together_give_back_the_paragraph(runs, language):
    spans = tuple(Span(" ".join(words) + " ", kind) for words, kind in runs)
    groups = cut_sentences(spans, language)
    assert " ".join(" ".join(texts(groups)).split()) == " ".join("".join(s.text for s in spans).split())
    assert all(text.strip() == text and text for text in texts(groups))


PIECES = st.sampled_from(
    [
        ("Alpha ", ""),
        ("beta. ", ""),
        ("Gamma? ", "em"),
        ("12", "sup"),
        (" p. 34", "sup"),
        ("[1]", "link"),
        ("a", "sup"),
        ("Dr. ", ""),
        ("9. ", ""),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(PIECES, st.booleans()), min_size=1, max_size=8))
def test_no_text_marker_or_id_is_ever_lost(pieces):
    spans = tuple(
        Span(text, kind, href="#fn" if kind == "link" else None, anchor=f"a{n}" if marked else "")
        for n, ((text, kind), marked) in enumerate(pieces)
    )
    groups = cut_sentences(spans)
    if not spoken_text(spans):
        assert groups == []
        return
    assert "".join("".join(texts(groups)).split()) == "".join("".join(s.text for s in spans).split())
    assert {s.anchor for g in groups for s in g if s.anchor} == {s.anchor for s in spans if s.anchor}
    assert all(spoken_text(g) for g in groups)


def test_every_spoken_element_has_an_id_unique_in_its_section():
    book = read((DATA / "kitchen-sink.html").read_bytes(), name="k.html")
    for section in book.sections:
        units = [u.unit for u in section_script(section, book.metadata, "v", read_code=True)]
        assert all(units), [u for u in section_script(section, book.metadata, "v") if not u.unit]
        ids = [s.id for b in iter_blocks(section.blocks) if isinstance(b, Paragraph) for s in b.sentences]
        assert len(ids) == len(set(ids))


def test_source_ids_never_take_the_reserved_prefix():
    page = (
        b"<html><body><article><h1>T</h1><p id='tb-1'>Target one. Two.</p>"
        b"<p><a href='#tb-1'>back</a> to it.</p></article></body></html>"
    )
    book = read(page, name="p.html")
    first = book.sections[0].blocks[0]
    assert first.anchor == "id-tb-1" and [s.id for s in first.sentences] == ["tb-1", "tb-2"]


def element_ids_in_order(xhtml: bytes) -> list[str]:
    return [e.get("id") for e in etree.fromstring(xhtml).iter() if e.get("id")]


def test_every_clip_belongs_to_an_element_of_its_section_in_reading_order(build):
    """Clips are contiguous from 0 to the MP3's length, and each names an element of the XHTML, in order."""
    for page in (SAMPLE, DATA / "kitchen-sink.html"):
        folder = build(page).folder
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        with zipfile.ZipFile(folder / f"{page.stem}.epub") as z:
            for section in manifest["sections"]:
                clips = section["clips"]
                assert clips[0]["begin"] == 0 and abs(clips[-1]["end"] - section["duration"]) < 0.002
                assert all(abs(a["end"] - b["begin"]) < 1e-9 for a, b in pairwise(clips))
                assert all(c["end"] > c["begin"] for c in clips)
                order = element_ids_in_order(z.read(f"EPUB/{section['xhtml']}"))
                positions = [order.index(c["id"]) for c in clips]  # raises if an id is missing
                # reading order; only an element that already had a clip may come back ('End of quote.')
                for k, clip in enumerate(clips):
                    seen = [c["id"] for c in clips[:k]]
                    assert clip["id"] in seen or positions[k] >= max(positions[:k], default=0), (clip, clips)


def test_a_phrase_marked_in_another_language_is_read_by_that_voice(tmp_path, run, monkeypatch):
    from talkingbook.engines.espeak import EspeakEngine

    spoken = []
    real = EspeakEngine.synthesize
    monkeypatch.setattr(
        EspeakEngine, "synthesize", lambda self, text: spoken.append((self.voice, text)) or real(self, text)
    )
    page = tmp_path / "inline.html"
    page.write_text(
        "<html lang='en'><body><article><h1>Inline</h1><p>They called it <i lang='fr'>"
        "une drôle de guerre</i> at the time. Nothing else.</p></article></body></html>",
        encoding="utf-8",
    )
    assert run("convert", page, "-o", tmp_path / "o", "--engine", "espeak", "-q")[0] == 0
    voices = {text: voice for voice, text in spoken}
    assert voices["une drôle de guerre"].endswith("fr")
    assert not voices["They called it"].endswith("fr") and not voices["at the time."].endswith("fr")
    manifest = json.loads((tmp_path / "o" / "inline" / "manifest.json").read_text(encoding="utf-8"))
    ids = [c["id"] for c in manifest["sections"][0]["clips"]]
    assert ids.count("tb-1") == 1  # the three pieces of that sentence are one clip
    xhtml = zipfile.ZipFile(tmp_path / "o" / "inline" / "inline.epub").read(f"EPUB/{manifest['sections'][0]['xhtml']}")
    sentence = etree.fromstring(xhtml).find(".//*[@id='tb-1']", NS)
    assert " ".join("".join(sentence.itertext()).split()) == "They called it une drôle de guerre at the time."
    assert [e.get("lang") for e in sentence.iter() if e.get("lang")] == ["fr"]
