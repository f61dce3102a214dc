"""HTTP GET for the article and its images: which addresses may be reached, a total deadline,
redirects checked hop by hop, bounded decompression.

Written over the standard library's :mod:`http.client` rather than urllib, urllib3 or httpx
because none of them offers the three guarantees together:

- the address is decided on the *resolved* IP and the socket connects to that very IP (no second
  lookup a DNS-rebinding server could answer differently); the connections below override
  ``connect()`` for that;
- a *total* deadline per page and per image: their timeouts apply to each read, so a server that
  trickles a byte every few seconds keeps them alive forever; a watchdog timer shuts the socket
  down when the deadline passes;
- a gzip or deflate body is decompressed within the size cap (``zlib`` with ``max_length``).

http.client still parses the status line, headers and chunks; its exceptions become one
:class:`~talkingbook.errors.InputError` each.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, replace

from .. import __version__
from ..errors import InputError
from ..system import processes
from .urls import ascii_host, request_target, web_url

MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
# NAT64's well-known prefix carries an IPv4 address in its last 32 bits (RFC 6052).
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Reach:
    """Which addresses a fetch may connect to.

    Link-local (the cloud metadata address 169.254.169.254 included) and multicast: never.
    Loopback, private, unique-local, unspecified, reserved and shared addresses: with ``allow``; with
    ``auto`` only when the article itself came from such an address; with ``deny`` only the URL the
    user typed and the same address and port (its own redirects and images).
    """

    mode: str = "auto"
    origin: tuple[str, int] | None = None  # the address and port the typed URL was fetched from

    def refusal(
        self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int = 0, typed: bool = False
    ) -> str | None:
        """Why ``ip`` (port ``port``) may not be reached, or None when it may."""
        ip = embedded_ipv4(ip)
        if ip.is_link_local:
            return "a link-local address (such as a cloud metadata service)"
        if ip.is_multicast:
            return "a multicast address"
        if ip.is_global or typed or self.mode == "allow":
            return None
        if self.origin is not None and (self.mode == "auto" or self.origin == (str(ip), port)):
            return None
        return "a private or loopback address (--private-network allow permits it)"


def embedded_ipv4(ip):
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64), else ``ip`` itself."""
    if ip.version == 6:
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_private(ip) -> bool:
    """True for any address that is not global (loopback, private, reserved...)."""
    return not embedded_ipv4(ip).is_global


def resolve(host: str, port: int) -> list[tuple]:
    """The addresses of ``host`` (the one lookup per connection; tests replace it)."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _lookup(host: str, port: int, deadline: Deadline) -> list[tuple]:
    """:func:`resolve` within the deadline. getaddrinfo cannot be interrupted, and a resolver whose
    servers do not answer takes its own time (5 s per server and attempt): it runs in a daemon
    thread, left to finish on its own when the deadline passes first. An IP address needs no
    lookup and is resolved here."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return resolve(host, port)
    except ValueError:
        pass
    done = threading.Event()
    found: list = []

    def look() -> None:
        processes.worker_thread()  # stop signals stay with the main thread
        try:
            found.append(resolve(host, port))
        except BaseException as exc:  # noqa: BLE001 - handed to the fetching thread
            found.append(exc)
        finally:
            done.set()

    threading.Thread(target=look, name=f"lookup {host}", daemon=True).start()
    if not done.wait(deadline.remaining()):
        deadline.expired = True
        raise TimeoutError(f"no address for {host} within the deadline")
    if isinstance(found[0], BaseException):
        raise found[0]
    return found[0]


@dataclass(frozen=True)
class Response:
    data: bytes
    url: str  # after redirects
    content_type: str
    charset: str
    language: str
    reach: Reach  # for what the page refers to: its origin recorded when it came from a private address


class Deadline:
    """A total time limit: when it passes, every socket it watches is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            self.expired = True
            raise TimeoutError("deadline passed")
        return left

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock``'s connection down at the deadline. A duplicate descriptor is kept: TLS
        wrapping detaches the original socket object, but the connection stays the same."""
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                self._shutdown(self._sockets[-1])

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # Wakes a recv() blocked in the fetching thread: it returns end-of-file at once.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class Refused(Exception):
    """An address the :class:`Reach` does not allow; raised before any connection is made."""


