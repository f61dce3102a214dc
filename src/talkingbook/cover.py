"""The cover: the article's own lead image when it has a usable one, otherwise one drawn from
the title, the site and the date.

Either way it is a square of ``SIZE`` pixels, what podcast directories require (Apple: 1400 to
3000 pixels square, JPEG or PNG), so one file serves the EPUB, the MP3 and M4B tags, the feed and
the listening page. The drawn cover is white and yellow on a dark blue (contrast 16:1 and 11:1),
set in Atkinson Hyperlegible, the Braille Institute's typeface for low-vision readers, shipped as
a pip package; a script it lacks (Cyrillic, Arabic, CJK...) is set in a system font that has it
(found with fontconfig), and text no font here can draw is left off rather than shown as boxes.

Pillow draws it: no library lays out a cover, so the layout below is our own.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
import warnings
from functools import lru_cache

from .model import MAX_IMAGE_PIXELS, Book, Cover, CoverOrigin, CoverType, Image, iter_blocks
from .phrases import long_date
from .publication import Layout
from .system.cache import digest

log = logging.getLogger(__name__)

SIZE = 1400
MARGIN = 110
BACKGROUND = (10, 26, 47)  # #0a1a2f
TEXT = (255, 255, 255)
ACCENT = (255, 204, 0)  # #ffcc00
MUTED = (214, 222, 232)
MIN_WIDTH, MIN_HEIGHT = 600, 300  # smaller article images would be blown up into a blur
PHOTO_HEIGHT = 800  # a wide article image fills the top of the cover, the title goes below


COVER_ID = "cover;1400;atkinson-1.6;v1"  # changes whenever the layout does


def make_cover(book: Book, cache=None) -> Cover:
    """The book's cover, from its lead image or its text's images (as the reader read them), else
    drawn. With ``cache`` (a :class:`~talkingbook.system.cache.SpeechCache`), a cover made before from
    the same text and images is reused: drawing one costs a fifth of a second, much of a warm re-run."""
    candidates = _candidates(book)
    meta = book.metadata
    texts = [
        meta.title,
        meta.source_label,
        meta.source_url,
        meta.author,
        long_date(meta.date, meta.language) if meta.date else "",
    ]
    # a text in another script is drawn with whatever system font has it, which may change: not cached
    key = (
        digest("cover", COVER_ID, texts, meta.language, [hashlib.sha256(c).hexdigest() for c in candidates])
        if cache is not None and all(_own_script(t) for t in texts)
        else None
    )
    stored: tuple[tuple[str, CoverType, CoverOrigin], ...] = (
        (".jpg", "image/jpeg", "article"),
        (".png", "image/png", "generated"),
    )
    for suffix, media_type, origin in stored:
        data = cache.get_bytes("covers", key, suffix) if key else None
        if data:
            return Cover(data, media_type, origin)
    photo = _article_image(candidates)
    if photo is not None:
        cover = Cover(_jpeg(_with_photo(book, photo)), "image/jpeg", "article")
    else:
        cover = Cover(_png(_drawn(book)), "image/png", "generated")
    if key:
        cache.put_bytes("covers", key, "." + Layout.cover(cover).rsplit(".", 1)[1], cover.data)
    return cover


def _own_script(text: str) -> bool:
    """True when Atkinson Hyperlegible's scripts suffice (Latin, general punctuation, the euro)."""
    return all(ord(c) < 0x250 or 0x2000 <= ord(c) < 0x2070 or c == "€" for c in text)


def _candidates(book: Book) -> list[bytes]:
    """The page's declared lead image, then the text's meaningful images, then its others."""
    candidates = [book.lead_image.data] if book.lead_image is not None and book.lead_image.data else []
    images = [
        (data, b.alt) for s in book.sections for b in iter_blocks(s.blocks) if isinstance(b, Image) and (data := b.data)
    ]
    return candidates + [data for data, alt in images if alt] + [data for data, alt in images if not alt]


