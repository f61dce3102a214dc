"""Article metadata from a page: JSON-LD, OpenGraph, Dublin Core, <meta>, <time>, bylines.

Language comes from ``<html lang>`` or the HTTP ``Content-Language`` header and, when both
are missing or invalid, from the text itself (py3langid). The result is always a valid
BCP 47 tag.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from datetime import date

from bs4 import BeautifulSoup

from .model import Metadata

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
    url = _first(canonical.get("href") if canonical else "", og.get("og:url"),
                 ld.get("url") if isinstance(ld.get("url"), str) else "", base_url)
    if not re.match(r"^https?://", url or ""):
        url = ""
    declared_title = _first(_clean(ld.get("headline")), og.get("og:title"), named.get("twitter:title"),
                            named.get("dc.title"))
    title = strip_site_name(declared_title or page_title, site, generic=not declared_title,
                            host=urllib.parse.urlsplit(url or base_url).hostname or "") or _first_h1(soup)
    html_tag = soup.html
    declared = [html_tag.get("lang") if html_tag else "", html_tag.get("xml:lang") if html_tag else "",
                http_language, equiv.get("content-language"), named.get("language"), named.get("dc.language"),
                ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else "",
                (og.get("og:locale") or "")]
    language = next((n for n in (normalize_language(v or "") for v in declared) if n), "")
    description = _first(_clean(ld.get("description")), og.get("og:description"), named.get("description"))
    identity = url or source_name.rsplit("/", 1)[-1]
    license_name, license_url = read_license(soup, ld, named)
    return Metadata(
        title=_clean(title), language=language, author=_clean(author)[:200], publisher=_clean(site),
        date=normalize_date(published), description=_clean(description), source_url=url,
        identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identity)}", license=license_name,
        license_url=license_url,
        image=_first(og.get("og:image:secure_url"), og.get("og:image"), og.get("og:image:url"), named.get("og:image"),
                     named.get("twitter:image"), named.get("twitter:image:src"), _ld_image(ld.get("image"))))


_CC = re.compile(r"creativecommons\.org/(?:licenses/([a-z-]+)/(\d\.\d)|publicdomain/(zero|mark)/(\d\.\d))", re.I)


def license_name(url: str) -> str:
    """'CC BY-SA 3.0' for a Creative Commons licence URL; '' for any other."""
    match = _CC.search(url)
    if not match:
        return ""
    if match.group(1):
        return f"CC {match.group(1).upper()} {match.group(2)}"
    return f"CC0 {match.group(4)}" if match.group(3).lower() == "zero" else f"Public Domain Mark {match.group(4)}"


def read_license(soup: BeautifulSoup, ld: dict, named: dict) -> tuple[str, str]:
    """The licence the page states, as (name, URL): rel=license links, JSON-LD 'license', a link to a
    Creative Commons licence, or dc.rights / copyright meta text."""
    candidates = [tag.get("href") for tag in soup.find_all(["link", "a"], rel="license", href=True)]
    declared = ld.get("license")
    if isinstance(declared, dict):
        declared = declared.get("url") or declared.get("name")
    if isinstance(declared, str):
        candidates.append(declared)
    candidates += [a.get("href") for a in soup.find_all("a", href=_CC)]
    for href in candidates:
        href = (href or "").strip()
        url = "https:" + href if href.startswith("//") else href
        if license_name(url):
            return license_name(url), url
    for href in candidates:
        if href and re.match(r"^(https?:)?//", href.strip()):
            url = "https:" + href.strip() if href.strip().startswith("//") else href.strip()
            return url, url
        if href and href.strip().upper().replace(" ", "_") == "ALL_RIGHTS_RESERVED":
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


def _non_url(value: str | None) -> str:
    return "" if not value or value.startswith("http") else value


def _first_h1(soup: BeautifulSoup) -> str:
    h1s = [h for h in soup.find_all("h1") if h.get_text(strip=True)]
    if len(h1s) != 1:
        return ""
    h1 = h1s[0]
    for rt in h1.find_all(["rt", "rp"]):
        rt.extract()
    return " ".join(h1.get_text(" ").split())


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

    if re.fullmatch(r"(www\.)?[\w-]+(\.[\w-]+)*\.[a-z]{2,}", part.strip().lower()):
        return True
    host_words = [w for w in re.split(r"[.-]", host.lower()) if len(w) >= 3 and w not in ("www", "com", "org", "net")]
    if norm(part) and any(norm(part) == w or (len(norm(part)) >= 4 and norm(part) in w) for w in host_words):
        return True
    if not site or not norm(site):
        return False
    return norm(part) == norm(site) or (norm(site) in norm(part) and len(part.split()) <= 4) or \
        (norm(part) in norm(site) and len(norm(part)) >= 3)


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
