"""Author and publisher are what a careful publisher would print and a narrator say: a name, or nothing.

Hand-written bylines, one family per cause seen on real pages (issue 11, "Pages read wrong"): dates
and times, job titles, separators, handles, URLs, labels, sentences; then small pages for the choice of
source (JSON-LD, <meta>, the byline under the headline) and for the publisher.
"""

import pytest

from builders import read
from talkingbook.narration.script import announcement
from talkingbook.readers.metadata import clean_byline, clean_publisher, same_name, split_authors

PROSE = "<p>" + "The council met on Tuesday and voted to repair the old bridge before winter. " * 8 + "</p>"


@pytest.mark.parametrize(
    "byline, publisher, name",
    [
        # a date or a time after the name
        ("Joe Wee Monday, February 29, 2016 @ 11:10 PM UTC", "", "Joe Wee"),
        ("by Lucas Nolan 22 Dec 2016 651", "", "Lucas Nolan"),
        ("By GILLIAN MOHNEY March 11, 2015 3:46 PM", "", "GILLIAN MOHNEY"),
        ("Nathan Willis 2015-03-25", "", "Nathan Willis"),
        ("Aleš Vávra před 2 hodinami", "", "Aleš Vávra"),
        # a job title, with or without a comma; the publisher's name starts one
        ("Mark Di Stefano BuzzFeed News Reporter", "BuzzFeed", "Mark Di Stefano"),
        ("By Benjamin Romano Seattle Times business reporter", "The Seattle Times", "Benjamin Romano"),
        ("Ben Silverman Games Editor", "", "Ben Silverman"),
        (
            "By Daniel Kahn Gillmor , Senior Staff Technologist, ACLU Speech, Privacy, and Technology Project",
            "",
            "Daniel Kahn Gillmor",
        ),
        ("Staff Writer", "", ""),
        # separators, handles, addresses, URLs
        ("James Akinaka • 8h", "", "James Akinaka"),
        ("Jane Roe | Staff", "", "Jane Roe"),
        ("Nicolas Perriault —", "", "Nicolas Perriault"),
        ("Alissa Wilkinson @alissamarie Updated Jul 24, 2018, 2:15pm EDT", "", "Alissa Wilkinson"),
        ("Bradley M. Kuhn (http://ebb.org/bkuhn/)", "", "Bradley M. Kuhn"),
        ("Ann Lee ann@example.org", "", "Ann Lee"),
        ("http://facebook.com/alissawilkinson", "", ""),
        ("www.example.com/people/ann", "", ""),
        # labels that are not names
        ("Last Updated: January 7, 2025", "", ""),
        ("Follow Author", "", ""),
        ("View my complete profile", "", ""),
        ("Written by Rob Ewaschuk Edited by Betsy Beyer", "", "Rob Ewaschuk"),
        # a sentence or a bio after the name; a line longer than a name
        ("Sarah Archer Feed Sarah Archer is the author of The Midcentury Kitchen .", "", "Sarah Archer"),
        ("Ann Lee writes about cities and is the author of Bridges.", "", "Ann Lee"),
        ("A" * 101, "", ""),
        # names kept whole
        ("Stella Kim and Jennifer Jett", "", "Stella Kim and Jennifer Jett"),
        ("Stella Kim, Jennifer Jett", "", "Stella Kim, Jennifer Jett"),
        ("Brenda Goodman, MA", "", "Brenda Goodman, MA"),
        ("Jong, Michiel de", "", "Jong, Michiel de"),
        ("Ludwig van Beethoven", "", "Ludwig van Beethoven"),
        ("Richard (R.J.) Eskow", "", "Richard (R.J.) Eskow"),
        (
            "Martin Untersinger (avec Damien Leloup et Morgane Tual)",
            "",
            "Martin Untersinger (avec Damien Leloup et Morgane Tual)",
        ),
        ("Organization for Transformative Works", "", "Organization for Transformative Works"),
        ("Our Foreign Staff", "The Telegraph", "Our Foreign Staff"),
        ("Theresa May", "", "Theresa May"),
        ("Ada Writer", "", "Ada Writer"),
        ("Ada Staff Writer", "", "Ada"),
        ("Von Miller", "", "Von Miller"),
        ("von Kathrin", "", "Kathrin"),
        ("Par Sébastien Farcis", "", "Sébastien Farcis"),
        ("mcupdate", "", "mcupdate"),
        ("史蒂文的家_藍天 (stevenhgm)", "", "史蒂文的家_藍天 (stevenhgm)"),
        ("", "", ""),
    ],
)
def test_a_byline_gives_the_name_alone(byline, publisher, name):
    assert clean_byline(byline, publisher) == name


