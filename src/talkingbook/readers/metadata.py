"""Article metadata from a page: JSON-LD, OpenGraph, Dublin Core, <meta>, <time>, bylines.

This is the only module that reads a page's JSON-LD, ``<meta>`` and ``<title>``. It reads them
once, for the book's metadata, and hands the extractor (:mod:`.extract`, a port of Readability.js)
what Readability takes of them: the title and the author the metadata declares.

Language comes from ``<html lang>`` or the HTTP ``Content-Language`` header and, when both
are missing or invalid, from the text itself (py3langid). The result is always a valid
BCP 47 tag.
"""

from __future__ import annotations

import collections
import functools
import html
import itertools
import json
import re
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from bs4 import BeautifulSoup, NavigableString, Tag

from ..errors import UsageError
from ..model import Metadata, xml_text
from .dom import attr, is_probably_visible, words
from .urls import host, web_url

ARTICLE_TYPES = {
    "NewsArticle",
    "Article",
    "BlogPosting",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "ScholarlyArticle",
    "TechArticle",
    "Report",
    "LiveBlogPosting",
    "SocialMediaPosting",
    "HowTo",
    "Recipe",
}
TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " « ", " » ", "｜", "|")


@dataclass(frozen=True)
class ReadabilityMetadata:
    """What Readability's extraction takes of the metadata (Readability.js's ``_getArticleMetadata``).

    ``title``: a heading that repeats it is dropped from the article; it is the book's title.
    ``byline``: when the metadata names an author, the byline shown in the page stays in the
    article's text; it is the author as Readability finds it in JSON-LD and <meta>
    (:func:`_readability_byline`).
    """

    title: str = ""
    byline: str = ""


class PageMetadata(NamedTuple):
    """What the page says about itself: the book's metadata, and what the extractor takes of it."""

    book: Metadata
    readability: ReadabilityMetadata
    article_body: str = ""  # the article's text as the page declares it (JSON-LD articleBody, itemprop)


def _file_identity(source_name: str, title: str) -> str:
    """Which article a page without a URL is, as its book folder knows it (convert.article_of): its
    file, by absolute path (two pages saved as source.html in two folders are two articles, one
    article edited in place stays one), else, from standard input, its title."""
    if source_name == "stdin":
        return f"stdin:{title}"
    return f"file:{Path(source_name).resolve()}"


def read_metadata(
    soup: BeautifulSoup, *, source_name: str, base_url: str = "", http_language: str = ""
) -> PageMetadata:
    """What the page in ``soup`` says about itself (read before the page is cleaned): the book's metadata,
    and what the extractor takes of it."""
    documents = list(_json_ld_documents(soup))
    ld = _json_ld_article(documents)
    metas = soup.find_all("meta")
    og = {attr(m, "property").lower(): attr(m, "content").strip() for m in _with(metas, "property")}
    named = {attr(m, "name").lower(): attr(m, "content").strip() for m in _with(metas, "name")}
    equiv = {attr(m, "http-equiv").lower(): attr(m, "content").strip() for m in _with(metas, "http-equiv")}
    canonical = soup.find("link", rel="canonical", href=True)

    page_title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    time_tag = soup.find("time", attrs={"datetime": True})
    published = _first(
        ld.get("datePublished"),
        og.get("article:published_time"),
        named.get("dc.date"),
        named.get("date"),
        named.get("pubdate"),
        named.get("publish-date"),
        time_tag.get("datetime") if time_tag else "",
        ld.get("dateModified"),
    )
    url = _first(
        *(
            web_url(candidate, base_url)
            for candidate in (canonical.get("href") if canonical else "", og.get("og:url"), ld.get("url"), base_url)
        )
    )
    declared_title = _unescaped(
        _first(_clean(ld.get("headline")), og.get("og:title"), named.get("twitter:title"), named.get("dc.title"))
    )
    site_host = urllib.parse.urlsplit(url or base_url).hostname or ""
    sites = (
        og.get("og:site_name"),
        _ld_name(ld.get("publisher")),
        named.get("application-name"),
        named.get("dc.publisher"),
    )
    site = _first(*sites)  # as declared: what titles repeat
    publisher = _first(*(clean_publisher(name, site_host) for name in sites))
    title = strip_site_name(declared_title or page_title, site, generic=not declared_title, host=site_host)
    declared = [
        title,
        page_title,
        strip_site_name(page_title, site, generic=True, host=site_host),
        _clean(ld.get("headline")),
        _clean(ld.get("name")),
        og.get("og:title"),
        named.get("twitter:title"),
        named.get("dc.title"),
    ]
    title = _headline(soup, [_unescaped(t) for t in declared if t], title) or title or _first_h1(soup)
    html_tag = soup.html
    languages = [
        attr(html_tag, "lang") if html_tag else "",
        attr(html_tag, "xml:lang") if html_tag else "",
        http_language,
        equiv.get("content-language"),
        named.get("language"),
        named.get("dc.language"),
        ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else "",
        (og.get("og:locale") or ""),
    ]
    language = next((n for n in (normalize_language(v or "") for v in languages) if n), "")
    description = _first(_clean(ld.get("description")), og.get("og:description"), named.get("description"))
    identity = url or _file_identity(source_name, _clean(title))
    license_name, license_url = read_license(soup, ld, named, base_url)
    authors = _authors(soup, ld, _meta_by_key(metas), title, publisher, language)
    if len(authors) == 1 and same_name(authors[0], publisher):  # said once: "By BBC News", not "By BBC News.
        publisher = ""  # Published by BBC News"
    book = Metadata(
        title=_clean(title),
        language=language,
        authors=authors,
        publisher=publisher,
        date=normalize_date(published),
        description=_clean(description),
        source_url=url,
        identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identity)}",
        license=license_name,
        license_url=license_url,
        image=_first(
            og.get("og:image:secure_url"),
            og.get("og:image"),
            og.get("og:image:url"),
            named.get("og:image"),
            named.get("twitter:image"),
            named.get("twitter:image:src"),
            _ld_image(ld.get("image")),
        ),
    )
    readability = ReadabilityMetadata(title=book.title, byline=_readability_byline(documents, metas))
    return PageMetadata(book, readability, _article_body(soup, ld))


