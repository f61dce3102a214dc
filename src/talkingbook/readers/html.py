"""Read an article page (HTML) into a :class:`~talkingbook.model.Document`.

beautifulsoup4 with the lxml parser does the parsing; :mod:`.extract` finds the article
inside the page; :mod:`.metadata` reads what the page says about it; this module reads the
article's blocks. It only reads: overrides, sections and spoken units come after it
(:mod:`talkingbook.structure`).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import assert_never

from bs4 import BeautifulSoup, NavigableString, ParserRejectedMarkup, Tag, XMLParsedAsHTMLWarning
from bs4.builder._lxml import LXMLTreeBuilder  # bs4.builder re-exports it only at run time

from ..errors import InputError
from ..model import (
    Block,
    Cell,
    CellScope,
    CodeBlock,
    Direction,
    Document,
    Heading,
    Image,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Span,
    SpanKind,
    Table,
    iter_blocks,
    plain_text,
    xml_text,
)
from ..structure.ids import RESERVED_ID_PREFIXES
from ..structure.toc import slugify, unique
from .dom import html_integer, is_data_table
from .extract import find_article
from .images import ImageResolver
from .metadata import read_metadata
from .opinions import (
    agree,
    body_chunks,
    join_chunks,
    leads_beside_headline,
    loss_warnings,
    place_leads,
    reading_as_blocks,
    reading_of,
    restore,
    second_reading,
    without_repeats,
)
from .sources import Source, decode
from .urls import link_url

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
INLINE_KINDS: dict[str, SpanKind] = {
    "em": "em",
    "i": "em",
    "cite": "em",
    "dfn": "em",
    "strong": "strong",
    "b": "strong",
    "code": "code",
    "kbd": "code",
    "samp": "code",
    "tt": "code",
    "sup": "sup",
    "sub": "sub",
}
INLINE = set(INLINE_KINDS) | {
    "a",
    "span",
    "abbr",
    "small",
    "mark",
    "time",
    "q",
    "u",
    "s",
    "del",
    "ins",
    "var",
    "bdi",
    "bdo",
    "data",
    "font",
    "wbr",
    "br",
    "label",
    "ruby",
    "rt",
    "rp",
    "rb",
    "big",
    "strike",
    "acronym",
    "nobr",
    "output",
    "meter",
    "progress",
    "math",
}
BLOCK_CHILDREN = ["img", "p", "div", "ul", "ol", "table", "blockquote", "pre", "figure", "section", *HEADINGS]
SKIP = {
    "hr",
    "picture",
    "source",
    "video",
    "audio",
    "map",
    "area",
    "head",
    "title",
    "meta",
    "link",
    "header",
    "track",
    "param",
    "script",
    "style",
    "noscript",
    "template",
}
NCNAME = re.compile(r"^[A-Za-z_][\w.-]*$")
Resolver = Callable[[str], "tuple[bytes, str] | None"]
log = logging.getLogger(__name__)

# Bounds on the parsed page. Past them elements are unwrapped as they are parsed: their text
# stays where it was, with a space for a block's boundary. Browsers flatten a too deep tree the
# same way (Chromium's parser stops nesting at 512 levels and puts what comes deeper into the
# deepest element allowed). Ours is lower because the walks over the tree recurse, and real
# articles stay far below it (26 levels at most in the shared corpus). The element budget keeps
# a page of a million <span>s from becoming a million bs4 objects (about 1.5 kB and 0.1 ms each):
# article pages hold a few thousand elements.
MAX_DEPTH = 128
MAX_ELEMENTS = 60_000
# Lists, quotes and tables nested deeper than this are read as their content, in place: a
# reader cannot follow more, and every writer's output stays shallow.
MAX_NESTING = 12


@dataclass(frozen=True)
class ReaderOptions:
    """What a user may ask of the reader (as pandoc's ReaderOptions)."""

    fetch_images: bool = False  # also download remote images (within the source's reach)


def read_html(source: Source, options: ReaderOptions = ReaderOptions()) -> Document:
    """The article of the page in ``source``: its metadata and its blocks in reading order."""
    source_name = xml_text(source.name)  # a file name that is not UTF-8 is named with U+FFFD
    images = ImageResolver(source.folder, source.url, fetch_remote=options.fetch_images, reach=source.reach)
    text = _decode_checked(source.data, source_name, source.charset)
    soup = _parse(text, source_name)
    if soup.html is None:
        raise InputError(source_name, "not an HTML page")
    reading = second_reading(text)
    broken = _broken_markup(soup)

    page = read_metadata(soup, source_name=source_name, base_url=source.url, http_language=source.language)
    declared = reading_of(page.article_body)
    meta = _clean_metadata(page.book)
    # The extractor's byline (data-byline) is not read: read_metadata has weighed every element the
    # extractor could take (the same marks) and refused the ones it took from menus and comments.
    leads, chunks = leads_beside_headline(soup, meta.title), body_chunks(soup)
    container = find_article(soup, page.readability)
    join_chunks(container, chunks, declared)
    place_leads(container, leads)
    title_heading = _title_heading(container, meta.title)
    if not meta.title and title_heading is not None:
        meta = replace(meta, title=_text(title_heading))
    title_id = title_heading.get("id") if title_heading is not None else None
    if title_heading is not None:
        title_heading.decompose()
    for header in container.find_all("header"):
        if not header.decomposed:
            header.decompose()
    if not meta.title:
        meta = replace(meta, title=_fallback_title(source_name))
    if not meta.language or meta.language == "und":
        from .metadata import detect_language

        meta = replace(meta, language=detect_language(container.get_text(" ")) or "en")

    link_base = source.url or meta.source_url
    ctx = _Context(book_lang=meta.language, base_url=link_base, images=images, title=meta.title)
    ctx.assign_ids(container, extra=[title_id] if isinstance(title_id, str) else [])
    blocks = agree(ctx.blocks(container, lang=_lang(container, meta.language)), reading, meta)
    blocks = without_repeats(restore(blocks, reading, declared))
    if not any(_has_text(b) for b in blocks):
        blocks = reading_as_blocks(reading)  # the first opinion found nothing: the second is all there is
    if not any(_has_text(b) for b in blocks):
        raise InputError(source_name, "no article text found" + (f": the page's {broken}" if broken else ""))
    warnings = (
        *([f"part of the page may be missing: its {broken}"] if broken else ()),
        *loss_warnings(blocks, declared, reading),
    )
    for warning in warnings:
        log.warning("%s: %s", source_name, warning)
    title_anchor = ctx.ids.get(title_id, "") if isinstance(title_id, str) else ""
    return Document(
        metadata=meta,
        blocks=tuple(blocks),
        source_name=source_name,
        title_anchor=title_anchor,
        ids=frozenset(ctx.taken),
        lead_image=_lead_image(meta.image, images),
        warnings=warnings,
    )


def _lead_image(src: str, images: Resolver) -> Image | None:
    """The page's declared lead image (og:image, JSON-LD), read as the text's images are."""
    found = images(src) if src else None
    return Image(src=src, alt=None, data=found[0], media_type=found[1]) if found else None


def _decode_checked(html: bytes | str, source_name: str, charset: str) -> str:
    if isinstance(html, bytes):
        head = html[:4096]
        if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise InputError(source_name, "not an HTML page (binary data)")
        html, _ = decode(html, charset)
    if not re.search(r"<\s*[a-zA-Z!]", html[:8192]):
        raise InputError(source_name, "not an HTML page (no markup found)")
    return html


class _BoundedBuilder(LXMLTreeBuilder):
    """bs4's lxml tree builder that cleans every string it is given (text and attribute values,
    character references included) and unwraps elements past ``MAX_DEPTH`` or ``MAX_ELEMENTS``."""

    KEEP = frozenset({"html", "head", "body"})

    def initialize_soup(self, soup) -> None:
        super().initialize_soup(soup)
        self.page: BeautifulSoup = soup  # self.soup, never None from here on
        self.unwrapped: list[bool] = []  # one flag per open element: True when it was left out
        self.kept = self.dropped = 0

    # These run once per tag or string of the page: kept lean (a million calls on a hostile page).
    def start(self, tag, attrib, *args) -> None:
        if (len(self.unwrapped) >= MAX_DEPTH or self.kept >= MAX_ELEMENTS) and tag not in self.KEEP:
            self.unwrapped.append(True)
            self.dropped += 1
            if tag not in INLINE or tag == "br":
                self.page.handle_data(" ")  # words on either side of an unwrapped block stay apart
            return
        self.unwrapped.append(False)
        self.kept += 1
        super().start(tag, {xml_text(k): xml_text(v) for k, v in attrib.items()}, *args)

    def end(self, tag) -> None:
        if self.unwrapped and self.unwrapped.pop():
            if tag not in INLINE:
                self.page.handle_data(" ")
            return
        super().end(tag)

    def data(self, content) -> None:
        self.page.handle_data(xml_text(content))


def _parse(text: str, source_name: str) -> BeautifulSoup:
    """The page's tree, bounded (see ``MAX_DEPTH``) and holding only text XML can carry."""
    builder = _BoundedBuilder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)  # XHTML pages are read as HTML on purpose
        try:
            soup = BeautifulSoup(text, builder=builder)
        except ParserRejectedMarkup as exc:
            raise InputError(source_name, "not an HTML page") from exc
    if builder.dropped:
        log.warning(
            "%s: the page nests elements more than %d deep or holds more than %d; %d elements "
            "past that are read as plain text",
            source_name,
            MAX_DEPTH,
            MAX_ELEMENTS,
            builder.dropped,
        )
    _close_head(soup)
    return soup


