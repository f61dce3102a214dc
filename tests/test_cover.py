"""The cover: the article's own image when it has a usable one, else one drawn from the title,
site and date; square, at least 1400 pixels, high contrast, and text that stays on the page."""

import io

import pytest
from PIL import Image

from builders import read
from conftest import SAMPLE
from talkingbook import cover as cover_module
from talkingbook.cover import ACCENT, BACKGROUND, MARGIN, MUTED, SIZE, TEXT, make_cover
from talkingbook.publication import Layout


def relative_luminance(rgb) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def book_of(html: str, folder=None):
    return read(html.encode(), name=str(folder / "page.html") if folder else "page.html", folder=folder)


def page(title: str, body: str = "", head: str = "", lang: str = "en") -> str:
    return (
        f'<html lang="{lang}"><head><title>{title}</title>{head}</head><body><article><h1>{title}</h1>'
        f"{body}<p>{'A paragraph of the article that says something of substance. ' * 6}</p>"
        "</article></body></html>"
    )


def opened(cover):
    return Image.open(io.BytesIO(cover.data))


def text_pixels(picture, colour=TEXT, box=None):
    """How many pixels of ``picture`` (in ``box``) are exactly ``colour``."""
    region = picture.crop(box) if box else picture
    return sum(n for n, c in region.getcolors(maxcolors=1 << 20) if c == colour)


def test_every_text_colour_has_at_least_aaa_contrast_with_the_background():
    for colour in (TEXT, ACCENT, MUTED):
        assert contrast(colour, BACKGROUND) >= 7, colour


def test_the_sample_gets_a_drawn_square_cover_with_its_title():
    book = book_of(SAMPLE.read_text(encoding="utf-8"))
    cover = make_cover(book)
    picture = opened(cover)
    assert (cover.origin, cover.media_type, Layout.cover(cover)) == ("generated", "image/png", "cover.png")
    assert picture.format == "PNG" and picture.size == (SIZE, SIZE) and SIZE >= 1400
    assert picture.getpixel((5, 5)) == BACKGROUND
    assert text_pixels(picture, TEXT) > 20000  # the title, large
    assert text_pixels(picture, ACCENT) > 2000  # the site's name and the bar


def test_different_titles_give_different_covers_and_the_same_title_the_same_bytes():
    a = make_cover(book_of(page("Rivers of the north")))
    b = make_cover(book_of(page("Rivers of the south")))
    assert a.data != b.data
    assert make_cover(book_of(page("Rivers of the north"))).data == a.data  # reproducible: the cache relies on it


def test_a_very_long_title_stays_inside_the_margins():
    title = " ".join(["Extraordinarily"] * 12 + ["long"] * 40)
    picture = opened(make_cover(book_of(page(title))))
    assert text_pixels(picture, TEXT) > 0
    for box in ((0, 0, MARGIN - 4, SIZE), (SIZE - MARGIN + 4, 0, SIZE, SIZE), (0, SIZE - MARGIN + 4, SIZE, SIZE)):
        assert text_pixels(picture, TEXT, box) == 0, box


def test_a_title_no_font_here_can_draw_is_left_off_not_drawn_as_boxes(monkeypatch):
    monkeypatch.setattr(cover_module, "_system_fonts", lambda bold, needed: [])
    picture = opened(
        make_cover(book_of(page("東京の春", lang="ja", head='<link rel="canonical" href="https://www.example.jp/a">')))
    )
    assert text_pixels(picture, TEXT) == 0
    assert text_pixels(picture, ACCENT, (0, MARGIN + 40, SIZE, SIZE)) > 500  # the site's host, in Latin letters


