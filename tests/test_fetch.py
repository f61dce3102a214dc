"""Fetching and reading sources (issue 11, items 2, 4, 5, 10, 11 and 16): internal addresses refused
before any connection, total deadlines, malformed HTTP in one line, compressed pages within the cap,
standard input without local images, charsets that are no text encoding, one stray byte.

Every server here listens on 127.0.0.1 (or ::1); the ``connects`` fixture fails a test that would
open a connection anywhere else.
"""

import contextlib
import gzip
import http.server
import io
import logging
import socket
import ssl
import sys
import threading
import time
import tracemalloc
import urllib.parse
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import pytest

from builders import read
from conftest import DATA, ROOT, need
from talkingbook.errors import InputError
from talkingbook.readers import images as images_module, net, sources
from talkingbook.readers.images import ImageResolver
from talkingbook.readers.net import Reach

PNG = (DATA / "images" / "chart.png").read_bytes()
LOOPBACK = ("127.0.0.1", "::1")
ARTICLE = (
    "<html lang='en'><head><title>Served Article</title></head><body><article><h1>Served Article</h1>"
    "<p>Le projet du port étudié est une histoire longue et bien racontée, avec assez de mots.</p>"
    "{extra}</article></body></html>"
)
FAKE_DNS = {
    "secure.test": "127.0.0.1",
    "intranet.test": "10.1.2.3",
    "router.test": "192.168.1.1",
    "metadata.test": "169.254.169.254",
    "shared.test": "100.64.0.1",
    "v6private.test": "fd00:ec2::254",
}


# --- test peers ---------------------------------------------------------------------------------


@contextmanager
def serve(routes: dict, host: str = "127.0.0.1"):
    """An HTTP server on ``host`` answering ``routes``: path -> (status, headers, body)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server_class = http.server.ThreadingHTTPServer
    if ":" in host:
        server_class = type("V6Server", (http.server.ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    httpd = server_class((host, 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://{'[::1]' if ':' in host else host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def accepting(listener: socket.socket, handle):
    """Accept connections on ``listener`` in a thread, each handled by ``handle(conn)`` in its own; yields the
    listener's URL, and closes it at the end."""
    listener.settimeout(0.2)
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


