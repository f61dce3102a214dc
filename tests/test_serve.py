"""`talkingbook serve` over real HTTP: the command started as a process (uvicorn on 127.0.0.1, a free
port), asked with http.client, which sends paths as written (no client-side '..' clean-up), so that
every traversal reaches the server as an attacker would send it."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import ARTIFACTS, CHROMIUM, JS, ROOT, SAMPLE, as_from_a_terminal, epubcheck5, need

BOOK = SAMPLE.stem
SECRET = b"not-for-the-library-7c1e5a"  # the bytes of every file outside DIR the tests try to reach


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


class Served:
    """A `talkingbook serve` process and its address; its stdout (the access log) goes to a file."""

    def __init__(self, folder: Path, log: Path, *options: str, files: int | None = None) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "talkingbook", "serve", str(folder), "--port", "0", *options],
            stdout=log.open("wb"),
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
            preexec_fn=as_from_a_terminal if files is None else lambda: limit_files(files),
        )
        first = self.proc.stderr.readline()
        match = re.match(r"serving .* at http://([^/]+):(\d+)/$", first.strip())
        assert match, first + self.proc.stderr.read() if self.proc.poll() is not None else first
        self.host, self.port = match.group(1), int(match.group(2))
        self.lines = [first]
        while not self.lines[-1].startswith("press Ctrl-C"):
            self.lines.append(self.proc.stderr.readline())
            assert self.lines[-1], "".join(self.lines)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> tuple[int, str]:
        self.proc.send_signal(signum)
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


def limit_files(count: int) -> None:
    """``preexec_fn``: at most ``count`` open files (soft and hard limit), as on a machine with a low
    limit (1,024 is common), for a flood of connections that a test can open quickly."""
    import resource

    as_from_a_terminal()
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))


def request(port: int, path: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    """(status, headers, body) of one request; the path goes out byte for byte."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host="Host" in (headers or {}), skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """A library folder with the sample converted by the fake engine, and a secret beside it."""
    from talkingbook.cli import main

    root = tmp_path_factory.mktemp("serve")
    folder = root / "dist"
    assert main(["convert", str(SAMPLE), "-o", str(folder), "--engine", "fake", "-q"]) == 0
    (root / "secret.txt").write_bytes(SECRET)
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_bytes(SECRET)
    (folder / "linked-out").symlink_to(root / "outside", target_is_directory=True)
    (folder / "secret-link.txt").symlink_to(root / "secret.txt")
    (folder / ".hidden.txt").write_bytes(SECRET)
    (folder / "visible-link.txt").symlink_to(folder / ".hidden.txt")  # a visible name for a hidden file
    partial = folder / f".{BOOK}.1234.abcd.partial"
    partial.mkdir()
    (partial / "index.html").write_bytes(SECRET)
    (folder / "plain").mkdir()  # a folder without index.html
    (folder / "plain" / "notes.txt").write_bytes(b"notes")
    (folder / "loop-a").symlink_to(folder / "loop-b")  # a symlink loop
    (folder / "loop-b").symlink_to(folder / "loop-a")
    (folder / "self-loop").symlink_to(folder / "self-loop")
    return folder


@pytest.fixture(scope="module")
def server(library, tmp_path_factory):
    served = Served(library, tmp_path_factory.mktemp("log") / "access.log", "-v", "--allow-host", "192.168.1.20")
    yield served
    if served.proc.poll() is None:
        served.stop()


def book_file(library: Path, name: str) -> bytes:
    return (library / BOOK / name).read_bytes()


def test_range_on_an_mp3_is_206_with_the_right_bytes(server, library):
    mp3 = book_file(library, f"{BOOK}.mp3")
    status, headers, body = request(
        server.port, f"/{BOOK}/{BOOK}.mp3", headers={"Range": "bytes=1000-1999", "Accept-Encoding": "gzip"}
    )
    assert status == 206
    assert headers["content-range"] == f"bytes 1000-1999/{len(mp3)}"
    assert body == mp3[1000:2000] and headers["content-length"] == "1000"
    assert headers["content-type"] == "audio/mpeg" and "content-encoding" not in headers
    assert headers["accept-ranges"] == "bytes"


def test_suffix_range_gives_the_last_bytes(server, library):
    mp3 = book_file(library, f"{BOOK}.mp3")
    status, headers, body = request(server.port, f"/{BOOK}/{BOOK}.mp3", headers={"Range": "bytes=-500"})
    assert status == 206 and body == mp3[-500:]
    assert headers["content-range"] == f"bytes {len(mp3) - 500}-{len(mp3) - 1}/{len(mp3)}"


def test_open_range_to_the_end(server, library):
    mp3 = book_file(library, f"{BOOK}.mp3")
    status, _, body = request(server.port, f"/{BOOK}/{BOOK}.mp3", headers={"Range": f"bytes={len(mp3) - 10}-"})
    assert status == 206 and body == mp3[-10:]


def test_unsatisfiable_range_is_416(server, library):
    size = len(book_file(library, f"{BOOK}.mp3"))
    status, headers, _ = request(server.port, f"/{BOOK}/{BOOK}.mp3", headers={"Range": f"bytes={size}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{size}"


def test_if_range_with_a_stale_etag_gives_the_whole_file(server, library):
    mp3 = book_file(library, f"{BOOK}.mp3")
    path = f"/{BOOK}/{BOOK}.mp3"
    etag = request(server.port, path, "HEAD")[1]["etag"]
    status, _, body = request(server.port, path, headers={"Range": "bytes=0-99", "If-Range": '"stale"'})
    assert status == 200 and body == mp3
    status, _, body = request(server.port, path, headers={"Range": "bytes=0-99", "If-Range": etag})
    assert status == 206 and body == mp3[:100]


@pytest.mark.parametrize("name", [f"{BOOK}.mp3", f"{BOOK}.epub", "index.html", f"{BOOK}.vtt"])
def test_head_gives_the_length_and_no_body(server, library, name):
    status, headers, body = request(server.port, f"/{BOOK}/{name}", "HEAD", headers={"Accept-Encoding": "identity"})
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == len(book_file(library, name))


def test_etag_and_last_modified_give_304(server):
    path = f"/{BOOK}/{BOOK}.epub"
    _, headers, _ = request(server.port, path, "HEAD")
    status, again, body = request(server.port, path, headers={"If-None-Match": headers["etag"]})
    assert status == 304 and body == b"" and again["etag"] == headers["etag"]
    status, _, body = request(server.port, path, headers={"If-Modified-Since": headers["last-modified"]})
    assert status == 304 and body == b""
    status, _, body = request(server.port, path, headers={"If-None-Match": '"something-else"'})
    assert status == 200 and len(body) > 0


OPDS_NAV = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>Library</title>
<link rel="start" href="catalog.xml" type="application/atom+xml;profile=opds-catalog;kind=navigation"/>
<entry><title>Newest</title><link rel="subsection" href="newest.xml"
 type="application/atom+xml;profile=opds-catalog;kind=acquisition"/></entry></feed>"""