@dataclass
class _Guard:
    """Opens the socket of one hop: an address of the host that ``reach`` allows, looked up once,
    connected to as found, watched by the deadline."""

    reach: Reach
    typed: bool
    deadline: Deadline
    connected: tuple[str, int] | None = None  # the address and port connected to

    def allowed(self, host: str, port: int) -> list[tuple]:
        """The addresses of ``host`` (looked up once, within the deadline) that ``reach`` allows, as
        getaddrinfo gives them; Refused when it allows none."""
        allowed, refusals = [], []
        for family, kind, proto, _, address in _lookup(host, port, self.deadline):
            ip = ipaddress.ip_address(address[0].split("%", 1)[0])
            why = self.reach.refusal(ip, address[1], self.typed)
            if why:
                where = host if str(ip) == host else f"{host} ({ip})"
                refusals.append(f"{where} port {address[1]} is {why}")
            else:
                allowed.append((family, kind, proto, address, ip))
        if not allowed and refusals:
            raise Refused(refusals[0])
        if not allowed:
            raise OSError(f"{host} has no address")
        return allowed

    def open(self, host: str, port: int) -> socket.socket:
        errors = []
        for family, kind, proto, address, ip in self.allowed(host, port):
            try:
                sock = self._connect(family, kind, proto, address)
            except OSError as exc:
                errors.append(exc)
                continue
            self.connected = (str(embedded_ipv4(ip)), address[1])
            return sock
        raise errors[0]

    def through(self, proxy: Proxy, host: str, port: int) -> tuple[socket.socket, str]:
        """A socket connected to ``proxy`` and the address (``IP:PORT``) it is to be asked for: the
        one ``reach`` allowed, so that the proxy connects to the very address checked. The proxy
        itself is the user's setting: any address of it may be reached."""
        _, _, _, address, ip = self.allowed(host, port)[0]
        errors = []
        for family, kind, proto, _, proxy_address in _lookup(proxy.host, proxy.port, self.deadline):
            try:
                sock = self._connect(family, kind, proto, proxy_address)
            except OSError as exc:
                errors.append(exc)
                continue
            self.connected = (str(embedded_ipv4(ip)), address[1])
            return sock, (f"[{ip}]" if ip.version == 6 else str(ip)) + f":{address[1]}"
        raise errors[0] if errors else OSError(f"the proxy {proxy.host} has no address")

    def _connect(self, family, kind, proto, address) -> socket.socket:
        sock = socket.socket(family, kind, proto)
        self.deadline.watch(sock)
        try:
            sock.settimeout(self.deadline.remaining())
            sock.connect(address)
        except BaseException:
            sock.close()
            raise
        return sock


@dataclass(frozen=True)
class Proxy:
    """An http:// proxy named by the environment, and what it is told of its user."""

    host: str
    port: int
    headers: dict


def proxy_for(url: str) -> Proxy | None:
    """The proxy the environment names for ``url`` (HTTP_PROXY, HTTPS_PROXY, NO_PROXY and their
    lower-case forms, read by urllib's own rules), or None. Only http:// proxies are spoken to;
    another kind (socks5://, https://) is an OSError rather than a connection made without it."""
    parts = urllib.parse.urlsplit(url)
    named = urllib.request.getproxies_environment().get(parts.scheme)
    # NO_PROXY by urllib's rules (proxy_bypass_environment: the environment only, on every system)
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not named or bypass(parts.hostname or ""):
        return None
    found = urllib.parse.urlsplit(named if "://" in named else f"http://{named}")
    try:
        port = found.port or 80
    except ValueError:
        port = -1
    if found.scheme.lower() != "http" or not found.hostname or port < 0:
        shown = f"{found.scheme}://{found.hostname or ''}"
        raise OSError(f"the proxy {shown} set for {parts.scheme} is not an http:// proxy, the one kind used")
    headers = {}
    if found.username is not None:
        user = urllib.parse.unquote(found.username) + ":" + urllib.parse.unquote(found.password or "")
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(user.encode()).decode("ascii")
    return Proxy(found.hostname, port, headers)


class _HTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, guard: _Guard) -> None:
        super().__init__(host, port, timeout=guard.deadline.remaining())
        self.guard = guard

    def connect(self) -> None:
        self.sock = self.guard.open(self.host, self.port)


class _HTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, guard: _Guard) -> None:
        self.tls = tls_context()
        super().__init__(host, port, timeout=guard.deadline.remaining(), context=self.tls)
        self.guard = guard

    def connect(self) -> None:
        # The certificate is checked against the host name, on the socket connected to the checked address.
        self.sock = self.tls.wrap_socket(self.guard.open(self.host, self.port), server_hostname=self.host)


class _ProxiedHTTP(http.client.HTTPConnection):
    """Plain HTTP through a proxy: the request names the checked address (``http://IP:PORT/path``),
    the Host header the server's name (see get)."""

    def __init__(self, host: str, port: int, guard: _Guard, proxy: Proxy) -> None:
        super().__init__(host, port, timeout=guard.deadline.remaining())
        self.guard, self.proxy, self.target = guard, proxy, ""

    def connect(self) -> None:
        self.sock, self.target = self.guard.through(self.proxy, self.host, self.port)


