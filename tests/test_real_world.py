"""Real-world pages: structure, kept elements, sanitising, encodings, images and URLs."""

import http.server
import re
import shutil
import threading
import zipfile
from pathlib import Path
from typing import ClassVar

import pytest
from bs4 import BeautifulSoup
from lxml import etree

from builders import read
from conftest import DATA, NS, book_names, epubcheck5
from talkingbook.errors import InputError
from talkingbook.model import CodeBlock, Heading, Image, ListBlock, Table, iter_blocks
from talkingbook.readers.sources import decode

SINK = DATA / "kitchen-sink.html"


def convert(run, source, out, *extra):
    code, _, err = run("convert", source, "-o", out, "--no-audio", "-q", *extra)
    assert code == 0, err
    (name,) = book_names(Path(out))
    folder = Path(out) / name
    return folder / f"{folder.name}.epub"


def documents(epub: Path) -> dict[str, str]:
    with zipfile.ZipFile(epub) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xhtml")}


def document_text(xhtml: str) -> str:
    """What a reader sees of a document: its text, whitespace collapsed."""
    return " ".join(BeautifulSoup(xhtml, "html.parser").get_text().split())


# --- structure ---------------------------------------------------------------


def test_headings_that_repeat_the_title_or_are_empty_are_not_sections():
    book = read(SINK.read_bytes(), name=SINK.name)
    titles = [s.title for s in book.sections]
    assert titles == [
        "Everything an Article Holds",
        "Tables and code",
        "Lists and quotes",
        "Lists and quotes (2)",
        "Notes",
    ]
    assert book.metadata.title == "Everything an Article Holds"  # without the site name
    skipped = [b for b in iter_blocks(book.sections[1].blocks) if isinstance(b, Heading)]
    assert [h.text for h in skipped] == ["A skipped level"]


def test_page_without_headings_is_one_section_titled_with_the_article():
    html = (
        b"<html lang='en'><head><title>Just Text</title></head><body><p>One paragraph, no headings.</p></body></html>"
    )
    book = read(html, name="t.html")
    assert [(s.title, s.is_opening) for s in book.sections] == [("Just Text", True)]


def test_kept_elements():
    book = read(SINK.read_bytes(), name=SINK.name)
    blocks = list(iter_blocks(tuple(b for s in book.sections for b in s.blocks)))
    table = next(b for b in blocks if isinstance(b, Table))
    assert [c.header for c in table.rows[0]] == [True, True]
    assert [(c.header, c.scope) for c in table.rows[1]] == [(True, "row"), (False, "")]
    assert next(b for b in blocks if isinstance(b, CodeBlock)).text.startswith("def hello():\n    return")
    outer = next(b for b in blocks if isinstance(b, ListBlock))
    assert isinstance(outer.items[0].blocks[1], ListBlock)  # nested list kept


# --- the EPUB: valid, sanitised, links working ----------------------------------


@pytest.fixture(scope="module")
def sink_epub(tmp_path_factory):
    from talkingbook.cli import main

    out = tmp_path_factory.mktemp("sink")
    assert main(["convert", str(SINK), "-o", str(out), "--no-audio", "-q"]) == 0
    return out / "kitchen-sink" / "kitchen-sink.epub"


def test_sink_is_valid(sink_epub):
    assert epubcheck5(sink_epub) == []


def test_sink_is_sanitised(sink_epub):
    text = "\n".join(documents(sink_epub).values())
    for banned in (
        "<script",
        "<iframe",
        "<form",
        "<input",
        "<button",
        "onclick",
        "onload",
        "javascript:",
        "<style",
        "tracker.example",
        "cookies",
    ):
        assert banned not in text, banned
    assert 'href="https://news.example/about"' in text  # relative link made absolute


