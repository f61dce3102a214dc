"""bs4 as the DOM that Readability.js walks, and the text measures it takes of it.

Readability walks element nodes (``children``, ``nextElementSibling``, ``textContent``);
bs4 mixes strings into every list and splits ``class`` into a list.  These shims give the
extractor (:mod:`.extract`) the DOM's answers, each named in its docstring after the DOM
property or Readability.js method it stands for.  The reader (:mod:`.html`) shares the rules
a browser applies to integer attributes (:func:`html_integer`) and to tables
(:func:`is_data_table`): what the extractor keeps as a table, the reader reads as one.
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING

from bs4 import BeautifulSoup, CData, NavigableString, PageElement, Tag

if TYPE_CHECKING:
    from typing_extensions import TypeIs

TEXT_TYPES = (NavigableString, CData)


# --- elements and their neighbours ----------------------------------------------


def is_text(node) -> bool:
    """A text node (comments, doctypes and the like are not)."""
    return type(node) in TEXT_TYPES


def children(tag: Tag) -> list[Tag]:
    """The element children (DOM ``children``)."""
    return [child for child in tag.contents if isinstance(child, Tag)]


def first_child(tag: Tag) -> Tag | None:
    """DOM ``firstElementChild``."""
    for child in tag.contents:
        if isinstance(child, Tag):
            return child
    return None


def next_sibling(node) -> Tag | None:
    """DOM ``nextElementSibling``."""
    node = node.next_sibling
    while node is not None and not isinstance(node, Tag):
        node = node.next_sibling
    return node


def previous_sibling(node) -> Tag | None:
    """DOM ``previousElementSibling``."""
    node = node.previous_sibling
    while node is not None and not isinstance(node, Tag):
        node = node.previous_sibling
    return node


def get_next_node(node: Tag, skip_children: bool = False) -> Tag | None:
    """The next element in a depth-first walk; ``skip_children`` steps over the subtree (_getNextNode)."""
    if not skip_children:
        child = first_child(node)
        if child is not None:
            return child
    current: Tag | None = node
    while current is not None:
        sibling = next_sibling(current)
        if sibling is not None:
            return sibling
        current = current.parent
    return None


def remove_and_get_next(node: Tag) -> Tag | None:
    """Take ``node`` out; the element a depth-first walk visits next (_removeAndGetNext)."""
    following = get_next_node(node, skip_children=True)
    node.extract()
    return following


def next_non_blank(node):
    """``node`` or the first following sibling that is an element or non-blank text (_nextNode)."""
    while node is not None and not isinstance(node, Tag) and not str(node).strip():
        node = node.next_sibling
    return node


def is_element(node, name: str) -> bool:
    return isinstance(node, Tag) and node.name == name


def is_page_root(node: PageElement | None) -> TypeIs[BeautifulSoup | None]:
    """The document itself, which has no tag name in the DOM."""
    return node is None or isinstance(node, BeautifulSoup)


def ancestors(node: Tag, max_depth: int = 0) -> list[Tag]:
    """Parent first, up to the document; at most ``max_depth`` when given (_getNodeAncestors)."""
    found = []
    while node.parent is not None:
        found.append(node.parent)
        if max_depth and len(found) == max_depth:
            break
        node = node.parent
    return found


def has_ancestor_tag(node: Tag, name: str, max_depth: int = 3, accept=None) -> bool:
    """Whether an ancestor within ``max_depth`` levels (any, if negative) is a ``name`` (_hasAncestorTag)."""
    depth = 0
    while node.parent is not None:
        if max_depth > 0 and depth > max_depth:
            return False
        if node.parent.name == name and (accept is None or accept(node.parent)):
            return True
        node = node.parent
        depth += 1
    return False


def attr(node: Tag, name: str) -> str:
    """An attribute as one string (bs4 splits ``class`` and ``rel`` into lists)."""
    value = node.get(name)
    if value is None:
        return ""
    return " ".join(value) if isinstance(value, list) else str(value)


def match_string(node: Tag) -> str:
    """``node.className + " " + node.id``, what Readability matches its patterns against."""
    return attr(node, "class") + " " + attr(node, "id")


def js_ratio(a: float, b: float) -> float:
    """``a / b`` with JavaScript's answers for a zero divisor (the ratios rely on them)."""
    if b:
        return a / b
    if a == 0:
        return math.nan
    return math.inf if a > 0 else -math.inf


