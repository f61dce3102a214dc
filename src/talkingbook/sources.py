"""Where an article comes from: a local file, standard input, or an http(s) URL; and its text.

Fetching uses the standard library (urllib) with a timeout, a size cap, a redirect limit
and a content-type check. Decoding follows what browsers do: BOM, HTTP header, the page's
own declaration, then detection (charset_normalizer) when the declaration is missing or
wrong, so a page never comes out as mojibake.
"""

from __future__ import annotations

import codecs
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import InputError

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 20  # seconds for connect and each read
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")
# WHATWG encoding labels that browsers read as a superset (declared Latin-1 pages are cp1252).
SUPERSETS = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "us-ascii": "windows-1252",
             "ascii": "windows-1252", "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030",
             "iso-8859-9": "windows-1254", "tis-620": "windows-874", "ks_c_5601-1987": "cp949",
             "euc-kr": "cp949", "shift_jis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932"}


@dataclass(frozen=True)
class Source:
    data: bytes
    name: str  # what the user gave: a path, a URL or 'stdin'
    url: str = ""  # the final URL after redirects, for URLs
    charset: str = ""  # from the HTTP Content-Type header
    language: str = ""  # from the HTTP Content-Language header
    folder: Path | None = None  # a local input's folder: the only place its images may come from


def load(source: str) -> Source:
    """Read a local file, '-' (standard input) or an http(s) URL."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        _check_size(source, data)
        return Source(data, "stdin", folder=Path.cwd())
    if re.match(r"^https?://", source, re.I):
        return fetch(source)
    if re.match(r"^[a-z][a-z0-9+.-]*://", source, re.I):
        raise InputError(source, "only local files and http(s) URLs can be read")
    path = Path(source)
    try:
        if path.is_dir():
            raise InputError(source, "is a folder, not an HTML file")
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError as exc:
        raise InputError(source, "no such file") from exc
    except OSError as exc:
        raise InputError(source, exc.strerror or str(exc)) from exc
    _check_size(source, data)
    return Source(data, source, folder=path.resolve().parent)


def _check_size(name: str, data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise InputError(name, f"larger than {MAX_BYTES // (1024 * 1024)} MB; not an article page")
    if not data.strip():
        raise InputError(name, "the file is empty")


class _LimitedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not re.match(r"^https?://", newurl, re.I):
            raise urllib.error.URLError(f"redirect to a non-http address {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, max_bytes: int | None = None, types: tuple[str, ...] = HTML_TYPES) -> Source:
    """GET ``url`` with a timeout, a size cap, at most five redirects and a content-type check."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    opener = urllib.request.build_opener(_LimitedRedirects)
    request = urllib.request.Request(url, headers={
        "User-Agent": f"talkingbook/{__version__} (accessible publishing)",
        "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"})
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            ctype = response.headers.get_content_type()
            if types and ctype not in types:
                raise InputError(url, f"the server sent {ctype}, not an HTML page")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise InputError(url, f"larger than {max_bytes // (1024 * 1024)} MB")
            data = response.read(max_bytes + 1)
            final = response.geturl()
            charset = response.headers.get_content_charset() or ""
            language = response.headers.get("Content-Language", "")
    except InputError:
        raise
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:
            raise InputError(url, f"too many redirects (more than {MAX_REDIRECTS})") from exc
        raise InputError(url, f"the server answered {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise InputError(url, f"cannot fetch it ({exc.reason})") from exc
    except (OSError, ValueError) as exc:  # timeouts, resets, malformed URLs
        raise InputError(url, f"cannot fetch it ({exc})") from exc
    if len(data) > max_bytes:
        raise InputError(url, f"larger than {max_bytes // (1024 * 1024)} MB")
    if not data.strip():
        raise InputError(url, "the server sent an empty page")
    return Source(data, url, url=final, charset=charset, language=language.split(",")[0].strip())


# --- decoding --------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def _codec(label: str) -> str | None:
    label = label.strip().lower()
    label = SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode(data: bytes, http_charset: str = "") -> tuple[str, str]:
    """The page's text and the encoding used: BOM, then declarations, then detection."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace"), encoding
    declared = [c for c in (_codec(http_charset), *(_codec(m.decode("ascii", "ignore"))
                                                    for m in _META_CHARSET.findall(data[:8192]))) if c]
    # Valid UTF-8 with multi-byte sequences is UTF-8 whatever the page claims (a page declared
    # GB2312 whose bytes are UTF-8 exists): legacy text is almost never valid UTF-8 by chance.
    try:
        text = data.decode("utf-8")
        return text, "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in declared:
        if encoding in ("utf-8", "utf-16", "utf-16-le", "utf-16-be"):
            continue
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    detected = _detect(data)
    if detected:
        return data.decode(detected, "replace"), detected
    return data.decode("windows-1252", "replace"), "windows-1252"


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return _codec(best.encoding) if best is not None else None


def url_slug(url: str) -> str:
    """The last non-empty path segment of a URL, without its extension."""
    path = urllib.parse.urlparse(url).path
    segment = next((s for s in reversed(path.split("/")) if s), "")
    return segment.rsplit(".", 1)[0] if "." in segment else segment
