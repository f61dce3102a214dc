import pytest

from builders import read
from conftest import DATA, ROOT, SAMPLE
from talkingbook.errors import InputError
from talkingbook.model import Heading, Image, ListBlock, Paragraph, Quote, iter_blocks
from talkingbook.readers.metadata import normalize_date, normalize_language

SEED = ROOT.parent / "shared" / "seed-article.txt"
SEED_HEADINGS = [
    "Leaders of Japan and South Korea Showcase Cultural Diplomacy Through K-pop Drum Performance",
    "Analyzing the Symbolism Behind the Joint Musical Gesture Amid Diplomatic Tensions",
    "Experts Recommend Leveraging Cultural Exchanges to Strengthen Bilateral Relations and Foster Regional Stability",
    "To Conclude",
]


def dump(book) -> str:
    """A readable dump of the model, compared with a golden file (as pandoc's .native tests)."""
    lines = [f"title: {book.metadata.title}", f"language: {book.metadata.language}"]

    def block_lines(blocks, indent):
        for block in blocks:
            pad = "  " * indent
            if isinstance(block, Paragraph):
                lines.append(f"{pad}P {block.text}")
            elif isinstance(block, Heading):
                lines.append(f"{pad}H{block.rank} #{block.anchor} {block.text}")
            elif isinstance(block, ListBlock):
                lines.append(f"{pad}{'OL' if block.ordered else 'UL'}")
                for item in block.items:
                    lines.append(f"{pad}  -")
                    block_lines(item.blocks, indent + 2)
            elif isinstance(block, Quote):
                lines.append(f"{pad}QUOTE")
                block_lines(block.blocks, indent + 1)
            elif isinstance(block, Image):
                lines.append(f"{pad}IMG {block.src} alt={block.alt!r}")

    for section in book.sections:
        lines.append(f"SECTION level={section.level} opening={section.is_opening} {section.title}")
        block_lines(section.blocks, 1)
    return "\n".join(lines) + "\n"


def sample_book(**kwargs):
    return read(SAMPLE.read_bytes(), name=SAMPLE.name, **kwargs)


def test_sample_has_the_opening_and_four_headed_sections():
    book = sample_book()
    titles = [s.title for s in book.sections]
    assert titles == [book.metadata.title, *SEED_HEADINGS]
    assert [s.level for s in book.sections] == [1] * 5
    assert [s.is_opening for s in book.sections] == [True, False, False, False, False]


def test_sample_metadata_comes_from_the_page():
    meta = sample_book().metadata
    assert meta.title == "Japan and South Korea’s Leaders Drum to K-pop in a Rare Show of Harmony"
    assert meta.author == "The Meridian Ledger Newsroom"
    assert meta.publisher == "The Meridian Ledger"
    assert meta.date == "2026-11-27"
    assert meta.language == "en"
    assert meta.source_url.startswith("https://www.meridianledger.example/")
    assert meta.identifier.startswith("urn:uuid:")


@pytest.mark.skipif(not SEED.exists(), reason="../shared/seed-article.txt is absent")
def test_sample_keeps_every_word_of_the_seed_and_nothing_from_the_site_chrome():
    seed_lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    book = sample_book()
    text = " ".join(
        [s.title for s in book.sections[1:]]
        + [b.text for s in book.sections for b in iter_blocks(s.blocks) if isinstance(b, Paragraph)]
    )
    for line in seed_lines:
        assert line.removeprefix("- ") in text, line
    for chrome in ("Related stories", "Skip to content", "All rights reserved", "Share:", "Search"):
        assert chrome not in text


def test_sample_lists_and_their_introductions():
    section = sample_book().sections[1]
    kinds = [type(b).__name__ for b in section.blocks]
    assert kinds == ["Paragraph", "Paragraph", "ListBlock", "Paragraph"]
    assert section.blocks[1].text.endswith(":")
    items = section.blocks[2].items
    assert len(items) == 3 and items[0].blocks[0].text.startswith("Joint public engagement:")
    assert items[0].blocks[0].spans[0].kind == "strong"


def test_sample_model_matches_golden_dump():
    golden = DATA / "sample.model.txt"
    assert dump(sample_book()) == golden.read_text(encoding="utf-8")


def test_nested_headings_default_split_is_the_highest_rank_below_the_title():
    book = read((DATA / "nested.html").read_bytes(), name="nested.html")
    assert [(s.title, s.level) for s in book.sections] == [
        ("A Nested Article", 1),
        ("First part", 1),
        ("Second part", 1),
    ]
    assert book.metadata.title == "A Nested Article"  # the <title>'s site suffix is not the title
    assert book.metadata.language == "en-GB"
    assert dump(book) == (DATA / "nested.model.txt").read_text(encoding="utf-8")