class _ProxiedHTTPS(_HTTPS):
    """HTTPS through a proxy's tunnel (CONNECT) to the checked address; the certificate is still
    checked against the host name."""

    def __init__(self, host: str, port: int, guard: _Guard, proxy: Proxy) -> None:
        super().__init__(host, port, guard)
        self.proxy = proxy

    def connect(self) -> None:
        sock, target = self.guard.through(self.proxy, self.host, self.port)
        try:
            headers = "".join(f"{k}: {v}\r\n" for k, v in {"Host": target, **self.proxy.headers}.items())
            sock.sendall(f"CONNECT {target} HTTP/1.1\r\n{headers}\r\n".encode("ascii"))
            answer = http.client.HTTPResponse(sock, method="CONNECT")
            answer.begin()
            if answer.status != 200:
                raise OSError(f"the proxy answered {answer.status} {answer.reason}".rstrip())
            self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's authorities (tests trust their own)."""
    return ssl.create_default_context()


def _connection(url: str, guard: _Guard) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None  # the URL was checked to be http(s) with a host
    proxy = proxy_for(url)
    host = ascii_host(parts.hostname)
    if parts.scheme == "https":
        port = parts.port or 443
        return _HTTPS(host, port, guard) if proxy is None else _ProxiedHTTPS(host, port, guard, proxy)
    port = parts.port or 80
    return _HTTP(host, port, guard) if proxy is None else _ProxiedHTTP(host, port, guard, proxy)


def _request_line(url: str, conn: http.client.HTTPConnection) -> tuple[str, dict]:
    """The request target and the headers a connection needs besides the usual ones: through an
    HTTP proxy, the checked address in absolute form and the host's name in the Host header."""
    if not isinstance(conn, _ProxiedHTTP):
        return request_target(url), {}
    conn.connect()
    host = conn.host if conn.port == 80 else f"{conn.host}:{conn.port}"
    return f"http://{conn.target}{request_target(url)}", {"Host": host, **conn.proxy.headers}


def get(
    url: str,
    *,
    reach: Reach,
    typed: bool = False,
    seconds: float = 20,
    max_bytes: int,
    accept: str = "*/*",
    types: tuple[str, ...] = (),
    name: str | None = None,
) -> Response:
    """GET ``url`` (a valid http(s) URL): every hop checked by ``reach``, within ``seconds`` in all,
    at most ``max_bytes`` after decompression, one of ``types`` when given (checked before the body
    is read). Raises InputError naming ``name`` (default: the URL)."""
    name = name or url
    deadline = Deadline(seconds)
    try:
        for hop in range(MAX_REDIRECTS + 1):
            guard = _Guard(reach, typed and hop == 0, deadline)
            conn = _connection(url, guard)
            try:
                target, extra = _request_line(url, conn)
                conn.request(
                    "GET",
                    target,
                    headers={
                        "User-Agent": f"talkingbook/{__version__} (accessible publishing)",
                        "Accept": accept,
                        "Accept-Encoding": "gzip, deflate",
                        "Connection": "close",
                        **extra,
                    },
                )
                response = conn.getresponse()
                if guard.typed and guard.connected is not None and is_private(ipaddress.ip_address(guard.connected[0])):
                    # An article served from a private address may use that address (deny) or that kind (auto).
                    reach = replace(reach, origin=guard.connected)
                if response.status in REDIRECTS:
                    url = _next_hop(name, url, response)
                    continue
                _check_status(name, response)
                if types and response.headers.get_content_type() not in types:
                    raise InputError(name, f"the server sent {response.headers.get_content_type()}, not an HTML page")
                data = _read_body(name, response, max_bytes, deadline)
                return Response(
                    data,
                    url,
                    response.headers.get_content_type(),
                    response.headers.get_content_charset() or "",
                    (response.headers.get("Content-Language") or "").split(",")[0].strip(),
                    reach,
                )
            finally:
                conn.close()
        raise InputError(name, f"too many redirects (more than {MAX_REDIRECTS})")
    except InputError:
        raise
    except Refused as exc:
        raise InputError(name, f"not fetched: {exc}") from exc
    except Exception as exc:
        if deadline.expired:
            raise InputError(name, f"no complete answer within {seconds:g} s") from exc
        raise InputError(name, _why(exc)) from exc
    finally:
        deadline.cancel()