OPDS_ACQ = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opds="http://opds-spec.org/2010/catalog"><id>urn:y</id>
<title>Newest</title><entry><title>A book</title>
<link rel="http://opds-spec.org/acquisition" href="a/a.epub" type="application/epub+zip"/></entry></feed>"""
OPDS2 = json.dumps({"metadata": {"title": "Library"}, "links": [], "publications": []})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"{BOOK}/{BOOK}.epub", "application/epub+zip"),
        (f"{BOOK}/{BOOK}.mp3", "audio/mpeg"),
        (f"{BOOK}/{BOOK}.m4b", "audio/mp4"),
        (f"{BOOK}/{BOOK}.vtt", "text/vtt; charset=utf-8"),
        (f"{BOOK}/{BOOK}.chapters.json", "application/json+chapters"),
        (f"{BOOK}/feed.xml", "application/rss+xml"),
        (f"{BOOK}/index.html", "text/html; charset=utf-8"),
        (f"{BOOK}/manifest.json", "application/json"),
        (f"{BOOK}/cover.png", "image/png"),
        ("types/catalog.xml", "application/atom+xml;profile=opds-catalog;kind=navigation"),
        ("types/newest.xml", "application/atom+xml;profile=opds-catalog;kind=acquisition"),
        ("types/catalog.json", "application/opds+json"),
    ],
)
def test_every_file_has_its_media_type(server, library, name, expected):
    types = library / "types"
    types.mkdir(exist_ok=True)
    (types / "catalog.xml").write_text(OPDS_NAV, encoding="utf-8")
    (types / "newest.xml").write_text(OPDS_ACQ, encoding="utf-8")
    (types / "catalog.json").write_text(OPDS2, encoding="utf-8")
    status, headers, _ = request(server.port, "/" + name, "HEAD")
    assert status == 200 and headers["content-type"] == expected


@pytest.mark.parametrize("name", ["index.html", f"{BOOK}.vtt", "manifest.json", "feed.xml"])
def test_text_is_compressed(server, library, name):
    status, headers, body = request(server.port, f"/{BOOK}/{name}", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    whole = request(server.port, f"/{BOOK}/{name}", headers={"Accept-Encoding": "identity"})[2]
    assert whole == book_file(library, name) or name == "feed.xml"  # the feed is served with absolute URLs
    assert gzip.decompress(body) == whole and len(body) < len(whole)


@pytest.mark.parametrize("path", [f"/{BOOK}/index.html", f"/{BOOK}/feed.xml", "/feed.xml", "/catalog/newest.xml"])
def test_a_compressed_answer_has_a_weak_etag_and_still_gets_304(server, library, path):
    # The gzip bytes are another representation: a strong ETag promises the same bytes (RFC 9110, 8.8.1).
    plain = request(server.port, path, headers={"Accept-Encoding": "identity"})[1]["etag"]
    status, headers, _ = request(server.port, path, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == "gzip"
    assert not plain.startswith("W/") and headers["etag"] == "W/" + plain
    again = request(server.port, path, headers={"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert again[0] == 304


def feed_urls(body: bytes) -> set[str]:
    """Every URL of an RSS feed: attributes (enclosure, itunes:image, podcast:transcript...) and the
    text of <link> and <url>."""
    from lxml import etree

    root = etree.fromstring(body)
    urls = {e.get(a) for e in root.iter() for a in ("href", "url") if e.get(a)}
    return urls | {e.text.strip() for e in root.iter("url", "link") if e.text and e.text.strip()}


def test_an_articles_feed_is_served_with_absolute_urls_that_download(server, library):
    """Audiobookshelf and most podcast apps refuse relative enclosure URLs ('Invalid URL'): the feed of
    each book, which its listening page links to, is served with absolute ones, as the library's is."""
    import feedparser

    assert ' url="audio/' in book_file(library, "feed.xml").decode()  # relative on disk
    base = f"http://127.0.0.1:{server.port}/"
    status, headers, body = request(server.port, f"/{BOOK}/feed.xml", headers={"Host": f"127.0.0.1:{server.port}"})
    assert status == 200 and headers["content-type"] == "application/rss+xml"
    parsed = feedparser.parse(body)
    assert not parsed.bozo and len(parsed.entries) >= 2
    enclosures = [link.href for entry in parsed.entries for link in entry.enclosures]
    assert len(enclosures) == len(parsed.entries)
    urls = feed_urls(body)
    assert set(enclosures) <= urls and parsed.feed.image.href in urls
    source = parsed.feed.link  # the article's page on the web: left as it is
    for url in sorted(urls - {source}):
        assert url.startswith(base + f"{BOOK}/"), url
        status, _, _ = request(server.port, url[len(base) - 1 :], "HEAD")
        assert status == 200, url
    _, _, again = request(server.port, f"/{BOOK}/feed.xml", headers={"Host": "192.168.1.20:8000"})
    assert f'url="http://192.168.1.20:8000/{BOOK}/audio/'.encode() in again  # the address asked