@contextmanager
def raw_server(answer, tls=None):
    """A TCP peer for what no HTTP server library sends: ``answer`` is bytes, or a function of the socket."""
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []

    def handle(conn):
        with conn:
            conn.settimeout(10)
            try:
                if tls is not None:
                    conn = tls.wrap_socket(conn, server_side=True)
                request = b""
                while b"\r\n\r\n" not in request:
                    data = conn.recv(4096)
                    if not data:
                        return
                    request += data
                requests.append(request)
                answer(conn) if callable(answer) else conn.sendall(answer)
            except OSError:
                pass  # the client gave up: that is what the deadline tests want

    with accepting(listener, handle) as url:
        yield url, requests


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket connects to; a connection to a non-loopback address fails the test."""
    seen: list[str] = []
    original = socket.socket.connect

    def connect(self, address):
        seen.append(address[0])
        assert address[0] in LOOPBACK, f"a connection to {address[0]} was attempted"
        return original(self, address)

    def create_connection(address, *args, **kwargs):
        pytest.fail(f"socket.create_connection({address}) bypasses the address check")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return seen


@pytest.fixture
def fake_dns(monkeypatch):
    """Names that resolve to private and link-local addresses, without any real lookup."""
    original = net.resolve

    def resolve(host, port):
        if host in FAKE_DNS:
            ip = FAKE_DNS[host]
            family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (ip, port) if family == socket.AF_INET else (ip, port, 0, 0))]
        return original(host, port)

    monkeypatch.setattr(net, "resolve", resolve)


def convert_url(run, url, out, *extra):
    return run("convert", url, "-o", out, "--no-audio", *extra)


def one_error(code, err, *words):
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], (word, lines[0])


# --- which addresses may be reached (item 2) ----------------------------------------------------

HOME = ("127.0.0.1", 8080)  # where a typed URL on this machine was fetched from


@pytest.mark.parametrize(
    "ip, port, mode, origin, typed, refused",
    [
        ("169.254.169.254", 80, "allow", HOME, False, True),
        ("169.254.169.254", 80, "auto", None, True, True),  # even typed by the user
        ("fe80::1", 80, "allow", HOME, False, True),
        ("::ffff:169.254.169.254", 80, "allow", HOME, False, True),
        ("2002:a9fe:a9fe::1", 80, "allow", HOME, False, True),  # 6to4 wrapping the metadata address
        ("64:ff9b::a9fe:a9fe", 80, "allow", HOME, False, True),  # NAT64 wrapping it
        ("224.0.0.1", 80, "allow", HOME, False, True),
        ("ff02::1", 80, "allow", HOME, True, True),
        ("127.0.0.1", 80, "auto", None, False, True),
        ("127.0.0.1", 80, "auto", HOME, False, False),
        ("10.1.2.3", 80, "auto", HOME, False, False),
        ("127.0.0.1", 80, "deny", HOME, False, True),
        ("127.0.0.1", 8080, "deny", HOME, False, False),  # the typed URL's own address: its redirects, images
        ("127.0.0.1", 80, "deny", None, True, False),  # the URL the user typed is fetched
        ("::1", 80, "auto", None, False, True),
        ("10.1.2.3", 80, "auto", None, False, True),
        ("192.168.1.1", 80, "auto", None, False, True),
        ("172.16.0.1", 80, "deny", None, False, True),
        ("fd00:ec2::254", 80, "auto", None, False, True),
        ("100.64.0.1", 80, "auto", None, False, True),
        ("0.0.0.0", 80, "auto", None, False, True),
        ("::", 80, "auto", None, False, True),
        ("240.0.0.1", 80, "auto", None, False, True),
        ("::ffff:127.0.0.1", 80, "auto", None, False, True),
        ("10.1.2.3", 80, "allow", None, False, False),
        ("93.184.216.34", 80, "deny", None, False, False),
        ("2606:2800:220:1:248:1893:25c8:1946", 443, "deny", None, False, False),
    ],
)
def test_reach(ip, port, mode, origin, typed, refused):
    import ipaddress

    assert (Reach(mode, origin).refusal(ipaddress.ip_address(ip), port, typed) is not None) == refused


@pytest.mark.parametrize(
    "src",
    [
        "http://127.0.0.1:{port}/pic.png",
        "http://localhost:{port}/pic.png",
        "http://[::1]:{port}/pic.png",
        "http://0x7f.1:{port}/pic.png",
        "http://intranet.test/pic.png",
        "http://router.test:8080/pic.png",
        "http://shared.test/pic.png",
        "http://v6private.test/pic.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.test/computeMetadata/v1/",
        "http://[fe80::1]/pic.png",
        "http://[::ffff:169.254.169.254]/",
        "http://224.0.0.1/pic.png",
    ],
)
@pytest.mark.slow
def test_images_on_internal_addresses_are_refused_before_any_connection(src, connects, fake_dns, caplog):
    with serve({"/pic.png": (200, {"Content-Type": "image/png"}, PNG)}) as server:
        port = server.rsplit(":", 1)[1]
        # The article is a local file: nothing allows private addresses (auto, not from one).
        resolver = ImageResolver(None, "https://news.example/story", fetch_remote=True, reach=Reach("auto"))
        with caplog.at_level(logging.WARNING):
            assert resolver(src.format(port=port)) is None
    assert connects == []
    assert "not fetched" in caplog.text


def test_link_local_is_refused_even_when_private_addresses_are_allowed(connects, fake_dns):
    resolver = ImageResolver(None, "", fetch_remote=True, reach=Reach("allow"))
    assert resolver("http://metadata.test/latest/meta-data/iam") is None
    assert resolver("http://[fe80::a9fe:a9fe]/x.png") is None
    assert connects == []


def test_allowed_private_images_are_fetched(connects):
    with serve({"/pic.png": (200, {"Content-Type": "image/png"}, PNG)}) as server:
        resolve = ImageResolver(None, "", fetch_remote=True, reach=Reach("allow"))
        assert resolve(f"{server}/pic.png") == (PNG, "image/png")
        assert ImageResolver(None, "", fetch_remote=True, reach=Reach("auto", origin=HOME))(f"{server}/pic.png") == (
            PNG,
            "image/png",
        )
    assert connects == ["127.0.0.1", "127.0.0.1"]


def test_ipv6_loopback_is_fetched_only_when_allowed(connects):
    with serve({"/pic.png": (200, {"Content-Type": "image/png"}, PNG)}, host="::1") as server:
        assert ImageResolver(None, "", fetch_remote=True, reach=Reach("auto"))(f"{server}/pic.png") is None
        assert connects == []
        assert ImageResolver(None, "", fetch_remote=True, reach=Reach("allow"))(f"{server}/pic.png")[1] == "image/png"
    assert connects == ["::1"]


@pytest.mark.parametrize(
    "location, mode",
    [
        ("http://169.254.169.254/latest/meta-data/", "allow"),
        ("http://metadata.test/latest/meta-data/", "allow"),
        ("http://[::1]:{other}/secret", "deny"),
        ("http://127.0.0.1:{other}/secret", "deny"),
        ("http://intranet.test/secret", "deny"),
        ("http://router.test/secret", "deny"),
    ],
)
@pytest.mark.slow
def test_every_redirect_hop_is_checked_before_connecting(location, mode, connects, fake_dns):
    with serve({"/secret": (200, {"Content-Type": "text/html"}, ARTICLE.format(extra="").encode())}) as other:
        other_port = other.rsplit(":", 1)[1]
        with (
            serve(
                {
                    "/start": (302, {"Location": "/hop"}, b""),
                    "/hop": (307, {"Location": location.format(other=other_port)}, b""),
                }
            ) as server,
            pytest.raises(InputError, match="not fetched"),
        ):
            sources.load(f"{server}/start", private_network=mode)
    assert connects == ["127.0.0.1", "127.0.0.1"]  # the article's own two hops on its own port, nothing else


def test_the_address_is_looked_up_once_and_connected_to_as_found(connects, monkeypatch):
    """DNS rebinding: a second lookup could answer differently; there is none."""
    calls = []
    with serve({"/pic.png": (200, {"Content-Type": "image/png"}, PNG)}) as server:
        port = int(server.rsplit(":", 1)[1])

        def resolve(host, p):
            calls.append(host)
            ip = "127.0.0.1" if len(calls) == 1 else "169.254.169.254"  # what a rebinding server does
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, p))]

        real_getaddrinfo = socket.getaddrinfo
        monkeypatch.setattr(net, "resolve", resolve)
        monkeypatch.setattr(
            socket,
            "getaddrinfo",
            lambda host, *a, **k: (
                pytest.fail(f"second lookup of {host}") if host == "rebind.test" else real_getaddrinfo(host, *a, **k)
            ),
        )
        found = ImageResolver(None, "", fetch_remote=True, reach=Reach("allow"))(f"http://rebind.test:{port}/pic.png")
    assert found == (PNG, "image/png") and calls == ["rebind.test"] and connects == ["127.0.0.1"]


def test_the_dns_lookup_counts_inside_the_deadline(monkeypatch, connects):
    """getaddrinfo cannot be interrupted, and a resolver whose servers do not answer takes its own
    time (5 s per server and attempt): the fetch gives up at its deadline all the same."""
    answered = threading.Event()

    def silent_resolver(host, port):
        answered.wait(60)  # released at the end of the test
        return []

    monkeypatch.setattr(net, "resolve", silent_resolver)
    outcome: list[BaseException] = []

    def fetch() -> None:
        try:
            net.get("http://slow-dns.test/", reach=Reach("allow"), seconds=0.5, max_bytes=1000)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=fetch, daemon=True)
    thread.start()
    thread.join(20)  # a bound on the wait, not a measure: the fetch ends at its deadline or never
    answered.set()
    assert not thread.is_alive(), "the fetch waited for the DNS lookup past its deadline"
    assert isinstance(outcome[0], InputError) and outcome[0].why == "no complete answer within 0.5 s", outcome
    assert connects == []


@pytest.fixture
def two_servers():
    """A page on one loopback port whose images and a redirect point at another."""
    with serve(
        {
            "/pic.png": (200, {"Content-Type": "image/png"}, PNG),
            "/photo.png": (200, {"Content-Type": "image/png"}, (DATA / "images" / "photo.png").read_bytes()),
            "/article.html": (200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLE.format(extra="").encode()),
        }
    ) as internal:
        extra = (
            f"<p>Chart:</p><img src='{internal}/pic.png' alt='A chart on the internal port'>"
            "<p>Photo:</p><img src='/via-redirect' alt='A photo behind a redirect'>"
        )
        with serve(
            {
                "/page.html": (200, {"Content-Type": "text/html; charset=utf-8"}, ARTICLE.format(extra=extra).encode()),
                "/via-redirect": (302, {"Location": f"{internal}/photo.png"}, b""),
                "/moved": (301, {"Location": f"{internal}/article.html"}, b""),
            }
        ) as public:
            yield public, internal


def _embedded(out: Path) -> tuple[int, str]:
    epub = next(out.glob("*/*.epub"))
    with zipfile.ZipFile(epub) as z:
        names = z.namelist()
        text = "".join(z.read(n).decode() for n in names if n.endswith(".xhtml"))
    return len([n for n in names if "/images/img-" in n]), text


def test_end_to_end_private_network_deny_refuses_images_and_redirects(two_servers, tmp_path, run, connects, caplog):
    two_servers, internal = two_servers
    with caplog.at_level(logging.WARNING):
        code, _, err = convert_url(
            run, f"{two_servers}/page.html", tmp_path / "deny", "--fetch-images", "--private-network", "deny"
        )
    assert code == 0, err
    count, text = _embedded(tmp_path / "deny")
    assert count == 0 and "A chart on the internal port" in text and "A photo behind a redirect" in text
    refusals = [r.getMessage() for r in caplog.records if "not fetched" in r.getMessage()]
    assert len(refusals) == 2 and "Traceback" not in err
    assert all(f"port {internal.rsplit(':', 1)[1]} is a private" in r for r in refusals), refusals
    assert len(connects) == 2  # the page and the redirect on its own port; the other port never
    code, _, err = convert_url(run, f"{two_servers}/moved", tmp_path / "moved", "--private-network", "deny")
    one_error(code, err, "not fetched", "private")


def test_end_to_end_auto_fetches_them_for_a_page_from_a_private_address(two_servers, tmp_path, run):
    two_servers, _ = two_servers
    code, _, err = convert_url(run, f"{two_servers}/page.html", tmp_path / "auto", "--fetch-images")
    assert code == 0, err
    assert _embedded(tmp_path / "auto")[0] == 2
    code, _, err = convert_url(run, f"{two_servers}/moved", tmp_path / "moved")
    assert code == 0, err


def test_a_link_local_article_url_is_refused(run, tmp_path, connects):
    code, _, err = convert_url(run, "http://169.254.169.254/latest/meta-data/", tmp_path / "out")
    one_error(code, err, "link-local")
    assert connects == []


# --- https: connected to the address found, the certificate checked against the name -------------


@pytest.fixture
def tls(monkeypatch):
    """(server context for secure.test, signed by a test authority the client trusts)."""
    try:
        import trustme
    except ImportError:
        need(False, "trustme is not installed (pip install '.[test]')")
    ca = trustme.CA()

    def client_context():
        context = ssl.create_default_context()
        ca.configure_trust(context)
        return context

    monkeypatch.setattr(net, "tls_context", client_context)

    def server(name):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(name).configure_cert(context)
        return context

    return server


def _https(url: str, name: str = "secure.test") -> str:
    return url.replace("http://127.0.0.1", f"https://{name}")


def test_https_connects_to_the_checked_address_and_verifies_the_name(tls, fake_dns, connects, tmp_path, run):
    body = ARTICLE.format(extra="<p>Over TLS.</p>").encode()
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with raw_server(answer, tls=tls("secure.test")) as (url, requests):
        code, _, err = convert_url(run, _https(url) + "/page", tmp_path / "ok")
    assert code == 0, err
    assert "Over TLS." in _embedded(tmp_path / "ok")[1] and connects == ["127.0.0.1"]
    assert b"Host: secure.test:" in requests[0]
    with raw_server(answer, tls=tls("another.test")) as (url, _):
        code, _, err = convert_url(run, _https(url) + "/page", tmp_path / "mismatch")
    one_error(code, err, "secure connection failed")


@pytest.mark.slow
def test_a_trickling_https_server_meets_the_deadline(tls, fake_dns, monkeypatch, tmp_path, run):
    monkeypatch.setattr(sources, "DEADLINE", 1.5)
    with raw_server(_trickle(b"HTTP/1.1 200 OK\r\nX-Slow: ", 0.2), tls=tls("secure.test")) as (url, _):
        started = time.monotonic()
        code, _, err = convert_url(run, _https(url) + "/slow", tmp_path / "out")
        assert time.monotonic() - started < 10
    one_error(code, err, "no complete answer within 1.5 s")


# --- proxies: HTTP_PROXY, HTTPS_PROXY, NO_PROXY, with the address policy kept ------------------------


@contextmanager
def forward_proxy():
    """An HTTP proxy on 127.0.0.1: absolute-form requests and CONNECT tunnels, each to the address
    asked for. Yields its URL and the (method, target, Host header) of every request it was sent."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[tuple[str, str, str]] = []

    def relay(source, sink):
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def handle(conn):
        with conn:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            head, _, rest = head.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ")
            headers = dict(line.split(": ", 1) for line in lines[1:])
            seen.append((method, target, headers.get("Host", "")))
            where = target if method == "CONNECT" else urllib.parse.urlsplit(target).netloc
            host, port = where.rsplit(":", 1)
            upstream = socket.socket()
            with upstream:
                upstream.connect((host, int(port)))
                if method == "CONNECT":
                    conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                else:
                    path = urllib.parse.urlsplit(target).path
                    upstream.sendall(
                        f"{method} {path} HTTP/1.1\r\n".encode()
                        + b"\r\n".join(line.encode("latin-1") for line in lines[1:])
                        + b"\r\n\r\n"
                        + rest
                    )
                back = threading.Thread(target=relay, args=(upstream, conn), daemon=True)
                back.start()
                relay(conn, upstream)
                back.join(10)

    with accepting(listener, handle) as url:
        yield url, seen