def _next_hop(name: str, url: str, response) -> str:
    """The URL a redirect points to, checked by the same rule as every URL."""
    location = response.getheader("Location")
    if not location or not location.strip():
        raise InputError(
            name,
            f"the server answered {response.status} {response.reason} without saying where to go (no Location header)",
        )
    target = web_url(location, url)
    if target is None:
        scheme = location.strip().partition(":")[0].lower() if ":" in location else ""
        kind = f"a {scheme}: address" if scheme.isalpha() and scheme not in ("http", "https") else "an invalid address"
        raise InputError(name, f"the server redirects to {kind} ({location.strip()[:80]}), which is not fetched")
    return target


def _check_status(name: str, response) -> None:
    if response.status == 304:
        raise InputError(name, "the server answered 304 Not Modified (it sent no page to a plain request)")
    if not 200 <= response.status <= 203:
        raise InputError(name, f"the server answered {response.status} {response.reason}".rstrip())


def _read_body(name: str, response, max_bytes: int, deadline: Deadline) -> bytes:
    """The whole body, decompressed, at most ``max_bytes``; a body shorter than announced is an error."""
    cap = f"larger than {max_bytes / (1024 * 1024):g} MB"
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip", "deflate"):
        raise InputError(name, f"the server compressed it with {encoding[:40]}, which talkingbook cannot read")
    declared = response.getheader("Content-Length")
    declared = int(declared) if declared and declared.strip().isdigit() and not response.chunked else None
    if encoding == "identity" and declared is not None and declared > max_bytes:
        raise InputError(name, cap)
    inflate = _Inflater(encoding, max_bytes)
    received = 0
    while chunk := response.read(CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise InputError(name, cap)
        if not inflate.feed(chunk):
            raise InputError(name, cap)
    if deadline.expired:
        raise TimeoutError("deadline passed")
    if declared is not None and received < declared:
        raise InputError(name, f"the connection closed after {received} of {declared} bytes (the page is cut short)")
    return inflate.finish(name)


class _Inflater:
    """gzip/deflate decompression that never holds more than ``limit`` bytes of output."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding, self.limit = encoding, limit
        self.out = bytearray()
        self.z = self._new() if encoding != "identity" else None
        self.raw_deflate_tried = False

    def _new(self, raw: bool = False):
        # 47 reads a gzip or zlib header; -15 is a raw deflate stream (what some servers send as "deflate").
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else 32 + zlib.MAX_WBITS)

    def feed(self, chunk: bytes) -> bool:
        """Add ``chunk``; False once the output passes the limit."""
        if self.z is None:
            self.out += chunk
            return len(self.out) <= self.limit
        data = chunk
        while data:
            try:
                self.out += self.z.decompress(data, self.limit - len(self.out) + 1)
            except zlib.error:
                if self.encoding == "deflate" and not self.out and not self.raw_deflate_tried:
                    self.raw_deflate_tried, self.z = True, self._new(raw=True)
                    continue
                raise
            if len(self.out) > self.limit:
                return False
            data = self.z.unconsumed_tail
            if self.z.eof:
                data = self.z.unused_data.lstrip(b"\0")  # a further gzip member, or padding
                if data:
                    self.z = self._new()
        return True

    def finish(self, name: str) -> bytes:
        if self.z is not None and not self.z.eof:
            raise InputError(name, "the compressed page ends early (it is cut short)")
        return bytes(self.out)


def _why(exc: Exception) -> str:
    """One readable reason for a failed exchange."""
    text = " ".join(str(exc).split())[:120]
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, http.client.IncompleteRead):
        return "the answer arrived incomplete (the connection closed early, or a chunk was malformed)"
    if isinstance(exc, http.client.LineTooLong):
        return f"the server sent a malformed answer ({text})"
    if isinstance(exc, http.client.BadStatusLine):
        return f"the server did not answer in HTTP/1.x (status line {text})"
    if isinstance(exc, http.client.InvalidURL):
        return f"not a valid URL ({text})"
    if isinstance(exc, http.client.HTTPException):
        return f"the server sent a malformed answer ({text or type(exc).__name__})"
    if isinstance(exc, zlib.error):
        return f"the compressed page is damaged ({text})"
    if isinstance(exc, socket.gaierror):
        return f"cannot find the server ({exc.strerror or text})"
    if isinstance(exc, ssl.SSLError):
        return f"the secure connection failed ({getattr(exc, 'verify_message', '') or exc.reason or text})"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, OSError):
        return f"cannot fetch it ({exc.strerror or text})"
    if isinstance(exc, (ValueError, UnicodeError)):
        return f"cannot fetch it ({text})"
    raise exc