def _article_body(soup: BeautifulSoup, ld: dict) -> str:
    """The article's text as the page declares it: JSON-LD ``articleBody``, else the ``itemprop="articleBody"``
    element's text; '' when it declares none."""
    body = ld.get("articleBody")
    if isinstance(body, str) and body.strip():
        return html.unescape(body)
    holder = soup.find(itemprop="articleBody")
    return holder.get_text(" ") if isinstance(holder, Tag) else ""


def readability_metadata(soup: BeautifulSoup) -> ReadabilityMetadata:
    """What Readability's extraction takes of the metadata of the page in ``soup`` (read before it is cleaned)."""
    return read_metadata(soup, source_name="").readability


def _with(metas, name: str) -> list[Tag]:
    """The <meta> elements with a ``name`` attribute and a content attribute (either may be empty)."""
    return [m for m in metas if m.get(name) is not None and m.get("content") is not None]


_CC_PATH = re.compile(r"^/(?:licenses/([a-z-]+)/(\d\.\d)|publicdomain/(zero|mark)/(\d\.\d))(?:/|$)", re.IGNORECASE)
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
    candidates += [
        a.get("href")
        for a in soup.find_all(
            "a",
            href=lambda h: bool(
                isinstance(h, str) and "creativecommons.org" in h.lower() and license_name(web_url(h, base_url) or "")
            ),
        )
    ]
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


def _json_ld_documents(soup: BeautifulSoup):
    """Every JSON-LD document of the page that parses, in page order."""
    for script in soup.find_all("script", attrs={"type": re.compile(r"ld\+json", re.IGNORECASE)}):
        try:
            # Readability strips the CDATA markers that XHTML-minded pages wrap their JSON-LD in
            yield json.loads(re.sub(r"^\s*<!\[CDATA\[|\]\]>\s*$", "", script.string or ""), strict=False)
        except (ValueError, TypeError, RecursionError):  # RecursionError: nested deeper than the decoder goes
            continue


def _json_ld_article(documents) -> dict:
    """The first schema.org article with a headline, in the documents or the graphs and main entities inside."""
    for data in documents:
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
    return html.unescape(text) if re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+\d*);", text, re.IGNORECASE) else text


def _first_h1(soup: BeautifulSoup) -> str:
    h1s = [text for text in map(_heading_text, soup.find_all("h1")) if text]
    return h1s[0] if len(h1s) == 1 else ""


# Ruby annotations, code and hidden text are not part of a heading as it is seen.
_UNSEEN = ("rt", "rp", "script", "style", "template", "noscript")
# Permalink marks that documentation generators put after headings ("Setup ¶").
_PERMALINK_MARKS = re.compile(r"[\s¶§#🔗]+$")


def _heading_text(heading: Tag) -> str:
    """A heading's text as a reader sees it: no ruby annotations or hidden parts; inline markup does not split words."""
    if not all(is_probably_visible(t) for t in (heading, *heading.parents) if isinstance(t, Tag)):
        return ""
    parts, stack = [], list(reversed(heading.contents))
    while stack:  # a loop, not recursion: a hostile heading may nest thousands deep
        node = stack.pop()
        if isinstance(node, Tag):
            if node.name == "br":
                parts.append(" ")
            elif node.name not in _UNSEEN and is_probably_visible(node):
                stack.extend(reversed(node.contents))
        elif type(node) is NavigableString:
            parts.append(str(node))
    return _PERMALINK_MARKS.sub("", " ".join("".join(parts).split()))


def _words(text: str) -> collections.Counter:
    """The words of ``text`` (:func:`.dom.words`), counted."""
    return collections.Counter(words(text))


