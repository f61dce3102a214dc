"""Read an article page (HTML) into a :class:`~talkingbook.model.Book`.

beautifulsoup4 with the lxml parser does the parsing; this module finds the
article inside the page, its metadata and its blocks, and splits it into sections.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import replace
from datetime import date

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from .errors import InputError
from .extract import find_article
from .model import (
    Block,
    Book,
    Heading,
    Image,
    ListBlock,
    Metadata,
    Paragraph,
    Quote,
    Section,
    Span,
)
from .toc import slugify, unique

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
INLINE_KINDS = {"em": "em", "i": "em", "cite": "em", "strong": "strong", "b": "strong", "code": "code",
                "kbd": "code", "samp": "code", "a": "link"}
INLINE = set(INLINE_KINDS) | {"span", "abbr", "small", "sub", "sup", "mark", "time", "q", "u", "s",
                              "del", "ins", "var", "dfn", "bdi", "bdo", "data", "font", "wbr", "br",
                              "label", "ruby", "rt", "rp"}
ARTICLE_TYPES = {"NewsArticle", "Article", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
                 "OpinionNewsArticle", "ScholarlyArticle", "TechArticle", "WebPage"}


def read_html(data: bytes | str, *, source_name: str, overrides: dict | None = None,
              split_level: int | None = None) -> Book:
    """Parse an article page into a Book; ``overrides`` replace metadata fields."""
    if isinstance(data, bytes):
        if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError(source_name, "not an HTML page (binary data)")
    text_head = data[:4096] if isinstance(data, str) else data[:4096].decode("latin-1")
    if not re.search(r"<\s*[a-zA-Z!]", text_head):
        raise InputError(source_name, "not an HTML page (no markup found)")
    soup = BeautifulSoup(data, "lxml")
    if soup.html is None:
        raise InputError(source_name, "not an HTML page")

    meta = _read_metadata(soup, source_name)
    container = find_article(soup)
    title_heading = _title_heading(container, meta.title)
    if not meta.title:
        meta = replace(meta, title=_text(title_heading) if title_heading else "")
    if title_heading is not None:
        title_heading.decompose()
    for header in container.find_all("header"):
        header.decompose()

    blocks = _blocks(container)
    if not any(_has_text(b) for b in blocks):
        raise InputError(source_name, "no article text found")
    if not meta.title:
        meta = replace(meta, title=_fallback_title(source_name))
    meta = _apply_overrides(meta, overrides or {})
    sections = _split(blocks, meta.title, split_level)
    return Book(metadata=meta, sections=sections, source_name=source_name)


# --- metadata -------------------------------------------------------------

def _read_metadata(soup: BeautifulSoup, source_name: str) -> Metadata:
    ld = _json_ld_article(soup)
    og = {m.get("property", "").lower(): m.get("content", "").strip()
          for m in soup.find_all("meta", attrs={"property": True, "content": True})}
    named = {m.get("name", "").lower(): m.get("content", "").strip()
             for m in soup.find_all("meta", attrs={"name": True, "content": True})}
    canonical = soup.find("link", rel="canonical", href=True)

    title = _first(ld.get("headline"), og.get("og:title"), named.get("dc.title"))
    author = _first(_ld_names(ld.get("author")), named.get("author"), named.get("dc.creator"),
                    og.get("article:author") if not (og.get("article:author") or "").startswith("http") else "")
    publisher = _first(_ld_names(ld.get("publisher")), og.get("og:site_name"), named.get("dc.publisher"))
    time_tag = soup.find("time", attrs={"datetime": True})
    published = _first(ld.get("datePublished"), og.get("article:published_time"), named.get("dc.date"),
                       named.get("date"), time_tag.get("datetime") if time_tag else "")
    url = _first(canonical.get("href") if canonical else "", og.get("og:url"), ld.get("url"))
    if not url.startswith(("http://", "https://")):
        url = ""
    html_tag = soup.html
    language = _first(html_tag.get("lang") if html_tag else "", html_tag.get("xml:lang") if html_tag else "",
                      ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else "",
                      named.get("language"), named.get("dc.language"))
    description = _first(ld.get("description"), og.get("og:description"), named.get("description"))
    if not title and soup.title:
        title = _strip_site_suffix(_text(soup.title), publisher)
    identity = url or source_name.rsplit("/", 1)[-1]
    return Metadata(
        title=_clean(title),
        language=normalize_language(language) or "en",
        author=_clean(author),
        publisher=_clean(publisher),
        date=normalize_date(published),
        description=_clean(description),
        source_url=url,
        identifier=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, identity)}",
    )


def _json_ld_article(soup: BeautifulSoup) -> dict:
    for script in soup.find_all("script", attrs={"type": re.compile(r"ld\+json", re.I)}):
        try:
            data = json.loads(script.string or "")
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                types = item.get("@type", [])
                types = [types] if isinstance(types, str) else types
                if any(t in ARTICLE_TYPES for t in types if isinstance(t, str)) and item.get("headline"):
                    return item
                stack.extend(v for k, v in item.items() if k in ("@graph", "mainEntity"))
    return {}


def _ld_names(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("name", "") if isinstance(value.get("name"), str) else ""
    if isinstance(value, list):
        return ", ".join(n for n in (_ld_names(v) for v in value) if n)
    return ""


def _first(*values) -> str:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _clean(text: str) -> str:
    return " ".join(text.split())


def _strip_site_suffix(title: str, site: str) -> str:
    for sep in (" | ", " - ", " – ", " — ", " :: "):
        if sep in title:
            head, tail = title.rsplit(sep, 1)
            if not site or tail.strip().lower() == site.lower() or len(tail) < len(head):
                return head.strip()
    return title


def normalize_language(tag: str) -> str:
    """A BCP 47 tag ('en', 'pt-BR') from what pages write ('en_US', 'EN-us'), or ''."""
    tag = tag.strip().replace("_", "-")
    match = re.fullmatch(r"([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|\d{3}))?(?:-.*)?", tag)
    if not match:
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


def _apply_overrides(meta: Metadata, overrides: dict) -> Metadata:
    fields = {k: v for k, v in overrides.items() if v is not None}
    if "language" in fields:
        fields["language"] = normalize_language(fields["language"])
    if "date" in fields:
        fields["date"] = normalize_date(fields["date"])
    return replace(meta, **fields)


def _fallback_title(source_name: str) -> str:
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source_name.rstrip("/").rsplit("/", 1)[-1])
    return " ".join(re.split(r"[-_\s]+", stem)).strip().capitalize() or "Untitled article"


# --- the article inside the page ------------------------------------------

def _title_heading(container: Tag, title: str) -> Tag | None:
    """The heading that carries the article's title: it is the book's title, not a section."""
    h1s = container.find_all("h1")
    wanted = _clean(title).lower()
    for h1 in h1s:
        if wanted and _text(h1).lower() == wanted:
            return h1
    return h1s[0] if len(h1s) == 1 else None


def _text(tag: Tag) -> str:
    return _clean(tag.get_text(" "))


def _has_text(block: Block) -> bool:
    if isinstance(block, (Paragraph, Heading)):
        return bool(block.text)
    if isinstance(block, ListBlock):
        return any(_has_text(b) for item in block.items for b in item)
    if isinstance(block, Quote):
        return any(_has_text(b) for b in block.blocks)
    return isinstance(block, Image) and bool(block.alt)


def _blocks(element: Tag) -> list[Block]:
    """The blocks of ``element`` in reading order; divs and sections are flattened."""
    out: list[Block] = []
    pending: list[Span] = []

    def flush() -> None:
        spans = _tidy(pending)
        if spans:
            out.append(Paragraph(spans))
        pending.clear()

    for child in element.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:
                pending.append(Span(str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name in INLINE and not child.find(["img", "p", "div", "ul", "ol", *HEADINGS]):
            pending.extend(_child_spans(child))
            continue
        flush()
        out.extend(_block(child, name))
    flush()
    return out


def _block(tag: Tag, name: str) -> list[Block]:
    if name in HEADINGS:
        spans = _tidy(_spans(tag))
        return [Heading(int(name[1]), spans)] if spans else []
    if name == "p":
        if tag.find(["img", "figure"]):
            return _blocks(tag)
        spans = _tidy(_spans(tag))
        return [Paragraph(spans)] if spans else []
    if name in ("ul", "ol"):
        items = tuple(tuple(_blocks(li)) for li in tag.find_all("li", recursive=False))
        items = tuple(item for item in items if item)
        return [ListBlock(items, ordered=name == "ol")] if items else []
    if name == "blockquote":
        inner = tuple(_blocks(tag))
        return [Quote(inner)] if inner else []
    if name == "img":
        return [_image(tag, ())]
    if name == "figure":
        caption_tag = tag.find("figcaption")
        caption = _tidy(_spans(caption_tag)) if caption_tag else ()
        if caption_tag:
            caption_tag.decompose()
        images = tag.find_all("img")
        if images:
            return [_image(images[0], caption)]
        return _blocks(tag) + ([Paragraph(caption)] if caption else [])
    if name == "pre":
        spans = _tidy([Span(tag.get_text(), "code")])
        return [Paragraph(spans)] if spans else []
    if name in ("table", "dl"):
        return [Paragraph(s) for s in (_tidy(_spans(row)) for row in tag.find_all(["tr", "dt", "dd"])) if s]
    if name in ("hr", "br", "picture", "source", "video", "audio", "map", "area", "head", "title", "meta",
                "link", "header"):
        return []
    return _blocks(tag)


def _image(tag: Tag, caption) -> Image:
    alt = tag.get("alt")
    if tag.get("role") in ("presentation", "none"):
        alt = ""
    return Image(src=tag.get("src", ""), alt=_clean(alt) if alt is not None else None, caption=caption)


def _spans(tag: Tag, kind: str = "", href: str | None = None) -> list[Span]:
    """The inline spans of ``tag``'s children."""
    spans: list[Span] = []
    for child in tag.children:
        spans.extend(_child_spans(child, kind, href))
    return spans