def test_sink_keeps_structure_languages_and_working_footnotes(sink_epub):
    docs = documents(sink_epub)
    text = "\n".join(docs.values())
    assert "<caption>Results by year</caption>" in text
    assert '<th scope="col">Year</th>' in text and '<th scope="row">2025</th>' in text
    assert re.search(r"<pre[^>]*><code>def hello\(\):\n    return", text)
    assert "<ruby>漢字<rp>(</rp><rt>かんじ</rt><rp>)</rp></ruby>" in text
    assert 'lang="fr"' in text and 'dir="rtl"' in text and 'lang="ar"' in text
    # every in-book link points at an id that exists in its target document
    for name, content in docs.items():
        tree = etree.fromstring(content.encode())
        for href in tree.xpath("//x:a/@href", namespaces=NS):
            if href.startswith("http") or "nav" in name:
                continue
            target_doc, _, fragment = href.rpartition("#")
            target = name.rsplit("/", 1)[0] + "/" + target_doc if target_doc else name
            target_tree = etree.fromstring(docs[target].encode())
            assert target_tree.xpath(f"//*[@id='{fragment}']"), href
    ids = [i for c in docs.values() for i in etree.fromstring(c.encode()).xpath("//@id")]
    assert any("note-1" in i for i in ids)


def test_rtl_article_reads_right_to_left(tmp_path, run):
    page = tmp_path / "arabic.html"
    page.write_text(
        "<html lang='ar'><head><title>عنوان المقال</title></head><body><article><h1>عنوان المقال</h1>"
        "<p>هذا نص عربي طويل بما يكفي ليكون مقالا.</p></article></body></html>",
        encoding="utf-8",
    )
    epub = convert(run, page, tmp_path / "out")
    with zipfile.ZipFile(epub) as z:
        opf = z.read("EPUB/content.opf").decode()
        doc = next(z.read(n).decode() for n in z.namelist() if n.startswith("EPUB/text/"))
    assert 'page-progression-direction="rtl"' in opf
    assert 'dir="rtl"' in doc
    assert epubcheck5(epub) == []


# --- encodings -------------------------------------------------------------------

POLISH = (
    "Unijne fundusze coraz bliżej. Sejm zagłosował „za”. Posłowie przyjęli ustawę, która pozwoli szybciej "
    "wydawać pieniądze z Krajowego Planu Odbudowy. Rząd liczy, że pierwsze środki trafią do Polski jeszcze "
    "w tym roku, a samorządy dostaną więcej."
)


@pytest.mark.parametrize(
    "data, http_charset",
    [
        (
            ("<html><head><meta charset='windows-1250'></head><body><p>" + POLISH + "</p></body></html>").encode(
                "cp1250"
            ),
            "",
        ),
        (("<html><body><p>" + POLISH + "</p></body></html>").encode("cp1250"), "windows-1250"),
        (("<html><body><p>" + POLISH + "</p></body></html>").encode("cp1250"), ""),  # undeclared: detected
        (b"\xef\xbb\xbf" + ("<html><body><p>" + POLISH + "</p></body></html>").encode("utf-8"), "iso-8859-1"),
        (("<html><head><meta charset='gb2312'></head><body><p>" + POLISH + "</p></body></html>").encode("utf-8"), ""),
    ],
)
def test_encodings_never_give_mojibake(data, http_charset):
    text, _ = decode(data, http_charset)
    assert POLISH in text


def test_chinese_declared_gb2312_but_utf8_bytes():
    chinese = "这是一篇关于城市交通的中文文章，内容很长。"
    data = (
        f"<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'></head>"
        f"<body><p>{chinese}</p></body></html>"
    )
    text, encoding = decode(data.encode("utf-8"))
    assert chinese in text and encoding == "utf-8"
    text, encoding = decode(data.encode("gb18030"))
    assert chinese in text and encoding == "gb18030"


# --- images ------------------------------------------------------------------------


@pytest.fixture
def image_page(tmp_path):
    page = tmp_path / "page"
    page.mkdir()
    shutil.copy(DATA / "images.html", page / "images.html")
    shutil.copytree(DATA / "images", page / "images")
    secret = tmp_path / "secret.png"
    shutil.copy(DATA / "images" / "photo.png", secret)
    (page / "outside-link.png").symlink_to(secret)
    return page / "images.html"