def _headline(soup: BeautifulSoup, declared: list[str], title: str) -> str:
    """The visible <h1> that the page's titles are versions of, when its words differ from ``title``.

    Titles written for search engines and sharing ("Topic: the headline", "The headline | Site",
    a shortened og:title) and the headline the reader sees share most of their words: an <h1>
    that holds at least half of a title's words, and whose words are at least half from it,
    is that headline. An <h1> naming the site or a section shares too few. Two different
    <h1>s that fit equally well leave the choice to the metadata.
    """
    best, best_texts = 0.0, set()
    shown = [(text, _words(text)) for text in map(_heading_text, soup.find_all("h1"))]
    # A title whose last part, after a colon, is word for word a visible <h1> begins with the site's or
    # the section's name ('Site: Section : Headline'), unless what comes before the colon is shown too.
    # So does one whose longest part ('Headline - Section - Site') is word for word a visible <h1>.
    headings = [said for _, said in shown]
    tails = [tail for t in declared for tail in _title_tail(t, headings)]
    tails += [part for t in declared if (part := _longest_part(t, headings))]
    for text, said in shown:
        if not said:
            continue
        fit = max((_shared_share(said, _words(t)) for t in declared), default=0.0)
        if fit < 1 and said in tails:
            fit = 1.0
        if fit >= 0.5 and fit > best:
            best, best_texts = fit, {text}
        elif fit >= 0.5 and fit == best:
            best_texts.add(text)
    if len({tuple(sorted(_words(t).elements())) for t in best_texts}) != 1:
        return ""
    headline = best_texts.pop()
    return "" if _words(headline) == _words(title) else headline


def _title_tail(title: str, shown: list[collections.Counter]) -> list[collections.Counter]:
    """The words after the last colon of ``title`` when they are two or more and the words before it are not
    among the ``shown`` headings."""
    head, sep, tail = title.rpartition(":")
    if not sep or len(_words(tail)) < 2 or not tail.startswith((" ", "\u00a0")):
        return []
    return [] if any(_words(part) in shown for part in head.split(":")) else [_words(tail)]


def _longest_part(title: str, shown: list[collections.Counter]) -> collections.Counter | None:
    """The words of the longest part of ``title`` cut at its separators, when it has several parts, that one
    is three words or more and no other is among the ``shown`` headings (a headline beside a site's and its
    sections' names, not a headline in two parts)."""
    parts = [_words(part) for part in re.split(r"\s+[-–—|:·]\s+|\s*[|｜]\s*|:\s+|\s+::\s+", title)]
    parts = [part for part in parts if part]
    if len(parts) < 2:
        return None
    longest = max(parts, key=lambda part: sum(part.values()))
    if sum(longest.values()) < 3 or any(part in shown for part in parts if part is not longest):
        return None
    return longest


def _shared_share(a: collections.Counter, b: collections.Counter) -> float:
    """The smaller of the shares of ``a``'s and ``b``'s words that the two have in common."""
    if not a or not b:
        return 0.0
    shared = sum((a & b).values())
    return min(shared / sum(a.values()), shared / sum(b.values()))


# --- author and publisher: a name a narrator can say, or nothing -----------------------------
# Pages put far more than a name where the author goes: "Joe Wee Monday, February 29, 2016 @ 11:10
# PM UTC", "Mark Di Stefano BuzzFeed News Reporter", "Alissa Wilkinson @alissamarie Updated Jul 24".
# The book reads the author aloud ("By …") and prints it, so only the name is taken, from the most
# structured source that gives one (as Readability's _getJSONLD and _getArticleMetadata): JSON-LD,
# then <meta>, then the byline the page shows, cut at what follows a name. These rules are written
# here because no library isolates a name in a byline as public API: nameparser and probablepeople
# parse a name that is already alone, and trafilatura's author cleanup is an internal helper of a
# whole second extractor (htmldate, courlan, jusText) that we would otherwise not need.

# Readability's order of <meta> keys for the author (its _getArticleMetadata), then others pages use.
AUTHOR_KEYS = (
    "dc:creator",
    "dcterm:creator",
    "dcterms:creator",
    "author",
    "parsely-author",
    "article:author",
    "og:article:author",
)
# Readability's byline pattern (REGEXPS.byline), matched against class and id.
# author(?!i[tz]): not "authority-control"
BYLINE_MARK = re.compile(r"byline|author(?!i[tz])|dateline|writtenby|p-author", re.IGNORECASE)
# Containers of other people's names: comments, related stories, "authors you follow", menus ("globalNav").
ELSEWHERE = re.compile(
    r"(?:^|[-_\s])(?:comments?|commentlist|disqus|replies|reply|sidebar|related|recommend\w*|"
    r"promo|newsletter|trending|popular|outbrain|taboola|follow\w*|[a-z]*nav(?:bar|igation)?|"
    r"[a-z]*menu)(?:[-_\s]|$)",
    re.IGNORECASE,
)
# Readability's okMaybeItsACandidate (less "and"): a layout box such as "content-sidebar-wrap" holds the article.
CONTAINER = re.compile(r"article|body|column|content|main|shadow", re.IGNORECASE)
# Within a byline, what holds the name alone: a class naming it ("author-name", "byline__author", "fn").
NAME_CLASS = re.compile(r"^(?:fn|.*(?:name|author).*)$", re.IGNORECASE)
NOT_NAME_CLASS = re.compile(
    r"title|bio|image|img|avatar|photo|thumb|follow|desc|role|position|job|info|date|time", re.IGNORECASE
)
AUTHOR_PATH = re.compile(
    r"/(?:authors?|writers?|people|person|staff|profiles?|contributors?|columnists?|"
    r"journalists?|reporters?|by|auteurs?|autor(?:es|en)?|autori?|redakteur\w*)/",
    re.IGNORECASE,
)
NAME_LINE = 100  # Readability's bound on a byline's length (_isValidByline)
MAX_BYLINES = 50  # marked elements weighed

