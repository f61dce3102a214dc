"""Article metadata from a page: JSON-LD, OpenGraph, Dublin Core, <meta>, <time>, bylines.

Language comes from ``<html lang>`` or the HTTP ``Content-Language`` header and, when both
are missing or invalid, from the text itself (py3langid). The result is always a valid
BCP 47 tag.
"""

from __future__ import annotations

import collections
import html
import json
import re
import urllib.parse
import uuid
from datetime import date

from bs4 import BeautifulSoup, NavigableString, Tag

from .model import Metadata
from .urls import host, web_url

ARTICLE_TYPES = {"NewsArticle", "Article", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
                 "OpinionNewsArticle", "ScholarlyArticle", "TechArticle", "Report", "LiveBlogPosting",
                 "SocialMediaPosting", "HowTo", "Recipe"}
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " « ", " » ", "｜", "|")


def read_metadata(soup: BeautifulSoup, *, source_name: str, base_url: str = "",
                  http_language: str = "") -> Metadata:
    """Metadata of the page in ``soup`` (read before the page is cleaned)."""
    ld = _json_ld_article(soup)
    og = {m.get("property", "").lower(): m.get("content", "").strip()
          for m in soup.find_all("meta", attrs={"property": True, "content": True})}
    named = {m.get("name", "").lower(): m.get("content", "").strip()
             for m in soup.find_all("meta", attrs={"name": True, "content": True})}
    equiv = {m.get("http-equiv", "").lower(): m.get("content", "").strip()
             for m in soup.find_all("meta", attrs={"http-equiv": True, "content": True})}
    canonical = soup.find("link", rel="canonical", href=True)

    site = _first(og.get("og:site_name"), _ld_name(ld.get("publisher")), named.get("application-name"),
                  named.get("dc.publisher"))
    page_title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    author = _first(_ld_name(ld.get("author")), named.get("author"), named.get("dc.creator"),
                    named.get("article:author"), _non_url(og.get("article:author")), _byline(soup))
    time_tag = soup.find("time", attrs={"datetime": True})
    published = _first(ld.get("datePublished"), og.get("article:published_time"), named.get("dc.date"),
                       named.get("date"), named.get("pubdate"), named.get("publish-date"),
                       time_tag.get("datetime") if time_tag else "", ld.get("dateModified"))
    url = _first(*(web_url(candidate, base_url) for candidate in (
        canonical.get("href") if canonical else "", og.get("og:url"), ld.get("url"), base_url)))
    declared_title = _unescaped(_first(_clean(ld.get("headline")), og.get("og:title"), named.get("twitter:title"),
                                       named.get("dc.title")))
    site_host = urllib.parse.urlsplit(url or base_url).hostname or ""
    title = strip_site_name(declared_title or page_title, site, generic=not declared_title, host=site_host)
    declared = [title, page_title, strip_site_name(page_title, site, generic=True, host=site_host),
                _clean(ld.get("headline")), _clean(ld.get("name")), og.get("og:title"), named.get("twitter:title"),
                named.get("dc.title")]
    title = _headline(soup, [_unescaped(t) for t in declared if t], title) or title or _first_h1(soup)
    html_tag = soup.html
    declared = [html_tag.get("lang") if html_tag else "", html_tag.get("xml:lang") if html_tag else "",
                http_language, equiv.get("content-language"), named.get("language"), named.get("dc.language"),
                ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else "",
                (og.get("og:locale") or "")]
    language = next((n for n in (normalize_language(v or "") for v in declared) if n), "")
    description = _first(_clean(ld.get("description")), og.get("og:description"), named.get("description"))
    identity = url or source_name.rsplit("/", 1)[-1]
    license_name, license_url = read_license(soup, ld, named, base_url)
    return Metadata(
        title=_clean(title), language=language, author=_clean(author)[:200], publisher=_clean(site),
        date=normalize_date(published), description=_clean(description), source_url=url,
        identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identity)}", license=license_name,
        license_url=license_url,
        image=_first(og.get("og:image:secure_url"), og.get("og:image"), og.get("og:image:url"), named.get("og:image"),
                     named.get("twitter:image"), named.get("twitter:image:src"), _ld_image(ld.get("image"))))


_CC_PATH = re.compile(r"^/(?:licenses/([a-z-]+)/(\d\.\d)|publicdomain/(zero|mark)/(\d\.\d))(?:/|$)", re.I)
CC_HOSTS = ("creativecommons.org", "www.creativecommons.org")


def license_name(url: str) -> str:
    """'CC BY-SA 3.0' for a Creative Commons licence URL (host creativecommons.org); '' for any other."""
    url = web_url(url) or ""
    if host(url) not in CC_HOSTS:
        return ""
    match = _CC_PATH.match(urllib.parse.urlsplit(url).path)
    if not match:
        return ""
    if match.group(1):
        return f"CC {match.group(1).upper()} {match.group(2)}"
    return f"CC0 {match.group(4)}" if match.group(3).lower() == "zero" else f"Public Domain Mark {match.group(4)}"