# What a <head> may hold; any other element ends it, in HTML's parsing rules ("in head" insertion mode).
HEAD_CONTENT = frozenset({"title", "meta", "link", "script", "style", "base", "noscript", "template"})


def _close_head(soup: BeautifulSoup) -> None:
    """Move what lxml left in ``<head>`` after its first element that cannot be there into ``<body>``, as
    browsers parse it: a page without ``<body>`` whose first tag after the head's is ``<mbox>`` or a ``<table>``
    shows its article, which lxml keeps in the head (where no reader looks)."""
    head = soup.head
    if head is None:
        return
    stray = next(
        (c for c in head.children if isinstance(c, Tag) and c.name not in HEAD_CONTENT),
        None,
    )
    if stray is None:
        return
    body = soup.body
    if body is None:
        body = soup.new_tag("body")
        head.insert_after(body)
    moved = [stray, *stray.next_siblings]
    for node in reversed(moved):
        body.insert(0, node.extract())


# A page's body start, then a body's worth of end tags: a script or style holding them has run over the page
# (a string that writes a small page, document.write('<body>…'), holds a few).
BODY_START = re.compile(r"<body[\s>]", re.IGNORECASE)
END_TAG = re.compile(r"</(p|div|td|tr|table|li|ul|ol|h[1-6]|a|span)\s*>", re.IGNORECASE)
SWALLOWED_END_TAGS = 50