# "By Jane Doe", "Written by", "BY:", "Author:", "Par", "Por"; "von" and "di" ("by" in German and
# Italian) also begin names ("Von Miller", "Di Stefano"): capitalised, they are the label only before two
# more words.
_BY = re.compile(
    r"^(?:(?:(?:written|posted|reported|words|story|text|published)\s+)?(?:by|par|por|door|av)\b"
    r"|(?:authors?|autor(?:es|in)?|auteurs?|autore|text|texte|texto|von)\s*:)\s*:?\s*",
    re.IGNORECASE,
)
_BY_PARTICLE = re.compile(r"^(?:von|di)\s+(?=\S)|^(?:Von|VON|Di|DI)\s+(?=\S+\s+\S)")
# What follows a name and never is part of one: a separator, a handle or address, a URL, a number
# (a date, a time, "8h", a comment count), a label.
_STOP = re.compile(
    r"\s[-–—]\s|[|｜•·;:/]|[–—]|\S*@\S*|\S*(?:https?://|www\.)\S*|\S*\d\S*|"
    r"\b(?:(?:last\s+)?(?:updated|modified|published|posted|edited|reviewed|translated|fact[- ]checked)"
    r"|photo(?:graph)?s?|illustrations?|feed|follow(?:ing)?|subscribe|e-?mail|twitter|facebook|"
    r"instagram|linkedin|contact|more\s+(?:by|from|stories|articles)|view\s+(?:my\s+)?"
    r"(?:complete\s+)?profile|see\s+all|read\s+more)\b",
    re.IGNORECASE,
)
# Job titles: a role word and the words that qualify it before ("Senior Staff Technologist", "Games Editor").
# After a name of one word, only a qualified title is cut: "Ada Writer" is a name.
_ROLES = (
    r"reporters?|correspondents?|editors?(?:-in-chief|-at-large)?|writers?|columnists?|contributors?|"
    r"producers?|journalists?|critics?|analysts?|technologists?|photographers?|directors?|managers?|"
    r"professors?|(?:co-?)?founders?|ceo|cto|cfo|president|fellow|intern|anchor|host|blogger|strategist|"
    r"economist|attorney|scientist|researcher|engineer|developer|designer|officer|chair(?:man|woman)?|"
    r"lecturer|student|consultant|specialist|coordinator|journaliste|rédact(?:eur|rice)|correspondant[e]?|"
    r"redakteur(?:in)?|korrespondent(?:in)?|periodista|redactor[a]?|corresponsal|giornalista|jornalista|"
    r"repórter|redator[a]?|colunista"
)
_QUALIFIERS = (
    r"senior|staff|chief|deputy|associate|assistant|managing|executive|contributing|special|lead|head|"
    r"principal|junior|freelance|news|general|political|politics|foreign|national|international|"
    r"science|technology|tech|health|business|sports?|games?|culture|arts?|features?|opinion|digital|"
    r"social|media|investigative|visiting|research|guest|regular|local|world|economics|finance"
)
_ROLE = re.compile(rf"\b(?P<qualified>(?:(?:{_QUALIFIERS})\s+)+)?(?:{_ROLES})\b", re.IGNORECASE)
# Lower-case words that belong in names ("Ludwig van Beethoven") or join them ("Kim and Jett").
_CONNECTORS = {"and", "und", "et", "og", "och", "en", "és", "with", "avec", "mit", "con", "com", "met", "&"}
_PARTICLES = {
    "de",
    "da",
    "das",
    "do",
    "dos",
    "del",
    "della",
    "delle",
    "di",
    "du",
    "des",
    "la",
    "le",
    "van",
    "von",
    "der",
    "den",
    "ter",
    "ten",
    "zu",
    "zum",
    "bin",
    "binti",
    "ibn",
    "al",
    "el",
    "af",
    "av",
    "y",
    "e",
    "i",
} | _CONNECTORS
# Lower-case words inside the names of organisations, before a capital ("Organization for Transformative Works").
_JOINING = {"of", "for", "to", "the", "on", "in", "at", "du", "des", "für", "der", "fur", "per", "para"}
_ARTICLES = {
    "the",
    "a",
    "an",
    "le",
    "la",
    "les",
    "l",
    "el",
    "los",
    "las",
    "der",
    "die",
    "das",
    "il",
    "lo",
    "de",
    "het",
    "o",
    "os",
    "as",
}
_MONTHS = (
    "january february march april june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)  # not "may": a name too (Theresa May)
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun"
_DATE_WORDS = set(_MONTHS.split()) | set(_WEEKDAYS.split()) | {"on", "at", "le", "am", "el", "il", "den", "the"}
# After a comma, what may follow a name: a degree or suffix ("Brenda Goodman, MA", "Jr.").
_SUFFIX = re.compile(r"^(?:[A-Z]{1,4}|(?:[A-Z][a-z]?\.){1,3}|Jr\.?|Sr\.?|Esq\.?|Ph\.?D\.?|I{1,3}|IV)$")


def clean_byline(text: str, publisher: str = "") -> str:
    """A name from a byline: 'By Jane Doe, Staff Writer | May 3' -> 'Jane Doe'; '' when there is none.

    Cut at what follows a name (a date or time, a job title, a separator, a handle, a URL, a label
    such as "Updated"), at lower-case words when the line has capitals (a sentence), and at the
    publisher's name ("Mark Di Stefano BuzzFeed News Reporter"). Longer than a name line: ''.
    """
    text = " ".join((text or "")[: 4 * NAME_LINE].split()).replace(" ,", ",")  # bounded: the patterns backtrack
    text = _BY_PARTICLE.sub("", _BY.sub("", text, count=1), count=1)
    stop = _STOP.search(text)
    dated = bool(stop and re.match(r"\S*\d", stop.group()))
    text = text[: stop.start()] if stop else text
    role = _ROLE.search(text)
    named = len(text[: role.start()].split()) if role else 0
    if role and (named != 1 or role.group("qualified")):  # not "Ada Writer": a name, not a title
        text = text[: role.start()]
    text = _name_parts(_before_publisher(_before_sentence(text), publisher), dated)
    return text if 0 < len(text) <= NAME_LINE and re.search(r"\w", text) and not _is_url(text) else ""


def _before_sentence(text: str) -> str:
    """``text`` up to its first lower-case word other than a particle, outside parentheses, when it has capitals."""
    words = text.split(" ")
    if not any(w[:1].isupper() for w in words):
        return text  # all lower case: a user name ("mcupdate") or a name written so ("bell hooks")
    depth = 0
    for i, word in enumerate(words):
        joins = word in _JOINING and words[i + 1 : i + 2] and words[i + 1][:1].isupper()  # "Bank of England"
        if depth == 0 and word[:1].islower() and word.lower().strip(",.") not in _PARTICLES and not joins:
            return " ".join(words[:i])
        depth = max(0, depth + word.count("(") - word.count(")"))
    return text


def _before_publisher(text: str, publisher: str) -> str:
    """``text`` before the publisher's name when a name of two words or more comes first."""
    name = [w for w in _words(publisher).elements() if w not in _ARTICLES][:1]
    if not name:
        return text
    words = text.split(" ")
    for i in range(2, len(words)):
        if _words(words[i]).keys() == {name[0]}:
            return " ".join(words[:i])
    return text


def _name_parts(text: str, dated: bool = False) -> str:
    """The name parts of ``text``: the first, then what looks like more names or a degree after commas."""
    text = _trimmed(text, dated)
    parts = [p.strip() for p in text.split(",")]
    kept = parts[:1]
    for part in parts[1:]:
        words = part.split()
        if not words or not (
            _SUFFIX.match(part)
            or (
                _names_of_four_words(words)
                and all(w[:1].isupper() or not w[:1].isalpha() or w.lower() in _PARTICLES for w in words)
            )
        ):
            break
        kept.append(part)
    return _trimmed(", ".join(kept), dated)


def _names_of_four_words(words: list[str]) -> bool:
    """No name of more than four words among ``words``, names being joined by connectors ("Bob Stone and Cid Vey")."""
    count = 0
    for word in words:
        count = 0 if word.lower() in _CONNECTORS else count + 1
        if count > 4:
            return False
    return True


def _trimmed(text: str, dated: bool) -> str:
    """``text`` without what a cut leaves at its end: punctuation, an open parenthesis, 'and', and when it was
    cut at a number, the words of a date before it ("Joe Wee Monday, February [29, 2016]")."""
    while True:
        words = text.rstrip(" ,-–—(@#*").split()
        if text.count("(") > text.count(")") and "(" in text:
            words = text[: text.rfind("(")].split()
        if words and (words[-1].lower() in _CONNECTORS or (dated and words[-1].lower().strip(",.") in _DATE_WORDS)):
            words = words[:-1]
        trimmed = " ".join(words)
        if trimmed == text:
            return text
        text = trimmed


def _is_url(text: str) -> bool:
    return bool(re.match(r"(?:[a-z][a-z0-9+.-]*://|www\.)", text.strip(), re.IGNORECASE))


def _meta_by_key(metas) -> dict[str, str]:
    """<meta> values by lower-case key, 'DC.creator' as 'dc:creator'; each key of a space-separated property
    counts, and a property comes before a name (RDFa is the page's most explicit statement)."""
    values: dict[str, str] = {}
    metas = [m for m in metas if m.get("content") is not None]
    for keyed_by in ("property", "name"):
        for meta in metas:
            content = " ".join(str(meta.get("content", "")).split())
            for key in str(meta.get(keyed_by) or "").lower().split():
                if content:
                    values.setdefault(key.replace(".", ":"), content)
    return values


def _authors(
    soup: BeautifulSoup, ld: dict, declared: dict, title: str, publisher: str, language: str
) -> tuple[str, ...]:
    """The article's authors: JSON-LD (a list of authors is taken as the list it is), then <meta>, then
    the byline the page shows, its names split apart (:func:`split_authors`)."""
    listed = ld.get("author")
    if isinstance(listed, list):
        names = (clean_byline(_ld_name(v), publisher) for v in listed if not isinstance(v, list))
        found = tuple(dict.fromkeys(a for name in names if name for a in split_authors(name, language)))
        if found:
            return found
    candidates = itertools.chain(
        (_ld_name(listed),), (declared.get(k, "") for k in AUTHOR_KEYS), _shown_bylines(soup, title)
    )
    return split_authors(
        next((name for name in (clean_byline(c, publisher) for c in candidates) if name), ""), language
    )


# --- several authors in one byline -----------------------------------------------------------------
# "A, B and C", "A (avec B et C)", "A & B": the names are split at commas, semicolons, parentheses, '&'
# and the words that join names in the page's language (in every language below when it is unknown),
# written in lower case (a capital "E" or "Y" is an initial) or in a byline all in capitals. A byline
# is split only when every part it gives is a name of two words or more, beginning with a capital,
# with no word that joins the words of an organisation's name ("of", "for"...): one-word parts mean one
# name was cut ("Procter & Gamble", "Ortega y Gasset", "Jong, Michiel de", "Richard (R.J.) Eskow"), and
# "Department of Health and Human Services" is one organisation. Two people named by one word each
# ("Kim and Jett") stay one credit: a name is never cut in two. A degree or suffix after a comma
# ("Brenda Goodman, MA") stays with its name. By hand, as the byline's cleaning above: nameparser and
# probablepeople parse one name, not a list of them.
AUTHOR_CONJUNCTIONS = {
    "en": ("and", "with"),
    "fr": ("et", "avec"),
    "de": ("und", "mit"),
    "es": ("y", "e", "con"),
    "it": ("e", "con"),
    "pt": ("e", "com"),
    "nl": ("en", "met"),
}
_ORGANISATION_WORDS = {"of", "for", "to", "the", "on", "at", "in", "für", "fur", "pour", "per", "para"}


def split_authors(byline: str, language: str = "") -> tuple[str, ...]:
    """The authors a byline names (a name from :func:`clean_byline`): several when it joins whole names
    with commas or the language's conjunctions, else the byline as one name; () for ''."""
    byline = " ".join(byline.split())
    if not byline:
        return ()
    words = AUTHOR_CONJUNCTIONS.get(language.split("-")[0].lower()) or tuple(
        dict.fromkeys(w for ws in AUTHOR_CONJUNCTIONS.values() for w in ws)
    )
    joins = "|".join(map(re.escape, words))
    shouted = re.IGNORECASE if byline.isupper() else 0  # "ANN LEE AND BOB STONE"
    pieces = re.split(rf"(\s*[,;()&]\s*|(?<![^\s(])(?:{joins})(?=\s))", byline, flags=shouted)
    names: list[str] = []
    for k in range(0, len(pieces), 2):
        part = pieces[k].strip()
        if not part:
            continue
        if names and pieces[k - 1].strip() == "," and _SUFFIX.match(part):
            names[-1] = f"{names[-1]}, {part}"  # "Brenda Goodman, MA"
        else:
            names.append(part)
    if len(names) < 2 or not all(_whole_name(n) for n in names):
        return (byline,)
    return tuple(dict.fromkeys(names))


def _whole_name(text: str) -> bool:
    words = text.split(",")[0].split()
    return len(words) >= 2 and words[0][:1].isupper() and not any(w in _ORGANISATION_WORDS for w in words)


def same_name(a: str, b: str) -> bool:
    """'The Telegraph' and 'Telegraph', 'BBC News' and 'BBC NEWS (bbcnews)' name the same."""

    def words(text: str) -> list[str]:
        found = re.findall(r"[^\W_]+", re.sub(r"\([^()]*\)", " ", text).lower())
        return found[1:] if found[:1] == ["the"] else found

    return bool(words(a)) and words(a) == words(b)


def _shown_bylines(soup: BeautifulSoup, title: str):
    """Bylines the page shows, as text: the ones after the headline first, then the nearest ones before it."""
    order = {id(tag): i for i, tag in enumerate(soup.find_all(True))}
    marked: list[Tag] = list(soup.find_all(marks_byline))
    headline = next(
        (h for h in soup.find_all("h1") if _shared_share(_words(_heading_text(h)), _words(title)) >= 0.5), None
    )
    if headline is not None:
        at = order[id(headline)]
        marked = [t for t in marked if order[id(t)] > at] + [t for t in reversed(marked) if order[id(t)] < at]
    # A page's own byline is among its first few; a hostile page may mark thousands of elements.
    for tag in [t for t in marked[:MAX_BYLINES] if not _elsewhere(t)]:
        yield _shown_name(tag)


def marks_byline(tag: Tag) -> bool:
    """Marked as a byline: rel=author, itemprop=author, or a byline class or id (Readability's _isValidByline marks).

    Shared with the extractor, which takes the first such element out of the text. Not in Readability:
    rel is a list of tokens, "authority" and "authorize" are not "author", and neither a whole <article>
    or <main> nor the page is a byline.
    """
    if tag.name in ("script", "style", "template", "link", "html", "body", "article", "main"):
        return False
    rel = tag.get("rel")
    rel = " ".join(rel) if isinstance(rel, list) else str(rel or "")
    return (
        "author" in rel.lower().split()
        or "author" in str(tag.get("itemprop") or "")
        or bool(BYLINE_MARK.search(_class_and_id(tag)))
    )


def _class_and_id(tag: Tag) -> str:
    cls = tag.get("class")
    return " ".join(cls if isinstance(cls, list) else [str(cls or "")]) + " " + str(tag.get("id") or "")


def _elsewhere(tag: Tag) -> bool:
    """In comments, related stories, a sidebar, navigation: names of other people than the author.

    Not a <form>: ASP.NET pages are one form."""
    for node in (tag, *tag.parents):
        if not isinstance(node, Tag) or node.name in ("html", "body", "[document]"):
            return False
        if node.name == "nav" or not is_probably_visible(node):
            return True
        if node.name == "aside" and node.find_parent("article") is None:
            return True  # a page's sidebar; an <aside> within the article is about it (its byline, its date)
        # An <article>'s classes are often its categories ("category-no-newsletter"), not its role.
        marks = _class_and_id(node)
        if node.name != "article" and ELSEWHERE.search(marks) and not CONTAINER.search(marks):
            return True
    return False


def _shown_name(tag: Tag) -> str:
    """The name in a byline element: its itemprop=name (Readability), a part marked as the name or an author
    link, else its whole text when that is a name line."""
    if tag.name == "meta":
        return str(tag.get("content") or "")
    text = tag.get_text(" ")
    if len(text.strip()) > 3 * NAME_LINE:
        return ""  # a whole article or a bio: the names inside may be anyone's
    holders = (
        tag.find_all(itemprop=re.compile(r"\bname\b")),
        [t for t in tag.find_all(True) if _names_author(t)],
        [a for a in tag.find_all("a", href=True) if AUTHOR_PATH.search(str(a.get("href")))],
    )
    for group in holders:
        names = [(t.name, t.get("class"), clean_byline(_holder_text(t))) for t in group]
        names = [n for n in names if n[2]]
        if names:  # the first and those like it ("<a class=author>Kim</a> and <a class=author>Jett</a>")
            return ", ".join(dict.fromkeys(n[2] for n in names if n[:2] == names[0][:2]))
    return text if len(text.strip()) < NAME_LINE else ""


def _names_author(tag: Tag) -> bool:
    """A part of a byline marked as the name: rel=author, or a class like 'author-name', not 'author-title'."""
    rel = tag.get("rel")
    if "author" in (rel if isinstance(rel, list) else str(rel or "").split()):
        return True
    value = tag.get("class")
    classes = value if isinstance(value, list) else []
    return any(NAME_CLASS.match(c) and not NOT_NAME_CLASS.search(c) for c in classes)


def _holder_text(tag: Tag) -> str:
    return str(tag.get("content") or "") if tag.name == "meta" else tag.get_text(" ")


def clean_publisher(text: str | None, host: str = "") -> str:
    """The publisher's name from what pages declare: 'SIMPLYFOUND.COM | BY: JOE WEE' -> 'SIMPLYFOUND.COM',
    'Yahoo News - Latest News & Headlines' -> 'Yahoo News'; '' for a URL or a line longer than a name."""
    text = " ".join((text or "")[: 4 * NAME_LINE].split())
    parts = [p.strip() for p in re.split(r"\s[-–—·•]\s|\s*[|｜]\s*|\s::\s", text)]
    parts = [
        p for p in parts if p and not _is_url(p) and not re.match(r"by\b", p, re.IGNORECASE) and len(p) <= NAME_LINE
    ]
    if not parts:
        return ""
    return next((p for p in parts if _names_site(p, "", host)), parts[0])


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
    if norm(part) and any(
        norm(part) == w or (len(norm(part)) >= 4 and norm(part) in w) or (len(w) >= 4 and mostly(w)) for w in host_words
    ):
        return True
    if not site or not norm(site):
        return False
    return norm(part) == norm(site) or mostly(site) or (norm(part) in norm(site) and len(norm(part)) >= 3)


# Two-letter codes ISO 639 withdrew that pages still write, and the codes that replaced them.
WITHDRAWN_LANGUAGES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
# A BCP 47 tag as pages write it: language, script and region are kept; what follows (variants,
# extensions, private use: subtags of 1 to 8 letters or digits) is well-formed but dropped, since no
# output or voice uses it and an unregistered variant would make the tag invalid.
LANGUAGE_TAG = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|\d{3}))?(?:-[A-Za-z0-9]{1,8})*")


