"""Write a Book as EPUB 3, hiding ebooklib's sharp edges in this one module.

ebooklib builds the package, nav and NCX; this module adds what it lacks:
exceptions raised instead of swallowed (``raise_exceptions``), ``xml:lang`` on
``<package>``, a fixed ``dcterms:modified`` and fixed zip timestamps (same input,
same bytes), and XHTML bodies written here rather than whole documents.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, assert_never

from ebooklib import epub

from ..errors import OutputError
from ..model import (
    Block,
    Book,
    CodeBlock,
    Heading,
    Image,
    Inlines,
    ListBlock,
    Paragraph,
    Quote,
    Table,
    iter_blocks,
)
from ..phrases import list_of_names, long_date, narrator_notice, phrase, phrase_language
from ..publication import Publication
from ..structure.ids import BYLINE_ID, CREDIT_ID, DATELINE_ID, NARRATOR_ID, TITLE_ID
from ..structure.toc import TocEntry

if TYPE_CHECKING:
    from lxml.etree import _Element

STYLESHEET = """\
/* Readable defaults that leave font choice and size to the reader. */
body { line-height: 1.5; margin: 0 5%; text-align: start; hyphens: none; }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.2em 0 0.6em; page-break-after: avoid; }
p { margin: 0 0 0.9em; }
ul, ol { margin: 0 0 0.9em; padding-inline-start: 1.5em; }
li { margin-bottom: 0.4em; }
blockquote { margin: 0 0 0.9em 1.2em; padding-inline-start: 0.8em; border-inline-start: 0.2em solid #767676; }
figure { margin: 1em 0; }
figcaption { font-size: 0.9em; }
table { border-collapse: collapse; margin: 0 0 0.9em; }
th, td { border: 1px solid #767676; padding: 0.2em 0.4em; vertical-align: top; text-align: start; }
caption { font-weight: bold; text-align: start; }
pre { white-space: pre-wrap; overflow-wrap: break-word; font-size: 0.9em; }
rt { font-size: 0.6em; }
img { max-width: 100%; height: auto; }
.image-missing::before { content: "[Image: " attr(aria-label) "]"; font-style: italic; }
code { font-family: monospace; }
.byline, .dateline, .publisher, .narrator, .credit { margin: 0 0 0.3em; }
.credit { overflow-wrap: anywhere; }
.narrator { font-style: italic; }
.-epub-media-overlay-active { background-color: #ffe066; color: #000000; }
a { color: inherit; text-decoration: underline; }
"""

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def write_epub(pub: Publication, folder: Path) -> Path:
    """The book as an EPUB 3 with nav and NCX (``Layout.epub``); returns its path.

    A narrated book's opening shows the notice the narration speaks. A read-along book
    (``Publication.read_along``) carries the section MP3s and one SMIL media overlay per
    section, so reading systems highlight each sentence as it is spoken (EPUB 3 Media
    Overlays, which ebooklib does not write: done here).
    """
    book, toc, cover = pub.book, pub.toc, pub.cover
    narrator = pub.narration.voice if pub.narration is not None else ""
    out = folder / pub.layout.epub
    meta = book.metadata
    eb = epub.EpubBook()
    eb.set_identifier(meta.identifier)
    eb.set_title(meta.title)
    eb.set_language(meta.language)
    # a dc:creator for each author, with the role "aut" (marc:relators) reading systems and Audiobookshelf
    # keep authors by (they drop creators of other roles, or of none)
    for k, name in enumerate(meta.authors, start=1):
        eb.add_author(name, role="aut", uid=f"creator-{k}")
    if meta.publisher:
        eb.add_metadata("DC", "publisher", meta.publisher)
    if meta.date:
        eb.add_metadata("DC", "date", meta.date)
    if meta.description:
        eb.add_metadata("DC", "description", meta.description)
    if meta.source_url:
        eb.add_metadata("DC", "source", meta.source_url)
    if meta.rights:
        eb.add_metadata("DC", "rights", meta.rights)

    _add_accessibility(eb, book, narrator if pub.read_along else "")
    # the manifest's cover-image: readers show it on their shelf; no page of its own
    eb.set_cover(f"images/{pub.layout.cover(cover)}", cover.data, create_page=False)

    css = epub.EpubItem(uid="style", file_name="style/book.css", media_type="text/css", content=STYLESHEET.encode())
    eb.add_item(css)

    direction = meta.direction
    if direction == "rtl":
        eb.set_direction("rtl")
    renderer = _Renderer(book, toc, narrator)
    documents = []
    for entry in toc:
        doc = epub.EpubHtml(
            title=entry.title,
            file_name=entry.xhtml,
            lang=meta.language,
            uid=f"s{entry.number:03d}",
            direction=direction if direction == "rtl" else None,
        )
        doc.content = renderer.body(entry, book)
        doc.add_link(href="../style/book.css", rel="stylesheet", type="text/css")
        eb.add_item(doc)
        documents.append(doc)
        if pub.read_along:
            _add_overlay(eb, doc, entry, pub, folder)
    if pub.read_along:
        total = sum(pub.audio(entry).duration for entry in toc)
        eb.add_metadata(None, "meta", _clock(total), {"property": "media:duration"})
        eb.add_metadata(None, "meta", ACTIVE_CLASS, {"property": "media:active-class"})
        if narrator:
            eb.add_metadata(None, "meta", narrator, {"property": "media:narrator"})
    for number, (data, (name, media_type)) in enumerate(renderer.images.items(), start=1):
        eb.add_item(epub.EpubItem(uid=f"img{number:03d}", file_name=name, media_type=media_type, content=data))

    eb.toc = _nested_toc(toc)
    eb.add_item(epub.EpubNcx())
    nav = epub.EpubNav(title="Contents", direction=direction if direction == "rtl" else None)
    nav.add_item(css)
    eb.add_item(nav)
    eb.spine = ["nav", *documents]
    eb.guide = [
        {"href": "nav.xhtml", "title": "Contents", "type": "toc"},
        {"href": documents[0].file_name, "title": toc[0].title, "type": "text"},
    ]

    writer = _Writer(
        str(out),
        eb,
        {"raise_exceptions": True, "mtime": pub.modified, "epub3_pages": False, "landmark_title": "Landmarks"},
    )
    writer.process()
    try:
        writer.write()
    except OSError as exc:
        raise OutputError(str(out), exc.strerror or str(exc)) from exc
    return out


ACTIVE_CLASS = "-epub-media-overlay-active"
# An id attribute in markup we wrote: text is escaped, so a '<' always opens one of our tags.
WRITTEN_ID = re.compile(r'<[A-Za-z][^<>]*?\sid="([^"]*)"')
CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"


def _clock(seconds: float) -> str:
    """A SMIL clock value, h:mm:ss.fff."""
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


@dataclass(frozen=True)
class _Streamed:
    """A file's content that the zip copies from disk in chunks: a section MP3 may be hours long."""

    path: Path


class _FileItem(epub.EpubItem):
    """A manifest item whose bytes stay on disk until the zip streams them in."""

    def __init__(self, path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path

    def get_content(self, default: object = None) -> _Streamed:
        return _Streamed(self.path)


def _add_overlay(eb: epub.EpubBook, doc: epub.EpubHtml, entry: TocEntry, pub: Publication, folder: Path) -> None:
    """The section's MP3 and its SMIL document: one <par> per clip, in reading order."""
    from lxml import etree

    audio = pub.audio(entry)
    mp3 = pub.layout.section_mp3(entry)  # the same path inside the EPUB as in the book's folder
    smil_id = f"mo{entry.number:03d}"
    eb.add_item(_FileItem(folder / mp3, uid=f"au{entry.number:03d}", file_name=mp3, media_type="audio/mpeg"))
    smil_ns, epub_ns = "http://www.w3.org/ns/SMIL", "http://www.idpf.org/2007/ops"
    root = etree.Element(f"{{{smil_ns}}}smil", nsmap={None: smil_ns, "epub": epub_ns}, version="3.0")
    body = etree.SubElement(root, f"{{{smil_ns}}}body")
    text = f"../{entry.xhtml}"
    seq = etree.SubElement(
        body,
        f"{{{smil_ns}}}seq",
        {"id": "seq1", f"{{{epub_ns}}}textref": f"{text}#sec-{entry.slug}", f"{{{epub_ns}}}type": "chapter"},
    )
    for k, clip in enumerate(audio.clips, start=1):
        par = etree.SubElement(seq, f"{{{smil_ns}}}par", id=f"par{k}")
        etree.SubElement(par, f"{{{smil_ns}}}text", src=f"{text}#{clip.unit}")
        etree.SubElement(
            par, f"{{{smil_ns}}}audio", src=f"../{mp3}", clipBegin=_clock(clip.begin), clipEnd=_clock(clip.end)
        )
    eb.add_item(
        epub.EpubItem(
            uid=smil_id,
            file_name=f"smil/{entry.slug}.smil",
            media_type="application/smil+xml",
            content=etree.tostring(root, xml_declaration=True, encoding="utf-8"),
        )
    )
    doc.media_overlay = smil_id
    eb.add_metadata(None, "meta", _clock(audio.clips[-1].end), {"property": "media:duration", "refines": f"#{smil_id}"})


def _add_accessibility(eb: epub.EpubBook, book: Book, narrator: str = "") -> None:
    """schema.org accessibility metadata, decided from the book: nothing is claimed that is not true.

    Conformance to EPUB Accessibility 1.1 (WCAG 2.2 AA) is claimed only when every
    meaningful image has a text alternative; the markup itself (language, headings,
    table headers, landmarks) is what Ace by DAISY checks in the test suite.
    """

    def meta(prop: str, value: str) -> None:
        eb.add_metadata(None, "meta", value, {"property": prop})

    blocks = [b for s in book.sections for b in iter_blocks(s.blocks)]
    images = [b for b in blocks if isinstance(b, Image) and b.alt != ""]  # alt '' marks decoration
    described = all(image.alt for image in images)
    visual = any(image.data is not None for image in images)
    modes = ["textual", *(["visual"] if visual else []), *(["auditory"] if narrator else [])]
    for mode in modes:
        meta("schema:accessMode", mode)
    meta("schema:accessModeSufficient", "textual" if described else "textual,visual")
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if images and described:
        features.append("alternativeText")
    if narrator:
        features.append("synchronizedAudioText")
    if any(span.ruby for b in blocks for span in getattr(b, "spans", ())):
        features.append("rubyAnnotations")
    for feature in features:
        meta("schema:accessibilityFeature", feature)
    meta("schema:accessibilityHazard", "none")
    summary = [
        (
            "The article as an EPUB 3 whose table of contents follows its headings and whose reading "
            "order follows the page."
        )
    ]
    if narrator:
        summary.append(
            f"Every section is narrated by a synthetic voice ({narrator}), and the text is "
            "highlighted sentence by sentence as it is read (media overlays)."
        )
    if images and not described:
        summary.append(
            "Some images have no text alternative in the source article, so this book does not claim conformance."
        )
    elif images:
        summary.append("Every image has the text alternative the source article gave it.")
    meta("schema:accessibilitySummary", " ".join(summary))
    if described:
        meta("dcterms:conformsTo", CONFORMANCE)
        meta("a11y:certifiedBy", "talkingbook (automated: EPUBCheck and Ace by DAISY in its test suite)")


class _Writer(epub.EpubWriter):
    """ebooklib's writer with ``<package xml:lang>`` and reproducible zip entries."""

    def _write_opf_file(self, root: _Element) -> None:
        root.set(XML_LANG, self.book.language)
        super()._write_opf_file(root)

    def write(self) -> None:
        stamp = self.options["mtime"].astimezone(UTC).timetuple()[:6]
        self.out = _FixedTimeZip(self.file_name, "w", zipfile.ZIP_DEFLATED, date_time=max(stamp, (1980, 1, 1)))
        try:
            self.out.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
            self._write_container()
            self._write_opf()
            self._write_items()
        finally:
            self.out.close()


class _FixedTimeZip(zipfile.ZipFile):
    """A ZipFile whose entries all carry one timestamp."""

    def __init__(self, *args: Any, date_time: tuple[int, int, int, int, int, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._date_time = date_time

    # ebooklib passes member names only, never a ZipInfo: narrower than ZipFile.writestr's first argument
    def writestr(  # type: ignore[override]
        self,
        name: str,
        data: bytes | str | _Streamed,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        info = zipfile.ZipInfo(name, date_time=self._date_time)
        if compress_type is None:  # MP3 does not deflate: stored, so readers can seek in it
            compress_type = zipfile.ZIP_STORED if name.endswith(".mp3") else zipfile.ZIP_DEFLATED
        info.compress_type = compress_type
        info.external_attr = 0o644 << 16
        if isinstance(data, _Streamed):
            info.file_size = data.path.stat().st_size
            with open(data.path, "rb") as source, self.open(info, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            return
        super().writestr(info, data)


def _nested_toc(toc: tuple[TocEntry, ...]) -> list[Any]:
    """ebooklib's nested toc (tuples of Section and children) from the entries' levels."""
    root: list[Any] = []
    stack: list[tuple[int, list[Any]]] = [(0, root)]
    for entry in toc:
        nodes = [(entry.level, entry.title, entry.xhtml, f"toc-{entry.number}")]
        base = entry.level
        for k, sub in enumerate(entry.subentries, start=1):
            nodes.append((base + sub.depth, sub.title, f"{entry.xhtml}#{sub.anchor}", f"toc-{entry.number}-{k}"))
        for level, title, href, uid in nodes:
            while len(stack) > 1 and stack[-1][0] >= level:
                stack.pop()
            children: list[Any] = []
            stack[-1][1].append([epub.Section(title, href), children, uid])
            stack.append((level, children))
    return [_as_ebooklib(node) for node in root]


def _as_ebooklib(node: list[Any]) -> Any:  # an ebooklib Link, or a (Section, children) pair
    section, children, uid = node
    if not children:
        return epub.Link(section.href, section.title, uid)
    return (section, [_as_ebooklib(child) for child in children])


# --- XHTML bodies ---------------------------------------------------------


class _Renderer:
    """Model blocks as XHTML body markup for one book: images named once, in-book links resolved."""

    def __init__(self, book: Book, toc: tuple[TocEntry, ...], narrator: str = "") -> None:
        self.narrator = narrator
        self.images: dict[bytes, tuple[str, str]] = {}  # image bytes -> (file name, media type)
        # id a link names -> (XHTML file relative to the text folder, fragment): what each body
        # really writes, read from a first rendering, so a link never points at an id that is
        # not in the book (EPUBCheck RSC-012) whatever the model carried.
        self.targets: dict[str, tuple[str, str]] = {}
        self.current = ""
        for entry in toc:
            doc = entry.xhtml.split("/", 1)[1]
            for anchor in WRITTEN_ID.findall(self.body(entry, book)):
                self.targets.setdefault(anchor, (doc, anchor))
            if entry.section.anchor:  # a link to a heading that starts a section: the section
                self.targets.setdefault(entry.section.anchor, (doc, f"sec-{entry.slug}"))
        self.current = ""

    def body(self, entry: TocEntry, book: Book) -> str:
        meta = book.metadata
        self.current = entry.xhtml.split("/", 1)[1]
        level = min(entry.level, 6)
        lang = f' lang="{escape(entry.section.lang)}"' if entry.section.lang else ""
        parts = [
            (f'<section id="sec-{entry.slug}" epub:type="chapter" role="doc-chapter" aria-labelledby="{TITLE_ID}">'),
            f'<h{level} id="{TITLE_ID}"{lang}>{self.heading(entry)}</h{level}>',
        ]
        if entry.section.is_opening:
            # announcements in a language without its own phrases are English, and marked so
            phrases_lang = "" if phrase_language(meta.language) == meta.language.split("-")[0].lower() else ' lang="en"'
            if meta.author:
                authors = list_of_names(meta.authors, phrase_language(meta.language))
                byline = escape(phrase(meta.language, "by", author=authors))
                parts.append(f'<p class="byline" id="{BYLINE_ID}"{phrases_lang}>{byline}</p>')
            if meta.publisher or meta.date:
                bits = [escape(meta.publisher)] if meta.publisher else []
                if meta.date:
                    bits.append(f'<time datetime="{meta.date}">{escape(long_date(meta.date, meta.language))}</time>')
                parts.append(f'<p class="dateline" id="{DATELINE_ID}">{", ".join(bits)}</p>')
            credit = []
            if meta.source_url:
                link = f'<a href="{escape(meta.source_url)}">{escape(meta.source_label)}</a>'
                credit.append(escape(phrase(meta.language, "source", source="\0")).replace("\0", link))
            if meta.license:
                name = escape(meta.license)
                if meta.license_url:
                    name = f'<a href="{escape(meta.license_url)}" rel="license">{name}</a>'
                credit.append(escape(phrase(meta.language, "license", license="\0")).replace("\0", name))
            if credit:
                parts.append(f'<p class="credit" id="{CREDIT_ID}"{phrases_lang}>{" ".join(credit)}</p>')
            if self.narrator:
                notice = escape(narrator_notice(self.narrator, meta.language))
                parts.append(f'<p class="narrator" id="{NARRATOR_ID}"{phrases_lang}>{notice}</p>')
        ranks = {sub.anchor: min(6, level + sub.depth) for sub in entry.subentries}
        parts.extend(self.block(block, ranks) for block in entry.section.blocks)
        parts.append("</section>")
        return "\n".join(parts)

    def heading(self, entry: TocEntry) -> str:
        """The section's heading as the page marked it up (emphasis, ruby...); the opening's is the title."""
        section = entry.section
        return self.inline(section.heading) if section.heading else escape(entry.title)

    def block(self, block: Block, ranks: dict[str, int]) -> str:
        match block:
            case Paragraph():
                return f"<p{_attrs(block.anchor, block.lang, block.dir)}>{self.sentences(block)}</p>"
            case Heading():
                rank = ranks.get(block.anchor, 6)
                return f"<h{rank}{_attrs(block.anchor, block.lang, block.dir)}>{self.inline(block.spans)}</h{rank}>"
            case ListBlock():
                tag = "ol" if block.ordered else "ul"
                start = f' start="{block.start}"' if block.ordered and block.start != 1 else ""
                items = "".join(
                    f"<li{_attrs(item.anchor)}>{self.item(item.blocks, ranks)}</li>" for item in block.items
                )
                return f"<{tag}{start}{_attrs('', block.lang, block.dir)}>{items}</{tag}>"
            case Quote():
                inner = "".join(self.block(b, ranks) for b in block.blocks)
                return f"<blockquote{_attrs(block.anchor, block.lang, block.dir)}>{inner}</blockquote>"
            case Image():
                return self.image(block)
            case Table():
                return self.table(block, ranks)
            case CodeBlock():
                return f"<pre{_attrs(block.anchor)}><code>{escape(block.text, quote=False)}</code></pre>"
            case _:
                assert_never(block)

    def item(self, blocks: tuple[Block, ...], ranks: dict[str, int]) -> str:
        if len(blocks) == 1 and isinstance(blocks[0], Paragraph) and not blocks[0].anchor:
            only = blocks[0]
            inner = self.sentences(only)
            return f"<span{_attrs('', only.lang, only.dir)}>{inner}</span>" if (only.lang or only.dir) else inner
        return "".join(self.block(b, ranks) for b in blocks)

    def sentences(self, paragraph: Paragraph) -> str:
        """A paragraph's text, each sentence in a span with its id (the unit read-along highlights)."""
        if not paragraph.sentences:
            return self.inline(paragraph.spans)
        return " ".join(f'<span id="{s.id}">{self.inline(s.spans)}</span>' for s in paragraph.sentences)

    def image(self, image: Image) -> str:
        caption = (
            f"<figcaption{_attrs(image.caption_id)}>{self.inline(image.caption)}</figcaption>" if image.caption else ""
        )
        if image.data is None:
            # Not embeddable: keep what the image says as its accessible name, as the page's
            # <img alt> did; the stylesheet shows it to sighted readers too.
            text = (
                f'<span class="image-missing" role="img" aria-label="{escape(image.alt)}"></span>' if image.alt else ""
            )
            return f"<figure{_attrs(image.anchor)}>{text}{caption}</figure>" if (text or caption) else ""
        if image.data not in self.images:
            ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}[image.media_type]
            self.images[image.data] = (f"images/img-{len(self.images) + 1:03d}.{ext}", image.media_type)
        name = self.images[image.data][0]
        alt = f' alt="{escape(image.alt)}"' if image.alt is not None else ""
        if not caption:  # the id (what the narration's 'Image: ...' belongs to) goes on the image itself
            return f'<p><img{_attrs(image.anchor)} src="../{name}"{alt}/></p>'
        return f'<figure{_attrs(image.anchor)}><img src="../{name}"{alt}/>{caption}</figure>'

    def table(self, table: Table, ranks: dict[str, int]) -> str:
        out = [f"<table{_attrs(table.anchor, table.lang, table.dir)}>"]
        if table.caption:
            out.append(f"<caption>{self.inline(table.caption)}</caption>")
        for row, row_id in zip(table.rows, table.row_ids or ("",) * len(table.rows)):
            cells = []
            for cell in row:
                tag = "th" if cell.header else "td"
                extra = f' scope="{cell.scope}"' if cell.header and cell.scope else ""
                extra += f' colspan="{cell.colspan}"' if cell.colspan > 1 else ""
                extra += f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else ""
                cells.append(f"<{tag}{extra}>{self.item(cell.blocks, ranks)}</{tag}>")
            out.append(f"<tr{_attrs(row_id)}>{''.join(cells)}</tr>")
        out.append("</table>")
        return "".join(out)

    def inline(self, spans: Inlines) -> str:
        out = []
        for span in spans:
            text = escape(span.text, quote=False)
            if span.ruby:
                text = f"<ruby>{text}<rp>(</rp><rt>{escape(span.ruby, quote=False)}</rt><rp>)</rp></ruby>"
            if span.kind in ("em", "strong", "code", "sup", "sub"):
                text = f"<{span.kind}>{text}</{span.kind}>"
            href = self.href(span.href) if span.kind == "link" else None
            if href:
                text = f'<a href="{escape(href)}">{text}</a>'
            if span.lang or span.dir or span.anchor:
                text = f"<span{_attrs(span.anchor, span.lang, span.dir)}>{text}</span>"
            out.append(text)
        return "".join(out)

    def href(self, href: str | None) -> str | None:
        if not href:
            return None
        if href.startswith("#"):
            target = self.targets.get(href[1:])
            if target is None:
                return None  # the target was not kept: plain text, never a broken link
            doc, fragment = target
            return f"#{fragment}" if doc == self.current else f"{doc}#{fragment}"
        return href


def _attrs(anchor: str = "", lang: str = "", direction: str = "") -> str:
    out = f' id="{escape(anchor)}"' if anchor else ""
    out += f' lang="{escape(lang)}"' if lang else ""
    out += f' dir="{direction}"' if direction in ("rtl", "ltr") else ""
    return out