def _broken_markup(soup: BeautifulSoup) -> str:
    """What is wrong when a script, style or title element holds the page's own markup (an attribute's quote
    left open makes it run to a later ``</script>``, a ``<title>`` never closed runs to the end): browsers show
    none of that text, and neither does the book."""
    for element in soup.find_all(["script", "style", "title"]):
        text = element.string or ""
        page_like = element.name == "title" or BODY_START.search(text)  # a title holds no markup at all
        if page_like and len(END_TAG.findall(text)) >= SWALLOWED_END_TAGS:
            return (
                f"markup is broken (a <{element.name}> element runs over {len(text)} characters of the page, "
                "which browsers do not show and the book does not read)"
            )
    return ""


def _clean_metadata(meta):
    """Metadata with its strings cleaned: JSON-LD escapes (``\\u0001``) bring what the parser did not."""
    return replace(
        meta,
        **{f.name: xml_text(getattr(meta, f.name)) for f in fields(meta) if isinstance(getattr(meta, f.name), str)},
    )


def _title_heading(container: Tag, title: str) -> Tag | None:
    """The heading that carries the article's title: it is the book's title, not a section."""
    h1s = container.find_all("h1")
    wanted = _comparable(title)
    for heading in container.find_all(HEADINGS):
        if wanted and _comparable(_text(heading)) == wanted:
            return heading
    return h1s[0] if len(h1s) == 1 and not title else None