def normalize_language(tag: str) -> str:
    """A BCP 47 tag ('en', 'pt-BR') from what pages write ('en_US', 'EN-us'), or '' for what is not a language.

    The primary subtag must be an ISO 639 language: pages put other things where the language goes
    (``<meta http-equiv="Content-Language" content="utf-8">``), and a book read in a voice for a language
    'utf' is read by none.
    """
    match = LANGUAGE_TAG.fullmatch(tag.strip().replace("_", "-"))
    if not match:
        return ""
    lang, script, region = match.groups()
    lang = WITHDRAWN_LANGUAGES.get(lang.lower(), lang.lower())
    if not is_language_code(lang):
        return ""
    parts = [lang]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


# ISO 639-1: the two-letter codes, which most pages write. A code found here is known without loading
# pycountry's table of 7,900 languages (0.04 s, a tenth of a small page's conversion); pycountry has
# each of them (tests/test_html_reader.py), and it answers for any code not here.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv
    dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie
    ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv
    mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm
    rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr
    ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()  # noqa: SIM905 - 184 codes, read as one paragraph
)


@functools.cache
def is_language_code(code: str) -> bool:
    """Whether ``code`` (lower case) is an ISO 639-1 or 639-3 language, not 'und', 'mul' or 'zxx'."""
    if code in ISO_639_1:
        return True
    if code in ("und", "mul", "zxx", "mis"):
        return False
    import pycountry  # its tables load on first use: only a page that declares a rarer language pays for them

    field = "alpha_2" if len(code) == 2 else "alpha_3"
    return pycountry.languages.get(**{field: code}) is not None


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


