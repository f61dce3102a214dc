"""The EPUB on its own (--no-audio): valid for EPUBCheck 5 and 4.2, nav and NCX nested, reproducible."""

import hashlib
import zipfile

import pytest

from conftest import DATA, NS, SAMPLE, epubcheck5, epubcheck42, links_and_ids, unresolved_links


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    from talkingbook.cli import main

    out = tmp_path_factory.mktemp("epub")
    assert (
        main(["convert", str(SAMPLE), str(DATA / "nested.html"), "-o", str(out), "--no-audio", "--progress", "none"])
        == 0
    )
    return {"sample": out / SAMPLE.stem / f"{SAMPLE.stem}.epub", "nested": out / "nested" / "nested.epub", "out": out}


def test_no_audio_writes_only_the_epub_its_cover_and_manifest(books):
    folder = books["sample"].parent
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "cover.png",
        f"{SAMPLE.stem}.epub",
        "manifest.json",
    ]


@pytest.mark.parametrize("name", ["sample", "nested"])
def test_epubcheck5_reports_nothing(books, name):
    assert epubcheck5(books[name]) == []


@pytest.mark.parametrize("name", ["sample", "nested"])
def test_epubcheck42_reports_no_errors_or_warnings(books, name):
    assert epubcheck42(books[name]) == []


def test_package_metadata(books, epub_parts):
    book = epub_parts(books["sample"])
    opf = book.opf
    assert opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert opf.get("version") == "3.0"

    def dc(name):
        return opf.xpath(f"//dc:{name}/text()", namespaces=NS)

    assert dc("title") == ["Japan and South Korea’s Leaders Drum to K-pop in a Rare Show of Harmony"]
    assert dc("creator") == ["The Meridian Ledger Newsroom"]
    assert dc("publisher") == ["The Meridian Ledger"]
    assert dc("language") == ["en"]
    assert dc("date") == ["2026-11-27"]
    assert dc("source")[0].startswith("https://www.meridianledger.example/")
    assert dc("identifier")[0].startswith("urn:uuid:")
    props = opf.xpath("//opf:meta[starts-with(@property,'schema:')]/@property", namespaces=NS)
    assert {
        "schema:accessMode",
        "schema:accessModeSufficient",
        "schema:accessibilityFeature",
        "schema:accessibilityHazard",
        "schema:accessibilitySummary",
    } <= set(props)
    css = opf.xpath("//opf:item[@media-type='text/css']/@href", namespaces=NS)
    assert css and "line-height" in book.zip.read(book.base + css[0]).decode()


def test_one_document_per_section_in_toc_order(books, epub_parts):
    book = epub_parts(books["sample"])
    docs = [d for d in book.spine_documents() if not d.endswith("nav.xhtml")]
    assert len(docs) == 5
    assert book.nav_top_labels() == book.ncx_top_labels()
    assert len(book.nav_top_labels()) == 5
    for doc, label in zip(docs, book.nav_top_labels()):
        assert book.document_text(doc).startswith(label)
    # every document is read as English and links the stylesheet
    for doc in docs:
        text = book.zip.read(doc).decode()
        assert 'xml:lang="en"' in text and "book.css" in text


def test_nested_toc_in_nav_and_ncx(books, epub_parts):
    book = epub_parts(books["nested"])
    nav_tree = [
        (
            " ".join("".join(li.xpath("./x:a", namespaces=NS)[0].itertext()).split()),
            [" ".join("".join(a.itertext()).split()) for a in li.xpath("./x:ol/x:li/x:a", namespaces=NS)],
        )
        for li in book.nav.xpath("//x:nav[@epub:type='toc']/x:ol/x:li", namespaces=NS)
    ]
    assert nav_tree == [
        ("A Nested Article", []),
        ("First part", ["Background", "Method"]),
        ("Second part", ["Second part details"]),
    ]
    deep = book.nav.xpath("//x:nav[@epub:type='toc']//x:ol/x:li/x:ol/x:li/x:ol/x:li/x:a/@href", namespaces=NS)
    assert [h.split("#")[1] for h in deep] == ["h-details"]
    ncx_children = book.ncx.xpath(
        "//ncx:navPoint[ncx:navLabel/ncx:text='First part']/ncx:navPoint/ncx:navLabel/ncx:text/text()", namespaces=NS
    )
    assert ncx_children == ["Background", "Method"]


def test_same_input_gives_the_same_bytes(tmp_path, monkeypatch):
    from talkingbook.cli import main

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764201600")
    digests = []
    for n in range(2):
        out = tmp_path / str(n)
        assert main(["convert", str(SAMPLE), "-o", str(out), "--no-audio", "-q"]) == 0
        digests.append(hashlib.sha256((out / SAMPLE.stem / f"{SAMPLE.stem}.epub").read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_mimetype_is_first_and_stored(books):
    import zipfile

    info = zipfile.ZipFile(books["sample"]).infolist()[0]
    assert info.filename == "mimetype" and info.compress_type == zipfile.ZIP_STORED


@pytest.mark.parametrize("split", [[], ["--split-level", "3"]], ids=["default", "split-level-3"])
def test_every_internal_link_lands_on_an_id_in_the_written_book(tmp_path, split):
    """Links to section headings, to ids inside headings, on empty anchors, on flattened containers, to
    citations at a paragraph's end and to the title all land - in the right section's document when
    the book is split (EPUBCheck RSC-012 otherwise); a link whose target is gone keeps only its text."""
    from talkingbook.cli import main

    assert main(["convert", str(DATA / "internal-links.html"), "-o", str(tmp_path), "--no-audio", "-q", *split]) == 0
    epub = tmp_path / "internal-links" / "internal-links.epub"
    links, ids = links_and_ids(epub)
    assert unresolved_links(epub) == []
    linked = {text for _, _, text in links}
    assert {"[1]", "[2]", "[3]", "[4]", "^", "History", "the figure", "the pond", "back to the top"} <= linked
    assert sum(text == "^" for _, _, text in links) == 4
    assert "a lost note" not in linked
    with zipfile.ZipFile(epub) as z:
        assert any(b"a lost note" in z.read(n) for n in ids)  # its text stays
    history = next(href for _, href, text in links if text == "History")
    assert "history" in history.split("#")[0]  # the History section's own document
    assert epubcheck5(epub) == []


def test_a_heading_read_from_a_page_keeps_its_emphasis_and_ruby_in_the_epub(tmp_path):
    """The page's <h2> with <em> and <ruby> becomes the section's heading with both; the table of
    contents label is its plain text."""
    from builders import read, write_epub_of

    prose = "<p>" + "The drum was loud and the crowd sang along with every beat of it. " * 6 + "</p>"
    page = (
        "<html lang='en'><head><title>Drums</title></head><body><article><h1>Drums</h1>"
        f"{prose}<h2>The <em>big</em> drum <ruby>漢<rt>かん</rt></ruby></h2>{prose}</article></body></html>"
    )
    epub = write_epub_of(read(page, "drums.html"), tmp_path)
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        section = next(z.read(n).decode() for n in names if n.endswith(".xhtml") and "big" in z.read(n).decode())
        nav = z.read(next(n for n in names if n.endswith("nav.xhtml"))).decode()
    assert '<h1 id="tb-title">The <em>big</em> drum <ruby>漢<rp>(</rp><rt>かん</rt><rp>)</rp></ruby></h1>' in section
    assert ">The big drum 漢</a>" in nav
