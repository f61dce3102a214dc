"""Find the article inside a page: the element whose descendants are its content.

This is a port to bs4 of the core of Mozilla's Readability.js (Apache-2.0,
https://github.com/mozilla/readability): ``_grabArticle`` and ``_prepArticle``.
The :class:`Readability` class keeps upstream's methods in upstream's order, named
after them (``_grabArticle`` is ``_grab_article``), so that the two can be read side
by side; the steps of upstream's longest functions are methods of their own, placed
after the function they belong to.  bs4 is made to answer like the DOM in
:mod:`.dom`; the page's title and byline come from :mod:`.metadata`, as arguments.

1. Prepare the page: drop scripts, styles and comments, unwrap ``<noscript>``
   images, turn ``<br><br>`` runs into paragraphs and ``<font>`` into ``<span>``.
2. Walk the page once, removing hidden nodes, bylines, "unlikely candidates"
   (class/id such as ``sidebar``, ``comment``, ``footer``; ARIA roles such as
   ``navigation``) and empty containers, and turning divs that hold no block
   children into paragraphs.
3. Score every paragraph-like element (1 + commas + length) and add the score to
   its ancestors; weigh each ancestor by tag, class/id and link density; pick
   the best, possibly promoting it to a parent that gathers several good
   candidates.
4. Merge in siblings of the winner that look like content, then clean the
   result (``_prepArticle``): share widgets, forms, iframes, buttons, asides,
   footers, navigation, and tables/lists/divs/sections that look like link
   lists, ad slots or layout rather than prose.  Data tables are kept.
5. If fewer than 500 characters survive, start again from the prepared page
   with the filters relaxed one at a time, and keep the best result.

A few rules are not in Readability, each marked "Not in Readability" where it
lives: wiki "[edit]" links, bare datelines, print buttons, short "Read also:
<link>" paragraphs, lists of headlines of other pages ("More from", "Trending")
and legal-notice blocks go; a <section> is cleaned conditionally too, but not
for holding more pictures than paragraphs; the elements holding the text that
scored best are never cleaned for their shape; a neighbour is not merged on
its class name alone, but a neighbour of the same kind (most class names
shared) gets Readability's same-class bonus; the strictest attempt that found
nearly as much text beats the longest.  Short-link-paragraph removal, like Readability's conditional
cleaning, is dropped on the last attempt.
The byline Readability takes out is kept in the article's ``data-byline``.

The soup is cleaned in place: on return, ``<body>`` holds the article element.
The original elements are moved into it (never re-serialised), so attributes
such as ``lang``, ``dir``, ``id``, ``href``, ``src``, ``alt`` and ruby markup
survive.  Unlike Readability, ``<h1>`` is left alone (the caller takes the
title from it), and appended siblings keep semantic tag names (headings,
lists, tables, figures...) because the caller renders by tag.
"""

from __future__ import annotations

import copy
import re

from bs4 import BeautifulSoup, Comment, Tag

from .dom import (
    UNSPACED,
    TextLengths,
    ancestors,
    attr,
    children,
    first_child,
    get_next_node,
    has_ancestor_tag,
    has_text,
    html_integer,  # noqa: F401  (tests import it from here, where it was)
    inner_text,
    is_data_table,
    is_element,
    is_page_root,
    is_probably_visible,
    is_text,
    js_ratio,
    link_density,
    match_string,
    next_non_blank,
    previous_sibling,
    remove_and_get_next,
    text_density,
    text_similarity,
)
from .metadata import ReadabilityMetadata, marks_byline, readability_metadata

# --- settings and patterns (as in Readability.js) ----------------------------

FLAG_STRIP_UNLIKELYS = 0x1
FLAG_WEIGHT_CLASSES = 0x2
FLAG_CLEAN_CONDITIONALLY = 0x4
ALL_FLAGS = FLAG_STRIP_UNLIKELYS | FLAG_WEIGHT_CLASSES | FLAG_CLEAN_CONDITIONALLY

N_TOP_CANDIDATES = 5
CHAR_THRESHOLD = 500
# Not in Readability (see where they are used):
LINK_PARAGRAPH_LENGTH = 200  # shorter paragraphs that are mostly link text are cross-links
DATELINE_LABEL_LENGTH = 30  # text beside a <time> that still makes a bare dateline
RELAXED_GAIN = 0.9  # a relaxed attempt must find over 1/0.9 times the text to win
TAGS_TO_SCORE = {"section", "h2", "h3", "h4", "h5", "h6", "p", "td", "pre"}

UNLIKELY_CANDIDATES = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr"
    r"|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor"
    r"|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote",
    re.IGNORECASE,
)
MAYBE_CANDIDATE = re.compile(r"and|article|body|column|content|main|shadow", re.IGNORECASE)
POSITIVE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story", re.IGNORECASE
)
NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|foot|footer|footnote"
    r"|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper"
    r"|sponsor|shopping|tags|widget",
    re.IGNORECASE,
)
VIDEOS = re.compile(
    r"//(www\.)?((dailymotion|youtube|youtube-nocookie|player\.vimeo|v\.qq)\.com"
    r"|(archive|upload\.wikimedia)\.org|player\.twitch\.tv)",
    re.IGNORECASE,
)
SHARE_ELEMENTS = re.compile(r"(\b|_)(share|sharedaddy)(\b|_)", re.IGNORECASE)
# Not in Readability: "Print recipe" / "Print article" links are share-bar kin.  They
# go after the conditional cleaning, whose link-density test they help.
PRINT_ELEMENTS = re.compile(r"(\b|_)print(\b|_)", re.IGNORECASE)
# Not in Readability: "[edit]" links beside wiki headings are page furniture.
EDIT_LINKS = re.compile(r"(^|\s)(mw-)?editsection(\s|$)", re.IGNORECASE)
# Not in Readability: the last path segment of a link to a site's legal pages.
POLICY_PAGE = re.compile(
    r"^(privacy|terms|cookie|legal|disclaimer|imprint|impressum|datenschutz|agb|nutzungsbedingungen"
    r"|mentions-legales|aviso-legal|(community[-_])?guidelines)",
    re.IGNORECASE,
)
COMMAS = re.compile("[\u002c\u060c\ufe50\ufe10\ufe11\u2e41\u2e34\u2e32\uff0c]")
AD_WORDS = re.compile(r"^(ad(vertising|vertisement)?|pub(licité)?|werb(ung)?|广告|Реклама|Anuncio)$", re.IGNORECASE)
LOADING_WORDS = re.compile(r"^((loading|正在加载|Загрузка|chargement|cargando)(…|\.\.\.)?)$", re.IGNORECASE)
B64_DATA_URL = re.compile(r"^data:\s*([^\s;,]+)\s*;\s*base64\s*,", re.IGNORECASE)
IMAGE_URL = re.compile(r"\.(jpg|jpeg|png|webp)", re.IGNORECASE)