def test_right_to_left_titles_are_set_from_the_right(monkeypatch):
    book = book_of(page("معارضون يسيطرون على مخازن للصواريخ", lang="ar"))
    if cover_module._font(book.metadata.title, 100, bold=True) is None:
        pytest.skip("no font here draws Arabic (install one, e.g. Debian fonts-dejavu-core)")
    picture = opened(make_cover(book))
    right = text_pixels(picture, TEXT, (SIZE // 2, 0, SIZE, SIZE))
    left = text_pixels(picture, TEXT, (0, 0, SIZE // 2, SIZE))
    assert right > left > 0


def photo(path, size, colour=(30, 140, 60)):
    Image.new("RGB", size, colour).save(path)
    return path


def test_the_articles_own_image_makes_the_cover(tmp_path):
    photo(tmp_path / "lead.jpg", (1200, 700))
    book = book_of(page("Gardens", '<figure><img src="lead.jpg" alt="Squash in rows"></figure>'), tmp_path)
    cover = make_cover(book)
    picture = opened(cover)
    assert (cover.origin, Layout.cover(cover), picture.format, picture.size) == (
        "article",
        "cover.jpg",
        "JPEG",
        (SIZE, SIZE),
    )
    r, g, b = picture.getpixel((SIZE // 2, 200))  # the photo fills the top
    assert abs(r - 30) < 8 and abs(g - 140) < 8 and abs(b - 60) < 8
    assert picture.getpixel((5, SIZE - 5)) != picture.getpixel((SIZE // 2, 200))  # the title panel below


def test_a_square_image_fills_the_whole_cover(tmp_path):
    photo(tmp_path / "square.png", (900, 900), (200, 30, 30))
    book = book_of(page("Red", '<img src="square.png" alt="A red square">'), tmp_path)
    picture = opened(make_cover(book))
    for xy in ((3, 3), (SIZE - 3, SIZE - 3), (SIZE // 2, SIZE // 2)):
        r, g, b = picture.getpixel(xy)
        assert abs(r - 200) < 8 and g < 40 and b < 40, xy


def test_the_pages_declared_lead_image_comes_before_the_images_of_the_text(tmp_path):
    photo(tmp_path / "lead.png", (900, 900), (20, 20, 200))
    photo(tmp_path / "inline.png", (900, 900), (200, 20, 20))
    book = book_of(
        page("Blue", '<img src="inline.png" alt="Red">', head='<meta property="og:image" content="lead.png">'), tmp_path
    )
    assert book.metadata.image == "lead.png"
    r, _, b = opened(make_cover(book)).getpixel((SIZE // 2, SIZE // 2))
    assert b > 180 and r < 40


def test_small_or_unreadable_images_give_a_drawn_cover(tmp_path):
    photo(tmp_path / "icon.png", (120, 120))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * 400)
    book = book_of(page("Icons", '<img src="icon.png" alt="An icon"><img src="broken.jpg" alt="Broken">'), tmp_path)
    assert make_cover(book).origin == "generated"


def test_a_remote_lead_image_is_not_fetched_unless_asked(tmp_path):
    book = book_of(page("Remote", head='<meta property="og:image" content="https://img.example/a.jpg">'), tmp_path)
    assert book.metadata.image == "https://img.example/a.jpg"
    assert make_cover(book).origin == "generated"  # no network: the reader did not fetch it


def test_a_cover_made_before_is_reused_from_the_cache_and_a_changed_title_is_not(tmp_path, monkeypatch):
    from talkingbook.system.cache import SpeechCache

    cache = SpeechCache(tmp_path / "cache")
    first = make_cover(book_of(page("Rivers of the north")), cache)
    drawn = []
    monkeypatch.setattr(cover_module, "_drawn", lambda book: drawn.append(book) or Image.new("RGB", (SIZE, SIZE)))
    assert make_cover(book_of(page("Rivers of the north")), cache) == first and drawn == []
    assert make_cover(book_of(page("Rivers of the south")), cache) != first and len(drawn) == 1
    make_cover(book_of(page("東京の春", lang="ja")), cache)  # another script: the fonts here decide, never cached
    make_cover(book_of(page("東京の春", lang="ja")), cache)
    assert len(drawn) == 3
