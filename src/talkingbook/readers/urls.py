"""The one rule for every URL talkingbook writes or fetches: a valid absolute http(s) URL, parsed.

Pages are hostile: a licence ``href`` may be ``javascript:alert(1)//creativecommons.org/…``, a
canonical URL may carry ``"><script>``, an option may hold a newline. Every URL taken from a page
or the command line goes through :func:`web_url` (or :func:`link_url` for links in the text,
which may also be ``mailto:``); whatever it rejects is never written and never fetched.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse

# Printable ASCII that RFC 3986 does not allow in a URL; browsers percent-encode it, and so do we.
_UNSAFE = re.compile(r'["<>\\^`{|}]')
# Any whitespace or control character left inside the URL (C0, DEL, C1, Unicode separators).
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\s]")
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_WHITESPACE = "\t\n\f\r "  # what HTML strips around an attribute's URL
# --private-network: may fetches reach loopback and private addresses (net.Reach applies it). Here, not in
# net.py, so that the command line's parser has its choices without loading http.client and ssl.
PRIVATE_MODES = ("auto", "allow", "deny")


def web_url(value, base: str = "") -> str | None:
    """``value`` (resolved against ``base``) as a valid absolute http(s) URL, or None."""
    url = _absolute(value, base)
    if url is None:
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not valid_host(parts.hostname or ""):
        return None
    if "@" in parts.netloc or not _authority_ok(parts.netloc):
        return None  # credentials have no place in a book, and 'good.org@evil.org' is a classic trick
    return _encode_unsafe(urllib.parse.urlunsplit(parts._replace(scheme=parts.scheme.lower())))


def link_url(value, base: str = "") -> str | None:
    """A link of the article's text: a valid http(s) URL or ``mailto:`` address, or None (unlinked)."""
    url = _absolute(value, base)
    if url is None:
        return None
    scheme, _, rest = url.partition(":")
    if scheme.lower() == "mailto":
        address = urllib.parse.unquote(rest.split("?", 1)[0])
        local, at, domain = address.rpartition("@")
        if not (at and local and valid_host(domain)):
            return None
        return "mailto:" + _encode_unsafe(rest)
    return web_url(url)


def host(url: str) -> str:
    """The lower-case host name of a URL that :func:`web_url` accepted ('' for any other)."""
    try:
        return (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def valid_host(name: str) -> bool:
    """True for an IP address or a syntactically valid (possibly internationalised) domain name."""
    if not name or _CONTROL.search(name):
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        pass
    try:
        ascii_name = ascii_host(name)
    except UnicodeError:
        return False
    labels = ascii_name.rstrip(".").split(".")
    return len(ascii_name) <= 253 and all(_LABEL.match(label) for label in labels)


def ascii_host(name: str) -> str:
    """The host as sent on the wire: IDNA (punycode) for an internationalised name, lower case."""
    return name.encode("idna").decode("ascii").lower() if not name.isascii() else name.lower()


def request_target(url: str) -> str:
    """The path and query of a valid URL as ASCII, as an HTTP request line needs it."""
    parts = urllib.parse.urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return urllib.parse.quote(target, safe="/?#[]@!$&'()*+,;=:%~-._")


def _absolute(value, base: str) -> str | None:
    """``value`` stripped as HTML strips attributes and joined to ``base``; None if it is not text."""
    if not isinstance(value, str):
        return None
    value = value.strip(_WHITESPACE)
    if not value or _CONTROL.search(value):
        return None
    if base and web_url(base) is not None:
        try:
            value = urllib.parse.urljoin(base, value)
        except ValueError:
            return None
    elif value.startswith("//"):
        value = "https:" + value  # a protocol-relative URL with nothing to inherit from
    return value


def _authority_ok(netloc: str) -> bool:
    """No character in the authority that a host, a port or the brackets of an IPv6 address cannot hold."""
    return not re.search(r"[\\%<>\"'`{}|^\s]", netloc)


def _encode_unsafe(url: str) -> str:
    return _UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", url)