UNLIKELY_ROLES = {"menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog"}
DIV_TO_P_ELEMS = {"blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul"}
ALTER_TO_DIV_EXCEPTIONS = {"div", "article", "section", "p"}
# Appended siblings with these names keep them (Readability turns them into divs):
# the caller renders headings, lists, tables, quotes and figures by tag name.
KEEP_NAME_ON_MERGE = {
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "table",
    "blockquote",
    "figure",
    "pre",
    "img",
    "picture",
}
PHRASING_ELEMS = {
    "abbr",
    "audio",
    "b",
    "bdo",
    "br",
    "button",
    "cite",
    "code",
    "data",
    "datalist",
    "dfn",
    "em",
    "embed",
    "i",
    "img",
    "input",
    "kbd",
    "label",
    "mark",
    "math",
    "meter",
    "noscript",
    "object",
    "output",
    "progress",
    "q",
    "ruby",
    "samp",
    "script",
    "select",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "textarea",
    "time",
    "var",
    "wbr",
}
# Removed before anything else: code, styling and drawing surfaces have no article text.
NEVER_CONTENT = ("script", "noscript", "style", "template", "svg", "canvas")
QUOTATION_SHARE = 0.9  # of an element's text in its <blockquote>: the element is that quotation
HEADLINE_WORDS = 6  # Not in Readability: a link text this long reads as the headline of a page


def find_article(soup: BeautifulSoup, metadata: ReadabilityMetadata | None = None) -> Tag:
    """The element holding the article's content; the soup is cleaned in place.

    ``metadata``: the title and byline :mod:`.metadata` read from the page; read from ``soup`` when not given.
    """
    return Readability(soup, readability_metadata(soup) if metadata is None else metadata).parse()


# --- the extraction: Readability.js's methods in its order ----------------------------------------