def test_images_only_from_inside_the_folder(image_page):
    book = read(image_page.read_bytes(), name=str(image_page), folder=image_page.parent)
    images = {b.alt: b for b in iter_blocks(book.sections[0].blocks) if isinstance(b, Image)}
    assert images["A blue bar chart"].data is not None
    assert images["An inline picture"].data == images["A blue bar chart"].data  # the data: URI
    assert images[None].data is not None and images[""].data is not None
    for refused in (
        "An attempt to escape the folder",
        "A symlink pointing outside",
        "A missing picture",
        "A remote picture",
    ):
        assert images[refused].data is None, refused
    assert "tracker" not in " ".join(i.src for i in images.values())


def test_image_epub_embeds_local_images_and_keeps_missing_alt_missing(image_page, tmp_path, run):
    epub = convert(run, image_page, tmp_path / "out")
    with zipfile.ZipFile(epub) as z:
        names = [n for n in z.namelist() if "/images/img-" in n]
        text = "\n".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xhtml"))
    assert len(names) == 2  # the chart (also the data: URI) and the photo, once each
    assert 'alt="A blue bar chart"' in text and 'alt=""' in text
    photo = re.search(r"<img [^>]*img-002.png[^>]*>", text).group(0)
    assert "alt=" not in photo  # no alt invented
    assert 'role="img" aria-label="An attempt to escape the folder"' in text and "/etc/passwd" not in text
    assert epubcheck5(epub) == []


# --- URLs, from a server on this machine -----------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict] = {}

    def do_GET(self):
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    page = (
        "<html><head><title>Served Article - Local</title></head><body><article><h1>Served Article</h1>"
        f"<p>{POLISH}</p><img src='/pic.png' alt='A served picture'></article></body></html>"
    ).encode("cp1250")
    _Handler.routes = {
        "/news/served-article.html": (
            200,
            {"Content-Type": "text/html; charset=windows-1250", "Content-Language": "pl"},
            page,
        ),
        "/moved": (302, {"Location": "/news/served-article.html"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/image.png": (200, {"Content-Type": "image/png"}, (DATA / "images" / "photo.png").read_bytes()),
        "/pic.png": (200, {"Content-Type": "image/png"}, (DATA / "images" / "chart.png").read_bytes()),
        "/gone": (410, {}, b"gone"),
    }
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_url_is_fetched_decoded_and_named_after_its_last_segment(server, tmp_path, run):
    epub = convert(run, f"{server}/moved", tmp_path / "out")
    assert epub.parent.name == "served-article"
    text = "\n".join(document_text(doc) for doc in documents(epub).values())
    assert POLISH in text
    with zipfile.ZipFile(epub) as z:
        assert "<dc:language>pl</dc:language>" in z.read("EPUB/content.opf").decode()
        assert not [n for n in z.namelist() if "/images/img-" in n]  # remote images need --fetch-images


def test_fetch_images_embeds_remote_images(server, tmp_path, run):
    epub = convert(run, f"{server}/news/served-article.html", tmp_path / "out", "--fetch-images")
    with zipfile.ZipFile(epub) as z:
        assert len([n for n in z.namelist() if "/images/img-" in n]) == 1


@pytest.mark.parametrize(
    "path, why",
    [
        ("/gone", "410"),
        ("/loop", "redirect"),
        ("/image.png", "image/png"),
        ("/missing", "404"),
    ],
)
def test_bad_urls_fail_in_one_line(server, tmp_path, run, path, why):
    code, _, err = run("convert", f"{server}{path}", "-o", tmp_path / "out", "--no-audio")
    assert code == 1 and why in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_size_cap(server, monkeypatch):
    from talkingbook.readers import sources

    monkeypatch.setattr(sources, "MAX_BYTES", 100)
    with pytest.raises(InputError, match="larger than"):
        sources.load(f"{server}/news/served-article.html")


def test_unreachable_server_is_an_input_error():
    from talkingbook.readers import sources

    with pytest.raises(InputError, match="cannot fetch"):
        sources.load("http://127.0.0.1:9/nothing-listens-here")
