"""Where an article comes from: a local file, standard input, or an http(s) URL; and its text.

Fetching (:mod:`.net`) has a total deadline, a size cap, at most five redirects checked hop by
hop, an address policy and a content-type check. Decoding follows what browsers do: BOM, HTTP
header, the page's own declaration, then detection (charset_normalizer) when the declaration is
missing or wrong, so a page never comes out as mojibake.
"""

from __future__ import annotations

import codecs
import re
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, UsageError
from . import net
from .urls import web_url

MAX_BYTES = 20 * 1024 * 1024
DEADLINE = 20  # seconds for the whole page, redirects included
HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml", "text/plain")
# WHATWG encoding labels that browsers read as a superset (declared Latin-1 pages are cp1252).
SUPERSETS = {
    "iso-8859-1": "windows-1252",
    "latin-1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-9": "windows-1254",
    "tis-620": "windows-874",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
}
# Python text codecs that are no character set of a web page (browsers ignore them as declarations;
# UTF-7 would even let '+ADw-script+AD4-' become markup).
NOT_CHARSETS = {"utf-7", "idna", "punycode", "unicode-escape", "raw-unicode-escape", "undefined", "mbcs", "oem"}


@dataclass(frozen=True)
class Source:
    data: bytes
    name: str  # what the user gave: a path, a URL or 'stdin'
    url: str = ""  # the final URL after redirects, for URLs
    charset: str = ""  # from the HTTP Content-Type header
    language: str = ""  # from the HTTP Content-Language header
    folder: Path | None = None  # the only folder local images may come from; None: no local images
    reach: net.Reach = field(default_factory=net.Reach)  # the addresses its remote images may come from


def load(
    source: str,
    *,
    base_dir: str | Path | None = None,
    private_network: str = "auto",
    linked_from: net.Reach | None = None,
) -> Source:
    """Read a local file, '-' (standard input) or an http(s) URL.

    Local images come from ``base_dir`` when given, else from a file's own folder; standard input
    has none without ``base_dir`` (it would otherwise embed whatever the current folder holds).
    ``linked_from``: the reach of the feed that gave this URL (see :func:`feeds.read_feed`): the
    URL is then not one the user typed, and reaches a private address only as the feed allows."""
    folder = _base_folder(base_dir)
    reach = net.Reach(private_network)
    if "\0" in source:  # a line of a --from list: no file name or URL can hold one
        raise InputError(repr(source), "a NUL character in a file name or URL")
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        _check_size(source, data)
        return Source(data, "stdin", folder=folder, reach=reach)
    scheme = re.match(r"^([a-z][a-z0-9+.-]*):", source, re.IGNORECASE)
    if scheme and scheme.group(1).lower() in ("http", "https"):
        if linked_from is not None:  # a link a feed gave, not a URL the user typed: the feed's reach
            return fetch(source, reach=linked_from, typed=False)
        return fetch(source, reach=reach, typed=True)
    if scheme and source[scheme.end() :].startswith("//"):
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
    return Source(data, source, folder=folder or path.resolve().parent, reach=reach)


def _base_folder(base_dir: str | Path | None) -> Path | None:
    if base_dir is None:
        return None
    folder = Path(base_dir)
    if not folder.is_dir():
        raise UsageError(f"--base-dir {base_dir}", "not a folder")
    return folder.resolve()


def _check_size(name: str, data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise InputError(name, f"larger than {MAX_BYTES // (1024 * 1024)} MB; not an article page")
    if not data.strip():
        raise InputError(name, "the file is empty")


def fetch(
    url: str,
    *,
    reach: net.Reach | None = None,
    typed: bool = False,
    max_bytes: int | None = None,
    types: tuple[str, ...] = HTML_TYPES,
    seconds: float | None = None,
) -> Source:
    """GET ``url`` within a total deadline, a size cap, the address policy ``reach`` and a content-type check.

    ``typed``: the URL the user gave (it is fetched even from a private address unless link-local)."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    reach = reach or net.Reach()
    checked = web_url(url)
    if checked is None:
        raise InputError(url, "not a valid http(s) URL")
    response = net.get(
        checked,
        reach=reach,
        typed=typed,
        seconds=DEADLINE if seconds is None else seconds,
        max_bytes=max_bytes,
        name=url,
        types=types,
        accept="text/html,application/xhtml+xml;q=0.9,*/*;q=0.1" if types else "image/*,*/*;q=0.5",
    )
    if not response.data.strip():
        raise InputError(url, "the server sent an empty page")
    return Source(
        response.data, url, url=response.url, charset=response.charset, language=response.language, reach=response.reach
    )


# --- decoding --------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def _codec(label: str) -> str | None:
    """The Python codec of a declared charset; None for an unknown label or one that is no text
    encoding (``rot13``, ``base64``, ``hex``... are codecs too, but bytes-to-bytes or str-to-str)."""
    label = label.strip().lower()
    label = SUPERSETS.get(label, label)
    try:
        name = codecs.lookup(label).name
        "".encode(name)  # LookupError for a codec that is not a text encoding
    except (LookupError, UnicodeError):
        return None
    return None if name in NOT_CHARSETS else name


def decode(data: bytes, http_charset: str = "") -> tuple[str, str]:
    """The page's text and the encoding used: BOM, then declarations, then detection."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, "replace"), encoding
    declared = [
        c
        for c in (
            _codec(http_charset),
            *(_codec(m.decode("ascii", "ignore")) for m in _META_CHARSET.findall(data[:8192])),
        )
        if c
    ]
    # Valid UTF-8 with multi-byte sequences is UTF-8 whatever the page claims (a page declared
    # GB2312 whose bytes are UTF-8 exists): legacy text is almost never valid UTF-8 by chance.
    text = data.decode("utf-8", "replace")
    valid, invalid = _utf8_sequences(data, text)
    if not invalid:
        return text, "utf-8"
    # Almost all valid UTF-8 with a stray byte or two (a Windows-1252 'é' pasted into a UTF-8 page):
    # UTF-8 with replacement, as a browser does, not the whole page as a single-byte code page.
    declared_utf8 = bool(declared) and declared[0] in ("utf-8", "utf-8-sig")
    if valid >= 4 * invalid or (declared_utf8 and valid > invalid):
        return text, "utf-8"
    for encoding in declared:
        if encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"):
            continue
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    detected = _detect(data)
    if detected:
        return data.decode(detected, "replace"), detected
    return data.decode("windows-1252", "replace"), "windows-1252"


def _utf8_sequences(data: bytes, text: str) -> tuple[int, int]:
    """(valid multi-byte characters, invalid sequences) of ``data`` read as UTF-8 into ``text``."""
    non_ascii_bytes = len(data.translate(None, bytes(range(128))))
    replaced = text.count("\ufffd")
    invalid = replaced - data.count("\ufffd".encode())
    valid = len(text) - (len(data) - non_ascii_bytes) - replaced
    return valid, invalid


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return _codec(best.encoding) if best is not None else None


def url_slug(url: str) -> str:
    """The last non-empty path segment of a URL, without its extension."""
    path = urllib.parse.urlparse(url).path
    segment = next((s for s in reversed(path.split("/")) if s), "")
    return segment.rsplit(".", 1)[0] if "." in segment else segment