@pytest.fixture
def no_proxy_settings(monkeypatch):
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_http_goes_through_the_proxy_to_the_checked_address(no_proxy_settings, fake_dns, tmp_path, run):
    """The proxy is asked for the address the policy checked (no second lookup it could answer
    differently), and the Host header still names the server."""
    with serve({"/page": (200, {"Content-Type": "text/html"}, ARTICLE.format(extra="").encode())}) as server:
        port = server.rsplit(":", 1)[1]
        with forward_proxy() as (proxy, seen):
            no_proxy_settings.setenv("HTTP_PROXY", proxy)
            code, _, err = convert_url(run, f"http://secure.test:{port}/page", tmp_path / "out")
    assert code == 0, err
    assert seen == [("GET", f"http://127.0.0.1:{port}/page", f"secure.test:{port}")]


def test_https_goes_through_the_proxys_tunnel_and_checks_the_name(no_proxy_settings, tls, fake_dns, tmp_path, run):
    body = ARTICLE.format(extra="<p>Over TLS.</p>").encode()
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with raw_server(answer, tls=tls("secure.test")) as (url, requests), forward_proxy() as (proxy, seen):
        port = url.rsplit(":", 1)[1]
        no_proxy_settings.setenv("HTTPS_PROXY", proxy)
        code, _, err = convert_url(run, _https(url) + "/page", tmp_path / "out")
    assert code == 0, err
    assert seen == [("CONNECT", f"127.0.0.1:{port}", f"127.0.0.1:{port}")]
    assert b"Host: secure.test:" in requests[0]