@pytest.mark.parametrize("name", [f"{BOOK}.mp3", f"{BOOK}.m4b", f"{BOOK}.epub", "cover.png"])
def test_audio_books_and_images_are_never_compressed(server, library, name):
    status, headers, body = request(server.port, f"/{BOOK}/{name}", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in headers and body == book_file(library, name)


def test_a_range_of_text_is_not_compressed(server, library):
    vtt = book_file(library, f"{BOOK}.vtt")
    status, headers, body = request(
        server.port, f"/{BOOK}/{BOOK}.vtt", headers={"Accept-Encoding": "gzip", "Range": "bytes=10-2009"}
    )
    assert status == 206 and "content-encoding" not in headers and body == vtt[10:2010]


TRAVERSALS = [
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/..%2fsecret.txt",
    "/%2e%2e%2fsecret.txt",
    "/.%2e/secret.txt",
    f"/{BOOK}/../../secret.txt",
    f"/{BOOK}/%2e%2e/%2e%2e/secret.txt",
    "/..\\secret.txt",
    "/%2e%2e%5csecret.txt",
    "/../../../../../../etc/passwd",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/%2Fetc/passwd",
    "///etc/passwd",
    "/linked-out/secret.txt",
    "/secret-link.txt",
    "/linked-out/",
    "/linked-out",
    "/%00",
    "/secret.txt%00.mp3",
    "/../",
    "/%2e%2e",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_nothing_outside_the_folder_is_reachable(server, path, method):
    status, headers, body = request(server.port, path, method, headers={"Range": "bytes=0-"} if "mp3" in path else None)
    assert status in (400, 403, 404), (path, status, body[:200])
    assert SECRET not in body and b"root:" not in body
    assert status == 400 or int(headers.get("content-length", 0)) != len(SECRET)


@pytest.mark.parametrize(
    "path",
    [
        "/.hidden.txt",
        "/.talkingbook.lock",
        f"/{BOOK}/.talkingbook.json",
        f"/.{BOOK}.1234.abcd.partial/index.html",
        f"/.{BOOK}.1234.abcd.partial/",
        "/visible-link.txt",
        "/%2ehidden.txt",
    ],
)
def test_hidden_files_and_partial_books_are_404(server, library, path):
    assert (library / ".talkingbook.lock").exists() and (library / BOOK / ".talkingbook.json").exists()
    status, _, body = request(server.port, path)
    assert status == 404 and SECRET not in body and b"talkingbook" not in body


@pytest.mark.parametrize(
    "path", ["/loop-a", "/loop-b/", "/self-loop", "/self-loop/index.html", "/loop-a/feed.xml", "/self-loop/feed.xml"]
)
def test_a_symlink_loop_is_404(server, path):
    for method in ("GET", "HEAD"):
        assert request(server.port, path, method)[0] == 404, (path, method)


def test_folders_are_never_listed(server):
    assert request(server.port, "/plain/")[0] == 404
    assert request(server.port, "/plain/notes.txt")[0] == 200
    status, _, body = request(server.port, f"/{BOOK}/audio/")
    assert status == 404 and b".mp3" not in body


def test_a_folder_url_serves_its_index(server, library):
    status, headers, _ = request(server.port, f"/{BOOK}")
    assert status in (301, 302, 307, 308) and headers["location"].endswith(f"/{BOOK}/")
    status, _, body = request(server.port, f"/{BOOK}/", headers={"Accept-Encoding": "identity"})
    assert status == 200 and body == book_file(library, "index.html")


def test_the_root_serves_the_library_page(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>Library</title>", encoding="utf-8")
    served = Served(tmp_path, tmp_path / "access.log")
    try:
        status, headers, body = request(served.port, "/")
        assert status == 200 and body == (tmp_path / "index.html").read_bytes()
        assert headers["content-type"] == "text/html; charset=utf-8"
        (tmp_path / "index.html").unlink()
        assert request(served.port, "/")[0] == 404  # and never a listing of the folder
    finally:
        served.stop()


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(server, library, method):
    before = book_file(library, f"{BOOK}.epub")
    status, headers, _ = request(server.port, f"/{BOOK}/{BOOK}.epub", method, body=b"overwrite")
    assert status == 405 and set(headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert book_file(library, f"{BOOK}.epub") == before
    assert request(server.port, "/new.txt", "PUT", body=b"x")[0] == 405 and not (library / "new.txt").exists()


@pytest.mark.parametrize("path", ["/feed.xml", "/catalog/index.json", f"/{BOOK}/feed.xml", f"/{BOOK}/{BOOK}.mp3"])
def test_a_reader_on_another_origin_may_read_the_library(server, path):
    """A browser-hosted reader or player (another origin) may read every file: the library is public
    and read-only. Its range requests need Content-Range exposed to the page."""
    origin = {"Origin": "https://reader.example.org"}
    status, headers, _ = request(server.port, path, headers={**origin, "Range": "bytes=0-9"})
    assert status in (200, 206) and headers["access-control-allow-origin"] == "*"
    assert "content-range" in headers.get("access-control-expose-headers", "").lower()
    preflight = {**origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "range"}
    status, headers, _ = request(server.port, path, "OPTIONS", headers=preflight)
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    assert set(headers["access-control-allow-methods"].replace(" ", "").split(",")) == {"GET", "HEAD"}
    assert "range" in headers["access-control-allow-headers"].lower()
    status, headers, _ = request(
        server.port, path, "OPTIONS", headers={**origin, "Access-Control-Request-Method": "DELETE"}
    )
    assert status == 400 and "DELETE" not in headers.get("access-control-allow-methods", "")


def test_a_book_converted_while_serving_is_served(server, library, tmp_path):
    from talkingbook.cli import main

    page = tmp_path / "later.html"
    page.write_text(
        "<!doctype html><html lang='en'><head><title>Later</title></head><body><article><h1>Later</h1>"
        "<p>This article arrives after the server started, and is served all the same.</p>"
        "</article></body></html>",
        encoding="utf-8",
    )
    assert request(server.port, "/later/later.epub")[0] == 404
    assert b"Later" not in request(server.port, "/catalog/newest.xml")[2]  # kept by serve until the library changes
    assert main(["convert", str(page), "-o", str(library), "--no-audio", "-q"]) == 0
    status, headers, body = request(server.port, "/later/later.epub")
    assert status == 200 and body == (library / "later" / "later.epub").read_bytes()
    assert headers["content-type"] == "application/epub+zip"
    status, _, body = request(server.port, "/catalog/newest.xml")  # and the catalogs list it at once
    assert status == 200 and b"<title>Later</title>" in body and b"later/later.epub" in body


@pytest.mark.validators
def test_an_epub_downloaded_through_serve_passes_epubcheck(server, library, tmp_path):
    status, _, body = request(server.port, f"/{BOOK}/{BOOK}.epub", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    downloaded = tmp_path / "downloaded.epub"
    downloaded.write_bytes(body)
    assert epubcheck5(downloaded) == []


def test_access_log_records_ranges(server):
    request(server.port, f"/{BOOK}/{BOOK}.mp3", headers={"Range": "bytes=0-1"})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and f'"GET /{BOOK}/{BOOK}.mp3 HTTP/1.1" 206' not in server.log.read_text():
        time.sleep(0.05)
    assert f'"GET /{BOOK}/{BOOK}.mp3 HTTP/1.1" 206' in server.log.read_text()


@pytest.mark.parametrize(("signum", "name"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_ctrl_c_stops_it_cleanly(library, tmp_path, signum, name):
    served = Served(library, tmp_path / "access.log")
    assert request(served.port, f"/{BOOK}/{BOOK}.mp3", headers={"Range": "bytes=0-9"})[0] == 206
    code, err = served.stop(signum)
    assert code == 0, err
    assert "Traceback" not in err and "error" not in err.lower()
    assert err.strip().splitlines()[-1] == f"stopped ({name})"
    with pytest.raises(OSError):
        request(served.port, "/")


def test_ctrl_c_right_at_start_up_is_clean_too(library):
    proc = subprocess.Popen(
        [sys.executable, "-m", "talkingbook", "serve", str(library), "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        preexec_fn=as_from_a_terminal,
    )
    assert proc.stderr.readline().startswith("serving ")
    proc.send_signal(signal.SIGINT)  # before the banner is finished, before uvicorn's loop runs
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err and err.strip().endswith("stopped (Ctrl-C)"), err


def test_lan_address_is_printed_for_all_interfaces(library, tmp_path):
    served = Served(library, tmp_path / "access.log", "--host", "0.0.0.0")
    try:
        said = "".join(served.lines)
        match = re.search(r"on this network: http://(\d+\.\d+\.\d+\.\d+):(\d+)/", said)
        assert match or "no network address found" in said, said
        if match:
            assert not match.group(1).startswith("127.") and int(match.group(2)) == served.port
    finally:
        assert served.stop()[0] == 0


def test_default_host_is_loopback_only(library, tmp_path):
    served = Served(library, tmp_path / "access.log")
    try:
        assert served.host == "127.0.0.1" and "on this network" not in "".join(served.lines)
    finally:
        served.stop()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.nip.io", "localhost.evil.example"])
@pytest.mark.parametrize("path", ["/feed.xml", f"/{BOOK}", f"/{BOOK}/feed.xml", f"/{BOOK}/{BOOK}.mp3"])
def test_a_request_for_a_name_it_does_not_serve_is_refused(server, host, path):
    """DNS rebinding: a web page whose name is made to point at 127.0.0.1 could read a library served
    on this machine, and any Host was written into the feed's links and the redirects."""
    status, headers, body = request(server.port, path, headers={"Host": host})
    assert status == 400 and b"evil" not in body and "location" not in headers, (status, body[:300])


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "LocalHost", "192.168.1.20"])
def test_this_machines_names_and_the_allowed_ones_are_answered(server, host):
    status, _, body = request(server.port, "/feed.xml", headers={"Host": f"{host}:{server.port}"})
    assert status == 200 and f"http://{host.lower()}:{server.port}/".encode() in body.lower()


def test_allow_host_and_base_url_name_more_hosts(library, tmp_path):
    served = Served(
        library,
        tmp_path / "access.log",
        "--allow-host",
        "books.example.org",
        "--allow-host",
        "*.home.arpa",
        "--base-url",
        "https://public.example.net/library/",
    )
    try:
        for host in ("books.example.org", "nas.home.arpa", "public.example.net", "localhost"):
            assert request(served.port, "/feed.xml", headers={"Host": host})[0] == 200, host
        assert request(served.port, "/feed.xml", headers={"Host": "other.example.org"})[0] == 400
        assert request(served.port, "/", headers={"Host": "other.example.org"})[0] == 400
    finally:
        code, err = served.stop()
    assert code == 0, err
    said = [line for line in err.splitlines() if "other.example.org" in line]  # once, saying how to allow it
    assert len(said) == 1 and said[0].endswith("--allow-host other.example.org"), err


EVERYWHERE = ["0.0.0.0", "0", "0x0", "*", "::ffff:0.0.0.0", "[::]", "0000::0"]


@pytest.mark.parametrize("host", EVERYWHERE)
def test_every_spelling_of_all_interfaces_gets_the_notice(library, tmp_path, host):
    """Listening on every interface shows the library to the network: whatever the spelling, say so."""
    if ":" in host:
        import socket

        need(socket.has_ipv6, "no IPv6 here")
    served = Served(library, tmp_path / "access.log", "--host", host)
    try:
        said = "".join(served.lines)
        assert "on this network: http://" in said or "no network address found" in said, said
        assert served.host in ("0.0.0.0", "[::]"), said  # the address as it is, not as spelt
        assert request(served.port, "/feed.xml")[0] == 200  # 127.0.0.1 is one of them
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--host", "not a host!", "--host"),
        ("--host", "exa mple.org", "--host"),
        ("--host", "0 evil", "--host"),
        ("--port", "99999", "--port 99999"),
        ("--port", "-1", "--port -1"),
        ("--port", "65536", "--port 65536"),
        ("--allow-host", "a b", "--allow-host"),
        ("--allow-host", "evil.*", "--allow-host"),
    ],
)
def test_a_bad_host_port_or_allowed_name_is_one_line(library, run, option, value, said):
    code, _, err = run("serve", library, option, value)
    assert code == 2 and len(err.strip().splitlines()) == 1 and said in err, err[:500]


def test_bad_folder_and_busy_port_are_one_line_errors(library, tmp_path, run):
    code, _, err = run("serve", tmp_path / "missing")
    assert code == 1 and err.startswith("error: ") and "not a folder" in err and len(err.splitlines()) == 1
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        code, _, err = run("serve", library, "--port", str(busy.getsockname()[1]))
    assert code == 2 and err.startswith("error: --host 127.0.0.1 --port") and len(err.splitlines()) == 1
    code, _, err = run("serve", library, "--base-url", "ftp://example.org/")
    assert code == 2 and "--base-url" in err


@pytest.mark.slow
def test_a_flood_of_idle_connections_does_not_keep_a_request_out(library, tmp_path):
    """Sockets that connect and send nothing (a flood, or clients gone quiet) used to be kept for ever:
    past the limit of open files the server accepted nothing more, and logged a traceback for each
    refusal. The longest idle ones now make room for a new connection."""
    import socket

    served = Served(library, tmp_path / "access.log", files=128)
    idle = []
    try:
        idle.extend(socket.create_connection(("127.0.0.1", served.port), timeout=30) for _ in range(300))
        conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=20)
        conn.request("GET", f"/{BOOK}/{BOOK}.vtt")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == book_file(library, f"{BOOK}.vtt")
        conn.close()
    finally:
        for sock in idle:
            sock.close()
        code, err = served.stop()
    assert code == 0 and "Traceback" not in err and "Too many open files" not in err, err[-2000:]
    assert len(err.splitlines()) < 10, err[-2000:]  # a warning at most, not one per connection refused


@pytest.mark.slow
def test_a_connection_that_sends_nothing_is_closed(server):
    """uvicorn closes an idle connection only after a response (Kludex/uvicorn#1192): one that never
    sends a request, or never finishes its headers, is closed after the keep-alive timeout as well."""
    import socket

    address = ("127.0.0.1", server.port)
    with socket.create_connection(address, timeout=60) as quiet, socket.create_connection(address, timeout=60) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
        assert quiet.recv(1) == b"" and slow.recv(1) == b""  # closed by the server, not timed out here


# The seam for generated files (the library's feed and catalogs), tested with a stand-in renderer.


@pytest.fixture
def app_server(library):
    """create_app in a uvicorn thread, with a stand-in feed; yields a function (routes, base_url) -> port."""
    import uvicorn

    from talkingbook import serve

    running = []

    def start(routes, base_url=None, folder=library):
        sock = serve.bind("127.0.0.1", 0)
        server = uvicorn.Server(
            uvicorn.Config(serve.create_app(folder, base_url, routes), lifespan="off", log_level="warning")
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        running.append((server, thread))
        return sock.getsockname()[1]

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


def stand_in_feed(base_url: str, params) -> tuple[bytes, str]:
    return (
        f"<rss><channel><link>{base_url}</link><enclosure url='{base_url}{BOOK}/{BOOK}.mp3'/>"
        f"</channel></rss>{'padding ' * 100}".encode(),
        "application/rss+xml",
    )


def test_generated_routes_take_the_requests_host(app_server):
    calls = []
    port = app_server({"feed.xml": lambda base, params: (calls.append(base), stand_in_feed(base, params))[1]})
    status, headers, body = request(port, "/feed.xml", headers={"Host": f"127.0.0.1:{port}"})
    assert status == 200 and headers["content-type"] == "application/rss+xml"
    assert f"url='http://127.0.0.1:{port}/{BOOK}/{BOOK}.mp3'".encode() in body
    status, _, body = request(port, "/feed.xml", headers={"Host": "192.168.1.20:8000"})
    assert b"http://192.168.1.20:8000/" in body and calls[-1] == "http://192.168.1.20:8000/"


def test_generated_routes_take_base_url(app_server):
    port = app_server({"feed.xml": stand_in_feed}, base_url="https://books.example.org/library")
    _, _, body = request(port, "/feed.xml", headers={"Host": "192.168.1.20:8000"})
    assert b"<link>https://books.example.org/library/</link>" in body and b"192.168" not in body


def test_generated_routes_have_etag_head_gzip_and_405(app_server, library):
    (library / "feed.xml").write_bytes(b"<rss>the file on disk, written for another address</rss>")
    port = app_server({"feed.xml": stand_in_feed})
    status, headers, body = request(port, "/feed.xml")
    assert status == 200 and b"the file on disk" not in body  # generated, not the static file
    assert request(port, "/feed.xml", headers={"If-None-Match": headers["etag"]})[0] == 304
    status, _, body = request(port, "/feed.xml", "HEAD")
    assert status == 200 and body == b""
    status, zipped, body = request(port, "/feed.xml", headers={"Accept-Encoding": "gzip"})
    assert zipped.get("content-encoding") == "gzip" and gzip.decompress(body).startswith(b"<rss>")
    assert request(port, "/feed.xml", "POST", body=b"x")[0] == 405
    (library / "feed.xml").unlink()


def stand_in_catalog(base_url: str, params) -> tuple[bytes, str] | None:
    """catalog/{name}: one known name; the search's terms from the query."""
    from talkingbook.serve import media_type_of

    if params["name"] == "newest.xml":
        body = OPDS_ACQ.replace('href="a/a.epub"', f'href="{base_url}a/a.epub"').encode()
    elif params["name"] == "search.xml":
        body = OPDS_ACQ.replace("<title>A book</title>", f"<title>{params.get('q', '')}</title>").encode()
    else:
        return None
    return body, media_type_of(params["name"], body)


def test_generated_routes_take_path_and_query_parameters(app_server):
    port = app_server({"catalog/{name}": stand_in_catalog})
    status, headers, body = request(port, "/catalog/newest.xml", headers={"Host": "192.168.1.20:8000"})
    assert status == 200 and headers["content-type"] == "application/atom+xml;profile=opds-catalog;kind=acquisition"
    assert b'href="http://192.168.1.20:8000/a/a.epub"' in body
    status, _, body = request(port, "/catalog/search.xml?q=drums")
    assert status == 200 and b"<title>drums</title>" in body
    assert request(port, "/catalog/missing.xml")[0] == 404  # the renderer's None
    assert request(port, "/catalog/../secret.txt")[0] == 404


def test_the_feed_and_catalogs_are_rendered_once_while_the_library_is_unchanged(app_server, tmp_path, monkeypatch, run):
    """A library of 3,000 books took 1 s to render its feed, at every request: 40 apps polling at once
    kept a static file waiting 9 s, with 500 MB in memory. What is rendered is kept while the library
    is unchanged, rendered once for requests that ask at the same time, and rendered again when a book
    arrives."""
    from concurrent.futures import ThreadPoolExecutor

    from talkingbook import library as lib
    from talkingbook.serve import dynamic_routes
    from test_library import write_book

    folder = tmp_path / "dist"
    for n in range(3):
        write_book(folder, f"b{n}", f"2026-01-0{n + 1}")
    assert run("library", folder)[0] == 0
    reads, renders = [], []
    read_library, render_opds1 = lib.read_library, lib.render_opds1
    monkeypatch.setattr(lib, "read_library", lambda *a, **k: (reads.append(1), read_library(*a, **k))[1])
    monkeypatch.setattr(
        "talkingbook.library.opds.render_opds1", lambda *a, **k: (renders.append(1), render_opds1(*a, **k))[1]
    )
    port = app_server(dynamic_routes(folder), folder=folder)
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: request(port, "/catalog/newest.xml"), range(20)))
    assert {status for status, _, _ in answers} == {200} and len({body for _, _, body in answers}) == 1
    assert len(reads) == 1 and len(renders) == 1
    assert request(port, "/catalog/newest.xml", headers={"Host": "192.168.1.20:8000"})[0] == 200
    assert len(reads) == 1 and len(renders) == 2  # links for another address: rendered, the books not read again
    write_book(folder, "b3", "2026-01-04")
    assert run("library", folder)[0] == 0  # as after a conversion
    status, _, body = request(port, "/catalog/newest.xml")
    assert status == 200 and b"Book b3" in body and len(reads) == 2


@pytest.mark.parametrize("terms", ["%00", "drums%01", "%1b%5b31m", "%EF%BF%BE", "%C2%85"])
@pytest.mark.parametrize("path", ["/catalog/search.xml?q=", "/catalog/search.json?query="])
def test_a_control_character_in_a_search_is_a_bad_request(server, path, terms):
    status, _, body = request(server.port, path + terms)
    assert status == 400 and b"control character" in body, (status, body[:300])
    assert request(server.port, path + "drums")[0] == 200  # and the server goes on


# Chromium: the listening page over HTTP, its audio played and sought, axe-core on the page.


def open_in_chromium(url: str, shot: Path, play: bool = False) -> dict:
    """What headless Chromium saw at ``url``: responses, playback, axe-core's violations (any page)."""
    need(CHROMIUM is not None, "Chromium is not installed (Debian package chromium)")
    need(
        (JS / "node_modules" / "puppeteer-core").exists() and (JS / "node_modules" / "axe-core").exists(),
        "puppeteer-core and axe-core are not installed: npm ci --prefix tests/js --ignore-scripts",
    )
    ARTIFACTS.mkdir(exist_ok=True)
    proc = subprocess.run(
        ["node", str(JS / "page.js"), url, str(shot), *(["--play"] if play else [])],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, CHROMIUM=CHROMIUM),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.validators
def test_library_page_over_http_has_no_axe_violations_and_leads_to_the_listening_page(server):
    from urllib.parse import urljoin

    from lxml import html as lxml_html

    seen = open_in_chromium(server.url("/"), ARTIFACTS / "served-library-page.png")
    assert seen["status"] == 200 and seen["errors"] == []
    assert seen["axe"]["violations"] == [] and seen["axe"]["passes"] > 0
    _, _, body = request(server.port, "/")
    page = lxml_html.fromstring(body)
    heading_link = page.xpath("//h2//a/@href | //h3//a/@href")  # each article's title links its listening page
    assert heading_link, body[:2000]
    plays_and_seeks(server, urljoin(server.url("/"), heading_link[0]))  # followed from the library page


def plays_and_seeks(server, url: str) -> None:
    """Chromium plays the listening page's audio at ``url`` and seeks it, the server answering with 206;
    axe-core finds no violation on the page."""
    seen = open_in_chromium(url, ARTIFACTS / "served-listening-page.png", play=True)
    assert seen["status"] == 200 and seen["errors"] == []
    playback = seen["playback"]
    assert playback["error"] is None and playback["duration"] > 0
    assert abs(playback["currentTime"] - playback["target"]) < 1.5
    media = [r for r in seen["responses"] if r["type"] == "media"]
    assert media and playback["src"].endswith(".mp3")
    assert any(r["status"] == 206 and r["contentRange"] and r["url"] == playback["src"] for r in media), media
    assert all(r["status"] in (200, 206) for r in seen["responses"]), seen["responses"]
    assert seen["axe"]["violations"] == [] and seen["axe"]["passes"] > 0
    log = server.log.read_text()
    path = playback["src"].split(str(server.port), 1)[1]
    assert re.search(rf'"GET {re.escape(path)} HTTP/1.1" 206', log), log[-2000:]