def with_overrides(meta: Metadata, overrides: Mapping[str, str | None]) -> Metadata:
    """``meta`` with the fields the user gave (--title, --author...) instead of the page's, cleaned as
    the page's are: no control characters, whitespace collapsed, tags and dates normalised."""
    given: dict[str, Any] = {k: " ".join(xml_text(v).split()) for k, v in overrides.items() if v is not None}
    if "title" in given and not given["title"]:
        raise UsageError("--title", "is empty; give the title, or leave the option out to use the page's")
    if "language" in given:
        given["language"] = normalize_language(given["language"])
    if "date" in given:
        given["date"] = normalize_date(given["date"])
    if "author" in given:  # several names are split as a page's byline is
        given["authors"] = split_authors(given.pop("author"), given.get("language", meta.language))
    return replace(meta, **given)


# --- the byline as Readability.js reads it (its _getJSONLD and _getArticleMetadata) ---------------
# The extraction takes the byline the page shows out of the text unless the metadata names the author.
# Which metadata counts is Readability's choice, kept so that the same bylines go as in Readability:
# the first JSON-LD document (or item of a list or @graph) of an article type, not one inside
# mainEntity, and fewer <meta> keys than the book's author is read from.

READABILITY_ARTICLE_TYPES = re.compile(
    r"^Article|AdvertiserContentArticle|NewsArticle|AnalysisNewsArticle|AskPublicNewsArticle"
    r"|BackgroundNewsArticle|OpinionNewsArticle|ReportageNewsArticle|ReviewNewsArticle|Report"
    r"|SatiricalArticle|ScholarlyArticle|MedicalScholarlyArticle|SocialMediaPosting|BlogPosting"
    r"|LiveBlogPosting|DiscussionForumPosting|TechArticle|APIReference$"
)
READABILITY_META_PROPERTY = re.compile(
    r"\s*(article|dc|dcterm|og|twitter)\s*:\s*(author|creator|description|published_time|title"
    r"|site_name)\s*",
    re.IGNORECASE,
)
READABILITY_META_NAME = re.compile(
    r"^\s*(?:(dc|dcterm|og|twitter|parsely|weibo:(article|webpage))\s*[-.:]\s*)?(author|creator"
    r"|pub-date|description|title|site_name)\s*$",
    re.IGNORECASE,
)
READABILITY_BYLINE_KEYS = ("dc:creator", "dcterm:creator", "author", "parsely-author")