def test_split_level_3_makes_h3_sections_nested_under_h2():
    book = read((DATA / "nested.html").read_bytes(), name="nested.html", split_level=3)
    assert [(s.title, s.level) for s in book.sections] == [
        ("A Nested Article", 1),
        ("First part", 1),
        ("Background", 2),
        ("Method", 2),
        ("Second part", 1),
        ("Second part details", 2),
    ]
    # A parent's text before its first child is the parent's own section.
    assert [b.text for b in book.sections[1].blocks] == ["Text of the first part."]
    # Deeper headings stay inside their section.
    assert any(isinstance(b, Heading) and b.text == "Details" for b in book.sections[2].blocks)


def test_split_level_1_keeps_everything_in_the_opening():
    book = read((DATA / "nested.html").read_bytes(), name="nested.html", split_level=1)
    assert len(book.sections) == 1


def test_overrides_replace_page_metadata():
    book = sample_book(
        overrides={
            "title": "Drums",
            "author": "A. Person",
            "language": "en_GB",
            "date": "2025-01-02",
            "publisher": None,
        }
    )
    assert (book.metadata.title, book.metadata.author, book.metadata.language, book.metadata.date) == (
        "Drums",
        "A. Person",
        "en-GB",
        "2025-01-02",
    )
    assert book.metadata.publisher == "The Meridian Ledger"
    assert book.sections[0].title == "Drums"


def test_unavailable_images_keep_their_text_and_missing_alt_is_not_invented():
    html = b"""<html lang="en"><body><article><h1>T</h1><p>Text.</p>
    <img src="a.png" alt="A cat"><img src="b.png"><img src="c.png" alt=""></article></body></html>"""
    images = [b for b in read(html, name="t.html").sections[0].blocks if isinstance(b, Image)]
    # Without its file, an image keeps only its text; one with nothing to say is left out.
    assert [(i.src, i.alt, i.data) for i in images] == [("a.png", "A cat", None)]


def test_identifier_is_stable_when_the_text_changes():
    original = SAMPLE.read_bytes()
    edited = original.replace(b"camaraderie", b"friendship")
    assert edited != original
    first = read(original, name=SAMPLE.name).metadata.identifier
    assert read(edited, name=SAMPLE.name).metadata.identifier == first


def test_identifier_without_canonical_url_comes_from_the_file_itself():
    """Stable when the text is edited; two pages saved under one name in two folders are two articles
    (issue 14: one identifier would make them one episode in a podcast app, one book on an e-reader)."""
    html = b"<html><body><p>Hello there.</p></body></html>"
    a = read(html, name="dir/one.html").metadata.identifier
    assert read(html + b"<p>More.</p>", name="dir/one.html").metadata.identifier == a
    assert read(html, name="dir/../dir/one.html").metadata.identifier == a
    assert read(html, name="other/one.html").metadata.identifier != a
    assert read(html, name="two.html").metadata.identifier != a


@pytest.mark.parametrize(
    "data, why",
    [
        (b"\x00\x01\x02PNG binary", "binary"),
        (b"just some words without any markup", "no markup"),
        (b"<html><body><nav>Menu</nav><script>x()</script></body></html>", "no article text"),
    ],
)
def test_bad_input_raises_input_error(data, why):
    with pytest.raises(InputError, match=why):
        read(data, name="bad.html")


def test_normalisers():
    assert normalize_language("EN_us") == "en-US"
    assert normalize_language("zh-hant-tw") == "zh-Hant-TW"
    assert normalize_language("C") == ""
    assert normalize_language("de-DE-1996") == "de-DE"
    assert normalize_language("iw") == "he"  # a withdrawn code, as old pages write Hebrew


def test_the_two_letter_codes_known_without_pycountry_are_pycountrys():
    # is_language_code answers from ISO_639_1 without loading pycountry's table: each of them must be one
    # pycountry knows, so that the answer is the one pycountry would give.
    import pycountry

    from talkingbook.readers.metadata import ISO_639_1

    assert ISO_639_1.issubset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
    assert normalize_language("fr-CA") == "fr-CA"
    assert normalize_language("fil") == "fil"  # a three-letter code: pycountry's answer


@pytest.mark.parametrize("value", ["utf-8", "UTF8", "text/html", "xx", "und", "en us", "1252", "qqq"])
def test_a_value_that_is_not_a_language_is_never_taken_for_one(value):
    assert normalize_language(value) == ""


