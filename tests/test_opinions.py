"""The reader's second opinion (readers/opinions.py): what it removes, adds, and says it may have lost."""

import json

from builders import para, read
from talkingbook.model import Metadata, Paragraph, Quote
from talkingbook.readers.opinions import agree, loss_warnings, reading_of, restore

STORY = [
    (
        "Volunteers filled sandbags at the school until the early hours, while the fire brigade moved families "
        "from the houses nearest the bank to the sports hall on the hill."
    ),
    (
        "The mayor said the new flood wall had held where it was finished, but the section by the old mill was "
        "still months from completion and the water went around it."
    ),
    (
        "Farmers upstream reported fields lost under water for the third winter running, and several said they "
        "would not plant winter wheat on the low ground again."
    ),
    (
        "The weather service expects the river to fall slowly over the weekend, though more rain is forecast for "
        "Tuesday and the ground can hold no more water."
    ),
    (
        "Insurers have opened a temporary office in the library, and the council has promised a report on the "
        "wall by the end of the month, with its costs and its delays."
    ),
]
LEAD = (
    "The river rose through the night, and by morning the lower streets of the town were under a metre of "
    "brown water that carried fences, bins and the last of the autumn leaves."
)
RAIL = (
    '<div class="sidebar-widget"><h3>Most read</h3><ul>'
    + "".join(f'<li><a href="/n{i}">Headline number {i} about something else entirely</a></li>' for i in range(8))
    + "</ul></div>"
)


def _row(paragraphs: list[str]) -> str:
    """A row of the page's grid: a column of the story and a rail of links beside it."""
    text = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<div class="row"><div class="col"><div class="text">{text}</div></div><div class="rail">{RAIL}</div></div>'


def _page(header: str, body: str, head: str = "") -> bytes:
    return (
        f'<html lang="en"><head><title>Floods in the valley</title>{head}</head><body><main>{header}'
        f'<div class="story">{body}</div></main><footer><p>Copyright 2026 The Valley Times.</p></footer></body></html>'
    ).encode()


def _texts(book) -> list[str]:
    return [b.text for s in book.sections for b in s.blocks if isinstance(b, Paragraph)]


def test_the_lead_set_beside_the_headline_opens_the_book():
    # The page puts its lead (standfirst) in the headline's block, outside the element holding the rest.
    header = f'<div class="story-header"><h1>Floods in the valley</h1><div class="standfirst"><p>{LEAD}</p></div></div>'
    advert = '<div class="ad-container"><p>Advertisement</p></div>'
    book = read(_page(header, _row(STORY[:1]) + advert + _row(STORY[1:2]) + advert + _row(STORY[2:])))
    assert _texts(book) == [LEAD, *STORY]


def test_no_lead_is_taken_from_prose_that_follows_the_article():
    # The headline's own block holds no lead; the prose the article holds first stays first.
    header = '<div class="story-header"><h1>Floods in the valley</h1><p class="byline">By Ann Example</p></div>'
    book = read(_page(header, _row(STORY)))
    assert _texts(book) == STORY


def test_short_furniture_at_the_articles_edges_goes_and_short_blocks_inside_it_stay():
    body = (
        '<p class="timestamp">Updated 10:14 am, Tuesday, May 5, 2026</p>'
        + "".join(f"<p>{p}</p>" for p in STORY[:2])
        + "<p>Step 1</p>"
        + "".join(f"<p>{p}</p>" for p in STORY[2:])
        + '<p><a href="/newsletter">Sign up for our newsletter</a></p>'
    )
    book = read(_page("<h1>Floods in the valley</h1>", f"<article>{body}</article>"))
    assert _texts(book) == [*STORY[:2], "Step 1", *STORY[2:]]


def test_agreement_keeps_what_the_first_opinion_holds_when_there_is_no_second():
    blocks = [para("Updated 10:14 am"), para(STORY[0])]
    assert agree(blocks, None, Metadata("Floods in the valley")) == blocks


