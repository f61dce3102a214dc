"""The read-along EPUB: media overlays that match the audio and the text, accessibility claimed
only when true, checked by EPUBCheck 5 and 4.2, Ace by DAISY, Readium's parser and Chromium."""

from __future__ import annotations

import json
import subprocess
import zipfile
from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree

from conftest import ARTIFACTS, CHROMIUM, DATA, NS, SAMPLE, EpubParts, ace_all, epubcheck_all, need, readium

SMIL = {"s": "http://www.w3.org/ns/SMIL", "epub": "http://www.idpf.org/2007/ops"}
PAGES = {
    "sample": SAMPLE,
    "sink": DATA / "kitchen-sink.html",
    "images": DATA / "images.html",
    "nested": DATA / "nested.html",
}


def clock(value: str) -> float:
    h, m, s = value.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


@pytest.fixture(scope="module")
def books(build):
    """Each test page made into a read-along book with the fake engine, plus the sample text-only twice
    (the run's shared books: read only)."""
    out = {name: build(page).folder for name, page in PAGES.items()}
    for name, flag in (("no-read-along", "--no-read-along"), ("no-audio", "--no-audio")):
        out[name] = build(SAMPLE, flag).folder
    return out


def epub_of(folder: Path) -> Path:
    return next(folder.glob("*.epub"))