def read_license(soup: BeautifulSoup, ld: dict, named: dict, base_url: str = "") -> tuple[str, str]:
    """The licence the page states, as (name, URL): rel=license links, JSON-LD 'license', a link to a
    Creative Commons licence, or dc.rights / copyright meta text. Every URL is checked by :func:`web_url`."""
    candidates = [tag.get("href") for tag in soup.find_all(["link", "a"], rel="license", href=True)]
    declared = ld.get("license")
    if isinstance(declared, dict):
        declared = declared.get("url") or declared.get("name")
    if isinstance(declared, str):
        candidates.append(declared)
    candidates += [a.get("href") for a in soup.find_all("a", href=lambda h: isinstance(h, str)
                                                        and "creativecommons.org" in h.lower()
                                                        and license_name(web_url(h, base_url) or ""))]
    urls = [web_url(href, base_url) for href in candidates]
    for url in urls:
        if url and license_name(url):
            return license_name(url), url
    for href, url in zip(candidates, urls):
        if url:
            return url, url
        if isinstance(href, str) and href.strip().upper().replace(" ", "_") == "ALL_RIGHTS_RESERVED":
            return "all rights reserved", ""
    text = named.get("dc.rights") or named.get("copyright") or ""
    return (_clean(text)[:200], "") if text else ("", "")


def _json_ld_article(soup: BeautifulSoup) -> dict:
    for script in soup.find_all("script", attrs={"type": re.compile(r"ld\+json", re.I)}):
        try:
            data = json.loads(script.string or "", strict=False)
        except (ValueError, TypeError, RecursionError):
            continue
        stack, seen = [data], 0
        while stack and seen < 500:
            item, seen = stack.pop(0), seen + 1
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                types = item.get("@type", [])
                types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
                if any(t in ARTICLE_TYPES for t in types if isinstance(t, str)) and item.get("headline"):
                    return item
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity", "mainEntityOfPage"))
    return {}


def _ld_name(value) -> str:
    if isinstance(value, str):
        return "" if value.startswith("http") else value
    if isinstance(value, dict):
        return value.get("name", "") if isinstance(value.get("name"), str) else ""
    if isinstance(value, list):  # of names or objects; lists nested in it mean nothing (and may be deep)
        return ", ".join(dict.fromkeys(n for n in (_ld_name(v) for v in value if not isinstance(v, list)) if n))
    return ""


def _ld_image(value) -> str:
    """The URL of a JSON-LD ``image``: a string, an ImageObject, or the first of a list of either."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or ""
    return value if isinstance(value, str) else ""


def _first(*values) -> str:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _clean(text) -> str:
    return " ".join(text.split()) if isinstance(text, str) else ""


def _unescaped(text: str) -> str:
    """Text escaped twice by the page ('&amp;#8216;' in og:title reaches us as '&#8216;') read once more."""
    return html.unescape(text) if re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+\d*);", text, re.I) else text


def _non_url(value: str | None) -> str:
    return "" if not value or value.startswith("http") else value


def _first_h1(soup: BeautifulSoup) -> str:
    h1s = [text for text in map(_heading_text, soup.find_all("h1")) if text]
    return h1s[0] if len(h1s) == 1 else ""


# Ruby annotations, code and hidden text are not part of a heading as it is seen.
_UNSEEN = ("rt", "rp", "script", "style", "template", "noscript")
_HIDDEN_STYLE = re.compile(r"(display\s*:\s*none|visibility\s*:\s*hidden)", re.I)
# Permalink marks that documentation generators put after headings ("Setup ¶").
_PERMALINK_MARKS = re.compile(r"[\s¶§#🔗]+$")


def _hidden(tag: Tag) -> bool:
    return tag.has_attr("hidden") or tag.get("aria-hidden") == "true" or bool(_HIDDEN_STYLE.search(str(tag.get("style", ""))))


def _heading_text(heading: Tag) -> str:
    """A heading's text as a reader sees it: no ruby annotations or hidden parts; inline markup does not split words."""
    if any(_hidden(t) for t in (heading, *heading.parents) if isinstance(t, Tag)):
        return ""
    parts, stack = [], list(reversed(heading.contents))
    while stack:  # a loop, not recursion: a hostile heading may nest thousands deep
        node = stack.pop()
        if isinstance(node, Tag):
            if node.name == "br":
                parts.append(" ")
            elif node.name not in _UNSEEN and not _hidden(node):
                stack.extend(reversed(node.contents))
        elif type(node) is NavigableString:
            parts.append(str(node))
    return _PERMALINK_MARKS.sub("", " ".join("".join(parts).split()))


def _words(text: str) -> collections.Counter:
    """Lower-cased words; Chinese, Japanese, Korean and Thai count a character as a word (they have no spaces)."""
    out: list[str] = []
    for word in re.findall(r"[^\W_]+", text.lower()):
        out.extend(list(word) if _UNSPACED.search(word) else [word])
    return collections.Counter(out)


