"""`talkingbook serve`: the library folder over HTTP, read-only, with Starlette and uvicorn.

Starlette's ``StaticFiles``/``FileResponse`` do the HTTP a podcast app and a browser need (byte ranges,
suffix ranges, 416, If-Range, HEAD, ETag/Last-Modified and 304) and stream each file from disk in 64 KB
chunks; this module only decides which files may be served and as what. Every request looks at the disk
again (no index built at start), so a book converted while the server runs is served at once.

The files whose links must be absolute for podcast apps (Audiobookshelf refuses a relative enclosure
URL) are answered with links for the address the request was sent to (or ``--base-url``): the library's
feed and catalogs, generated from the books, and each book's own ``feed.xml``, its relative URLs
resolved against the book's folder.

Everything is public and read-only, so every origin may read it (CORS ``*``, GET and HEAD): a reader
hosted on a web site can open the catalogs and feeds of a library served at home. But only under the
names it is served by (``allowed_hosts``, ``--allow-host``): the Host a request names goes into links
and redirects, and a page whose own name points at this machine (DNS rebinding) must not read them.

What no request, client or flood may do: take the server down or keep others out. Idle connections
are closed (``_Connection``), generated files are rendered once per state of the library
(``Rendered``) in threads of their own, and a bad path or query is a 4xx, never a 500.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import gzip
import hashlib
import heapq
import ipaddress
import logging
import re
import resource
import signal
import socket
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote, urljoin, urlsplit

import anyio
import anyio.to_thread
import lxml.etree
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import InputError, UsageError
from .publication import Layout
from .readers.urls import valid_host
from .system.files import read_regular

if TYPE_CHECKING:
    from .library import Library

# A file generated per request (the library's feed and catalogs, whose links must be absolute): given
# the base URL of the library ("http://host:port/", ending in "/") and the request's parameters (the
# route's path parameters, e.g. {name} of "catalog/{name}", and the query, e.g. q of a search), its
# bytes and media type, or None for 404.
Dynamic = Callable[[str, Mapping[str, str]], "tuple[bytes, str] | None"]

OPDS_NAVIGATION = "application/atom+xml;profile=opds-catalog;kind=navigation"
OPDS_ACQUISITION = "application/atom+xml;profile=opds-catalog;kind=acquisition"
OPDS2 = "application/opds+json"
CHAPTERS = "application/json+chapters"  # Podcasting 2.0's JSON chapters

# By file name ending, longest first wins; set here rather than left to the `mimetypes` module, whose
# table depends on the machine's /etc/mime.types and knows neither .m4b, .vtt nor JSON chapters.
MEDIA_TYPES = {
    ".chapters.json": CHAPTERS,
    ".opds.json": OPDS2,
    ".epub": "application/epub+zip",
    ".mp3": "audio/mpeg",
    ".m4b": "audio/mp4",
    ".m4a": "audio/mp4",
    ".vtt": "text/vtt",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".json": "application/json",
    ".html": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".css": "text/css",
    ".js": "text/javascript",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/vnd.microsoft.icon",
    ".smil": "application/smil+xml",
    ".opf": "application/oebps-package+xml",
    ".ncx": "application/x-dtbncx+xml",
}
_XML_ROOT = re.compile(rb"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")  # the first element's local name
SNIFF = 1 << 20  # how much of an XML or JSON file is read to tell which kind it is

# Already compressed: gzip would cost CPU for nothing. Starlette never compresses a 206 either.
NOT_COMPRESSED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/epub+zip")


def media_type(path: Path) -> str:
    """The Content-Type of a file of the library, by its name and, for XML and JSON, its root."""
    name = path.name.lower()
    return media_type_of(name, _read_head(path) if name.endswith((".xml", ".json")) else b"")


def media_type_of(name: str, head: bytes) -> str:
    """The Content-Type of a file named ``name`` beginning with ``head`` (for XML and JSON)."""
    name = name.lower()
    if name.endswith(".xml"):
        return _xml_media_type(head)
    ending = max((e for e in MEDIA_TYPES if name.endswith(e)), key=len, default=None)
    if ending == ".json" and _is_opds2(head):
        return OPDS2
    return MEDIA_TYPES[ending] if ending else "application/octet-stream"


def _xml_media_type(head: bytes) -> str:
    """RSS, OPDS 1.2 navigation or acquisition feed, OpenSearch description, or other XML."""
    head = head[:SNIFF]
    root = _XML_ROOT.search(head)
    kind = root.group(1).lower() if root else b""
    if kind == b"rss":
        return "application/rss+xml"
    if kind == b"opensearchdescription":
        return "application/opensearchdescription+xml"
    if kind == b"feed":
        if b"opds-spec.org" not in head and b"opds-catalog" not in head:
            return "application/atom+xml"
        # OPDS 1.2: a feed whose entries link to publications is an acquisition feed
        return OPDS_ACQUISITION if b"opds-spec.org/acquisition" in head else OPDS_NAVIGATION
    return "application/xml"


def _is_opds2(head: bytes) -> bool:
    """An OPDS 2.0 feed: JSON with "metadata" and "navigation", "publications" or "groups"."""
    head = head[:SNIFF]
    return b'"metadata"' in head and any(k in head for k in (b'"navigation"', b'"publications"', b'"groups"'))


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(SNIFF)
    except OSError:
        return b""


def _hidden(parts: tuple[str, ...]) -> bool:
    """A dot-file or dot-folder: the lock, the book marker, partial books being written, '..'."""
    return any(part.startswith(".") for part in parts)


class LibraryFiles(StaticFiles):
    """StaticFiles confined to the library: no hidden file, nothing whose real path leaves the
    folder (symlinks pointing out included), a folder only through its index.html, our media types."""

    def lookup_path(self, path: str):
        parts = PurePosixPath(path.replace("\\", "/")).parts
        if _hidden(parts) or path.startswith(("/", "\\")):  # no parts: the folder itself
            return "", None
        try:
            # follow_symlink=False (the default): the real path must stay under the real folder
            full_path, stat_result = super().lookup_path(path)
        except OSError:  # unreadable, a symlink loop (ELOOP), a name too long: not a file to serve
            return "", None
        if stat_result is None:
            return "", None
        root = Path(str(self.directory)).resolve()
        if _hidden(Path(full_path).relative_to(root).parts):  # a visible link to a hidden file
            return "", None
        return full_path, stat_result

    def file_response(self, full_path, stat_result, scope, status_code: int = 200) -> Response:
        response = FileResponse(
            full_path,
            status_code=status_code,
            stat_result=stat_result,
            media_type=media_type(Path(full_path)),
            headers={"Cache-Control": "no-cache"},
        )  # revalidate: the library changes
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


def library_folder(folder: Path) -> Path:
    """``folder``, when it is one; InputError if not."""
    if not folder.is_dir():
        raise InputError(str(folder), "not a folder")
    return folder


def create_app(
    folder: Path,
    base_url: str | None = None,
    routes: Mapping[str, Dynamic] | None = None,
    hosts: list[str] | None = None,
) -> Starlette:
    """The ASGI application serving ``folder``; ``routes`` ({"feed.xml": render, "catalog/{name}":
    render, ...}, in Starlette's path syntax) are generated per request and take precedence over the
    files on disk, with absolute links from ``base_url``, else from the request's own host, which must
    be one of ``hosts`` (names, addresses, ``*.domain`` patterns; None: any) or the answer is 400."""
    library_folder(folder)
    dynamic = [
        Route("/" + path.lstrip("/"), _dynamic(render, base_url), methods=["GET", "HEAD"])
        for path, render in (routes or {}).items()
    ]
    files = Mount("/", app=LibraryFiles(directory=folder, html=True))
    middleware = [
        # The Host a request names is written into links and redirects, and a web page whose name an
        # attacker points at this machine (DNS rebinding) would be able to read the answers: only the
        # names the library is served under are answered
        Middleware(_TrustedHosts, allowed_hosts=hosts or ["*"]),
        # The library is public and read-only: a reader or player hosted on another origin (a web
        # app) may read the catalogs, the feeds and the files, and seek in the audio
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            allow_headers=["Range", "If-Range", "If-None-Match", "If-Modified-Since"],
            expose_headers=["Content-Range", "Accept-Ranges", "Content-Length", "ETag", "Last-Modified"],
            max_age=86400,
        ),
        Middleware(_WeakWhenCompressed),
        Middleware(GZipMiddleware, exclude_content_types=NOT_COMPRESSED),
    ]
    return Starlette(routes=[*dynamic, files], middleware=middleware)


class _WeakWhenCompressed:
    """A compressed answer's ETag made weak (``W/"…"``): the gzip bytes are another representation of the
    file, and a strong ETag promises the same bytes (RFC 9110, 8.8.1). Comparisons for 304 are weak
    (If-None-Match), so polling apps still get them. Outside GZipMiddleware, it sees the answer as sent."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if etag and not etag.startswith("W/") and headers.get("content-encoding"):
                    headers["etag"] = "W/" + etag
            await send(message)

        await self.app(scope, receive, sending)


# Generated files are rendered in threads of their own, two at a time: the threads Starlette reads
# files with (40) stay free for the audio and books, however many apps poll the feed at once
_RENDERING = anyio.CapacityLimiter(2)


class _TrustedHosts(TrustedHostMiddleware):
    """Starlette's TrustedHostMiddleware (400 for a Host not allowed, no redirect to www.), saying in
    the server's log, once per name, which name it refused and how to allow it: the person running
    `serve` behind a proxy or a DNS name sees why their app gets 400."""

    def __init__(self, app, allowed_hosts: list[str]) -> None:
        super().__init__(self._allowed, allowed_hosts, www_redirect=False)
        self._next = app
        self._said: set[str] = set()

    async def _allowed(self, scope, receive, send) -> None:
        scope["talkingbook.host_allowed"] = True
        await self._next(scope, receive, send)

    async def __call__(self, scope, receive, send) -> None:
        await super().__call__(scope, receive, send)
        if scope["type"] == "http" and "talkingbook.host_allowed" not in scope:
            host = Headers(scope=scope).get("host", "")
            try:
                name = urlsplit("//" + host).hostname or ""
            except ValueError:
                name = ""
            if host not in self._said and len(self._said) < 100:  # names are the client's choice: a few
                self._said.add(host)
                logging.getLogger("uvicorn.error").warning(
                    "refused a request addressed to %r: if that is this library's name, serve it with --allow-host %s",
                    host,
                    name if valid_host(name) else "NAME",
                )


def _dynamic(render: Dynamic, base_url: str | None):
    """A Starlette endpoint for one generated file, with an ETag so that apps polling it get 304s."""

    async def endpoint(request: Request) -> Response:
        base = base_url or str(request.base_url)
        params = {**request.query_params, **request.path_params}
        gzip_ok = "gzip" in request.headers.get("accept-encoding", "").lower()
        answer = await anyio.to_thread.run_sync(
            _answer, render, base if base.endswith("/") else base + "/", params, gzip_ok, limiter=_RENDERING
        )
        if answer is None:
            raise HTTPException(status_code=404)
        body, kind, etag, encoding = answer
        headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if etag in [tag.strip().removeprefix("W/") for tag in request.headers.get("if-none-match", "").split(",")]:
            return NotModifiedResponse(Headers(headers))
        if encoding:
            headers["Content-Encoding"] = encoding  # GZipMiddleware lets it through as it is
        return Response(body, media_type=kind, headers=headers)

    return endpoint


def _answer(render: Dynamic, base: str, params: Mapping[str, str], gzip_ok: bool):
    """(body, media type, ETag, content encoding) of a generated file, or None (404). The ETag is the
    uncompressed body's, as GZipMiddleware leaves it."""
    rendered = render(base, params)
    if rendered is None:
        return None
    body, kind = rendered
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if gzip_ok and len(body) >= 500:  # GZipMiddleware's minimum size
        return _gzipped(body), kind, etag, "gzip"
    return body, kind, etag, None


@functools.lru_cache(maxsize=64)
def _gzipped(body: bytes) -> bytes:
    """A generated file compressed once, not at each request as GZipMiddleware would (a feed of 3,000
    books: 1 s of CPU at its level 9). The key is the body kept by ``Rendered``: the same object, so
    its hash is computed once."""
    return gzip.compress(body, compresslevel=9, mtime=0)


class Rendered:
    """What was rendered from a library, kept while it is unchanged (``library.state``: three ``stat``
    calls, where reading 3,000 books takes 0.3 s and rendering their feed 0.8 s): the library read,
    and the files rendered from it by key (route, parameters, base URL), the most recent first, up to
    ``count`` files and ``limit`` bytes. Requests that miss at the same time wait for one rendering,
    not one each."""

    def __init__(self, folder: Path, limit: int = 64 * 1024 * 1024, count: int = 256) -> None:
        self.folder, self.limit, self.count = folder, limit, count
        self._lock = threading.Lock()
        self._library: tuple[tuple, Library] | None = None
        self._files: OrderedDict[tuple, tuple[tuple, tuple[bytes, str] | None]] = OrderedDict()

    def get(self, key: tuple, make: Callable[[Library], tuple[bytes, str] | None]) -> tuple[bytes, str] | None:
        from . import library

        now = library.state(self.folder)
        with self._lock:
            kept = self._files.get(key)
            if kept is not None and kept[0] == now:
                self._files.move_to_end(key)
                return kept[1]
            if self._library is None or self._library[0] != now:
                self._library = (now, library.read_library(self.folder))
            made = make(self._library[1])
            self._files[key] = (now, made)
            self._files.move_to_end(key)
            while len(self._files) > 1 and (
                len(self._files) > self.count or sum(len(f[1][0]) for f in self._files.values() if f[1]) > self.limit
            ):  # searches and names asked are the client's choice: their number is bounded too
                self._files.popitem(last=False)
            return made


def dynamic_routes(folder: Path) -> dict[str, Dynamic]:
    """The library's generated files, rendered from ``folder``'s books (again when they change) so that
    their links are absolute for the address the request was sent to: the podcast feed, the OPDS
    catalogs and the catalog searches (which a static host cannot answer), and each book's feed.
    Searches come before ``{name}``."""
    from . import library

    files = LibraryFiles(directory=folder, check_dir=False)  # a book's feed: the same confinement

    def book_feed(base: str, params: Mapping[str, str]) -> tuple[bytes, str] | None:
        slug = params["slug"]
        path, found = files.lookup_path(f"{slug}/{Layout.FEED}")
        if found is None:
            return None
        try:
            data = read_regular(path, FEED_LIMIT)
        except OSError:
            return None
        return absolute_feed(data, f"{base}{quote(slug)}/"), media_type_of(Layout.FEED, data[:SNIFF])

    rendered = Rendered(folder)

    def feed(base: str, params: Mapping[str, str]) -> tuple[bytes, str] | None:
        return rendered.get(
            (library.FEED, base), lambda books: (library.render_feed(books, base), "application/rss+xml")
        )

    def search(kind: Literal["xml", "json"], key: str, media: str) -> Dynamic:
        def answer(base: str, params: Mapping[str, str]) -> tuple[bytes, str] | None:
            terms, page = params.get(key, ""), params.get("page")
            if _CONTROL.search(terms):  # no title has one, and XML cannot hold most of them
                raise HTTPException(status_code=400, detail="the search terms hold a control character")

            def make(books: Library) -> tuple[bytes, str] | None:
                data = library.render_search(books, terms, base, kind, page)
                return None if data is None else (data, media)

            return rendered.get(("search", kind, terms, page, base), make)

        return answer

    def catalog(base: str, params: Mapping[str, str]) -> tuple[bytes, str] | None:
        name = params["name"]

        def make(books: Library) -> tuple[bytes, str] | None:
            data = library.catalog_file(books, name, base)
            return None if data is None else (data, media_type_of(name, data[:SNIFF]))

        return rendered.get((library.CATALOG, name, base), make)

    return {
        library.FEED: feed,
        f"{library.CATALOG}/search.xml": search("xml", "q", OPDS_ACQUISITION),
        f"{library.CATALOG}/search.json": search("json", "query", OPDS2),
        f"{library.CATALOG}/{{name}}": catalog,
        f"{{slug}}/{Layout.FEED}": book_feed,
    }


# Control characters (C0 but tab, line feed and carriage return, DEL, C1) and the non-characters
# XML cannot hold; Starlette decodes invalid UTF-8 in a query to U+FFFD, so no lone surrogate arrives
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
FEED_LIMIT = 64 * 1024 * 1024  # a book's feed.xml larger than this is not ours: 404
# A feed is the library's own file, but the folder may hold anything: no DTD, no entity, no network
_XML = lxml.etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)