def test_the_second_readings_prose_between_two_of_the_books_paragraphs_is_added_where_it_falls():
    blocks = [para(STORY[0]), para(STORY[2])]
    comment = "I have lived by this river for forty years and I have never seen the water come up so fast, never."
    reading = reading_of("\n".join([STORY[0], STORY[1], STORY[2], comment]))
    restored = restore(blocks, reading, None)
    # What it reads after the book's last paragraph (comments, teasers) is not added.
    assert [b.text for b in restored] == STORY[:3]
    # When the page declares its article's text, only what it declares is added.
    assert restore(blocks, reading, reading_of(STORY[0] + " " + STORY[2])) == blocks


def test_a_loss_the_declared_article_text_shows_is_said():
    blocks = [para(STORY[0])]
    declared = reading_of(" ".join(STORY))
    (warning,) = loss_warnings(blocks, declared, None)
    assert "part of the article may be missing" in warning and "articleBody" in warning
    assert loss_warnings([para(p) for p in STORY], declared, None) == ()


def test_a_loss_the_second_reading_shows_is_said():
    blocks = [para(STORY[0])]
    (warning,) = loss_warnings(blocks, None, reading_of("\n".join(STORY)))
    assert "trafilatura" in warning and "4 paragraphs" in warning
    assert loss_warnings([para(p) for p in STORY], None, reading_of("\n".join(STORY))) == ()