def _article_image(candidates: list[bytes]):
    """The first candidate that can be read and is large enough, as an RGB Pillow image."""
    from PIL import Image as PILImage, ImageOps, UnidentifiedImageError

    for data in candidates:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PILImage.DecompressionBombWarning)  # decided here, below
                opened = PILImage.open(io.BytesIO(data))  # the header only: nothing is decoded yet
            with opened:
                if opened.width * opened.height > MAX_IMAGE_PIXELS:
                    continue  # a decompression bomb, or more pixels than a cover needs memory for
                picture = ImageOps.exif_transpose(opened)
                if picture.width < MIN_WIDTH or picture.height < MIN_HEIGHT:
                    continue
                if picture.mode in ("RGBA", "LA", "P"):
                    picture = picture.convert("RGBA")
                    backdrop = PILImage.new("RGBA", picture.size, (*BACKGROUND, 255))
                    picture = PILImage.alpha_composite(backdrop, picture)
                return picture.convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError, PILImage.DecompressionBombError):
            continue
    return None


def _with_photo(book: Book, photo):
    """A square-ish image fills the cover; a wide or tall one fills its top, the title goes below."""
    from PIL import Image as PILImage, ImageDraw, ImageOps

    if 0.9 <= photo.width / photo.height <= 1.1:
        return ImageOps.fit(photo, (SIZE, SIZE), PILImage.Resampling.LANCZOS)
    canvas = PILImage.new("RGB", (SIZE, SIZE), BACKGROUND)
    canvas.paste(ImageOps.fit(photo, (SIZE, PHOTO_HEIGHT), PILImage.Resampling.LANCZOS), (0, 0))
    draw = ImageDraw.Draw(canvas)
    meta = book.metadata
    rtl = meta.direction == "rtl"
    y = PHOTO_HEIGHT + 60
    label, font = _drawable(48, False, meta.source_label, meta.source_host)
    if font is not None:
        y = _line(draw, _ellipsize(draw, label, font, SIZE - 2 * MARGIN, rtl), font, y, ACCENT, rtl) + 24
    bottom = SIZE - MARGIN + 30
    _title_block(draw, meta.title, y, bottom, sizes=range(96, 47, -4), max_lines=3, rtl=rtl)
    return canvas