# What a browser's node.style.display / visibility say, read from the inline style.
DISPLAY_NONE = re.compile(r"(^|;)\s*display\s*:\s*none\s*(!\s*important\s*)?(;|$)", re.IGNORECASE)
VISIBILITY_HIDDEN = re.compile(r"(^|;)\s*visibility\s*:\s*hidden\s*(!\s*important\s*)?(;|$)", re.IGNORECASE)


def is_probably_visible(node: Tag) -> bool:
    """False for elements hidden by inline style, ``hidden`` or ``aria-hidden`` (_isProbablyVisible)."""
    style = attr(node, "style")
    if style and (DISPLAY_NONE.search(style) or VISIBILITY_HIDDEN.search(style)):
        return False
    if node.has_attr("hidden"):
        return False
    if node.get("aria-hidden") != "true":
        return True
    # Wikipedia's maths images are aria-hidden fallbacks that carry the formula. Not in Readability:
    # aria-hidden hides from screen readers, not from the eye, and paywall scripts put it on the
    # article's own paragraphs; a paragraph of prose is shown and is read (icons, labels and their
    # visual duplicates are short).
    return "fallback-image" in attr(node, "class") or _holds_prose(node)


ARIA_HIDDEN_PROSE = 120  # characters of a paragraph that aria-hidden does not hide


def _holds_prose(node: Tag) -> bool:
    """Whether ``node`` is, or holds, a paragraph of at least ``ARIA_HIDDEN_PROSE`` characters."""
    paragraphs = [node] if node.name == "p" else node.find_all("p", limit=20)
    return any(len(p.get_text(strip=True)) >= ARIA_HIDDEN_PROSE for p in paragraphs)


# --- text measures ------------------------------------------------------------

HASH_URL = re.compile(r"^#.+")
# Scripts written without spaces between words (Thai, kana, CJK ideographs, Hangul): a character is
# about a word.
UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


# A word: a run of letters and digits, or one character of a script written without spaces.
WORD = re.compile(rf"{UNSPACED.pattern}|(?:(?!{UNSPACED.pattern})[^\W_])+")


@functools.lru_cache(maxsize=4096)  # the reader's rules look the same lines up several times
def words(text: str) -> tuple[str, ...]:
    """Lower-cased words; a character of Chinese, Japanese, Korean or Thai is a word (they have no spaces)."""
    return tuple(WORD.findall(text.lower()))


def inner_text(node: Tag, normalize: bool = True) -> str:
    """textContent, trimmed, with runs of whitespace collapsed (_getInnerText)."""
    text = node.get_text()
    # split/join: the same length as collapsing runs with a pattern, and many times faster on the
    # long texts that every ancestor of a deep article measures again
    return " ".join(text.split()) if normalize else text.strip()


def has_text(node: Tag) -> bool:
    """Whether any non-blank text lies inside (stops at the first, unlike get_text)."""
    return any(s.strip() for s in node.strings)


def link_density(node: Tag) -> float:
    """Share of the text that sits inside links; in-page (#) links count for 0.3 (_getLinkDensity)."""
    length = len(inner_text(node))
    if not length:
        return 0.0
    linked = 0.0
    for link in node.find_all("a"):
        weight = 0.3 if HASH_URL.match(attr(link, "href")) else 1.0
        linked += len(inner_text(link)) * weight
    return linked / length