@pytest.mark.parametrize(
    "declared, host, publisher",
    [
        ("SIMPLYFOUND.COM | BY: JOE WEE", "www.simplyfound.com", "SIMPLYFOUND.COM"),
        ("Yahoo News - Latest News & Headlines", "www.yahoo.com", "Yahoo News"),
        ("Aktuálně.cz - Víte, co se právě děje", "zpravy.aktualne.cz", "Aktuálně.cz"),
        ("The Daily Tagline – Example Gazette", "www.examplegazette.com", "Example Gazette"),
        ("http://www.tmz.com", "www.tmz.com", ""),
        ("www.example.com", "", ""),
        ("Mac & i", "", "Mac & i"),
        ("x" * 101, "", ""),
    ],
)
def test_a_publisher_is_a_name_not_a_url_or_a_tagline(declared, host, publisher):
    assert clean_publisher(declared, host) == publisher


def page(head: str = "", body: str = "", title: str = "Bridge repairs approved") -> str:
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title>{head}</head><body>{body}"
        f"<article><h1>{title}</h1>{PROSE}</article></body></html>"
    )


def meta_of(html: str):
    return read(html, name="page.html").metadata


@pytest.mark.parametrize(
    "head, body, author",
    [
        # structured sources before the byline shown, which carries a date here
        ("<meta name='author' content='Ann Lee'>", "<p class='byline'>Bob Stone 3 May 2024</p>", "Ann Lee"),
        ("<meta property='author' content='Ann Lee'>", "", "Ann Lee"),
        ("<meta name='parsely-author' content='Ann Lee'>", "", "Ann Lee"),
        (
            "<meta property='dc:creator twitter:site_name' content='Ann Lee'><meta name='author' content='Bob Stone'>",
            "",
            "Ann Lee",
        ),
        (
            (
                '<script type=\'application/ld+json\'><![CDATA[{"@context": "https://schema.org",'
                ' "@type": "NewsArticle", "headline": "Bridge repairs approved",'
                ' "author": [{"@type": "Person", "name": "Ann Lee "}]}]]>'
                "</script><meta name='author' content='Bob Stone'>"
            ),
            "",
            "Ann Lee",
        ),
        # a meta value that is a URL is no name: the page's byline is read instead
        (
            "<meta property='article:author' content='https://www.facebook.com/annlee'>",
            "<p class='byline'>By Ann Lee</p>",
            "Ann Lee",
        ),
        # the name part of a byline: itemprop=name, a part marked as the name, an author link
        (
            "",
            (
                "<div itemprop='author'>by <span itemprop='name'>Ann Lee</span> January 18, 2017 11:00 PM PST"
                " <a href='https://x.example/annlee'>@annlee</a></div>"
            ),
            "Ann Lee",
        ),
        (
            "",
            (
                "<div class='author'><a class='author-link' href='/a'>Ann Lee</a>"
                "<div class='author-title'>Games Editor</div></div>"
            ),
            "Ann Lee",
        ),
        (
            "",
            "<div class='byline'><a href='/people/ann-lee'>Ann Lee</a> <a href='/2024/05/03'>May 3, 2024</a></div>",
            "Ann Lee",
        ),
        # a byline marked with rel=author after an empty one
        ("", "<a rel='author' href='/a'></a><a rel='author' href='/a'>Ann Lee</a>", "Ann Lee"),
    ],
)
def test_the_author_comes_from_the_most_structured_source(head, body, author):
    assert meta_of(page(head, body)).author == author


def test_the_byline_under_the_headline_wins_over_other_peoples_names():
    widgets = (
        "<ul class='authors'><li class='author-follow'><a href='/k'>Katie Couric</a> New Yorkers post"
        " their feelings</li></ul>"
        "<ol class='comment-list'><li><span class='comment-author'>Troll Person</span> said so</li></ol>"
    )
    html = (
        f"<!doctype html><html lang='en'><head><title>Bridge repairs approved</title></head><body>{widgets}"
        f"<article><h1>Bridge repairs approved</h1><div class='author'><div class='author-name'>NATALIYA"
        f" VASILYEVA</div></div>{PROSE}</article>"
        f"<div class='related'><span class='byline'>Someone Else</span></div></body></html>"
    )
    assert meta_of(html).author == "NATALIYA VASILYEVA"