class Readability:
    """One extraction over one soup: Readability.js's ``Readability`` object, its methods in upstream's order.

    Our own additions are marked "Not in Readability"; a step that is one function upstream but
    several here says whose part it is.
    """

    def __init__(self, soup: BeautifulSoup, metadata: ReadabilityMetadata) -> None:
        self.soup = soup
        self.flags = ALL_FLAGS
        # Scores and data-table marks live beside the tree, keyed by id(); the
        # entry keeps the tag alive, so an id cannot be reused by a new tag.
        self.scores: dict[int, list] = {}
        self.data_tables: dict[int, tuple[Tag, bool]] = {}
        self.metadata = metadata
        self.article_title = metadata.title
        self.article_byline = ""  # the byline taken out of the page
        self._original_ancestors: list[Tag] = []
        self._best_text_holders: set[int] = set()
        self.text_length = TextLengths()
        self._time_holders: set[int] = set()

    # Not ported: _postProcessContent, _cleanClasses, _fixRelativeUris, _simplifyNestedElements and
    # _cleanStyles (the reader renders by tag name and resolves links itself), _removeNodes,
    # _replaceNodeTags, _forEachNode, _findNode, _someNode, _everyNode and _getAllNodesWithTag (bs4's
    # find_all and Python's loops), _isUrl.  _getArticleTitle, _getJSONLD, _getArticleMetadata: in
    # metadata.py, which passes the title and byline in.  The DOM helpers and text measures
    # (_nextNode, _getNextNode, _removeAndGetNext, _getNodeAncestors, _textSimilarity, _getInnerText,
    # _getCharCount, _getLinkDensity, _hasAncestorTag, _getRowAndColumnCount, _getTextDensity), and the
    # rules metadata.py or the reader share (_isProbablyVisible, _markDataTables's): in dom.py.

    def _prep_document(self) -> None:
        """Scripts, styles and comments out; noscript images in; <br><br> and <font> fixed.

        Also does what ``parse`` does before it upstream (_unwrapNoscriptImages, _removeScripts).
        """
        for comment in self.soup.find_all(string=lambda s: isinstance(s, Comment)):
            comment.extract()
        self._unwrap_noscript_images()
        for tag in self.soup.find_all(NEVER_CONTENT):
            tag.extract()
        if self.soup.body is not None:
            self._replace_brs(self.soup.body)
        for font in self.soup.find_all("font"):
            font.name = "span"

    def _replace_brs(self, root: Tag) -> None:
        """Turn runs of two or more <br> into paragraph breaks: ``a<br><br>b`` -> ``a<p>b</p>``."""
        for br in root.find_all("br"):
            following, replaced = br.next_sibling, False
            while is_element(following := next_non_blank(following), "br"):
                replaced = True
                after = following.next_sibling
                following.extract()
                following = after
            if not replaced:
                continue
            p = self.soup.new_tag("p")
            br.replace_with(p)
            following = p.next_sibling
            while following is not None:
                if is_element(following, "br") and is_element(next_non_blank(following.next_sibling), "br"):
                    break
                if not self._is_phrasing_content(following):
                    break
                after = following.next_sibling
                p.append(following)
                following = after
            while p.contents and self._is_whitespace(p.contents[-1]):
                p.contents[-1].extract()
            if p.parent is not None and p.parent.name == "p":
                p.parent.name = "div"

    def _prep_article(self, article: Tag) -> None:
        """Strip what is not prose from the chosen content, most certain removals first."""
        self._mark_data_tables(article)
        self._fix_lazy_images(article)
        self._clean_conditionally(article, "form")
        self._clean_conditionally(article, "fieldset")
        for name in ("object", "embed", "footer", "link", "aside", "nav"):  # nav: not in Readability
            self._clean(article, name)
        for child in children(article):
            # Share bars inside the content, but never a merged block itself.
            self._clean_matched_nodes(
                child, lambda node, match: bool(SHARE_ELEMENTS.search(match)) and len(node.get_text()) < CHAR_THRESHOLD
            )
        for name in ("iframe", "input", "textarea", "select", "button"):
            self._clean(article, name)
        self._clean_headers(article)
        self._remove_policy_notices(article)
        # Last, as the removals above change the counts these look at.
        for name in ("table", "ul", "div", "section"):  # section: not in Readability
            self._clean_conditionally(article, name)
        for child in children(article):
            self._clean_matched_nodes(
                child, lambda node, match: bool(PRINT_ELEMENTS.search(match)) and len(node.get_text()) < CHAR_THRESHOLD
            )
        self._remove_link_paragraphs(article)
        self._remove_headline_lists(article)
        self._remove_empty_paragraphs(article)
        for br in article.find_all("br"):
            if is_element(next_non_blank(br.next_sibling), "p"):
                br.extract()
        self._unwrap_single_cell_tables(article)

    # Parts of _prepArticle, inline there.

    def _remove_empty_paragraphs(self, root: Tag) -> None:
        """Paragraphs without text, image or embed ("Remove extra paragraphs")."""
        for p in root.find_all("p"):
            if not p.find(["img", "embed", "object", "iframe"]) and not has_text(p):
                p.extract()

    def _unwrap_single_cell_tables(self, root: Tag) -> None:
        """A table of one cell is layout: put the cell (as <p> or <div>) in its place ("Remove single-cell tables")."""
        for table in root.find_all("table"):
            if table.parent is None:
                continue
            body = first_child(table) if self._has_single_tag_inside_element(table, "tbody") else table
            if body is None or not self._has_single_tag_inside_element(body, "tr"):
                continue
            row = first_child(body)
            if row is None or not self._has_single_tag_inside_element(row, "td"):
                continue
            cell = first_child(row)
            assert cell is not None  # the row's single element
            cell.name = "p" if all(self._is_phrasing_content(c) for c in cell.contents) else "div"
            table.replace_with(cell)

    # Not in Readability: more of the cleaning of the article.

    def _remove_policy_notices(self, root: Tag) -> None:
        """Not in Readability: short blocks linking to two or more of the site's legal pages.

        Comment rules, newsletter sign-ups and cookie notices ("see our terms and privacy
        policy") are site chrome; an article's own links to such pages sit in long prose.
        """
        if not self._flag_is_active(FLAG_CLEAN_CONDITIONALLY):
            return
        for node in children(root):  # outermost first: the notice goes with its wrapper
            if (
                node.name in ("p", "div", "section", "ul", "form", "fieldset")
                and len(inner_text(node)) < CHAR_THRESHOLD
                and len(
                    {
                        href
                        for href in map(self._link_target, node.find_all("a"))
                        if POLICY_PAGE.match(href.rsplit("/", 1)[-1])
                    }
                )
                >= 2
            ):
                node.extract()
            else:
                self._remove_policy_notices(node)

    @staticmethod
    def _link_target(link: Tag) -> str:
        """Not in Readability: the path of a link's href, without query, fragment or trailing slash."""
        return re.split(r"[?#]", attr(link, "href"), maxsplit=1)[0].rstrip("/")

    def _remove_link_paragraphs(self, root: Tag) -> None:
        """Not in Readability: short paragraphs that are mostly a link ("Read also: ...").

        Only links that lead somewhere count: in-page anchors and script links
        (NHK's glossary pop-ups) wrap words of the text itself.  A kind of conditional
        cleaning, so it is relaxed with it: a page on which every stricter attempt found
        too little (an old table layout of short cells) keeps its linked lines.
        """
        if not self._flag_is_active(FLAG_CLEAN_CONDITIONALLY):
            return
        for p in root.find_all("p"):
            length = len(inner_text(p))
            if not length or length >= LINK_PARAGRAPH_LENGTH:
                continue
            linked = sum(
                len(inner_text(a))
                for a in p.find_all("a")
                if not re.match(r"\s*(#|javascript:)", attr(a, "href"), re.IGNORECASE)
            )
            if linked / length > 0.5:
                p.extract()

    def _remove_headline_lists(self, root: Tag) -> None:
        """Not in Readability: lists of headlines of other pages ("More from UK", "Trending").

        Readability keeps lists whatever their link density, for the lists of an article's
        own text.  A list of three or more items that are each nothing but a link to another
        page, worded as a headline (six words or more; 12 characters in scripts written
        without spaces), is a teaser box; a "See also" list of short titles, a list of
        URLs or of names stays.  Its heading goes with it, and a wrapper left with nothing
        else to say.  Relaxed with conditional cleaning.
        """
        if not self._flag_is_active(FLAG_CLEAN_CONDITIONALLY):
            return
        for lst in root.find_all(["ul", "ol"]):
            if lst.parent is None or lst.find_parent(["ul", "ol"]) is not None or not self._is_headline_list(lst):
                continue
            heading = previous_sibling(lst)
            if (
                heading is not None
                and heading.name in ("h2", "h3", "h4", "h5", "h6")
                and len(inner_text(heading)) < LINK_PARAGRAPH_LENGTH
            ):
                heading.extract()
            parent: Tag | None = lst.parent  # (narrowed to Tag above, but climbs to None)
            lst.extract()
            # A wrapper left with a title and no prose of its own ("More from UK") goes too.
            while (
                parent is not None
                and parent is not root
                and parent.find(["p", "img", "table"]) is None
                and len(inner_text(parent)) < LINK_PARAGRAPH_LENGTH // 2
            ):
                child, parent = parent, parent.parent
                child.extract()

    def _is_headline_list(self, lst: Tag) -> bool:
        """Not in Readability: three or more items, each one link to another page whose text is a headline."""
        items = children(lst)
        if len(items) < 3 or any(item.name != "li" for item in items):
            return False
        for item in items:
            links = item.find_all("a")
            text = inner_text(item)
            if len(links) != 1 or re.match(r"\s*(#|javascript:)", attr(links[0], "href"), re.IGNORECASE):
                return False
            if re.sub(r"\W", "", inner_text(links[0])) != re.sub(r"\W", "", text):
                return False
            if len(text.split()) < HEADLINE_WORDS and not (UNSPACED.search(text) and len(text) >= 2 * HEADLINE_WORDS):
                return False
        return True

    def _initialize_node(self, node: Tag) -> None:
        """A starting score from the tag (divs good, lists and headings poor) and class/id."""
        score = {
            "div": 5,
            "pre": 3,
            "td": 3,
            "blockquote": 3,
            "address": -3,
            "ol": -3,
            "ul": -3,
            "dl": -3,
            "dd": -3,
            "dt": -3,
            "li": -3,
            "form": -3,
            "h1": -5,
            "h2": -5,
            "h3": -5,
            "h4": -5,
            "h5": -5,
            "h6": -5,
            "th": -5,
        }.get(node.name, 0)
        self.scores[id(node)] = [node, score + self._get_class_weight(node)]

    def _score(self, node: Tag) -> float | None:
        """``node.readability.contentScore``; None for a node not initialized."""
        entry = self.scores.get(id(node))
        return entry[1] if entry is not None else None

    def _known_score(self, node: Tag) -> float:
        """The score of a node already initialized (a candidate)."""
        score = self._score(node)
        assert score is not None, "a candidate is initialized when it is found"
        return score

    def _add_score(self, node: Tag, amount: float) -> None:
        self.scores[id(node)][1] += amount

    def _is_valid_byline(self, node: Tag) -> bool:
        """Marked as the author (rel, itemprop, or a class or id like "byline"), and short.

        The marks are metadata.py's (:func:`.metadata.marks_byline`), which reads the author from the
        same elements.
        """
        length = len(node.get_text().strip())
        return marks_byline(node) and 0 < length < 100

    def _grab_article(self, page: Tag) -> Tag:
        """Attempts with the filters relaxed one at a time, until one finds enough text; the article.

        Upstream's loop around the attempt; the attempt itself is :meth:`_grab_article_attempt`.
        """
        pristine = copy.copy(page)
        attempts: list[tuple[int, Tag]] = []
        while True:
            article = self._grab_article_attempt(page)
            # Characters, in every script, as Readability counts them.  (Counting a
            # Chinese/Japanese character as three let a strict attempt that kept only
            # the story cell of a table layout pass, where Readability relaxes.)
            length = len(inner_text(article))
            if length >= CHAR_THRESHOLD:
                return self._finish(page, article)
            attempts.append((length, article))
            if not self._relax_flags():
                break
            # Start again from the page as it was before this attempt cut it up.
            fresh = copy.copy(pristine)
            page.replace_with(fresh)
            page = fresh
        # Readability takes the longest attempt.  Relaxing the filters on a short page
        # mostly lets junk back in (a cookie banner...), so take the strictest attempt
        # that found nearly as much text.
        longest = max(length for length, _ in attempts)
        if not longest:
            return page
        article = next(article for length, article in attempts if length >= RELAXED_GAIN * longest)
        return self._finish(page, article)

    def _finish(self, page: Tag, article: Tag) -> Tag:
        """Make the article the page's only content; note the byline Readability took out.

        Not in Readability, which returns the article: the caller reads the cleaned soup.
        """
        if self.article_byline:
            article["data-byline"] = self.article_byline
        page.clear()
        page.append(article)
        return article

    # Parts of _grabArticle, one function there: an attempt, then its steps in upstream's order.
    # _holders_of_best_text, _is_dateline and _same_kind are not in Readability.

    def _grab_article_attempt(self, page: Tag) -> Tag:
        """One pass with the current flags: walk, score, choose, merge siblings, clean."""
        self.scores.clear()
        self.data_tables.clear()
        to_score = self._walk_and_prune()
        candidates = self._score_paragraphs(to_score)
        top_candidates = self._best_candidates(candidates)
        top = self._choose_top_candidate(page, top_candidates)
        self._best_text_holders = self._holders_of_best_text(top_candidates)
        article = self._merge_siblings(top)
        self._prep_article(article)
        self._copy_direction(top, article)
        return article

    def _walk_and_prune(self) -> list[Tag]:
        """Remove junk nodes, turn text-only divs into paragraphs; the elements worth scoring."""
        to_score: list[Tag] = []
        remove_title_header = True
        # Only a <time> and its near ancestors can be a dateline: find them once.
        self._time_holders = {id(a) for t in self.soup.find_all("time") for a in [t, *ancestors(t, 2)]}
        node = first_child(self.soup)
        while node is not None:
            if node.name in ("html", "body"):
                # Never removed (Readability spares only <body>, but a page with
                # <html class="sidebar-visible"> or a hidden-until-loaded body would lose all).
                node = get_next_node(node)
                continue
            match = match_string(node)
            if self._is_junk(node):
                node = remove_and_get_next(node)
                continue
            if remove_title_header and self._header_duplicates_title(node):
                # The first heading repeating the title goes; an <h1> stays
                # because the caller takes the title (and removes it) itself.
                remove_title_header = False
                if node.name != "h1":
                    node = remove_and_get_next(node)
                    continue
            if self._flag_is_active(FLAG_STRIP_UNLIKELYS) and self._is_unlikely(node, match):
                node = remove_and_get_next(node)
                continue
            if node.name in (
                "div",
                "section",
                "header",
                "h1",
                "h2",
                "h3",
                "h4",
                "h5",
                "h6",
            ) and self._is_element_without_content(node):
                node = remove_and_get_next(node)
                continue
            if node.name in TAGS_TO_SCORE:
                to_score.append(node)
            if node.name == "div":
                node = self._div_to_paragraphs(node, to_score)
            node = get_next_node(node)
        return to_score

    def _is_junk(self, node: Tag) -> bool:
        """Hidden nodes, modal dialogs, the byline; not in Readability: wiki "[edit]" links, bare datelines."""
        if not is_probably_visible(node):
            return True
        if node.get("aria-modal") == "true" and node.get("role") == "dialog":
            return True
        if EDIT_LINKS.search(attr(node, "class")):
            return True
        if id(node) in self._time_holders and self._is_dateline(node):
            return True
        return self._check_byline(node)

    def _is_dateline(self, node: Tag) -> bool:
        """Not in Readability: a block holding a <time> and at most a short label ("Published: <time>").

        Blocks only: a <time> inside a sentence is part of the sentence.
        """
        if node.name not in ("div", "p", "li", "dd", "section", "header", "footer"):
            return False
        times = node.find_all("time")
        if not times:
            return False
        label = len(inner_text(node)) - sum(len(inner_text(t)) for t in times)
        return label <= DATELINE_LABEL_LENGTH

    def _check_byline(self, node: Tag) -> bool:
        """The first short element marked as the author, unless the metadata names one."""
        if self.article_byline or self.metadata.byline or not self._is_valid_byline(node):
            return False
        self.article_byline = " ".join(node.get_text().split())
        return True

    def _is_unlikely(self, node: Tag, match: str) -> bool:
        """Class/id such as sidebar or comment (outside tables and code), or a chrome ARIA role."""
        if (
            UNLIKELY_CANDIDATES.search(match)
            and not MAYBE_CANDIDATE.search(match)
            and node.name not in ("body", "a")
            and not has_ancestor_tag(node, "table")
            and not has_ancestor_tag(node, "code")
            # Not in Readability: a formula is never page furniture, and the class MathJax gives its
            # formulas names a behaviour ("CtxtMenu_Attached_0": a context menu is attached), not a menu.
            and node.find("math") is None
            and not self._is_quotation(node)
        ):
            return True
        return node.get("role") in UNLIKELY_ROLES

    @staticmethod
    def _is_quotation(node: Tag) -> bool:
        """Not in Readability: whether ``node`` is, or only wraps, a quotation (nearly all its text in one
        <blockquote>): a post the article cites, embedded in a box whose class says "social"."""
        quote = node if node.name == "blockquote" else node.find("blockquote")
        if quote is None:
            return False
        quoted, whole = len(inner_text(quote)), len(inner_text(node))
        return quoted > 0 and quoted >= QUOTATION_SHARE * whole

    def _div_to_paragraphs(self, div: Tag, to_score: list[Tag]) -> Tag:
        """Wrap loose inline content of a div in <p>; a div that is really a paragraph becomes one."""
        p = None
        for child in list(div.contents):
            if self._is_phrasing_content(child):
                if p is not None:
                    p.append(child)
                elif not self._is_whitespace(child):
                    p = self.soup.new_tag("p")
                    child.replace_with(p)
                    p.append(child)
            elif p is not None:
                while p.contents and self._is_whitespace(p.contents[-1]):
                    p.contents[-1].extract()
                p = None
        if self._has_single_tag_inside_element(div, "p") and link_density(div) < 0.25:
            paragraph = first_child(div)
            assert paragraph is not None  # the div's single element
            for name in ("id", "lang", "dir"):  # keep anchors and language marks
                if div.has_attr(name) and not paragraph.has_attr(name):
                    paragraph[name] = div[name]
            div.replace_with(paragraph)
            to_score.append(paragraph)
            return paragraph
        if not self._has_child_block_element(div):
            div.name = "p"
            to_score.append(div)
        return div

    def _score_paragraphs(self, to_score: list[Tag]) -> list[Tag]:
        """Give each paragraph 1 + commas + length/100 (at most 3) and pass it to five ancestors."""
        candidates: list[Tag] = []
        for element in to_score:
            if is_page_root(element.parent):
                continue
            text = inner_text(element)
            if len(text) < 25:
                continue
            lineage = ancestors(element, 5)
            # "split(commas).length" in Readability: the commas plus one.
            score = 1 + len(COMMAS.split(text)) + min(len(text) // 100, 3)
            for level, ancestor in enumerate(lineage):
                if is_page_root(ancestor) or is_page_root(ancestor.parent):
                    continue  # the document and <html> are never candidates
                if self._score(ancestor) is None:
                    self._initialize_node(ancestor)
                    candidates.append(ancestor)
                divider = 1 if level == 0 else 2 if level == 1 else level * 3
                self._add_score(ancestor, score / divider)
        return candidates

    def _best_candidates(self, candidates: list[Tag]) -> list[Tag]:
        """Scale scores by (1 - link density); the best N_TOP_CANDIDATES, best first."""
        top: list[Tag] = []
        for candidate in candidates:
            score = self._known_score(candidate) * (1 - link_density(candidate))
            self.scores[id(candidate)][1] = score
            for rank in range(N_TOP_CANDIDATES):
                if rank >= len(top) or score > self._known_score(top[rank]):
                    top.insert(rank, candidate)
                    del top[N_TOP_CANDIDATES:]
                    break
        return top

    def _choose_top_candidate(self, page: Tag, top_candidates: list[Tag]) -> Tag:
        """The best candidate, promoted to an ancestor where the evidence says so."""
        top = top_candidates[0] if top_candidates else None
        if top is None or top.name == "body":
            # Nothing stood out: the whole page, moved into a div we can take away.
            top = self.soup.new_tag("div")
            top.extend(list(page.contents))
            page.append(top)
            self._initialize_node(top)
            return top
        top = self._common_ancestor_of_alternatives(top, top_candidates)
        if self._score(top) is None:
            self._initialize_node(top)
        top = self._climb_while_score_rises(top)
        # An only child: take the parent, so that sibling merging sees the neighbours.
        parent = top.parent
        while not is_page_root(parent) and parent.name != "body" and len(children(parent)) == 1:
            top, parent = parent, parent.parent
        if self._score(top) is None:
            self._initialize_node(top)
        return top

    def _common_ancestor_of_alternatives(self, top: Tag, top_candidates: list[Tag]) -> Tag:
        """If three runners-up score within 75% of the winner, use an ancestor shared by three of them."""
        best = self._known_score(top)
        alternatives = [
            {id(a) for a in ancestors(c)} for c in top_candidates[1:] if js_ratio(self._known_score(c), best) >= 0.75
        ]
        if len(alternatives) < 3:
            return top
        parent = top.parent
        while not is_page_root(parent) and parent.name != "body":
            if sum(id(parent) in lineage for lineage in alternatives) >= 3:
                return parent
            parent = parent.parent
        return top

    def _climb_while_score_rises(self, top: Tag) -> Tag:
        """Parents collect half a child's score; if one scores higher, content is spread out: take it."""
        last = self._known_score(top)
        threshold = last / 3
        parent = top.parent
        while not is_page_root(parent) and parent.name != "body":
            score = self._score(parent)
            if score is None:
                parent = parent.parent
                continue
            if score < threshold:
                break
            if score > last:
                return parent
            last = score
            parent = parent.parent
        return top

    def _holders_of_best_text(self, top_candidates: list[Tag]) -> set[int]:
        """Not in Readability: ids of the candidates scoring within 75% of the best, and of their ancestors."""
        if not top_candidates:
            return set()
        best = self._known_score(top_candidates[0])
        holders: set[int] = set()
        for candidate in top_candidates:
            if js_ratio(self._known_score(candidate), best) >= 0.75:
                holders.update(id(node) for node in [candidate, *ancestors(candidate)])
        return holders

    def _merge_siblings(self, top: Tag) -> Tag:
        """A new <div> holding the top candidate and those of its siblings that look like content."""
        article = self.soup.new_tag("div")
        self._original_ancestors = [a for a in ancestors(top) if not is_page_root(a)]
        top_score = self._known_score(top)
        threshold = max(10, top_score * 0.2)
        top_class = attr(top, "class")
        parent = top.parent
        for sibling in children(parent) if parent is not None else [top]:
            if sibling is top or self._is_related_sibling(sibling, top_class, top_score, threshold):
                if sibling.name not in ALTER_TO_DIV_EXCEPTIONS | KEEP_NAME_ON_MERGE:
                    # e.g. a <td> or <form>: a div is not filtered out later by accident.
                    sibling.name = "div"
                article.append(sibling)
        return article

    def _is_related_sibling(self, sibling: Tag, top_class: str, top_score: float, threshold: float) -> bool:
        """Whether a sibling of the top candidate is part of the article: its score, or a paragraph of prose."""
        bonus = top_score * 0.2 if self._same_kind(attr(sibling, "class"), top_class) else 0
        score = self._score(sibling)
        if score is not None:
            # Not in Readability: a positive class name ("article-author-box") earns a
            # candidate 25 points but does not by itself make a neighbour part of the article.
            score -= max(0, self._get_class_weight(sibling))
        if score is not None and score + bonus >= threshold:
            return True
        if sibling.name != "p":
            return False
        density, text = link_density(sibling), inner_text(sibling)
        if len(text) > 80:
            return density < 0.25
        return 0 < len(text) < 80 and density == 0 and re.search(r"\.( |\Z)", text) is not None

    @staticmethod
    def _same_kind(class_a: str, class_b: str) -> bool:
        """Not in Readability: whether two class attributes name the same kind of block.

        Readability asks for the same class string; an article cut into chunks often marks
        one of them with a modifier ("body-text first" beside "body-text"), so here most
        of the class names must be shared (Jaccard index of the sets >= 0.5).
        """
        a, b = set(class_a.split()), set(class_b.split())
        return bool(a and b) and len(a & b) / len(a | b) >= 0.5

    def _copy_direction(self, top: Tag, article: Tag) -> None:
        """The nearest dir (and lang, below <html>) of the top candidate, onto the article."""
        chain = [top, *self._original_ancestors]
        for name in ("dir", "lang"):
            for element in chain:
                if element.name == "html" and name == "lang":
                    break
                if element.get(name):
                    if not article.has_attr(name):
                        article[name] = element[name]
                    break

    def _is_single_image(self, node: Tag | None) -> bool:
        """An <img>, or an element wrapping exactly one <img> and no text."""
        while node is not None:
            if node.name == "img":
                return True
            elements = children(node)
            if len(elements) != 1 or node.get_text().strip():
                return False
            node = elements[0]
        return False

    def _unwrap_noscript_images(self) -> None:
        """Replace lazy-loading placeholders by the real <img> kept in a following <noscript>."""
        for img in self.soup.find_all("img"):
            if not any(
                name in ("src", "srcset", "data-src", "data-srcset") or IMAGE_URL.search(attr(img, name))
                for name in img.attrs
            ):
                img.extract()
        for noscript in self.soup.find_all("noscript"):
            if not self._is_single_image(noscript):
                continue
            previous = previous_sibling(noscript)
            if previous is None or not self._is_single_image(previous):
                continue
            old_img = previous if previous.name == "img" else previous.find("img")
            new_img = noscript.find("img")
            replacement = first_child(noscript)
            assert isinstance(old_img, Tag) and isinstance(new_img, Tag) and replacement is not None  # single images
            for name, value in list(old_img.attrs.items()):
                value = " ".join(value) if isinstance(value, list) else value
                if not value or not (name in ("src", "srcset") or IMAGE_URL.search(value)):
                    continue
                if new_img.get(name) == value:
                    continue
                new_img["data-old-" + name if new_img.has_attr(name) else name] = value
            previous.replace_with(replacement)

    def _has_single_tag_inside_element(self, node: Tag, name: str) -> bool:
        """Exactly one element child, named ``name``, and no text beside it."""
        elements = children(node)
        if len(elements) != 1 or elements[0].name != name:
            return False
        return not any(is_text(c) and str(c).strip() for c in node.contents)

    def _is_element_without_content(self, node: Tag) -> bool:
        """No text, and no children other than line breaks and rules."""
        if has_text(node):
            return False
        elements = children(node)
        return not elements or len(elements) == len(node.find_all(["br", "hr"]))

    def _has_child_block_element(self, node: Tag) -> bool:
        """Whether a block element (DIV_TO_P_ELEMS) lies anywhere inside."""
        return node.find(DIV_TO_P_ELEMS) is not None

    def _is_phrasing_content(self, node) -> bool:
        """Phrasing content: text, inline elements, and links/edits holding only those."""
        if is_text(node):
            return True
        if not isinstance(node, Tag):
            return False
        if node.name in PHRASING_ELEMS:
            return True
        # Not in Readability: an autonomous custom element (a hyphen in its name, as MathJax's
        # mjx-container) is phrasing content in HTML's content model when it holds only phrasing.
        return (node.name in ("a", "del", "ins") or "-" in node.name) and all(
            self._is_phrasing_content(c) for c in node.contents
        )

    def _is_whitespace(self, node) -> bool:
        """Blank text or a <br>."""
        return (is_text(node) and not str(node).strip()) or is_element(node, "br")

    def _get_class_weight(self, node: Tag) -> int:
        """+25 for each of class and id that looks like content, -25 for each that looks like chrome."""
        if not self._flag_is_active(FLAG_WEIGHT_CLASSES):
            return 0
        weight = 0
        for value in (attr(node, "class"), attr(node, "id")):
            if value:
                weight -= 25 if NEGATIVE.search(value) else 0
                weight += 25 if POSITIVE.search(value) else 0
        return weight

    def _clean(self, root: Tag, name: str) -> None:
        """Remove every ``name`` element, except embedded videos from known hosts."""
        embed = name in ("object", "embed", "iframe")
        for node in root.find_all(name):
            if embed and self._is_video(node):
                continue
            node.extract()

    @staticmethod
    def _is_video(node: Tag) -> bool:
        """An embed from a known video host (the test inside upstream's _clean and _cleanConditionally)."""
        if any(VIDEOS.search(attr(node, name)) for name in node.attrs):
            return True
        return node.name == "object" and VIDEOS.search(node.decode_contents()) is not None

    def _mark_data_tables(self, root: Tag) -> None:
        """Tell data tables (kept whole) from layout tables, by the rule the reader shares (dom.is_data_table)."""
        for table in root.find_all("table"):
            self.data_tables[id(table)] = (table, is_data_table(table))

    def _fix_lazy_images(self, root: Tag) -> None:
        """Give lazy-loaded images a real src/srcset from their data-* attributes."""
        for element in root.find_all(["img", "picture", "figure"]):
            src = attr(element, "src") if element.name == "img" else ""
            srcset = attr(element, "srcset") if element.name == "img" else ""
            data_url = B64_DATA_URL.match(src)
            if data_url:
                if data_url.group(1) == "image/svg+xml":
                    continue
                # A tiny base64 image beside a real image URL is a placeholder.
                if any(name != "src" and IMAGE_URL.search(attr(element, name)) for name in element.attrs):
                    base64 = re.search(r"base64\s*", src, re.IGNORECASE)
                    assert base64 is not None  # B64_DATA_URL matched
                    if len(src) - (base64.start() + 7) < 133:
                        del element["src"]
                        src = ""
            if (src or (srcset and srcset != "null")) and "lazy" not in attr(element, "class").lower():
                continue
            for name in list(element.attrs):
                if name in ("src", "srcset", "alt"):
                    continue
                value = attr(element, name)
                if re.search(r"\.(jpg|jpeg|png|webp)\s+\d", value):
                    target = "srcset"
                elif re.fullmatch(r"\s*\S+\.(jpg|jpeg|png|webp)\S*\s*", value):
                    target = "src"
                else:
                    continue
                if element.name in ("img", "picture"):
                    element[target] = value
                elif element.find(["img", "picture"]) is None:
                    img = self.soup.new_tag("img")
                    img[target] = value
                    element.append(img)

    def _clean_conditionally(self, root: Tag, name: str) -> None:
        """Remove ``name`` elements that look like chrome rather than content (see _looks_fishy).

        Deepest first, as Readability does: inner removals change the counts of outer ones.
        """
        if not self._flag_is_active(FLAG_CLEAN_CONDITIONALLY):
            return
        self.text_length = TextLengths()
        for node in reversed(root.find_all(name)):
            if node.parent is not None and self._looks_fishy(node, name):
                self.text_length.remove(node)

    # Parts of _cleanConditionally, one function there.

    def _is_data_table(self, table: Tag) -> bool:
        """``table._readabilityDataTable``, as _markDataTables set it."""
        entry = self.data_tables.get(id(table))
        return entry is not None and entry[1]

    def _is_protected(self, node: Tag, name: str) -> bool:
        """Data tables, anything inside one or inside code, and anything holding one."""
        if name == "table" and self._is_data_table(node):
            return True
        if has_ancestor_tag(node, "table", -1, self._is_data_table) or has_ancestor_tag(node, "code"):
            return True
        return any(self._is_data_table(t) for t in node.find_all("table"))

    def _looks_fishy(self, node: Tag, name: str) -> bool:
        """Whether _cleanConditionally removes ``node``: a negative class, ad words, or a shape unlike prose."""
        is_list = name in ("ul", "ol")
        if not is_list:
            list_length = sum(self.text_length(lst) for lst in node.find_all(["ul", "ol"]))
            is_list = js_ratio(list_length, self.text_length(node)) > 0.9
        if self._is_protected(node, name):
            return False
        if self._is_quotation(node):
            return False  # Not in Readability: a post the article cites, whatever its box's class says
        weight = self._get_class_weight(node)
        if weight < 0:
            return True
        if id(node) in self._best_text_holders:
            # Not in Readability (its own TODO: "take into account original contentScore"):
            # the element holding the text that scored best is not cleaned away for its
            # shape - a link list beside the story made CTV News lose the whole story.
            return False
        if inner_text(node).count(",") >= 10:
            return False  # many commas: prose
        embeds = node.find_all(["object", "embed", "iframe"])
        if any(self._is_video(embed) for embed in embeds):
            return False
        text = inner_text(node)
        if AD_WORDS.fullmatch(text) or LOADING_WORDS.fullmatch(text):
            return True
        remove = self._fails_shape_checks(node, is_list, weight, len(embeds), text, name)
        if is_list and remove:
            # A plain list of images may stay: every item one child, every item an image.
            if any(len(children(child)) > 1 for child in children(node)):
                return True
            return len(node.find_all("img")) != len(node.find_all("li"))
        return remove

    def _fails_shape_checks(
        self, node: Tag, is_list: bool, weight: int, embeds: int, text: str, name: str = ""
    ) -> bool:
        """Readability's heuristics: too many images, items, inputs or links for the text.

        Not in Readability (which never cleans a <section>): a <section> is a part of the page
        by its author's own markup, so only the signs of chrome count against it (mostly links,
        no prose, inputs, embeds), not having more pictures than paragraphs - a section of
        photographs with their credits is content, as in a picture story or a news front.
        """
        p = len(node.find_all("p"))
        img = len(node.find_all("img"))
        li = len(node.find_all("li")) - 100
        inputs = len(node.find_all("input"))
        heading_density = text_density(node, ["h1", "h2", "h3", "h4", "h5", "h6"], self.text_length)
        length = len(text)
        links = link_density(node)
        texts = text_density(node, ["span", "li", "td", *DIV_TO_P_ELEMS], self.text_length)
        in_figure = has_ancestor_tag(node, "figure")
        return (
            (not in_figure and name != "section" and img > 1 and p / img < 0.5)
            or (not is_list and li > p)
            or inputs > p // 3
            or (
                not is_list
                and not in_figure
                and heading_density < 0.9
                and length < 25
                and (img == 0 or img > 2)
                and links > 0
            )
            or (not is_list and weight < 25 and links > 0.2)
            or (weight >= 25 and links > 0.5)
            or (embeds == 1 and length < 75)
            or embeds > 1
            or (img == 0 and texts == 0)
        )

    def _clean_matched_nodes(self, root: Tag, remove) -> None:
        """Remove descendants of ``root`` for which ``remove(node, class + id)`` holds."""
        end = get_next_node(root, skip_children=True)
        node = get_next_node(root)
        while node is not None and node is not end:
            if remove(node, match_string(node)):
                node = remove_and_get_next(node)
            else:
                node = get_next_node(node)

    def _clean_headers(self, root: Tag) -> None:
        """<h1> and <h2> with a negative class weight."""
        for heading in root.find_all(["h1", "h2"]):
            if self._get_class_weight(heading) < 0:
                heading.extract()

    def _header_duplicates_title(self, node: Tag) -> bool:
        """An <h1> or <h2> whose words are mostly the title's."""
        if node.name not in ("h1", "h2") or not self.article_title:
            return False
        return text_similarity(self.article_title, inner_text(node, normalize=False)) > 0.75

    def _flag_is_active(self, flag: int) -> bool:
        return bool(self.flags & flag)

    def _relax_flags(self) -> bool:
        """Drop the next filter (unlikely candidates, class weights, cleaning); False if none is left.

        _removeFlag, with the choice of flag that upstream makes inside _grabArticle's loop.
        """
        for flag in (FLAG_STRIP_UNLIKELYS, FLAG_WEIGHT_CLASSES, FLAG_CLEAN_CONDITIONALLY):
            if self._flag_is_active(flag):
                self.flags &= ~flag
                return True
        return False

    def parse(self) -> Tag:
        """Prepare the page and find the article; the body then holds only the article."""
        self._prep_document()
        body = self.soup.body
        if body is None:
            return self.soup.html or self.soup
        return self._grab_article(body)