def absolute_feed(data: bytes, base: str) -> bytes:
    """An RSS feed with its relative URLs (attributes ``url`` and ``href``, the text of ``<link>`` and
    ``<url>``) resolved against ``base``, the URL of the feed's folder; anything else unchanged."""
    try:
        root = lxml.etree.fromstring(data, _XML)
    except lxml.etree.XMLSyntaxError:
        return data
    if root is None or lxml.etree.QName(root).localname != "rss":
        return data
    for element in root.iter(lxml.etree.Element):  # elements only: no comment, no processing instruction
        for name in ("url", "href"):
            if value := element.get(name):
                element.set(name, urljoin(base, value.strip()))
        if element.tag in ("link", "url") and element.text and element.text.strip():
            element.text = urljoin(base, element.text.strip())
    return lxml.etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


EVERYWHERE = ("", "*")  # as well as every spelling of 0.0.0.0 and ::
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def listen_host(host: str) -> str:
    """``--host`` as an address to listen on, whatever its spelling ('0', '0x0' and '*' are
    0.0.0.0; '[::]' is '::'; '::ffff:0.0.0.0' is 0.0.0.0), or a host name; UsageError for anything
    else."""
    name = host.strip()
    if name in EVERYWHERE:
        return "0.0.0.0"
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    address = _ip(bare)
    if address is not None:
        return str(address)
    if not valid_host(bare) or bare != host:  # brackets or spaces around a name: not a name
        shown = host if host.isprintable() else repr(host)
        raise UsageError(f"--host {shown}", "not an IP address or a host name") from None
    return bare


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address in any spelling the C library takes (inet_aton's '0', '0x0', '127.1' too); an
    IPv4-mapped IPv6 address as the IPv4 one."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(text)
    except ValueError:
        if not re.fullmatch(r"[0-9a-fA-FxX.]+", text):  # inet_aton ignores what follows a space
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def listening_on(sock: socket.socket) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address ``sock`` is bound to (0.0.0.0 or :: for every interface)."""
    address = _ip(str(sock.getsockname()[0]).split("%")[0])
    assert address is not None
    return address


def allowed_hosts(sock: socket.socket, host: str, base_url: str | None, more: list[str]) -> list[str]:
    """The names a request may address the library by (its Host header): the address listened on and
    the name given for it, this machine's names when that is loopback (localhost, 127.0.0.1, ::1) or
    every interface (its host name, ``NAME.local``, its network address too), the host of
    ``base_url``, and ``more`` (--allow-host)."""
    address = listening_on(sock)
    names = {host, str(address), *more}
    if address.is_loopback or address.is_unspecified:
        names.update(LOOPBACK_NAMES)
    if address.is_unspecified:
        machine = socket.gethostname()
        names.update((machine, f"{machine}.local", lan_address() or ""))
        with suppress(OSError):
            names.update(str(info[4][0]) for info in socket.getaddrinfo(machine, None))
    if base_url:
        names.add(urlsplit(base_url).hostname or "")
    return sorted({f"[{n}]" if ":" in n else n.lower() for n in names if n})


def allowed_host(value: str) -> str:
    """An ``--allow-host`` as TrustedHostMiddleware takes it: '*', '*.domain', a host name or an IP
    address (IPv6 in brackets, as in a Host header); UsageError for anything else."""
    if value == "*":
        return value
    name = value.removeprefix("*.")
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    address = _ip(bare) if name == value else None
    if address is None and not valid_host(bare):
        shown = value if value.isprintable() else repr(value)
        raise UsageError(f"--allow-host {shown}", "expected a host name, an IP address, *.domain or *")
    if address is not None:
        return f"[{address}]" if address.version == 6 else str(address)
    return value.lower()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one); UsageError naming the option if not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}", f"not an address of this machine ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise UsageError(f"--host {host} --port {port}", f"cannot listen there ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def lan_address() -> str | None:
    """This machine's address on its network, as a phone beside it would reach it; None if offline.

    Connecting a UDP socket sends no packet: it only asks the kernel which source address it would
    use for that destination (a documentation-only address, never contacted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            address = None
    if address and not address.startswith("127.") and address != "0.0.0.0":
        return address
    try:
        found = {str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except OSError:
        return None
    return next((a for a in sorted(found) if not a.startswith("127.")), None)


BACKLOG = 2048  # connections the kernel holds until they are accepted (uvicorn's default)
IDLE_TIMEOUT = 10  # seconds a connection may wait for its next request's headers, from its start or last answer


def run(app: Starlette, sock: socket.socket, access_log: bool = False) -> int | None:
    """Serve until SIGINT (Ctrl-C), SIGTERM or SIGHUP; returns that signal's number (None if none)."""
    capacity = connection_capacity()
    config = uvicorn.Config(
        app,
        http=_Connection,
        lifespan="off",
        log_level="info" if access_log else "warning",
        access_log=access_log,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=IDLE_TIMEOUT,
        backlog=BACKLOG,
        # _Connection keeps at most ``capacity`` connections by closing idle ones; when every one is
        # busy, uvicorn answers the next request 503 at once rather than running out of files
        limit_concurrency=capacity + 1,
    )
    server = _Server(config)
    with server.stop_on_signals():
        server.run(sockets=[sock])
    return server.stopped_by


MAX_CONNECTIONS = 4096  # about 5 KB each when idle (2,000 idle: +10 MB): a flood costs 20 MB at most


def connection_capacity() -> int:
    """How many connections may be open at once: half the open files this process may have (each
    connection may stream one file), after raising its soft limit to the hard one (often 1,024 of
    a hard 524,288: the soft limit is for programs that do not expect many), and MAX_CONNECTIONS at
    most."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    soft = soft if soft != resource.RLIM_INFINITY else 1 << 20
    return min(MAX_CONNECTIONS, max(8, (soft - 64) // 2))  # 64: the server's own files (log, socket...)


class _Connection(H11Protocol):
    """uvicorn's HTTP/1.1 connection with two guards against idle sockets, which a flood (or clients
    that went quiet) would otherwise pile up until no file is left to accept a request with:

    - uvicorn closes an idle connection only after a response (Kludex/uvicorn#1192): here one that
      sends no request, or does not finish its headers, within ``IDLE_TIMEOUT`` of its start (or of
      its last response) is closed too;
    - past ``limit_concurrency - 1`` open connections, the longest idle ones are closed to make room
      for the new one, as nginx reuses its keep-alive connections when it runs out.
    """

    idle_since = 0.0

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._wait_for_request()
        capacity = self.limit_concurrency - 1 if self.limit_concurrency else None
        if capacity is not None and len(self.connections) > capacity:
            self._make_room(len(self.connections) - capacity)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # cancels the timer
        if self._idle() and not self.transport.is_closing():
            self._wait_for_request(since=self.idle_since)  # still no whole request: the same deadline

    def on_response_complete(self) -> None:
        self.idle_since = self.loop.time()
        super().on_response_complete()  # arms the timer

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._unset_keepalive_if_required()  # uvicorn leaves the timer (and this object) when exc is set

    def _idle(self) -> bool:
        """No request being answered: waiting for one, or for the rest of its headers."""
        return self.cycle is None or self.cycle.response_complete

    def _wait_for_request(self, since: float | None = None) -> None:
        now = self.loop.time()
        self.idle_since = now if since is None else since
        self._unset_keepalive_if_required()
        delay = max(0.0, self.idle_since + self.timeout_keep_alive - now)
        self.timeout_keep_alive_task = self.loop.call_later(delay, self.timeout_keep_alive_handler)

    def _make_room(self, count: int) -> None:
        idle = [c for c in self.connections if c is not self and isinstance(c, _Connection) and c._idle()]
        for connection in heapq.nsmallest(count, idle, key=lambda c: c.idle_since):
            connection.timeout_keep_alive_handler()


class _Server(uvicorn.Server):
    """uvicorn's Server, stopping gracefully on SIGHUP too, with its handlers set before the event loop
    starts (a Ctrl-C at start-up stops it as well), and not raising the signal again once stopped as
    uvicorn does (so that a parent sees a death by signal): Ctrl-C is `serve`'s normal end."""

    stopped_by: int | None = None

    @contextmanager
    def stop_on_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = [
            s for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP) if signal.getsignal(s) != signal.SIG_IGN
        ]  # nohup's SIGHUP stays ignored
        previous = {s: signal.signal(s, self._stop) for s in handled}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # stop_on_signals has set them

    def _stop(self, signum, frame) -> None:
        self.stopped_by = self.stopped_by or signum
        self.handle_exit(signum, frame)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(self._loop_error)
        await super().serve(sockets)

    _out_of_files_said = -1e9

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """The event loop's errors, except running out of files to accept a connection with: asyncio
        logs a traceback for every connection waiting (up to the backlog, 2,048, each second; a pipe
        of stderr full of them stops the server). Said once a minute in one line: the connections
        wait, the idle ones are being closed, and asyncio accepts again a second later (a retry that
        finds the server stopped is no news either)."""
        exc = context.get("exception")
        retry = getattr(getattr(context.get("handle"), "_callback", None), "__name__", "") == "_start_serving"
        if self.should_exit and retry:  # asyncio's retry of accept() comes after the socket is closed
            return
        if not (isinstance(exc, OSError) and exc.errno in _OUT_OF):
            loop.default_exception_handler(context)
            return
        if loop.time() - self._out_of_files_said >= 60:
            self._out_of_files_said = loop.time()
            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            logging.getLogger("uvicorn.error").warning(
                "more connections than this process may open files (%s): new ones wait while idle ones are closed",
                limit,
            )


_OUT_OF = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