@pytest.mark.parametrize(
    "elsewhere",
    [
        "<ol class='comments'><li><span class='comment-author'>Troll Person</span> said so</li></ol>",
        "<div id='globalNav'><ul><li id='gnPriBylines'><a href='/bylines'>Columnists</a></li></ul></div>",
        "<nav><a rel='author' href='/about'>Site Owner</a></nav>",
        "<aside><span class='author'>Sidebar Person</span></aside>",
        "<div class='navbox authority-control'><span class='authority'>Authority control</span></div>",
        "<span class='author' style='display:none'>Hidden Person</span>",
    ],
)
def test_names_in_comments_menus_and_sidebars_are_not_the_author(elsewhere):
    assert meta_of(page(body=elsewhere)).author == ""


def test_a_byline_in_a_layout_box_or_an_article_with_categories_is_the_author():
    """Class names that hold "sidebar" or "newsletter" as a layout's or a category's name, not a role (Genesis,
    WordPress)."""
    html = (
        f"<!doctype html><html lang='de'><head><title>Zitronenkuchen vom Blech</title></head><body>"
        f"<div class='content-sidebar-wrap'><article class='post category-no-newsletter-rss entry'><header>"
        f"<h1>Zitronenkuchen vom Blech</h1></header><div class='entry-author-text'>von <a href='/blog'>Kathrin"
        f"</a></div>{PROSE}</article><aside class='sidebar'><span class='author'>Other Person</span></aside>"
        f"</div></body></html>"
    )
    assert meta_of(html).author == "Kathrin"


def test_a_byline_in_an_aside_of_the_article_is_its_author():
    html = (
        f"<!doctype html><html lang='en'><head><title>Bridge repairs approved</title></head><body><article>"
        f"<h1>Bridge repairs approved</h1>{PROSE}<aside><span itemprop='author'><span itemprop='name'>Ann Lee"
        f"</span> —</span> <time datetime='2013-09-29'>2013-09-29</time></aside></article></body></html>"
    )
    assert meta_of(html).author == "Ann Lee"


@pytest.mark.parametrize(
    "head, publisher",
    [
        (
            (
                "<meta property='og:site_name' content='http://www.tmz.com'>"
                "<meta name='application-name' content='TMZ.COM'>"
            ),
            "TMZ.COM",
        ),
        ("<meta property='og:site_name' content='http://www.tmz.com'>", ""),
        ("<meta property='og:site_name' content='SIMPLYFOUND.COM | BY: JOE WEE'>", "SIMPLYFOUND.COM"),
    ],
)
def test_the_publisher_is_a_name(head, publisher):
    assert meta_of(page(head)).publisher == publisher


def test_an_author_who_is_the_publisher_is_named_once():
    meta = meta_of(
        page("<meta property='og:site_name' content='BBC News'><meta property='og:article:author' content='BBC NEWS'>")
    )
    assert (meta.author, meta.publisher) == ("BBC NEWS", "")
    assert same_name("The Telegraph", "Telegraph") and same_name("Pix (pix)", "PIX") and not same_name("BBC", "")


def test_the_opening_reads_names_only():
    """The opening a narrator reads for a page whose byline and site name carry dates, titles and bylines."""
    head = (
        "<meta property='og:site_name' content='SIMPLYFOUND.COM | BY: JOE WEE'>"
        "<meta property='article:published_time' content='2016-02-29T23:10:00Z'>"
    )
    body = "<div class='article-author'>Joe Wee Monday, February 29, 2016 @ 11:10 PM UTC</div>"
    lines = [text for text, _ in announcement(meta_of(page(head, body)), "Piper joe")]
    assert "By Joe Wee." in lines, lines
    published = next(line for line in lines if line.startswith("Published by"))
    assert published.startswith("Published by SIMPLYFOUND.COM on ") and "BY: JOE WEE" not in published, lines
    assert not [line for line in lines if "11:10" in line or "UTC" in line], lines