def _readability_byline(documents: list, metas: list[Tag]) -> str:
    """The author's name from JSON-LD, else from <meta>, as Readability reads them; '' when neither names one."""
    values = _readability_meta_values(metas)
    return _readability_json_ld_byline(documents) or next(
        (values[k] for k in READABILITY_BYLINE_KEYS if values.get(k)), ""
    )


def _readability_json_ld_byline(documents: list) -> str:
    """The authors' names in the first schema.org article of the JSON-LD (_getJSONLD)."""
    for parsed in documents:
        if isinstance(parsed, dict) and not parsed.get("@type") and isinstance(parsed.get("@graph"), list):
            parsed = parsed["@graph"]
        if isinstance(parsed, list):
            parsed = next(
                (
                    it
                    for it in parsed
                    if isinstance(it, dict) and READABILITY_ARTICLE_TYPES.search(str(it.get("@type", "")))
                ),
                None,
            )
        if not isinstance(parsed, dict) or not READABILITY_ARTICLE_TYPES.search(str(parsed.get("@type", ""))):
            continue
        author = parsed.get("author")
        authors = author if isinstance(author, list) else [author]
        return ", ".join(a["name"].strip() for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str))
    return ""


def _readability_meta_values(metas: list[Tag]) -> dict[str, str]:
    """<meta> values by Readability's keys ('dc:creator', 'author'...), the last of a key winning."""
    values: dict[str, str] = {}
    for meta in metas:
        content = attr(meta, "content").strip()
        if not content:
            continue
        match = READABILITY_META_PROPERTY.search(attr(meta, "property"))
        if match:
            values[re.sub(r"\s", "", match.group(0).lower())] = content
        elif READABILITY_META_NAME.search(attr(meta, "name")):
            values[re.sub(r"\s", "", attr(meta, "name").lower()).replace(".", ":")] = content
    return values