def test_a_page_declaring_more_article_than_the_book_holds_converts_with_one_warning(run, tmp_path, caplog):
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Floods in the valley"}
    ld["articleBody"] = " ".join([LEAD, *STORY, *STORY])  # twice the article the page shows
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    page = tmp_path / "floods.html"
    page.write_bytes(_page("<h1>Floods in the valley</h1>", _row(STORY), head))
    code, _, _ = run("convert", page, "-o", tmp_path / "out", "--no-audio")
    assert code == 0
    said = [r.getMessage() for r in caplog.records if "may be missing" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith(f"{page}: "), said
    (manifest,) = (tmp_path / "out").glob("*/manifest.json")
    assert json.loads(manifest.read_text(encoding="utf-8"))["warnings"] == [said[0].removeprefix(f"{page}: ")]


def test_paragraphs_a_paywall_marks_aria_hidden_are_read_and_its_icons_are_not():
    hidden = "".join(f'<p aria-hidden="true">{p}</p>' for p in STORY[2:])
    body = "".join(f"<p>{p}</p>" for p in STORY[:2]) + f'<div class="locked" aria-hidden="true">{hidden}</div>'
    icon = '<span aria-hidden="true">★ 2min</span>'
    book = read(_page(f"<h1>Floods in the valley</h1>{icon}", f"<article>{body}</article>"))
    assert _texts(book) == STORY
    assert "2min" not in " ".join(b.text for s in book.sections for b in s.blocks if isinstance(b, Paragraph))


def test_a_date_line_and_the_byline_at_the_articles_edge_go_as_the_book_says_them_itself():
    head = '<meta name="author" content="Ann Example">'
    body = (
        '<p class="date">Posted: Fri 6:45 PM, Feb 16, 2018 | Updated: Sat 8:31 PM, Feb 17, 2018</p>'
        '<p class="date">By Ann Example, Valley Times</p>'
        + "".join(f"<p>{p}</p>" for p in STORY)
        + "<p>Posted on March 3, 2026</p>"  # after the article, too
        + "<p>Insurers will meet again in 2027, said the mayor.</p>"
    )
    book = read(_page("<h1>Floods in the valley</h1>", f"<article>{body}</article>", head))
    assert book.metadata.author == "Ann Example"
    assert _texts(book) == [*STORY, "Insurers will meet again in 2027, said the mayor."]


def test_after_the_article_the_sites_tools_and_rights_go():
    tail = (
        "<p>Print this article</p><p>Multimedia</p><p>Font:</p>"
        "<p>Copyright 2026 The Valley Times. All rights reserved. This material may not be republished.</p>"
    )
    body = "".join(f"<p>{p}</p>" for p in STORY) + tail
    book = read(_page("<h1>Floods in the valley</h1>", f"<article>{body}</article>"))
    assert _texts(book) == STORY


def test_a_kicker_above_the_article_goes_and_a_line_in_another_language_stays():
    body = (
        "<p>EXCLUSIVE</p>"
        + "".join(f"<p>{p}</p>" for p in STORY)
        + '<p lang="fr">Au revoir la crue</p><p>Share this story</p>'
    )
    book = read(_page("<h1>Floods in the valley</h1>", f"<article>{body}</article>"))
    assert _texts(book) == [*STORY, "Au revoir la crue"]


def test_the_second_readers_own_notes_are_not_the_users(run, tmp_path, caplog):
    # trafilatura finds no text in a page that is one picture, and logs "discarding data"; that note is about its
    # reading, not the user's page: the user hears of the page once, from talkingbook.
    page = tmp_path / "picture.html"
    page.write_text("<html><body><img src='cat.png' alt='A cat asleep on a windowsill'></body></html>", "utf-8")
    code, _, err = run("convert", page, "-o", tmp_path / "out", "--no-audio", "-q")
    assert code == 1 and err.strip() == f"error: {page}: no article text found"
    assert [r.getMessage() for r in caplog.records if r.name.startswith("trafilatura")] == []


def test_a_body_split_in_chunks_between_rails_and_adverts_is_read_whole():
    # Two rows of the page's grid, each a chunk of the body beside a rail of links, an advert between them:
    # the extractor keeps the first row; the chunks share their tag and class, so the second joins it.
    more = [p.replace("the ", "a ") for p in STORY]
    links = "".join(
        f'<li><a href="/n{i}">Headline number {i} about something else entirely here</a></li>' for i in range(12)
    )
    rail = f'<aside class="rail"><div class="promo"><h3>Most read</h3><ul>{links}</ul></div></aside>'

    def row(paragraphs: list[str]) -> str:
        text = "".join(f"<p>{p}</p>" for p in paragraphs)
        chunk = f'<section class="article-body"><div class="inner">{text}</div></section>'
        return f'<div class="grid"><div class="col-a">{chunk}</div>{rail}</div>'

    advert = '<div class="ad-wrapper"><div class="ad">Advertisement</div></div>'
    page = (
        '<html lang="en"><head><title>Floods in the valley</title></head><body><main><h1>Floods in the valley</h1>'
        + row([LEAD, *STORY[:4], *more[:3]])
        + advert
        + row([STORY[4], *more[3:]])
        + "</main></body></html>"
    )
    assert _texts(read(page.encode())) == [LEAD, *STORY[:4], *more[:3], STORY[4], *more[3:]]


def test_a_pictures_credit_line_is_not_read_and_a_sentence_about_photos_is():
    body = (
        "".join(f"<p>{p}</p>" for p in STORY[:2])
        + "<p>Photo: Ann Example / AP</p><p>사진=연합뉴스</p>"
        + "<p>Photographs of the flood were shared thousands of times by the evening.</p>"
        + "".join(f"<p>{p}</p>" for p in STORY[2:])
    )
    book = read(_page("<h1>Floods in the valley</h1>", f"<article>{body}</article>"))
    shared = "Photographs of the flood were shared thousands of times by the evening."
    assert _texts(book) == [*STORY[:2], shared, *STORY[2:]]


def test_prose_the_second_reading_finds_in_a_layout_tables_cells_counts_as_a_loss():
    # Pages laid out in tables: trafilatura writes the row holding the article as '| cell | cell |'.
    row = "| Home | " + " | ".join(STORY) + " | Contact |"
    (warning,) = loss_warnings([para(STORY[0])], None, reading_of(row))
    assert "4 paragraphs" in warning


TIMELINE = [
    "8 p.m.: Water reaches the first houses on Mill Street.",
    "10:50 p.m.: The fire brigade closes the old bridge to traffic.",
    "11:05 p.m.: Families on the low ground are taken to the sports hall.",
    "11:25 p.m.: The power fails in the lower half of the town.",
    "11:50 p.m.: Rescue boats arrive from the coast guard station.",
    "1:10 a.m.: Engineers report a crack near the pumping house.",
]


def test_a_run_of_short_sentences_the_book_lacks_counts_as_a_loss_and_one_alone_does_not():
    # A timeline: each line is too short alone to tell from a label; together they are prose.
    blocks = [para(p) for p in STORY[:2]]
    (warning,) = loss_warnings(blocks, None, reading_of("\n".join([*STORY[:2], "THURSDAY", *TIMELINE])))
    assert "6 paragraphs" in warning
    assert loss_warnings(blocks, None, reading_of("\n".join([*STORY[:2], TIMELINE[0], "Share", TIMELINE[1]]))) == ()


def test_a_post_the_article_cites_is_read_though_its_box_is_named_social_media():
    tweet = (
        '<div class="social-media-embed"><blockquote class="twitter-tweet"><p lang="en">The water is over the '
        'bridge now, stay away from the river road tonight <a href="https://t.co/x">https://t.co/x</a></p>'
        '— Valley Fire Brigade (@valleyfire) <a href="https://twitter.com/valleyfire/status/1">March 3, 2026</a>'
        "</blockquote></div>"
    )
    body = "".join(f"<p>{p}</p>" for p in STORY[:3]) + tweet + "".join(f"<p>{p}</p>" for p in STORY[3:])
    book = read(_page("<h1>Floods in the valley</h1>", f"<article>{body}</article>"))
    quotes = [b for s in book.sections for b in s.blocks if isinstance(b, Quote)]
    assert len(quotes) == 1 and "stay away from the river road" in quotes[0].blocks[0].text
    assert _texts(book) == STORY


MATHML = '<math xmlns="http://www.w3.org/1998/Math/MathML"{display}><mi>{a}</mi><mo>=</mo><mn>{n}</mn></math>'


def _mathjax(a: str, n: int, display: bool) -> str:
    """A formula as MathJax 3 shows it: drawn for the eye (aria-hidden), and its MathML for assistive tools."""
    shown = '<mjx-math aria-hidden="true"><mjx-mi><mjx-c class="mjx-c1D44E"></mjx-c></mjx-mi></mjx-math>'
    mml = MATHML.format(display=' display="block"' if display else "", a=a, n=n)
    kind, flag = ("block", ' display="true"') if display else ("inline", "")
    return (
        f'<mjx-container class="MathJax CtxtMenu_Attached_0" jax="CHTML"{flag}>'
        f'{shown}<mjx-assistive-mml unselectable="on" display="{kind}">{mml}</mjx-assistive-mml></mjx-container>'
    )


def test_a_page_of_formulas_under_headings_is_read_whole_with_its_inline_formulas_in_their_sentences():
    sheet = "".join(f"<h2>Identity number {i}</h2>{_mathjax(chr(97 + i), i, display=True)}" for i in range(1, 5))
    inline = f"<p>Finally, a formula inside a sentence: the expression {_mathjax('z', 9, display=False)} is one.</p>"
    body = sheet + "".join(f"<p>{p}</p>" for p in STORY) + inline
    book = read(_page("<h1>Floods in the valley</h1>", body))
    blocks = [b for s in book.sections for b in s.blocks]
    headings = [s.title for s in book.sections]
    assert [h for h in headings if h.startswith("Identity")] == [f"Identity number {i}" for i in range(1, 5)]
    texts = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert [t for t in texts if t.endswith(("= 1", "= 4"))] == ["b = 1", "e = 4"]
    assert "Finally, a formula inside a sentence: the expression z = 9 is one." in texts


def test_a_page_whose_script_runs_over_its_body_is_read_with_a_warning(caplog):
    # An attribute's quote left open: the <script> runs to the page's next </script>, over the article.
    cells = "".join(f"<tr><td><p>{p}</p></td><td><a href='/x'>x</a></td></tr>" for p in STORY * 3)
    page = (
        '<html><head><title>Floods in the valley</title><script type="text/javascript" src="/menu.js>'
        "function roll(a) { a.style.color=\"red\"; }</script><link rel='stylesheet' href='/a.css'></head>"
        f"<body><table>{cells}</table><p>Contact us at the desk for letters to the editor.</p>"
        '<script>var ads = "1";</script><p>Site requirements: a browser with scripts turned on, '
        "and a screen of at least 1024 pixels across for the best view of the page.</p></body></html>"
    )
    book = read(page)
    assert len(book.warnings) == 1 and "markup is broken" in book.warnings[0], book.warnings
    assert book.warnings[0].startswith("part of the page may be missing")


def test_the_second_reading_leaves_the_language_identifier_importable():
    # trafilatura is imported without py3langid (numpy and a model: most of its import time); the block is
    # for that import only.
    import importlib
    import sys

    from talkingbook.readers.opinions import second_reading

    assert second_reading("<html><body><article>" + "".join(f"<p>{p}</p>" for p in STORY) + "</article></body></html>")
    assert sys.modules.get("py3langid", "absent") is not None
    assert importlib.import_module("py3langid").classify("The river rose through the night.")[0] == "en"


def test_a_rail_of_teasers_set_inside_the_article_goes_and_its_subheadings_stay():
    rail = (
        '<div class="rail rail--trending swiper-container"><h3>Most read in world news</h3>'
        + "".join(
            f"<div class='rail__item swiper-slide'><h3>KICKER {i}</h3>"
            f"<span>A headline about another story number {i}</span></div>"
            for i in range(4)
        )
        + "</div>"
    )
    body = (
        f"<p>{STORY[0]}</p><h2>The wall</h2><p>{STORY[1]}</p>{rail}<p>{STORY[2]}</p>"
        f"<h2>What comes next</h2><p>{STORY[3]}</p><p>{STORY[4]}</p>"
    )
    book = read(_page("<h1>Floods in the valley</h1>", f"<article>{body}</article>"))
    assert _texts(book) == STORY
    assert [s.title for s in book.sections][-2:] == ["The wall", "What comes next"]


def test_an_article_after_a_tag_that_ends_the_head_is_read_as_browsers_show_it():
    # No <body>: the first element a <head> cannot hold ends it (HTML's parsing rules); lxml keeps the rest
    # in the head, where no reader looks.
    from talkingbook.readers.html import _parse

    paragraphs = "".join(f"<p>{p}</p>" for p in STORY)
    page = (
        "<html><head><title>Floods in the valley</title><meta charset='utf-8'>"
        f"<mbox><table><tr><td>{paragraphs}</td></tr></table></mbox></html>"
    )
    soup = _parse(page, "page.html")
    assert [p.get_text() for p in soup.body.find_all("p")] == STORY
    assert not soup.head.find("p") and soup.head.title.get_text() == "Floods in the valley"
    assert _texts(read(page)) == STORY


def test_a_title_never_closed_is_said_in_the_error(tmp_path, run):
    cells = "".join(f"<tr><td><p>{p}</p></td></tr>" for p in STORY * 4)
    page = tmp_path / "page.html"
    page.write_text(f"<html><head><title>Floods in the valley<body><table>{cells}</table></body></html>")
    code, _, err = run("convert", page, "-o", tmp_path / "out", "--no-audio")
    assert code != 0 and err.count("\n") == 1, err
    assert "no article text found: the page's markup is broken (a <title> element runs over" in err