_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _headline(soup: BeautifulSoup, declared: list[str], title: str) -> str:
    """The visible <h1> that the page's titles are versions of, when its words differ from ``title``.

    Titles written for search engines and sharing ("Topic: the headline", "The headline | Site",
    a shortened og:title) and the headline the reader sees share most of their words: an <h1>
    that holds at least half of a title's words, and whose words are at least half from it,
    is that headline. An <h1> naming the site or a section shares too few. Two different
    <h1>s that fit equally well leave the choice to the metadata.
    """
    best, best_texts = 0.0, set()
    for h1 in soup.find_all("h1"):
        text = _heading_text(h1)
        words = _words(text)
        if not words:
            continue
        fit = max((_shared_share(words, _words(t)) for t in declared), default=0.0)
        if fit >= 0.5 and fit > best:
            best, best_texts = fit, {text}
        elif fit >= 0.5 and fit == best:
            best_texts.add(text)
    if len({tuple(sorted(_words(t).elements())) for t in best_texts}) != 1:
        return ""
    headline = best_texts.pop()
    return "" if _words(headline) == _words(title) else headline


def _shared_share(a: collections.Counter, b: collections.Counter) -> float:
    """The smaller of the shares of ``a``'s and ``b``'s words that the two have in common."""
    if not a or not b:
        return 0.0
    shared = sum((a & b).values())
    return min(shared / sum(a.values()), shared / sum(b.values()))


def _byline(soup: BeautifulSoup) -> str:
    tag = soup.find(attrs={"rel": "author"}) or soup.find(attrs={"itemprop": "author"}) or \
        soup.find(class_=re.compile(r"\b(byline|author)\b", re.I))
    return clean_byline(tag.get_text(" ")) if tag else ""


def clean_byline(text: str) -> str:
    """An author name from a byline: 'By Jane Doe' -> 'Jane Doe'; '' when it is not a short name line."""
    text = " ".join(text.split())
    text = re.sub(r"^(by|par|von|por|di|door|av)\s+", "", text, flags=re.I)
    return text if 0 < len(text) <= 100 else ""


def strip_site_name(title: str, site: str, *, generic: bool = False, host: str = "") -> str:
    """The headline without the site name pages add ('Mozilla - Wikipedia' -> 'Mozilla').

    A part is dropped when it names the site (``og:site_name``, the publisher, a word of
    the URL's host name) or is a domain name; with ``generic`` (a bare ``<title>``), a short last part is dropped too.
    """
    title = _clean(title)
    for sep in TITLE_SEPARATORS:
        if sep not in title:
            continue
        parts = [p.strip() for p in title.split(sep)]
        kept = [p for p in parts if p and not _names_site(p, site, host)]
        if kept and len(kept) < len(parts):
            return strip_site_name(sep.join(kept), site, generic=generic, host=host)
        if generic and len(parts) == 2 and len(parts[1].split()) <= 3 and len(parts[0].split()) >= 2:
            return parts[0]
    return title


def _names_site(part: str, site: str, host: str = "") -> bool:
    def norm(text: str) -> str:
        return re.sub(r"\W+", "", text.lower())

    def mostly(name: str) -> bool:
        """``part`` is ``name`` and at most three more words ("BBC News", not a headline naming the site)."""
        part_words, name_words = _words(part), _words(name)
        return bool(name_words) and not name_words - part_words and sum((part_words - name_words).values()) <= 3

    if re.fullmatch(r"(www\.)?[\w-]+(\.[\w-]+)*\.[a-z]{2,}", part.strip().lower()):
        return True
    host_words = [w for w in re.split(r"[.-]", host.lower()) if len(w) >= 3 and w not in ("www", "com", "org", "net")]
    if norm(part) and any(norm(part) == w or (len(norm(part)) >= 4 and norm(part) in w) or (len(w) >= 4 and mostly(w))
                          for w in host_words):
        return True
    if not site or not norm(site):
        return False
    return norm(part) == norm(site) or mostly(site) or (norm(part) in norm(site) and len(norm(part)) >= 3)


def normalize_language(tag: str) -> str:
    """A BCP 47 tag ('en', 'pt-BR') from what pages write ('en_US', 'EN-us'), or ''."""
    tag = tag.strip().replace("_", "-")
    match = re.fullmatch(r"([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|\d{3}))?(?:-[A-Za-z0-9]{1,8})*", tag)
    if not match or match.group(1).lower() in ("c", "und", "xx", "zz"):
        return ""
    lang, script, region = match.groups()
    parts = [lang.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def normalize_date(value: str) -> str:
    """YYYY-MM-DD from an ISO 8601 date or date-time, or ''."""
    match = re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value or "")
    if not match:
        return ""
    try:
        return date(*map(int, match.groups())).isoformat()
    except ValueError:
        return ""


def detect_language(text: str) -> str:
    """The language of ``text`` as a BCP 47 primary tag, or '' when too little text."""
    text = " ".join(text.split())[:20000]
    if len(text) < 20:
        return ""
    try:
        import py3langid
    except ImportError:
        return ""
    lang, _ = py3langid.classify(text)
    return normalize_language(lang)