def test_a_proxy_does_not_widen_the_address_policy(no_proxy_settings, fake_dns):
    """A link to a private address is refused before the proxy is asked for it."""
    with forward_proxy() as (proxy, seen):
        no_proxy_settings.setenv("http_proxy", proxy)
        with pytest.raises(InputError) as refused:
            net.get("http://intranet.test/", reach=Reach("auto"), max_bytes=1000)
    assert "10.1.2.3" in refused.value.why and "private" in refused.value.why
    assert seen == []


def test_no_proxy_and_unusable_proxies(no_proxy_settings, fake_dns, tmp_path, run):
    with serve({"/page": (200, {"Content-Type": "text/html"}, ARTICLE.format(extra="").encode())}) as server:
        port = server.rsplit(":", 1)[1]
        with forward_proxy() as (proxy, seen):
            no_proxy_settings.setenv("HTTP_PROXY", proxy)
            no_proxy_settings.setenv("NO_PROXY", "example.org,secure.test")
            code, _, err = convert_url(run, f"http://secure.test:{port}/page", tmp_path / "direct")
            assert code == 0 and seen == [], err
            no_proxy_settings.delenv("NO_PROXY")
            no_proxy_settings.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")
            code, _, err = convert_url(run, f"http://secure.test:{port}/page", tmp_path / "socks")
    one_error(code, err, "the proxy socks5://127.0.0.1 set for http is not an http:// proxy")