def text_density(node: Tag, names, text_length=None) -> float:
    """Text inside descendants named ``names`` (nested ones count again) over all text (_getTextDensity)."""
    text_length = text_length or (lambda tag: len(inner_text(tag)))
    length = text_length(node)
    if not length:
        return 0.0
    return sum(text_length(child) for child in node.find_all(names)) / length


class TextLengths:
    """len(inner_text(node)), remembered through one cleaning pass and forgotten up the tree when a
    node is removed. Without it, nested elements make the pass cost depth x depth x text."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[Tag, int]] = {}  # the entry keeps its tag alive: ids are not reused

    def __call__(self, node: Tag) -> int:
        entry = self.known.get(id(node))
        if entry is None:
            entry = self.known[id(node)] = (node, len(inner_text(node)))
        return entry[1]

    def remove(self, node: Tag) -> None:
        """Take ``node`` out of the tree; its ancestors' text changes."""
        for ancestor in ancestors(node):
            self.known.pop(id(ancestor), None)
        node.extract()


def text_similarity(text_a: str, text_b: str) -> float:
    """1 when the words of ``text_b`` all occur in ``text_a``, 0 when none do (_textSimilarity)."""
    tokens_a = [t for t in re.split(r"\W+", text_a.lower()) if t]
    tokens_b = [t for t in re.split(r"\W+", text_b.lower()) if t]
    if not tokens_a or not tokens_b:
        return 0.0
    unique_b = [t for t in tokens_b if t not in tokens_a]
    return 1 - len(" ".join(unique_b)) / len(" ".join(tokens_b))


# --- attributes as browsers read them -------------------------------------------

HTML_INTEGER = re.compile(r"[\t\n\f\r ]*([+-]?)([0-9]+)")


def html_integer(value, *, default: int, low: int, high: int) -> int:
    """An integer attribute (colspan, start, width) read as browsers read it, clamped to [low, high].

    The HTML standard's rules for parsing integers: leading whitespace, a sign, ASCII digits,
    anything after them ignored ('2px' is 2); ``default`` when there are no digits. Not int():
    it takes '²' and other Unicode digits, and refuses more than 4,300 digits.
    """
    match = HTML_INTEGER.match(value) if isinstance(value, str) else None
    if match is None:
        return default
    digits = match.group(2).lstrip("0")
    if len(digits) > 18:  # beyond any bound we clamp to
        return low if match.group(1) == "-" else high
    number = int(digits or "0") * (-1 if match.group(1) == "-" else 1)
    return max(low, min(number, high))


def int_attr(node: Tag, name: str) -> int:
    """A count attribute (colspan, rowspan): 0 when absent or not a number."""
    return html_integer(attr(node, name), default=0, low=0, high=1000)


# --- tables as a browser's accessibility code judges them -----------------------------


def is_data_table(table: Tag) -> bool:
    """Whether a table holds data (rather than lays out the page): Readability's _markDataTables rule.

    Readability took it from Firefox's accessibility code (TableAccessible.cpp), which tells screen
    readers the same. Not in Readability: role="none", ARIA's synonym of "presentation", counts too.
    """
    if table.get("role") in ("presentation", "none") or table.get("datatable") == "0":
        return False
    if table.get("summary"):
        return True
    caption = table.find("caption")
    if caption is not None and caption.contents:
        return True
    if table.find(["col", "colgroup", "tfoot", "thead", "th"]) is not None:
        return True
    if table.find("table") is not None:
        return False  # nested tables mean layout
    rows, columns = get_row_and_column_count(table)
    if columns == 1 or rows == 1:
        return False
    if rows >= 10 or columns > 4:
        return True
    return rows * columns > 10


def get_row_and_column_count(table: Tag) -> tuple[int, int]:
    """Rows (a row's rowspan counting) and the widest row's columns (colspans counting) (_getRowAndColumnCount)."""
    rows = columns = 0
    for tr in table.find_all("tr"):
        rows += int_attr(tr, "rowspan") or 1
        columns = max(columns, sum(int_attr(td, "colspan") or 1 for td in tr.find_all("td")))
    return rows, columns