def _comparable(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _text(tag: Tag) -> str:
    for rt in tag.find_all(["rt", "rp"]):
        rt.extract()
    return " ".join(tag.get_text(" ").split())


def _fallback_title(source_name: str) -> str:
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", source_name.rstrip("/").rsplit("/", 1)[-1])
    return " ".join(re.split(r"[-_\s]+", stem)).strip().capitalize() or "Untitled article"


def _lang(tag: Tag, inherited: str) -> str:
    from .metadata import normalize_language

    value = tag.get("lang") or tag.get("xml:lang")
    if isinstance(value, str):
        return normalize_language(value) or inherited
    return inherited


_DIRECTIONS: dict[str, Direction] = {"rtl": "rtl", "ltr": "ltr"}
_SCOPES: dict[str, CellScope] = {"col": "col", "row": "row", "colgroup": "colgroup", "rowgroup": "rowgroup"}


def _dir(tag: Tag, inherited: Direction) -> Direction:
    value = tag.get("dir")
    return _DIRECTIONS.get(value.lower(), inherited) if isinstance(value, str) else inherited


def _has_text(block: Block) -> bool:
    """Whether ``block``, or a block inside it, has text to show or read."""
    return any(_has_own_text(b) for b in iter_blocks((block,)))


def _has_own_text(block: Block) -> bool:
    match block:
        case Paragraph() | Heading():
            return bool(block.text)
        case CodeBlock():
            return bool(block.text.strip())
        case Image():
            return bool(block.alt) or bool(block.caption)
        case ListBlock() | Quote() | Table():  # their text is in the blocks inside (a caption alone is none)
            return False
        case _:
            assert_never(block)


# --- the walk over the article's elements ------------------------------------


@dataclass(frozen=True)
class _Style:
    """What an inline element passes to its text: emphasis, link, language, direction."""

    kind: SpanKind = ""
    href: str | None = None
    lang: str = ""
    dir: Direction = ""


@dataclass
class _Context:
    book_lang: str
    base_url: str
    images: Resolver
    title: str
    ids: dict[str, str] = field(default_factory=dict)  # source id -> unique output id
    taken: set[str] = field(default_factory=set)  # every id given out in the book
    nested: int = 0  # >0 inside lists, quotes and table cells: headings there are not TOC entries

    def assign_ids(self, container: Tag, extra: Sequence[str] = ()) -> None:
        """Keep ids that in-article links point at, made unique and valid.

        ``extra``: ids of elements taken out of the container whose place the reader keeps
        (the title heading: the opening section).
        """
        targets = {
            a["href"][1:]
            for a in container.find_all("a", href=True)
            if isinstance(a["href"], str) and a["href"].startswith("#") and len(a["href"]) > 1
        }
        taken = self.taken
        for source_id in [*extra, *(tag.get("id") for tag in container.find_all(id=True))]:
            if isinstance(source_id, str) and source_id in targets and source_id not in self.ids:
                wanted = source_id if NCNAME.match(source_id) else "id-" + slugify(source_id, "anchor")
                if wanted.startswith(RESERVED_ID_PREFIXES):  # the writers' own ids
                    wanted = "id-" + wanted
                self.ids[source_id] = unique(wanted, taken)

    def anchor(self, tag: Tag) -> str:
        source_id = tag.get("id")
        return self.ids.get(source_id, "") if isinstance(source_id, str) else ""

    def blocks(self, element: Tag, lang: str, direction: Direction = "") -> list[Block]:
        """The blocks of ``element`` in reading order; divs and sections are flattened."""
        out: list[Block] = []
        pending: list[Span] = []
        # Ids that had nothing of their own to sit on (an empty <a id>, a <div id> that is
        # flattened): they go to the next block, so links to them still land.
        homeless: list[str] = []

        def emit(blocks: list[Block], wanted: str = "") -> None:
            if wanted and wanted not in _block_anchors(blocks):
                homeless.append(wanted)
            while homeless and _place(blocks, homeless[0]):
                homeless.pop(0)
            out.extend(blocks)

        def flush() -> None:
            spans = _tidy(pending)
            if spans:
                emit([Paragraph(_relative(spans, lang), *self._lang_dir(lang, direction))])
            else:
                homeless.extend(s.anchor for s in pending if s.anchor)
            pending.clear()

        style = _Style(lang=lang, dir=direction)
        for child in element.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:
                    pending.append(Span(str(child), lang=lang, dir=direction))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if _is_inline(child, name):
                pending.extend(self.spans_of(child, style))
                continue
            flush()
            emit(self.block(child, name, _lang(child, lang), _dir(child, direction)), self.anchor(child))
        flush()
        while homeless and _place(out, homeless[0], last=True):  # nothing after them: the blocks before
            homeless.pop(0)
        return out

    def _lang_dir(self, lang: str, direction: Direction) -> tuple[str, Direction]:
        return (lang if lang != self.book_lang else "", direction)

    def block(self, tag: Tag, name: str, lang: str, direction: Direction) -> list[Block]:
        own_lang, own_dir = self._lang_dir(lang, direction)
        if name in HEADINGS:
            spans = _tidy(self.spans_of(tag, _Style(lang=lang, dir=direction), own=False))
            if not spans or _comparable(plain_text(spans)) == _comparable(self.title):
                return []
            if self.nested:
                return [Paragraph((Span(plain_text(spans), "strong"),), own_lang, own_dir, self.anchor(tag))]
            return [Heading(int(name[1]), _relative(spans, lang), self.anchor(tag), own_lang, own_dir)]
        if name == "p":
            if tag.find(["img", "figure", "table", "ul", "ol"]):
                return self.blocks(tag, lang, direction)
            spans = _tidy(self.spans_of(tag, _Style(lang=lang, dir=direction), own=False))
            return [Paragraph(_relative(spans, lang), own_lang, own_dir, self.anchor(tag))] if spans else []
        if self.nested >= MAX_NESTING and name in ("ul", "ol", "menu", "blockquote", "table"):
            return self.blocks(tag, lang, direction)  # too deep to follow: its content, in place
        if name in ("ul", "ol", "menu"):
            return self._list(tag, name, lang, direction)
        if name == "blockquote":
            inner = tuple(self._nested(tag, lang, direction))
            return [Quote(inner, own_lang, own_dir, self.anchor(tag))] if inner else []
        if name == "img":
            image = self._image(tag, ())
            return [image] if image else []
        if name == "math":  # a formula shown as a block: a paragraph of its own, read as one unit
            formula = _formula(tag)
            return [Paragraph((Span(formula),), own_lang, own_dir, self.anchor(tag))] if formula else []
        if name == "figure":
            return self._figure(tag, lang, direction)
        if name == "pre":
            text = tag.get_text().strip("\n")
            return [CodeBlock(text, self.anchor(tag))] if text.strip() else []
        if name == "table":
            return self._table(tag, lang, direction)
        if name == "dl":
            return self._definitions(tag, lang, direction)
        if name in SKIP:
            return []
        return self.blocks(tag, lang, direction)

    def _nested(self, tag: Tag, lang: str, direction: Direction) -> list[Block]:
        self.nested += 1
        try:
            return self.blocks(tag, lang, direction)
        finally:
            self.nested -= 1

    def _list(self, tag: Tag, name: str, lang: str, direction: Direction) -> list[Block]:
        items = []
        for li in tag.find_all("li", recursive=False):
            blocks = tuple(self._nested(li, _lang(li, lang), _dir(li, direction)))
            if blocks:
                items.append(ListItem(blocks, self.anchor(li)))
        if not items:
            return []
        start = html_integer(tag.get("start"), default=1, low=-(10**9), high=10**9)
        return [
            ListBlock(
                tuple(items), ordered=name == "ol", start=start, lang=self._lang_dir(lang, direction)[0], dir=direction
            )
        ]

    def _definitions(self, tag: Tag, lang: str, direction: Direction) -> list[Block]:
        out: list[Block] = []
        for item in tag.find_all(["dt", "dd"]):
            spans = _tidy(self.spans_of(item, _Style(lang=lang, dir=direction), own=False))
            if spans:
                if item.name == "dt":
                    spans = tuple(replace(s, kind=s.kind or "strong") for s in spans)
                out.append(Paragraph(_relative(spans, lang), *self._lang_dir(lang, direction)))
        return out

    def _figure(self, tag: Tag, lang: str, direction: Direction) -> list[Block]:
        caption_tag = tag.find("figcaption")
        caption = _relative(_tidy(self.spans_of(caption_tag, _Style(lang=lang))), lang) if caption_tag else ()
        if caption_tag:
            caption_tag.extract()
        images = [i for i in (self._image(img, ()) for img in tag.find_all("img")) if i is not None]
        if images:
            images[-1] = replace(images[-1], caption=caption, anchor=images[-1].anchor or self.anchor(tag))
            return list(images)
        return self.blocks(tag, lang, direction) + ([Paragraph(caption)] if caption else [])

    def _image(self, tag: Tag, caption) -> Image | None:
        src = tag.get("src") or ""
        for lazy in ("data-src", "data-original", "data-lazy-src"):
            lazy_src = tag.get(lazy)
            if lazy_src and (
                not src or (isinstance(src, str) and (src.startswith("data:image/gif") or "placeholder" in src))
            ):
                src = lazy_src
        if not isinstance(src, str) or _tracking_pixel(tag):
            return None
        alt = tag.get("alt")
        if tag.get("role") in ("presentation", "none"):
            alt = ""
        alt = " ".join(alt.split()) if isinstance(alt, str) else None
        found = self.images(src) if src else None
        data, media_type = found or (None, "")
        if data is None and not alt and not caption:
            return None  # nothing to show and nothing to say
        return Image(src=src, alt=alt, caption=caption, data=data, media_type=media_type, anchor=self.anchor(tag))

    def _table(self, tag: Tag, lang: str, direction: Direction) -> list[Block]:
        if not is_data_table(tag):
            return self.blocks(tag, lang, direction)  # a layout table: its cells are plain blocks
        caption_tag = tag.find("caption")
        caption = _relative(_tidy(self.spans_of(caption_tag, _Style(lang=lang))), lang) if caption_tag else ()
        rows: list[tuple[Cell, ...]] = []
        for tr in _rows(tag):
            cells: list[Cell] = []
            in_head = tr.find_parent("thead") is not None
            for position, cell in enumerate(tr.find_all(["td", "th"], recursive=False)):
                blocks = tuple(self._nested(cell, _lang(cell, lang), _dir(cell, direction)))
                header = cell.name == "th"
                value = cell.get("scope")
                scope: CellScope = _SCOPES.get(value, "") if isinstance(value, str) else ""
                if header and not scope:
                    scope = "col" if in_head or not rows else ("row" if position == 0 else "col")
                cells.append(Cell(blocks, header, scope, _span(cell.get("colspan")), _span(cell.get("rowspan"))))
            if cells:
                rows.append(tuple(cells))
        if not rows:
            return []
        return [Table(tuple(rows), caption, self.anchor(tag), *self._lang_dir(lang, direction))]

    # --- inline --------------------------------------------------------------

    def spans_of(self, tag: Tag, style: _Style, own: bool = True) -> list[Span]:
        """The inline spans of ``tag`` (with its own emphasis, link and language when ``own``)."""
        if own:
            return self._child_spans(tag, style)
        spans: list[Span] = []
        for child in tag.children:
            spans.extend(self._child_spans(child, style))
        return spans

    def _child_spans(self, child, style: _Style) -> list[Span]:
        if isinstance(child, NavigableString):
            if type(child) is not NavigableString:
                return []
            return [Span(str(child), style.kind, style.href, style.lang, style.dir)]
        if not isinstance(child, Tag):
            return []
        name = child.name.lower()
        if name == "br":
            return [Span(" ", style.kind, style.href, style.lang, style.dir)]
        if name in ("rt", "rp", "img", "script", "style", "svg", "button", "input", "select", "textarea"):
            return []
        if name == "ruby":
            return self._ruby(child, style)
        if name == "math":
            return [Span(_formula(child), style.kind, style.href, style.lang, style.dir)]
        kind = INLINE_KINDS.get(name) or style.kind
        href = style.href
        if name == "a":
            href = self._href(child.get("href"))
            kind = "link" if href else style.kind
        inner = _Style(kind, href, _lang(child, style.lang), _dir(child, style.dir))
        spans: list[Span] = []
        for grandchild in child.children:
            spans.extend(self._child_spans(grandchild, inner))
        anchor = self.anchor(child)
        if anchor:
            spans = [Span("", anchor=anchor), *spans]
        return spans

    def _ruby(self, ruby: Tag, style: _Style) -> list[Span]:
        spans: list[Span] = []
        base: list[str] = []
        for node in ruby.children:
            if isinstance(node, Tag) and node.name == "rt":
                text = "".join(base)
                if text.strip():
                    spans.append(
                        Span(
                            text, style.kind, style.href, style.lang, style.dir, ruby=" ".join(node.get_text().split())
                        )
                    )
                base = []
            elif isinstance(node, Tag) and node.name == "rp":
                continue
            elif isinstance(node, Tag):
                base.append(node.get_text())
            elif type(node) is NavigableString:
                base.append(str(node))
        if "".join(base).strip():
            spans.append(Span("".join(base), style.kind, style.href, style.lang, style.dir))
        return spans

    def _href(self, href) -> str | None:
        """An absolute http(s)/mailto URL, '#anchor' inside the article, or None (plain text)."""
        if not isinstance(href, str) or not href.strip():
            return None
        href = href.strip()
        if href.startswith("#"):
            target = self.ids.get(href[1:])
            return f"#{target}" if target else None
        return link_url(href, self.base_url)


def _block_anchors(blocks: list[Block]) -> set[str]:
    """Every id that ``blocks`` carry (blocks, list items, inline spans, nested blocks)."""
    found: set[str] = set()
    for block in iter_blocks(tuple(blocks)):
        match block:
            case ListBlock():
                found.update(item.anchor for item in block.items)
            case Paragraph() | Heading():
                found.add(block.anchor)
                found.update(s.anchor for s in block.spans)
            case Quote() | Image() | Table() | CodeBlock():
                found.add(block.anchor)
            case _:
                assert_never(block)
    return found - {""}


def _place(blocks: list[Block], anchor: str, last: bool = False) -> bool:
    """Give ``anchor`` to the first (``last``: the last) of ``blocks`` without an id of its own; in place."""
    order = range(len(blocks) - 1, -1, -1) if last else range(len(blocks))
    for i in order:
        block = blocks[i]
        match block:
            case ListBlock():  # a list has no id of its own: its first item takes it
                if block.items and not block.items[0].anchor:
                    blocks[i] = replace(block, items=(replace(block.items[0], anchor=anchor), *block.items[1:]))
                    return True
            case Paragraph() | Heading() | Quote() | Image() | Table() | CodeBlock():
                if not block.anchor:
                    blocks[i] = replace(block, anchor=anchor)
                    return True
            case _:
                assert_never(block)
    return False


# MathML is kept as one unit, shown and read as its text alternative: the alttext, else its TeX
# annotation, else its tokens in a line ("E = m c^2"). Written here: no well-kept Python library
# reads MathML (MathCAT, what screen readers use, is Rust).
TEX_STYLE = re.compile(
    r"^\s*\{\s*\\(?:display|text|script)style\s*(.*)\}\s*$|\\(?:display|text|script)style\s*", re.DOTALL
)
TEX_GROUP = re.compile(r"([\^_])\{(\w+)\}")  # c^{2} is c^2
MATH_SCRIPTS = {"msup": "{}^{}", "msub": "{}_{}", "msubsup": "{}_{}^{}", "mfrac": "{}/{}", "mroot": "root {1} of {0}"}


def _is_inline(tag: Tag, name: str) -> bool:
    """Whether ``tag`` is read as a run of text inside its paragraph: a phrasing element, or a custom element
    (a name with a hyphen, ``mjx-container``: inline unless styled otherwise, as browsers show it), that holds
    no block and no formula shown as a block."""
    return (
        (name in INLINE or "-" in name)
        and not _display_math(tag)
        and not tag.find(BLOCK_CHILDREN)
        and not tag.find(_display_math)
    )


def _display_math(tag: Tag) -> bool:
    return tag.name == "math" and str(tag.get("display", "")).strip().lower() == "block"


def _formula(math: Tag) -> str:
    """A formula's text: its alttext, its TeX annotation, or its MathML tokens in a line."""
    alt = math.get("alttext")
    if not (isinstance(alt, str) and alt.strip()):
        tex = math.find("annotation", encoding=re.compile(r"^(application/x-tex|tex)$", re.IGNORECASE))
        alt = tex.get_text() if tex is not None else ""
    if alt.strip():
        alt = TEX_STYLE.sub(lambda m: m.group(1) or "", alt)
        return " ".join(TEX_GROUP.sub(r"\1\2", alt).split())
    return " ".join(_linear_math(math).split())


def _linear_math(tag: Tag) -> str:
    """Presentation MathML in one line: scripts and fractions marked (c^2, a/b), other elements in order."""
    if tag.name in ("annotation", "annotation-xml"):
        return ""
    parts = [
        str(c) if type(c) is NavigableString else _linear_math(c) if isinstance(c, Tag) else "" for c in tag.children
    ]
    parts = [" ".join(p.split()) for p in parts if p.strip()]
    pattern = MATH_SCRIPTS.get(tag.name)
    if pattern and len(parts) == pattern.count("{"):
        grouped = [p if len(p) == 1 or p.isalnum() else f"({p})" for p in parts]
        return pattern.format(*grouped)
    if tag.name == "msqrt":
        return f"√({' '.join(parts)})"
    return " ".join(parts)


def _tracking_pixel(tag: Tag) -> bool:
    return any(0 <= html_integer(tag.get(name), default=-1, low=-1, high=3) <= 2 for name in ("width", "height"))


def _span(value) -> int:
    return html_integer(value, default=1, low=1, high=100)


def _rows(table: Tag) -> list[Tag]:
    """The table's own rows, not those of tables nested inside it."""
    return [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]


def _relative(spans: tuple[Span, ...], lang: str) -> tuple[Span, ...]:
    """Spans with ``lang`` cleared where it equals the block's own language."""
    return tuple(replace(s, lang="") if s.lang == lang else s for s in spans)


def _tidy(spans: list[Span]) -> tuple[Span, ...]:
    """Collapse whitespace across spans, merge neighbours of one style, trim the ends."""
    merged: list[Span] = []
    texts: list[list[str]] = []  # each merged span's pieces, joined once at the end (linear)
    pending_anchor = ""
    for span in spans:
        text = re.sub(r"\s+", " ", span.text)
        if span.anchor and not text:
            pending_anchor = span.anchor
            continue
        if texts and texts[-1][-1].endswith(" ") and text.startswith(" "):
            text = text[1:]
        if not text:
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and not span.anchor
            and not pending_anchor
            and not span.ruby
            and not last.ruby
            and (last.kind, last.href, last.lang, last.dir) == (span.kind, span.href, span.lang, span.dir)
        ):
            texts[-1].append(text)
        else:
            merged.append(replace(span, anchor=span.anchor or pending_anchor))
            texts.append([text])
            pending_anchor = ""
    merged = [replace(span, text="".join(pieces)) for span, pieces in zip(merged, texts)]
    if merged:
        merged[0] = replace(merged[0], text=merged[0].text.lstrip() or merged[0].text)
        merged[-1] = replace(merged[-1], text=merged[-1].text.rstrip() or merged[-1].text)
    return tuple(s for s in merged if s.text.strip() or s.ruby)