def overlays(folder: Path) -> list[dict]:
    """Per content document with a media overlay: its SMIL's pars read back from the zip."""
    parts = EpubParts(epub_of(folder))
    items = {i.get("id"): i for i in parts.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
    durations = {
        m.get("refines", "")[1:]: clock(m.text)
        for m in parts.opf.xpath("//opf:meta[@property='media:duration']", namespaces=NS)
    }
    found = []
    for item in items.values():
        if not item.get("media-overlay"):
            continue
        smil_item = items[item.get("media-overlay")]
        smil_path = parts.base + smil_item.get("href")
        smil = etree.fromstring(parts.zip.read(smil_path))
        pars = []
        for par in smil.xpath("//s:par", namespaces=SMIL):
            text = par.find("s:text", SMIL).get("src")
            audio = par.find("s:audio", SMIL)
            pars.append(
                {
                    "doc": text.split("#")[0],
                    "id": text.split("#")[1],
                    "audio": audio.get("src"),
                    "begin": clock(audio.get("clipBegin")),
                    "end": clock(audio.get("clipEnd")),
                }
            )
        textref = smil.xpath("//s:seq/@epub:textref", namespaces=SMIL)[0]
        found.append(
            {
                "xhtml": parts.base + item.get("href"),
                "smil": smil_path,
                "pars": pars,
                "textref": textref,
                "duration": durations[smil_item.get("id")],
                "zip": parts.zip,
            }
        )
    return found


@pytest.mark.parametrize("name", ["sample", "sink", "images", "nested"])
def test_every_section_has_an_overlay_whose_clips_match_the_text_and_the_audio(books, name):
    folder = books[name]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    found = overlays(folder)
    assert len(found) == len(manifest["sections"])
    for section, overlay in zip(manifest["sections"], found):
        assert overlay["xhtml"].endswith(section["xhtml"])
        pars = overlay["pars"]
        assert [(p["id"], p["begin"], p["end"]) for p in pars] == [
            (c["id"], round(c["begin"], 3), round(c["end"], 3)) for c in section["clips"]
        ]
        ids = {e.get("id") for e in etree.fromstring(overlay["zip"].read(overlay["xhtml"])).iter() if e.get("id")}
        assert {p["id"] for p in pars} <= ids and overlay["textref"].split("#")[1] in ids
        assert pars[0]["begin"] == 0 and all(a["end"] == b["begin"] for a, b in pairwise(pars))
        assert abs(pars[-1]["end"] - overlay["duration"]) < 0.002
        assert abs(overlay["duration"] - section["duration"]) < 0.002
        # the MP3 inside the book is the very file in audio/
        audio = {p["audio"] for p in pars}
        assert audio == {f"../{section['mp3']}"}
        inside = overlay["zip"].read(overlay["smil"].rsplit("/", 2)[0] + "/" + section["mp3"])
        assert inside == (folder / section["mp3"]).read_bytes()


def test_book_duration_and_active_class(books):
    parts = EpubParts(epub_of(books["sample"]))
    total = parts.opf.xpath("//opf:meta[@property='media:duration'][not(@refines)]/text()", namespaces=NS)
    manifest = json.loads((books["sample"] / "manifest.json").read_text(encoding="utf-8"))
    assert abs(clock(total[0]) - sum(s["duration"] for s in manifest["sections"])) < 0.01
    active = parts.opf.xpath("//opf:meta[@property='media:active-class']/text()", namespaces=NS)[0]
    css = parts.zip.read(parts.base + "style/book.css").decode()
    assert f".{active} " in css
    for doc in parts.spine_documents():
        assert b"book.css" in parts.zip.read(doc)


@pytest.mark.parametrize("name", ["no-read-along", "no-audio"])
def test_text_only_books_carry_no_audio_and_claim_none(books, name):
    parts = EpubParts(epub_of(books[name]))
    names = parts.zip.namelist()
    assert not any(n.endswith((".mp3", ".smil")) for n in names)
    props = parts.opf.xpath("//opf:meta/@property", namespaces=NS)
    assert not any(p.startswith("media:") for p in props)
    values = parts.opf.xpath("//opf:meta/text()", namespaces=NS)
    assert "auditory" not in values and "synchronizedAudioText" not in values
    assert (books[name] / "audio").exists() == (name == "no-read-along")
    assert epub_of(books[name]).stat().st_size < epub_of(books["sample"]).stat().st_size / 10


def a11y(folder: Path) -> dict[str, list[str]]:
    parts = EpubParts(epub_of(folder))
    out: dict[str, list[str]] = {}
    for meta in parts.opf.xpath("//opf:meta[@property]", namespaces=NS):
        out.setdefault(meta.get("property"), []).append(meta.text)
    return out


def test_the_sample_claims_conformance_and_what_it_has(books):
    claims = a11y(books["sample"])
    assert claims["dcterms:conformsTo"] == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    assert claims["schema:accessMode"] == ["textual", "auditory"]
    assert {"structuralNavigation", "tableOfContents", "readingOrder", "synchronizedAudioText"} <= set(
        claims["schema:accessibilityFeature"]
    )
    assert "alternativeText" not in claims["schema:accessibilityFeature"]  # the sample has no images
    assert "synthetic voice (fake tone voice (en))" in claims["schema:accessibilitySummary"][0]


def test_a_meaningful_image_without_alt_forbids_alternative_text_and_conformance(books):
    claims = a11y(books["images"])
    assert "dcterms:conformsTo" not in claims and "a11y:certifiedBy" not in claims
    assert "alternativeText" not in claims["schema:accessibilityFeature"]
    assert claims["schema:accessModeSufficient"] == ["textual,visual"] and "visual" in claims["schema:accessMode"]
    with zipfile.ZipFile(epub_of(books["images"])) as z:
        xhtml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert xhtml.count('alt=""') == 1  # the decorative copy keeps its empty alt; none is invented


def test_validators_accept_every_book(books):
    names = {epub_of(folder): name for name, folder in books.items()}
    for version in ("5", "4.2"):
        problems = {names[p]: v for p, v in epubcheck_all(names, version).items() if v}
        assert problems == {}, (version, problems)


def test_ace_finds_no_violation_of_any_impact(books, tmp_path):
    names = ["sample", "sink", "images", "nested", "no-audio"]
    found = ace_all([epub_of(books[n]) for n in names], tmp_path)
    problems = {n: v for n in names if (v := found[epub_of(books[n])])}
    # the photo the page gave no text alternative is reported, as it should be: none is invented
    images = problems.pop("images")
    assert len(images) == 1 and "image-alt" in images[0], images
    assert problems == {}, problems


def test_readium_finds_the_contents_and_the_overlays(books):
    folder = books["sample"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    seen = readium(epub_of(folder))
    assert [t["title"] for t in seen["toc"]] == [s["title"] for s in manifest["sections"]]
    narrated = [s for s in seen["spine"] if s["mediaOverlay"]]
    assert len(narrated) == len(manifest["sections"])  # one SMIL per section
    for spine, section in zip(narrated, manifest["sections"]):
        assert len(spine["mediaOverlay"]["clips"]) == len(section["clips"])  # a clip per spoken unit
        last = spine["mediaOverlay"]["clips"][-1]["audio"]
        assert abs(float(last.rsplit(",", 1)[1]) - section["duration"]) < 0.01
        assert abs(spine["duration"] - section["duration"]) < 0.01
    assert abs(seen["duration"] - sum(s["duration"] for s in manifest["sections"])) < 0.01
    assert "synchronizedAudioText" in seen["accessibility"]["feature"]
    assert seen["activeClass"] == "-epub-media-overlay-active"


def test_chromium_renders_the_first_section(books, tmp_path):
    need(CHROMIUM is not None, "Chromium is not installed (Debian package chromium)")
    with zipfile.ZipFile(epub_of(books["sample"])) as z:
        z.extractall(tmp_path / "book")
    parts = EpubParts(epub_of(books["sample"]))
    first = tmp_path / "book" / parts.spine_documents()[1]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "read-along-first-section.png"
    shot.unlink(missing_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=900,1200"]
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", first.as_uri()], capture_output=True, timeout=120)
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", first.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Japan and South Korea" in dom and 'id="tb-1"' in dom
