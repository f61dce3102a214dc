"""index.html: an accessible listening page with no dependencies, read from the one list of
sections: the title, each section with its audio player and transcript, and links to the
EPUB, the audiobook and the feed. Plain HTML and CSS, no script: it works in any browser,
with any screen reader, from a folder or a web server."""

from __future__ import annotations

from html import escape
from pathlib import Path

from ..phrases import list_of_names, long_date, spoken_voice_name
from ..publication import Publication

STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; max-width: 46rem; margin: 0 auto; padding: 1rem;
       color: #111; background: #fff; }
a { color: #0645ad; }
a:focus, audio:focus, summary:focus { outline: 3px solid #b35c00; outline-offset: 2px; }
ol.sections { padding-left: 1.5rem; }
ol.sections > li { margin: 1.5rem 0; }
audio { width: 100%; }
.meta { color: #333; }
.meta a { overflow-wrap: anywhere; }
img.cover { width: 12rem; height: 12rem; float: inline-end; margin: 0 0 1rem 1rem; }
nav, main { clear: both; }
"""


def write_listening_page(pub: Publication, folder: Path) -> Path:
    """Write the page: the title, each section's player and transcript, and a link to each output
    that has a label (``Publication.links``: the EPUB, the audiobook, the feed...)."""
    meta, layout = pub.book.metadata, pub.layout
    assert pub.narration is not None, "the listening page is made for a narrated book"
    lang, direction = escape(meta.language), meta.direction
    byline = [escape(x) for x in (list_of_names(meta.authors, meta.language), meta.publisher) if x]
    if meta.date:
        byline.append(f'<time datetime="{meta.date}">{escape(long_date(meta.date, meta.language))}</time>')
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}" dir="{direction}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(meta.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(meta.title)}</h1>",
    ]
    # the cover shows the title already given as text: decorative here
    parts.append(f'<img class="cover" src="{escape(layout.cover(pub.cover))}" alt="" width="1400" height="1400">')
    if byline:
        parts.append(f'<p class="meta">{" · ".join(byline)}</p>')
    voice = escape(spoken_voice_name(pub.narration.voice))
    parts.append(f'<p class="meta">Narrated by a synthetic voice: {voice}.</p>')
    if meta.source_url:
        parts.append(f'<p class="meta">Source: <a href="{escape(meta.source_url)}">{escape(meta.source_url)}</a></p>')
    parts += ['<nav aria-label="Downloads">', "<ul>"]
    parts += [f'<li><a href="{escape(link.path)}">{escape(link.label)}</a></li>' for link in pub.links]
    parts += [
        "</ul>",
        "</nav>",
        "</header>",
        "<main>",
        '<h2 id="sections">Sections</h2>',
        '<ol class="sections" aria-labelledby="sections">',
    ]
    for entry in pub.toc:
        heading = f"section-{entry.number}"
        transcript = " ".join(escape(c.text) for c in pub.audio(entry).clips[1:])  # the heading is above
        mp3 = layout.section_mp3(entry)
        parts += [
            f'<li><section aria-labelledby="{heading}">',
            f'<h3 id="{heading}">{escape(entry.title)}</h3>',
            (
                f'<audio controls preload="none" src="{escape(mp3)}" aria-labelledby="{heading}">'
                f'<track kind="captions" src="{escape(layout.section_vtt(entry))}" srclang="{lang}" label="Transcript">'
                f'<a href="{escape(mp3)}">Download the audio</a></audio>'
            ),
            f"<details><summary>Transcript of {escape(entry.title)}</summary><p>{transcript}</p></details>",
            "</section></li>",
        ]
    parts += ["</ol>", "</main>", "</body>", "</html>"]
    out = folder / layout.PAGE
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out
