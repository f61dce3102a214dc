"""Main-content extraction (talkingbook.readers.extract.find_article).

Two kinds of test: small synthetic pages that pin down one behaviour each, and the
real pages of the shared corpus (../shared/corpus beside the repository), scored
against their reference extractions with the corpus's own score.py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, NavigableString, Tag

from talkingbook.readers.extract import find_article

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MIN_RECALL = 0.95
MIN_PRECISION = 0.90


# --- helpers ------------------------------------------------------------------


def extract(html: str | bytes) -> Tag:
    return find_article(BeautifulSoup(html, "lxml"))


def text_of(element: Tag) -> str:
    """The element's text without ruby annotations, as the scores measure it."""
    for annotation in element.find_all(["rt", "rp"]):
        annotation.decompose()
    return element.get_text(" ")


def flat_text(element: Tag) -> str:
    """Whitespace-collapsed text in which inline markup does not split words.

    Ruby bases (<ruby>子<rt>こ</rt></ruby>ども) must read "子ども" for the snippet checks,
    so only block boundaries become spaces.
    """
    inline = {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "ins",
        "kbd",
        "label",
        "mark",
        "q",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "time",
        "u",
        "var",
        "wbr",
    }
    parts: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                if child.name in ("rt", "rp"):
                    continue
                block = child.name not in inline
                parts.append(" " if block else "")
                walk(child)
                parts.append(" " if block else "")
            elif type(child) is NavigableString:
                parts.append(str(child))

    walk(element)
    return " ".join("".join(parts).split())


def sentences(topic: str, count: int = 4) -> str:
    """Prose long enough to be scored as content (commas, over 100 characters)."""
    return " ".join(
        f"The {topic} study, published this spring, followed {n + 3} groups of volunteers over "
        f"several months, and its authors say the results, while early, are encouraging."
        for n in range(count)
    )


def page(body: str, title: str = "A test article") -> str:
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


# --- synthetic pages ------------------------------------------------------------


def test_site_chrome_around_an_article_is_left_out():
    html = page(f"""
      <header class="site-header"><a href="/">Home</a> <a href="/news">News</a></header>
      <nav class="menu"><ul><li><a href="/a">World</a></li><li><a href="/b">Sport</a></li></ul></nav>
      <div id="wrapper">
        <div class="sidebar"><h3>Popular</h3><ul><li><a href="/x">Ten cats you must see</a></li>
          <li><a href="/y">You won't believe this recipe</a></li></ul></div>
        <article class="post">
          <h1>Sleep and memory</h1>
          <p>{sentences("sleep")}</p>
          <p>{sentences("memory")}</p>
          <p>{sentences("dream")}</p>
        </article>
        <div class="related-posts"><h3>Related</h3><ul><li><a href="/r1">Why we nap</a></li>
          <li><a href="/r2">Coffee and focus</a></li></ul></div>
        <div id="comments"><h3>3 comments</h3><p>Great piece, thanks for writing it up so clearly!</p></div>
      </div>
      <footer><p>Copyright Example News, all rights reserved.</p></footer>""")
    article = extract(html)
    text = " ".join(text_of(article).split())
    for kept in ("The sleep study", "The memory study", "The dream study"):
        assert kept in text
    for dropped in (
        "World",
        "Popular",
        "Ten cats",
        "Related",
        "Why we nap",
        "3 comments",
        "Great piece",
        "Copyright",
        "Home",
    ):
        assert dropped not in text


def test_page_without_headings_or_article_element():
    html = page(f"""
      <div class="top"><a href="/">Site</a> | <a href="/about">About</a></div>
      <div class="main-col">
        <div class="story">{sentences("river")}</div>
        <div class="story">{sentences("forest")}</div>
        <div class="story">{sentences("harbour")}</div>
      </div>""")
    text = " ".join(text_of(extract(html)).split())
    for kept in ("The river study", "The forest study", "The harbour study"):
        assert kept in text
    assert "About" not in text