# --- deadlines and truncation (item 5) -----------------------------------------------------------


def _trickle(prefix: bytes, every: float, gives_up: float = 12):
    """A byte every ``every`` seconds; the peer gives up after ``gives_up`` s, so a missing deadline
    fails the test on time instead of hanging it."""

    def answer(conn):
        conn.sendall(prefix)
        end = time.monotonic() + gives_up
        while time.monotonic() < end:
            time.sleep(every)
            conn.sendall(b"x")

    return answer


@pytest.mark.parametrize(
    "prefix",
    [
        b"HTTP/1.1 200 OK\r\nX-Slow: ",  # headers that never end
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body><p>",  # a body
    ],
)
@pytest.mark.slow
def test_a_trickling_server_meets_a_total_deadline(prefix, monkeypatch, tmp_path, run):
    monkeypatch.setattr(sources, "DEADLINE", 1.5)
    with raw_server(_trickle(prefix, 0.2)) as (url, _):
        started = time.monotonic()
        code, _, err = convert_url(run, f"{url}/slow", tmp_path / "out")
        elapsed = time.monotonic() - started
    one_error(code, err, "no complete answer within 1.5 s")
    assert elapsed < 10  # a per-read timeout would never fire: a byte comes every 0.2 s


@pytest.mark.slow
def test_a_trickling_image_meets_its_deadline(monkeypatch):
    monkeypatch.setattr(images_module, "IMAGE_DEADLINE", 1)
    with raw_server(_trickle(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 99999\r\n\r\n", 0.2)) as (
        url,
        _,
    ):
        started = time.monotonic()
        assert ImageResolver(None, "", fetch_remote=True, reach=Reach("allow"))(f"{url}/slow.png") is None
        assert time.monotonic() - started < 8


@pytest.mark.slow
def test_all_remote_images_share_one_budget(monkeypatch, caplog):
    monkeypatch.setattr(images_module, "IMAGE_DEADLINE", 0.6)
    monkeypatch.setattr(images_module, "IMAGES_DEADLINE", 1.5)
    with raw_server(_trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n", 0.1)) as (url, requests):
        resolver = ImageResolver(None, "", fetch_remote=True, reach=Reach("allow"))
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            assert all(resolver(f"{url}/{n}.png") is None for n in range(10))
        assert time.monotonic() - started < 6
    assert len(requests) <= 4 and "no time left" in caplog.text


def test_a_body_shorter_than_its_content_length_is_an_error(tmp_path, run):
    body = ARTICLE.format(extra="<p>more</p>" * 50).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body) * 3}\r\n\r\n".encode()
    with raw_server(head + body) as (url, _):
        code, _, err = convert_url(run, f"{url}/cut", tmp_path / "out")
    one_error(code, err, f"closed after {len(body)} of {len(body) * 3} bytes")
    assert not (tmp_path / "out").exists()


