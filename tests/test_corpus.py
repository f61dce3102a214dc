"""The twelve shared real pages, converted with --no-audio and judged as the project will be;
then narrated by espeak-ng as read-along books, checked by EPUBCheck 5 and 4.2 and Ace by DAISY.

Needs ../shared/corpus beside the repository (skipped with a reason when absent).
"""

import importlib.util
import json
import re
import sys
import zipfile

import pytest
from lxml import html as lxml_html

from conftest import ROOT, ace_all, book_names, epubcheck5, epubcheck_all, unresolved_links

CORPUS = ROOT.parent / "shared" / "corpus"
PAGES = sorted(p.name for p in CORPUS.iterdir() if (p / "source.html").exists()) if CORPUS.exists() else []
pytestmark = pytest.mark.skipif(not PAGES, reason="../shared/corpus is absent")
MOJIBAKE = re.compile("[ÃÂ][\u0080-\u00bf]|Ä[\u0080-\u00bf]|\ufffd|Å[\u0080-\u00bf]")


def scorer():
    spec = importlib.util.spec_from_file_location("corpus_score", CORPUS / "score.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["corpus_score"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    from talkingbook.cli import main

    out = tmp_path_factory.mktemp("corpus")
    result = {}
    for name in PAGES:
        target = out / name
        code = main(["convert", str(CORPUS / name / "source.html"), "-o", str(target), "--no-audio", "-q"])
        assert code == 0, name
        folder = next(p for p in target.iterdir() if p.name in book_names(target))  # not the lock file beside it
        result[name] = (folder / f"{folder.name}.epub", json.loads((folder / "manifest.json").read_text("utf-8")))
    return result


@pytest.mark.parametrize("name", PAGES)
def test_extraction_recall_and_precision(books, name):
    score = scorer()
    result = score.score(books[name][0], CORPUS / name)
    if result is None:
        pytest.skip(f"{name} has no reference text (snippets are checked instead)")
    print(name, result)
    assert result["recall"] >= 0.95 and result["precision"] >= 0.90, result


@pytest.mark.parametrize("name", [p for p in PAGES if (CORPUS / p / "expected-snippets.json").exists()])
def test_snippets(books, name):
    # Compared without whitespace: the scorer joins text nodes with spaces, which splits
    # Japanese words at every <ruby>.
    text = "".join(scorer().book_text(books[name][0]).split())
    snippets = json.loads((CORPUS / name / "expected-snippets.json").read_text(encoding="utf-8"))
    for wanted in snippets.get("with", []):
        assert "".join(wanted.split()) in text, wanted
    for unwanted in snippets.get("without", []):
        assert "".join(unwanted.split()) not in text, unwanted


@pytest.mark.parametrize("name", PAGES)
def test_every_link_into_the_book_lands(books, name):
    assert unresolved_links(books[name][0]) == []


def test_wikipedia_split_at_every_h3_has_no_undefined_fragment(tmp_path):
    """Its references, citations and table of contents link across sections (EPUBCheck RSC-012)."""
    from talkingbook.cli import main

    name = "mr-wikipedia"
    assert (
        main(
            [
                "convert",
                str(CORPUS / name / "source.html"),
                "-o",
                str(tmp_path),
                "--no-audio",
                "-q",
                "--split-level",
                "3",
            ]
        )
        == 0
    )
    epub = next(tmp_path.glob("*/*.epub"))
    assert len([n for n in zipfile.ZipFile(epub).namelist() if n.startswith("EPUB/text/")]) > 10
    assert unresolved_links(epub) == []
    assert epubcheck5(epub) == []


def acceptable_titles(name: str) -> set[str]:
    """The headline as the references give it: metadata title less a site suffix, og:title, <h1>."""
    raw = (CORPUS / name / "source.html").read_bytes()
    from talkingbook.readers.sources import decode

    doc = lxml_html.fromstring(decode(raw)[0])
    for rt in doc.xpath("//rt|//rp"):
        rt.drop_tree()
    titles = {" ".join(h.text_content().split()) for h in doc.xpath("//h1")}
    titles |= {" ".join(t.split()) for t in doc.xpath("//meta[@property='og:title']/@content")}
    page_titles = [" ".join(t.text_content().split()) for t in doc.xpath("//title")]
    meta_file = CORPUS / name / "expected-metadata.json"
    if meta_file.exists():
        page_titles.append(json.loads(meta_file.read_text(encoding="utf-8")).get("title") or "")
    for title in filter(None, page_titles):
        for sep in (" | ", " - ", " – ", "|"):
            if sep in title:
                titles.add(title.rsplit(sep, 1)[0].strip())
                titles.add(title.split(sep, 1)[1].strip())
        titles.add(title)
    return {t for t in titles if t}


@pytest.mark.parametrize("name", PAGES)
def test_title_and_language(books, name):
    meta = books[name][1]["metadata"]
    assert meta["title"] in acceptable_titles(name), meta["title"]
    assert not MOJIBAKE.search(meta["title"])
    origin = json.loads((CORPUS / name / "origin.json").read_text(encoding="utf-8"))
    expected = origin["language"].split()[0].split("-")[0].lower()
    assert meta["language"].split("-")[0] == expected
    assert re.fullmatch(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?", meta["language"])


@pytest.fixture(scope="module")
def narrated(tmp_path_factory):
    """Each page as a read-along book narrated by espeak-ng (fast enough for CI); a page in a language
    no offline engine speaks (Japanese) gets its text-only book."""
    from talkingbook.cli import main

    out = tmp_path_factory.mktemp("narrated")
    result = {}
    for name in PAGES:
        target = out / name
        code = main(["convert", str(CORPUS / name / "source.html"), "-o", str(target), "--engine", "espeak", "-q"])
        if code != 0:
            assert main(["convert", str(CORPUS / name / "source.html"), "-o", str(target), "--no-audio", "-q"]) == 0
        folder = next(p for p in target.iterdir() if p.name in book_names(target))  # not the lock file beside it
        result[name] = (folder / f"{folder.name}.epub", json.loads((folder / "manifest.json").read_text("utf-8")))
    return result


@pytest.mark.slow  # every corpus page narrated by espeak-ng
def test_every_page_an_offline_engine_speaks_is_a_read_along_book(narrated):
    import zipfile

    spoken = [name for name, (_, manifest) in narrated.items() if manifest["narration"]]
    assert set(PAGES) - set(spoken) <= {"tf-nhk.or.jp-easy"}  # Japanese only: espeak-ng reads kanji wrongly
    for name in spoken:
        epub, manifest = narrated[name]
        with zipfile.ZipFile(epub) as z:
            smil = sorted(n for n in z.namelist() if n.endswith(".smil"))
            assert len(smil) == len(manifest["sections"]), name  # a SMIL document per section
            for path, section in zip(smil, manifest["sections"]):
                pars = z.read(path).count(b"<par ")
                assert pars == len(section["clips"]) > 0, (name, path)  # a clip per spoken unit
                ids = set(re.findall(rb' id="([^"]+)"', z.read(f"EPUB/{section['xhtml']}")))
                assert {c["id"].encode() for c in section["clips"]} <= ids, (name, path)


@pytest.mark.slow  # every corpus page narrated by espeak-ng
@pytest.mark.parametrize("version", ["5", "4.2"])
def test_epubcheck_on_every_page(narrated, version):
    problems = epubcheck_all([epub for epub, _ in narrated.values()], version)
    assert {str(k): v for k, v in problems.items() if v} == {}


@pytest.mark.slow  # every corpus page narrated by espeak-ng
def test_ace_on_every_page(narrated, tmp_path):
    problems = ace_all([epub for epub, _ in narrated.values()], tmp_path)
    assert {k.parent.parent.name: v for k, v in problems.items() if v} == {}


@pytest.mark.slow  # every corpus page narrated by espeak-ng
def test_every_output_of_every_narrated_page_agrees(narrated):
    """`talkingbook check` on each corpus book: EPUB nav and NCX, MP3 tags, playlist, feed,
    transcripts, audiobook chapters and chapters JSON all agree (nested headings included)."""
    from talkingbook.check import check_book

    problems = {}
    for name, (epub, manifest) in narrated.items():
        report = check_book(epub.parent)
        if not report.ok:
            problems[name] = report.problems
        elif manifest["narration"]:
            assert f"{epub.parent.name}.m4b" in report.checked and "feed.xml" in report.checked, name
    assert problems == {}