def test_data_table_is_kept():
    html = page(f"""
      <div class="content">
        <p>{sentences("rainfall")}</p>
        <table><caption>Rainfall by month</caption>
          <tr><th>Month</th><th>Millimetres</th></tr>
          <tr><td>January</td><td>81</td></tr>
          <tr><td>February</td><td>64</td></tr>
        </table>
        <p>{sentences("drought")}</p>
      </div>""")
    article = extract(html)
    table = article.find("table")
    assert table is not None
    assert table.find("caption").get_text() == "Rainfall by month"
    assert "February" in text_of(article)


def test_link_list_sidebars_are_removed():
    def links(label: str) -> str:
        return "".join(f'<li><a href="/{label}/{n}">{label} story number {n}</a></li>' for n in range(8))

    html = page(f"""
      <div class="layout">
        <div class="col-left">
          <p>{sentences("ocean")}</p>
          <aside><h4>Read next</h4><ul>{links("Inline")}</ul></aside>
          <p>{sentences("tide")}</p>
          <div class="widget"><ul>{links("Widget")}</ul></div>
          <p>{sentences("reef")}</p>
        </div>
        <div class="col-right"><h3>Latest</h3><ul>{links("Latest")}</ul></div>
      </div>""")
    text = text_of(extract(html))
    assert "The ocean study" in text and "The tide study" in text and "The reef study" in text
    for dropped in ("Read next", "Inline story", "Widget story", "Latest"):
        assert dropped not in text


def test_an_article_cut_into_sibling_chunks_is_kept_whole():
    """The body in several sibling containers, the first marked with a modifier class.

    Readability merges a sibling with the winner's exact class; "body-text lead" beside
    "body-text" is the same kind of block (regression: the Telegraph kept 1 chunk of 6).
    """
    chunk = '<div class="body-text"><div class="box"><div class="inner"><p>{}</p></div></div></div>'
    html = page(f"""
      <div class="site-menu"><a href="/">Home</a> <a href="/world">World</a></div>
      <article>
        <div class="body-text lead"><div class="box"><div class="inner"><p>{sentences("harbour")}</p>
          <p>{sentences("quay")}</p><p>{sentences("dock")}</p></div></div></div>
        <div class="body-image"><figure><img src="/q.jpg" alt="The quay"></figure></div>
        {chunk.format(sentences("ferry", 1))}
        <div class="advert"></div>
        {chunk.format(sentences("crane", 2))}
        {chunk.format(sentences("pier", 1))}
      </article>
      <div class="site-footer"><a href="/about">About us</a></div>""")
    text = " ".join(text_of(extract(html)).split())
    for kept in ("The harbour study", "The quay study", "The ferry study", "The crane study", "The pier study"):
        assert kept in text
    assert "About us" not in text and "World" not in text


def test_a_neighbour_is_not_merged_on_a_content_class_alone():
    """A box about the writer beside the body ("post-bio-box": 'post' reads as content) stays out."""
    html = page(f"""
      <article class="post">
        <div class="entry-content"><p>{sentences("orchard")}</p><p>{sentences("apple")}</p>
          <p>{sentences("pear")}</p></div>
        <section class="post-bio-box"><p>Hello, I am Jo, a gardener who writes about fruit, trees and soil,
          and who has grown apples in this orchard for twenty years.</p></section>
      </article>""")
    text = " ".join(text_of(extract(html)).split())
    assert "The pear study" in text
    assert "Hello, I am Jo" not in text


def test_a_section_of_photographs_stays():
    """A <section> is not cleaned for having more pictures than paragraphs (the New York Times en
    Español front kept half its text, recall 0.54)."""
    photos = "".join(
        f'<li><figure><img src="/p{n}.jpg" alt="Boat {n}"><figcaption>Photo credit: Ana Ruiz</figcaption></figure></li>'
        for n in range(5)
    )
    html = page(f"""
      <main>
        <section class="lead"><p>{sentences("estuary")}</p><p>{sentences("marsh")}</p></section>
        <section class="band"><h2>The fishing fleet</h2>
          <p>The last wooden boats of the bay still go out before dawn, every day but Sunday.</p>
          <ul>{photos}</ul>
          <p>Their crews are older now, and fewer young people join them each year.</p></section>
      </main>""")
    text = " ".join(text_of(extract(html)).split())
    assert "The marsh study" in text
    assert "The last wooden boats" in text and "Their crews are older" in text