def _child_spans(child, kind: str = "", href: str | None = None) -> list[Span]:
    """The inline spans of one node, taking its own emphasis or link into account."""
    if isinstance(child, NavigableString):
        return [Span(str(child), kind, href)] if type(child) is NavigableString else []
    if not isinstance(child, Tag):
        return []
    name = child.name.lower()
    if name == "br":
        return [Span(" ", kind, href)]
    if name in ("rt", "rp", "img"):
        return []
    child_kind, child_href = INLINE_KINDS.get(name, "") or kind, href
    if name == "a":
        link = child.get("href", "")
        child_href = link if link.startswith(("http://", "https://", "mailto:")) else href
        child_kind = "link" if child_href else kind
    return _spans(child, child_kind, child_href)


def _tidy(spans: list[Span]) -> tuple[Span, ...]:
    """Collapse whitespace across spans, merge neighbours of one kind, trim the ends."""
    merged: list[Span] = []
    for span in spans:
        text = re.sub(r"\s+", " ", span.text)
        if merged and merged[-1].text.endswith(" ") and text.startswith(" "):
            text = text[1:]
        if not text:
            continue
        if merged and (merged[-1].kind, merged[-1].href) == (span.kind, span.href):
            merged[-1] = Span(merged[-1].text + text, span.kind, span.href)
        else:
            merged.append(Span(text, span.kind, span.href))
    if merged:
        merged[0] = replace(merged[0], text=merged[0].text.lstrip())
        merged[-1] = replace(merged[-1], text=merged[-1].text.rstrip())
    return tuple(s for s in merged if s.text)


