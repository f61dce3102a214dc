"""``DIR/index.html``, the library page: every article, newest first, with its cover, title, site,
author, date, language, length and links to its listening page, EPUB and audiobook; the podcast
feed and the catalogs announced with ``<link rel="alternate">``. Plain HTML and CSS, no script,
as the listening page (writers/listening_page.py). Its links are relative: it works from a folder,
a static host or `serve` alike."""

from __future__ import annotations

from html import escape

from ..phrases import long_date
from .model import CATALOG, Entry, Library
from .opds import NAVIGATION, OPDS2
from .urls import href

GENERATOR = '<meta name="generator" content="talkingbook">'  # how a refresh knows the page is its own

STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 46rem; margin: 0 auto; padding: 1rem;
       color: #111; background: #fff; }
a { color: #0645ad; }
a:focus { outline: 3px solid #b35c00; outline-offset: 2px; }
ol.books { list-style: none; padding: 0; }
ol.books > li { margin: 0 0 2rem; display: flow-root; }
img.cover { width: 6rem; height: 6rem; float: inline-start; margin: 0 1rem 0.5rem 0; }
.meta { color: #333; margin: 0.25rem 0; }
ul.links { margin: 0.25rem 0; padding-left: 1.25rem; }
"""


def _length(seconds: float | None) -> str:
    """'12 min' or '1 h 05 min' (None: no audio)."""
    if seconds is None:
        return ""
    minutes = max(1, round(seconds / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _language(code: str) -> str:
    """'fr' as 'French', in English (the page's own language)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except (UnknownLocaleError, ValueError):
        return code


def _book(book: Entry, number: int) -> list[str]:
    heading = f"book-{number}"
    out = [f'<li><article aria-labelledby="{heading}">']
    if book.cover:  # the title is given as text next to it: decorative here
        out.append(f'<img class="cover" src="{escape(href(None, book.cover))}" alt="" width="1400" height="1400">')
    title = escape(book.title)
    if book.page:
        title = f'<a href="{escape(href(None, book.page))}">{title}</a>'
    out.append(f'<h2 id="{heading}" lang="{escape(book.language)}">{title}</h2>')
    byline = [escape(x) for x in (book.site, book.author) if x]
    if book.date:
        byline.append(f'<time datetime="{escape(book.date)}">{escape(long_date(book.date))}</time>')
    if byline:
        out.append(f'<p class="meta">{" · ".join(byline)}</p>')
    facts = [_language(book.language)]
    if book.duration is not None:
        facts.append(f"{_length(book.duration)} of narration")
    out.append(f'<p class="meta">{escape(" · ".join(facts))}</p>')
    if book.summary:
        out.append(f'<p lang="{escape(book.language)}">{escape(book.summary)}</p>')
    links = []
    if book.page:
        links.append((book.page, "Listen"))
    links.append((book.epub, "EPUB (read-along)" if book.mp3 or book.m4b else "EPUB"))
    if book.mp3:
        links.append((book.mp3, "Audiobook (MP3)"))
    if book.m4b:
        links.append((book.m4b, "Audiobook (M4B)"))
    # the list is named after its book: a screen reader's list of lists then tells them apart
    out.append(f'<ul class="links" aria-label="{escape(book.title)}: downloads">')
    out += [f'<li><a href="{escape(href(None, path))}">{escape(label)}</a></li>' for path, label in links]
    out += ["</ul>", "</article></li>"]
    return out


def render_page(library: Library) -> bytes:
    """The library page (relative links)."""
    title = escape(library.title)
    lang = library.language or "en"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        GENERATOR,
        f"<title>{title}</title>",
        f'<link rel="alternate" type="application/rss+xml" title="{title} (podcast)" href="feed.xml">',
        f'<link rel="alternate" type="{NAVIGATION}" title="{title} (OPDS catalog)" href="{CATALOG}/index.xml">',
        f'<link rel="alternate" type="{OPDS2}" title="{title} (OPDS 2 catalog)" href="{CATALOG}/index.json">',
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{title}</h1>",
        f"<p>{escape(library.description)}</p>",
        '<nav aria-label="Subscribe"><ul>',
        '<li><a href="feed.xml">Podcast feed</a> (every article as an episode)</li>',
        f'<li><a href="{CATALOG}/index.xml">Catalog for e-reader apps</a> (OPDS)</li>',
        "</ul></nav>",
        "</header>",
        "<main>",
    ]
    count = len(library.books)
    parts.append(f'<p id="count">{count} article{"s" if count != 1 else ""}, newest first.</p>')
    if library.books:
        parts.append('<ol class="books" aria-describedby="count">')
        for number, book in enumerate(library.books, 1):
            parts += _book(book, number)
        parts.append("</ol>")
    parts += ["</main>", "</body>", "</html>"]
    return ("\n".join(parts) + "\n").encode()