def test_a_list_of_headlines_of_other_pages_goes_with_its_heading():
    """A teaser box ("More from UK", "Trending") inside or after the body: each item one link worded
    as a headline. Readability keeps lists whatever their links (Sky News kept six headlines)."""

    def items(texts: list[str]) -> str:
        return "".join(f'<li><a href="/story/{n}">{t}</a></li>' for n, t in enumerate(texts))

    headlines = [f"Council approves the new harbour wall after a {n}-year campaign by residents" for n in range(5)]
    see_also = ["Tide mill", "Harbour", "Sea wall", "Breakwater (structure)"]
    html = page(f"""
      <div class="story-body">
        <p>{sentences("harbour")}</p>
        <div class="widget-box"><h3>More from the coast</h3><ul>{items(headlines)}</ul></div>
        <p>{sentences("breakwater")}</p>
        <h2>See also</h2><ul>{items(see_also)}</ul>
        <section class="band"><h3>Trending</h3><ol>{items(headlines[::-1])}</ol></section>
      </div>""")
    text = " ".join(text_of(extract(html)).split())
    assert "The harbour study" in text and "The breakwater study" in text
    assert "Council approves" not in text
    assert "More from the coast" not in text and "Trending" not in text
    assert "See also" in text and "Breakwater (structure)" in text


def test_the_box_holding_the_best_text_is_not_cleaned_away():
    """The story shares a box with a link list, so the box is "linky" (CTV News): it was cleaned
    away with the story, and the relaxed attempts brought back every menu and list of the page."""
    story = "".join(
        f"<p>The space agency says crew number {n} could sleep through most of the long trip "
        f"to Mars in small pods that need far less food and water than a crew awake.</p>"
        for n in range(5)
    )
    lede = "".join(
        f"<p>Hibernation, or torpor, has been studied in bears and squirrels, and now in people, part {n}.</p>"
        for n in range(3)
    )
    links = "".join(f'<li><a href="/news/{n}">Watch the video clip {n}</a></li>' for n in range(12))
    html = page(f"""
      <div class="menu"><a href="/">Home</a> <a href="/world">World</a> <a href="/tech">Tech</a></div>
      <div id="main" class="content-primary"><div class="lede">{lede}</div><div class="story"><div class="box">
        <div class="story-text">{story}<div class="side-items"><a href="/esa">Agency website</a></div></div>
        <div class="more"><h3>Top video</h3><ul>{links}</ul></div>
      </div></div></div>
      <div class="bottom"><ul>{links.replace("Watch", "Other")}</ul></div>""")
    text = " ".join(text_of(extract(html)).split())
    assert "crew number 4 could sleep" in text and "now in people, part 2" in text
    assert "Home" not in text and "Other the video" not in text


def test_nested_headings_stay_and_edit_links_go():
    html = page(
        f"""
      <div id="content">
        <h1>Lakes</h1>
        <p>{sentences("lake")}</p>
        <h2>History<span class="mw-editsection">[<a href="?action=edit">edit</a>]</span></h2>
        <p>{sentences("history")}</p>
        <h3>Early settlers</h3>
        <p>{sentences("settler")}</p>
        <h4>Fishing</h4>
        <p>{sentences("fishing")}</p>
      </div>""",
        title="Lakes - Wikipedia",
    )
    article = extract(html)
    assert [h.get_text(" ", strip=True) for h in article.find_all(["h2", "h3", "h4"])] == [
        "History",
        "Early settlers",
        "Fishing",
    ]
    assert "edit" not in text_of(article)


def test_attributes_ruby_and_figures_survive():
    html = page(f"""
      <main>
        <div class="article-body" lang="ja" dir="ltr">
          <p id="first"><ruby>漢字<rt>かんじ</rt></ruby>の{"よみかたをまなぶ、" * 40}</p>
          <figure><img src="/a.jpg" alt="A map of the river"><figcaption>The river</figcaption></figure>
          <p>{"ながいぶんしょうです、" * 40}<a href="https://example.org/x">リンク</a></p>
        </div>
      </main>""")
    article = extract(html)
    assert article.find("rt").get_text() == "かんじ"
    assert article.find(id="first") is not None
    assert article.find("img")["alt"] == "A map of the river"
    assert article.find("a")["href"] == "https://example.org/x"
    assert article.get("lang") == "ja" or article.find(attrs={"lang": "ja"}) is not None