# --- sections ------------------------------------------------------------

def _split(blocks: list[Block], title: str, split_level: int | None) -> tuple[Section, ...]:
    """Cut the flat block list at section headings (see the README, 'Sections')."""
    ranks = sorted({b.rank for b in blocks if isinstance(b, Heading)})
    if split_level is None:
        split_ranks = ranks[:1]
    else:
        split_ranks = [r for r in ranks if r <= split_level]
    taken: set[str] = set()
    sections: list[Section] = []
    current_title, current_level, current, opening = title, 1, [], True
    for block in blocks:
        if isinstance(block, Heading) and block.rank in split_ranks:
            sections.append(Section(current_title, current_level, tuple(current), is_opening=opening))
            current_title, current, opening = block.text, [], False
            current_level = split_ranks.index(block.rank) + 1
        elif isinstance(block, Heading):
            current.append(replace(block, anchor=unique("h-" + slugify(block.text, "heading"), taken)))
        else:
            current.append(block)
    sections.append(Section(current_title, current_level, tuple(current), is_opening=opening))
    return tuple(_fix_levels(sections))


def _fix_levels(sections: list[Section]) -> list[Section]:
    """A section never sits more than one level below the one before it."""
    fixed, previous = [], 0
    for section in sections:
        level = min(section.level, previous + 1)
        fixed.append(replace(section, level=level))
        previous = level
    return fixed