def _drawn(book: Book):
    """Title, site and date, large, on a plain dark background."""
    from PIL import Image as PILImage, ImageDraw

    meta = book.metadata
    rtl = meta.direction == "rtl"
    canvas = PILImage.new("RGB", (SIZE, SIZE), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    bar_x = SIZE - MARGIN - 160 if rtl else MARGIN
    draw.rectangle((bar_x, MARGIN, bar_x + 160, MARGIN + 20), fill=ACCENT)
    y = MARGIN + 70
    label, font = _drawable(64, True, meta.source_label, meta.source_host)
    if font is not None:
        y = _line(draw, label, font, y, ACCENT, rtl) + 50
    footer = [_drawable(56, False, meta.author)]
    if meta.date:
        footer.append(_drawable(56, False, long_date(meta.date, meta.language), meta.date))
    footer = [(text, font) for text, font in footer if font is not None]
    bottom = SIZE - MARGIN - sum(round(f.size * 1.3) for _, f in footer) - (40 if footer else 0)
    _title_block(draw, meta.title, y, bottom, sizes=range(150, 59, -6), max_lines=7, rtl=rtl)
    y = bottom + (40 if footer else 0)
    for text, font in footer:
        y = _line(draw, _ellipsize(draw, text, font, SIZE - 2 * MARGIN, rtl), font, y, MUTED, rtl)
    return canvas


def _drawable(size: int, bold: bool, *texts: str):
    """The first of ``texts`` that some font here can draw, with that font; ('', None) if none."""
    for text in texts:
        if text and (font := _font(text, size, bold=bold)) is not None:
            return text, font
    return "", None


def _title_block(draw, title: str, top: int, bottom: int, *, sizes: range, max_lines: int, rtl: bool) -> None:
    """The title in the largest bold size whose lines fit between ``top`` and ``bottom``; at the
    smallest size, the lines that fit, the last one ending in an ellipsis."""
    font = lines = None
    for size in sizes:
        font = _font(title, size, bold=True)
        if font is None:
            log.info("no font here draws the title %r; the cover shows the site and date only", title[:60])
            return
        lines = _wrap(draw, title, font, SIZE - 2 * MARGIN, rtl)
        if len(lines) <= max_lines and top + len(lines) * round(size * 1.18) <= bottom:
            break
    else:
        assert font is not None and lines is not None  # the loop ran: ``sizes`` is never empty
        fit = max(1, min(max_lines, (bottom - top) // round(font.size * 1.18)))
        if len(lines) > fit:
            lines = [*lines[: fit - 1], _ellipsize(draw, " ".join(lines[fit - 1 :]), font, SIZE - 2 * MARGIN, rtl)]
    y = top
    for line in lines:
        y = _line(draw, line, font, y, TEXT, rtl, spacing=1.18)


def _line(draw, text: str, font, y: int, fill, rtl: bool, spacing: float = 1.3) -> int:
    """Draw one line at ``y`` (right-aligned for right-to-left text); returns the next line's y."""
    options = _direction(rtl)
    width = draw.textlength(text, font=font, **options)
    x = SIZE - MARGIN - width if rtl else MARGIN
    draw.text((x, y), text, font=font, fill=fill, **options)
    return y + round(font.size * spacing)


def _direction(rtl: bool) -> dict:
    from PIL import features

    return {"direction": "rtl"} if rtl and features.check("raqm") else {}


def _wrap(draw, text: str, font, width: int, rtl: bool) -> list[str]:
    """Greedy line breaking at spaces (at any character for scripts written without spaces)."""
    spaced = " " in text.strip()
    units, joiner = (text.split(), " ") if spaced else (list(text.strip()), "")
    options = _direction(rtl)
    lines: list[str] = []
    line = ""
    for unit in units:
        attempt = f"{line}{joiner}{unit}" if line else unit
        if draw.textlength(attempt, font=font, **options) <= width:
            line = attempt
            continue
        if line:
            lines.append(line)
        line = unit
        while draw.textlength(line, font=font, **options) > width and len(line) > 1:  # one over-long word
            cut = len(line) - 1
            while cut > 1 and draw.textlength(line[:cut], font=font, **options) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line:
        lines.append(line)
    return lines


def _ellipsize(draw, text: str, font, width: int, rtl: bool) -> str:
    """``text`` as is when it fits ``width``, else cut and ended with an ellipsis."""
    options = _direction(rtl)
    if draw.textlength(text, font=font, **options) <= width:
        return text
    while text and draw.textlength(text + "…", font=font, **options) > width:
        text = text[:-1].rstrip()
    return text + "…"


def _font(text: str, size: int, *, bold: bool):
    """A font at ``size`` that has a glyph for every character of ``text``, or None."""
    import fontpkg_atkinson_hyperlegible as atkinson

    needed = frozenset(c for c in text if not c.isspace())
    own = str(atkinson.ROOT / "files" / f"AtkinsonHyperlegible-{'Bold' if bold else 'Regular'}.ttf")
    if all(_has_glyph(own, c) for c in needed):
        return _load(own, size)
    for path in _system_fonts(bold, needed):  # asked only when our own font lacks a character
        font = _load(path, size)
        if font is not None and all(_has_glyph(path, c) for c in needed):
            return font
    return None


def _system_fonts(bold: bool, needed: frozenset[str]) -> list[str]:
    """Installed fonts that cover ``needed`` (fontconfig's ``fc-list``), bold and sans first."""
    if not needed or all(ord(c) < 0x250 for c in needed) or shutil.which("fc-list") is None:
        return []  # Atkinson Hyperlegible covers Latin; no fontconfig, no system fonts
    charset = " ".join(f"{ord(c):x}" for c in sorted(needed))
    try:
        listed = subprocess.run(
            ["fc-list", f":charset={charset}", "file", "style"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for row in listed.splitlines():
        path, _, style = row.partition(":")
        if path.lower().endswith((".ttf", ".otf", ".ttc")):
            style = style.lower()
            rank = (
                ("bold" in style) != bold,
                "mono" in path.lower(),
                "serif" in path.lower(),
                any(w in style for w in ("italic", "oblique", "condensed", "light", "black")),
                path,
            )
            found.append((rank, path))
    return [path for _, path in sorted(found)]


@lru_cache(maxsize=64)
def _load(path: str, size: int):
    from PIL import ImageFont

    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return None


@lru_cache(maxsize=4096)
def _has_glyph(path: str, char: str) -> bool:
    """Pillow cannot ask a font for its character map; a character the font lacks is drawn as the
    font's 'missing glyph' box, so compare with the box drawn for a private-use character."""
    font = _load(path, 64)
    if font is None:
        return False

    def drawn(c: str):
        mask = font.getmask(c)
        return mask.size, bytes(mask)

    return drawn(char) != drawn("\U000f0000")


def _png(picture) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def _jpeg(picture) -> bytes:
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90, optimize=True, progressive=False)
    return out.getvalue()