def test_short_japanese_page_in_a_layout_table_is_kept_whole():
    """Under 500 characters on the strict attempt: relax, as Readability does, and keep the lot.

    Regression: counting each Chinese/Japanese character as three let the strict attempt
    (the story cell alone, its breadcrumb and language links cleaned away) pass the 500.
    """
    story = "".join(
        f"<p>むかしむかし、ある村に{n}ひきのイヌがいて、毎日川のそばで遊んでいました。</p>" for n in range(1, 11)
    )
    today = "".join(
        f'<p><a href="/day/{n}">きょうの記念日{n}</a> ・ <a href="/flower/{n}">きょうの誕生花{n}</a></p>'
        for n in range(1, 9)
    )
    html = page(
        f"""
      <table><tr>
        <td width="160" valign="top"><a href="/">トップ</a></td>
        <td width="600" valign="top">
          <p><a href="/">福娘童話集</a> &gt; <a href="/aesop/">イソップ童話</a> &gt; 欲張りなイヌ</p>
          {story}
          <p><a href="/01_j.html">ひらがな</a> ←→ <a href="/01_E.html">English</a></p>
          {today}
        </td>
      </tr></table>""",
        title="欲張りなイヌ",
    )
    text = flat_text(extract(html))
    assert "ある村に10ひきのイヌ" in text
    assert "福娘童話集 > イソップ童話 > 欲張りなイヌ" in text
    assert "ひらがな ←→ English" in text
    assert "きょうの記念日8 ・ きょうの誕生花8" in text


def test_the_article_replaces_the_body():
    soup = BeautifulSoup(
        page(f'<div class="menu"><a href="/">Home</a></div><div><p>{sentences("x")}</p></div>'), "lxml"
    )
    article = find_article(soup)
    assert article.parent is soup.body
    assert "Home" not in soup.body.get_text()


# --- the real pages of the shared corpus ---------------------------------------


def _corpus_pages(*references: str) -> list[str]:
    """Corpus pages with one of the reference files; a placeholder (skipped) without a corpus."""
    if not CORPUS.is_dir():
        return ["(no corpus)"]
    return sorted(
        p.name for p in CORPUS.iterdir() if (p / "source.html").exists() and any((p / r).exists() for r in references)
    )


def _score_module():
    spec = importlib.util.spec_from_file_location("corpus_score", CORPUS / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _corpus_article(name: str) -> Tag:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return extract((CORPUS / name / "source.html").read_bytes())


@pytest.mark.parametrize("name", _corpus_pages("expected.html", "expected.txt"))
def test_corpus_page_matches_reference(name):
    article = _corpus_article(name)
    score = _score_module()
    got = score.tokens(text_of(article))
    want = score.tokens(score.reference_text(CORPUS / name))
    shared = sum((got & want).values())
    recall = shared / max(1, sum(want.values()))
    precision = shared / max(1, sum(got.values()))
    assert recall >= MIN_RECALL, f"{name}: recall {recall:.3f}, missing {list((want - got).elements())[:40]}"
    assert precision >= MIN_PRECISION, f"{name}: precision {precision:.3f}, extra {list((got - want).elements())[:40]}"


@pytest.mark.parametrize("name", _corpus_pages("expected-snippets.json"))
def test_corpus_page_snippets(name):
    article = _corpus_article(name)
    snippets = json.loads((CORPUS / name / "expected-snippets.json").read_text(encoding="utf-8"))
    text = flat_text(article)
    missing = [s for s in snippets["with"] if " ".join(s.split()) not in text]
    present = [s for s in snippets["without"] if " ".join(s.split()) in text]
    assert not missing, f"{name}: missing {missing}"
    assert not present, f"{name}: should be gone {present}"