# --- several authors (issue 22): split at commas and the language's conjunctions, never inside a name ---
@pytest.mark.parametrize(
    "byline, language, authors",
    [
        ("Ann Lee, Bob Stone and Cid Vey", "en", ("Ann Lee", "Bob Stone", "Cid Vey")),
        ("Ann Lee & Bob Stone", "en", ("Ann Lee", "Bob Stone")),
        ("Ann Lee with Bob Stone", "en", ("Ann Lee", "Bob Stone")),
        ("Marie Dupont (avec Jean Martin et Paul Roux)", "fr", ("Marie Dupont", "Jean Martin", "Paul Roux")),
        ("Anna Schmidt und Peter Müller", "de", ("Anna Schmidt", "Peter Müller")),
        ("Anna Schmidt mit Peter Müller", "de-AT", ("Anna Schmidt", "Peter Müller")),
        ("Gabriel García Márquez y Mario Vargas Llosa", "es", ("Gabriel García Márquez", "Mario Vargas Llosa")),
        ("Ana Ruiz e Iván Gil con Eva Sanz", "es", ("Ana Ruiz", "Iván Gil", "Eva Sanz")),
        ("Luca Rossi e Giulia Bianchi con Marco Neri", "it", ("Luca Rossi", "Giulia Bianchi", "Marco Neri")),
        ("João Silva e Maria Souza com Rui Costa", "pt-BR", ("João Silva", "Maria Souza", "Rui Costa")),
        ("Jan de Vries en Piet Jansen met Els Bakker", "nl", ("Jan de Vries", "Piet Jansen", "Els Bakker")),
        ("Brenda Goodman, MA and John Roe, Jr.", "en", ("Brenda Goodman, MA", "John Roe, Jr.")),
        ("Ann Lee; Bob Stone", "", ("Ann Lee", "Bob Stone")),
        ("ANN LEE AND BOB STONE", "en", ("ANN LEE", "BOB STONE")),
        ("JOHN E SMITH", "it", ("JOHN E SMITH",)),
        # one name, or one organisation: never cut
        ("Ann Lee", "en", ("Ann Lee",)),
        ("Procter & Gamble", "en", ("Procter & Gamble",)),
        ("Barnes and Noble Press", "en", ("Barnes and Noble Press",)),
        ("Department of Health and Human Services", "en", ("Department of Health and Human Services",)),
        ("Bill & Melinda Gates Foundation", "en", ("Bill & Melinda Gates Foundation",)),
        ("José Ortega y Gasset", "es", ("José Ortega y Gasset",)),
        ("Jong, Michiel de", "nl", ("Jong, Michiel de",)),
        ("Brenda Goodman, MA", "en", ("Brenda Goodman, MA",)),
        ("Richard (R.J.) Eskow", "en", ("Richard (R.J.) Eskow",)),
        ("Kim and Jett", "en", ("Kim and Jett",)),
        # a capital E or Y is an initial; another language's word joins nothing
        ("John E Smith", "en", ("John E Smith",)),
        ("Ann Lee und Bob Stone", "en", ("Ann Lee und Bob Stone",)),
        ("", "en", ()),
    ],
)
def test_a_byline_naming_several_authors_gives_each_of_them(byline, language, authors):
    assert split_authors(byline, language) == authors


@pytest.mark.parametrize(
    "lang, head, body, authors, spoken",
    [
        (
            "fr",
            "",
            "<p class='byline'>Par Marie Dupont (avec Jean Martin et Paul Roux)</p>",
            ("Marie Dupont", "Jean Martin", "Paul Roux"),
            "Par Marie Dupont, Jean Martin et Paul Roux.",
        ),
        (
            "en",
            "<meta name='author' content='Ann Lee, Bob Stone and Cid Vey'>",
            "",
            ("Ann Lee", "Bob Stone", "Cid Vey"),
            "By Ann Lee, Bob Stone, and Cid Vey.",
        ),
        (
            "en",
            (
                '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Bridge repairs approved",'
                ' "author": [{"@type": "Person", "name": "Kim"}, {"@type": "Person", "name": "Bob Stone"}]}</script>'
            ),
            "",
            ("Kim", "Bob Stone"),
            "By Kim and Bob Stone.",
        ),
    ],
)
def test_the_page_names_each_author_and_the_narration_says_them_in_its_language(lang, head, body, authors, spoken):
    meta = meta_of(page(head, body).replace("lang='en'", f"lang='{lang}'"))
    assert meta.authors == authors
    assert meta.author == ", ".join(authors)
    assert announcement(meta, "Voice")[1][0] == spoken


def test_an_author_given_on_the_command_line_is_split_as_a_byline_is():
    from talkingbook.model import Metadata
    from talkingbook.readers.metadata import with_overrides

    meta = with_overrides(Metadata("T", language="fr"), {"author": "Marie Dupont et Jean Martin"})
    assert meta.authors == ("Marie Dupont", "Jean Martin")
    assert with_overrides(meta, {"author": "Procter & Gamble"}).authors == ("Procter & Gamble",)
    assert with_overrides(meta, {"author": ""}).authors == ()