# --- malformed answers, redirects, compression (item 11) ----------------------------------------


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data)


OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"


@pytest.mark.parametrize(
    "answer, words",
    [
        (b"HTTP/1.1 abc OK\r\n\r\n", ["did not answer in HTTP"]),
        (b"<html><body><p>An HTTP/0.9 answer is only a body.</p></body></html>", ["did not answer in HTTP"]),
        (b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", ["malformed answer"]),
        (
            b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n",
            ["more than 100 headers"],
        ),
        (OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", ["incomplete", "chunk"]),
        (OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n10\r\n<html><p>cut", ["incomplete"]),
        (b"", ["closed the connection without answering"]),
        (b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n", ["302 Found", "no Location"]),
        (b"HTTP/1.1 304 Not Modified\r\n\r\n", ["304 Not Modified"]),
        (b"HTTP/1.1 301 Moved\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n", ["file: address"]),
        (b"HTTP/1.1 302 Found\r\nLocation: data:text/html,<p>hi</p>\r\nContent-Length: 0\r\n\r\n", ["data: address"]),
        (b"HTTP/1.1 302 Found\r\nLocation: javascript:alert(1)\r\nContent-Length: 0\r\n\r\n", ["javascript: address"]),
        (OK_HEAD + b"Content-Encoding: br\r\nContent-Length: 4\r\n\r\nabcd", ["br"]),
        (
            OK_HEAD + b"Content-Encoding: gzip\r\nContent-Length: 30\r\n\r\n" + _gzip(b"<html>" * 100)[:30],
            ["compressed page ends early"],
        ),
        (
            OK_HEAD + b"Content-Encoding: gzip\r\nContent-Length: 20\r\n\r\n" + b"this is not gzip at all",
            ["compressed page is damaged"],
        ),
        (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", ["500"]),
        (b"HTTP/1.1 206 Partial Content\r\nContent-Length: 0\r\n\r\n", ["206"]),
    ],
)
@pytest.mark.slow
def test_malformed_answers_are_one_line(answer, words, tmp_path, run):
    with raw_server(answer) as (url, _):
        code, _, err = convert_url(run, f"{url}/page", tmp_path / "out")
    one_error(code, err, *words)
    assert not (tmp_path / "out").exists()


def test_a_redirect_loop_is_still_too_many_redirects(tmp_path, run):
    with serve({"/loop": (302, {"Location": "/loop"}, b"")}) as server:
        code, _, err = convert_url(run, f"{server}/loop", tmp_path / "out")
    one_error(code, err, "too many redirects")


@pytest.mark.parametrize(
    "url",
    [
        "{server}/a\r\nX-Injected: 1",
        "{server}/a\nb",
        "http://127.0.0.1:{port}\r\n/a",
        "http://exa mple.org/",
        "http://[::1/",
        "http://127.0.0.1:99999/",
    ],
)
def test_a_url_with_control_characters_is_refused_unsent(url, tmp_path, run, connects):
    with raw_server(b"HTTP/1.1 200 OK\r\n\r\n") as (server, requests):
        code, _, err = convert_url(run, url.format(server=server, port=server.rsplit(":", 1)[1]), tmp_path / "out")
    one_error(code, err, "not a valid http(s) URL")
    assert requests == [] and connects == []


@pytest.mark.parametrize(
    "encoding, compress",
    [
        ("gzip", gzip.compress),
        ("x-gzip", lambda d: gzip.compress(d[:100]) + gzip.compress(d[100:])),  # two gzip members
        ("deflate", zlib.compress),
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as some servers send it
    ],
)
@pytest.mark.slow
def test_compressed_pages_are_read(encoding, compress, tmp_path, run):
    page = ARTICLE.format(extra="<p>Compressed, and read all the same.</p>").encode()
    with serve(
        {"/c.html": (200, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": encoding}, compress(page))}
    ) as server:
        code, _, err = convert_url(run, f"{server}/c.html", tmp_path / "out")
    assert code == 0, err
    assert "Compressed, and read all the same." in _embedded(tmp_path / "out")[1]


@pytest.mark.slow
def test_a_gzip_bomb_stops_at_the_cap_without_inflating(monkeypatch):
    cap = 1024 * 1024
    monkeypatch.setattr(sources, "MAX_BYTES", cap)
    squeezer = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(squeezer.compress(b"\0" * (1 << 20)) for _ in range(200)) + squeezer.flush()  # 200 MB inflated
    with serve({"/bomb.html": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, bomb)}) as server:
        tracemalloc.start()
        try:
            with pytest.raises(InputError, match="larger than 1 MB"):
                sources.load(f"{server}/bomb.html")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 10 * cap  # a guard: inflating it whole would take 200 MB


# --- standard input (item 4) ---------------------------------------------------------------------


def test_standard_input_embeds_no_local_image_without_base_dir(tmp_path, run, monkeypatch):
    from PIL import Image

    home = tmp_path / "home"
    (home / "Pictures").mkdir(parents=True)
    Image.new("RGB", (800, 600), (200, 40, 40)).save(home / "Pictures" / "private.png")  # big enough for a cover
    page = ARTICLE.format(extra="<img src='Pictures/private.png' alt='Someone else’s picture'>").encode()
    monkeypatch.chdir(home)
    for extra, expected, cover in (((), 0, "cover.png"), (("--base-dir", str(home)), 1, "cover.jpg")):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(page)))
        out = tmp_path / f"out{expected}"
        code, _, err = run("convert", "-", "-o", out, "--no-audio", *extra)
        assert code == 0, err
        count, text = _embedded(out)
        assert count == expected and "Someone else’s picture" in text
        assert [p.name for p in out.glob("*/cover.*")] == [cover]  # the drawn cover, or the picture's


def test_base_dir_must_be_a_folder(tmp_path, run):
    code, _, err = run("convert", "-", "-o", tmp_path / "out", "--base-dir", tmp_path / "nowhere")
    assert code == 2 and err.startswith("error: --base-dir") and len(err.strip().splitlines()) == 1


def test_base_dir_replaces_a_files_own_folder(tmp_path):
    (tmp_path / "page").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "pic.png").write_bytes(PNG)
    (tmp_path / "page" / "pic.png").write_bytes(b"not used")
    page = tmp_path / "page" / "a.html"
    page.write_text("<p>x</p>")
    assert sources.load(str(page), base_dir=tmp_path / "assets").folder == (tmp_path / "assets").resolve()
    assert sources.load(str(page)).folder == (tmp_path / "page").resolve()


# --- decoding (items 10 and 16) ------------------------------------------------------------------

NOT_TEXT_CODECS = ["rot13", "rot_13", "base64", "hex", "uu", "zlib", "quopri", "bz2", "utf-7", "unicode_escape"]


@pytest.mark.parametrize("label", NOT_TEXT_CODECS)
def test_a_charset_that_is_no_text_encoding_is_ignored(label):
    page = f"<meta charset='{label}'>".encode() + ARTICLE.format(extra="").encode()
    book = read(page, name="p.html", charset=label)
    assert "Le projet du port étudié" in book.sections[0].blocks[0].text


def test_a_charset_that_is_no_text_encoding_from_http(tmp_path, run):
    page = ARTICLE.format(extra="").encode()
    with serve({"/p.html": (200, {"Content-Type": "text/html; charset=rot13"}, page)}) as server:
        code, _, err = convert_url(run, f"{server}/p.html", tmp_path / "out")
    assert code == 0, err
    assert "étudié" in _embedded(tmp_path / "out")[1]


@pytest.mark.parametrize("declared", ["<meta charset='utf-8'>", ""])
def test_one_stray_byte_keeps_a_utf8_page_utf8(declared):
    page = (declared + ARTICLE.format(extra="<p>Le café a coûté 3 € à André, déjà.</p><p>Stray: ")).encode()
    page += "é".encode("cp1252") + b"</p>"
    text, encoding = sources.decode(page)
    assert encoding == "utf-8"
    assert "Le projet du port étudié" in text and "déjà" in text and "Ã" not in text
    assert text.count("\ufffd") == 1


def test_a_legacy_page_still_decodes_with_its_declaration():
    page = ROOT.parent / "shared" / "corpus" / "tf-rp.pl-unijne-fundusze" / "source.html"
    if not page.exists():
        pytest.skip("../shared/corpus is absent")
    text, encoding = sources.decode(page.read_bytes())
    assert encoding == "cp1250" and "zagłosował" in text and "\ufffd" not in text