def test_a_content_language_that_names_a_charset_leaves_the_language_to_detection():
    page = (
        '<html><head><meta http-equiv="Content-Language" content="utf-8"><title>Brot</title></head><body><article>'
        + "<p>Der Teig ruht über Nacht in einem kühlen Raum, und die Hefe arbeitet langsam, damit das Brot am"
        " Morgen aufgeht und eine feine Krume bekommt.</p>" * 4 + "</article></body></html>"
    )
    assert read(page.encode()).metadata.language == "de"
    assert normalize_date("2026-11-27T09:00:00+00:00") == "2026-11-27"
    assert normalize_date("2026-02-30") == ""


BODY = "<p>" + "The dough rests in a cool room, and the yeast works slowly, so the loaf rises by morning. " * 6 + "</p>"


def titled(head: str, body_top: str) -> str:
    return (
        f"<html><head>{head}</head><body><nav><a href='/'>Home</a></nav>"
        f"<article>{body_top}{BODY}</article></body></html>"
    )


@pytest.mark.parametrize(
    "head, top, expected",
    [
        # An SEO title ("Topic: the headline") and the visible headline: the headline.
        (
            "<title>Baking: Why bread rises overnight</title>",
            "<h1>Why bread rises slowly overnight</h1>",
            "Why bread rises slowly overnight",
        ),
        # A shortened og:title and a site suffix glued on with underscores: the headline.
        (
            '<title>Why bread rises overnight_Food_Example</title><meta property="og:title" content="Bread overnight">',
            "<h1>Why bread rises overnight</h1>",
            "Why bread rises overnight",
        ),
        # An <h1> naming the site or a section is not the headline.
        (
            "<title>Why bread rises overnight | Example Gazette</title>",
            "<header><h1>Example Gazette</h1></header>",
            "Why bread rises overnight",
        ),
        (
            "<title>Why bread rises overnight</title>",
            "<header><h1>Food and Drink</h1></header>",
            "Why bread rises overnight",
        ),
        # Two different headings that fit as well as each other: the metadata decides.
        (
            "<title>Bread, yeast and time: notes from a bakery</title>",
            "<header><h1>Bread, yeast and time</h1><h1>Notes from a bakery</h1></header>",
            "Bread, yeast and time: notes from a bakery",
        ),
        # A hidden <h1> is not seen.
        (
            "<title>Baking: Why bread rises overnight</title>",
            '<h1 style="display:none">Why bread rises slowly overnight</h1>',
            "Baking: Why bread rises overnight",
        ),
        # Ruby annotations are not part of the headline; inline markup does not split its words.
        (
            "<title>子どもとパンの話 | 例</title>",
            "<h1><ruby>子<rt>こ</rt></ruby>どもとパンの<b>話</b>をする</h1>",
            "子どもとパンの話をする",
        ),
        # The site's and the section's names before the headline go when the page's <h1> says the rest.
        (
            "<title>The Bakers' Weekly Gazette: Science and Food : Why bread rises</title>",
            "<h1>Why bread rises</h1>",
            "Why bread rises",
        ),
        # A title's longest part, beside its sections' and the site's names, when the <h1> says it.
        (
            "<title>Bakers cheer as prices fall - National - Business - Campbelltown - Valley Gazette Online</title>",
            "<h1>Bakers cheer as prices fall</h1>",
            "Bakers cheer as prices fall",
        ),
        # ...and stay when no headline proves them (a colon is part of many headlines).
        (
            "<title>The Bakers' Weekly Gazette: Science and Food : Why bread rises</title>",
            "",
            "The Bakers' Weekly Gazette: Science and Food : Why bread rises",
        ),
        # A title escaped twice by the page is read once more.
        (
            '<meta property="og:title" content="&amp;#8216;Bread&amp;#8217; rises overnight">',
            "",
            "\u2018Bread\u2019 rises overnight",
        ),
        # The title's part that holds the site name and a headline is the headline, not the site.
        (
            (
                "<title>新竹尖石賞楓 @ 史蒂文的家 :: 痞客邦 PIXNET ::</title>"
                '<meta property="og:site_name" content="史蒂文的家">'
                '<meta property="og:url" content="https://steven.pixnet.net/blog/post/1">'
            ),
            "",
            "新竹尖石賞楓 @ 史蒂文的家",
        ),
    ],
)
def test_the_title_is_the_visible_headline(head, top, expected):
    book = read(titled(head, top).encode(), name="bread.html")
    assert book.metadata.title == expected
    # The headline is the book's title, not a section of its own as well.
    assert [s.title for s in book.sections] == [expected]
