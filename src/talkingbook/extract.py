"""Find the article inside a page: the element whose descendants are its content.

Site chrome (navigation, headers, footers, share bars, related links, comments,
banners, ads) is removed from the soup in place.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Comment, Tag

# Page furniture that is never part of the article.
CHROME = (
    "script", "style", "noscript", "template", "nav", "aside", "footer", "form",
    "iframe", "button", "svg", "canvas", "object", "embed", "dialog", "select", "input",
)
def find_article(soup: BeautifulSoup) -> Tag:
    """The element holding the article's content; the soup is cleaned in place."""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(CHROME):
        tag.decompose()
    for tag in soup.find_all(attrs={"hidden": True}) + soup.find_all(attrs={"aria-hidden": "true"}):
        if not tag.decomposed:
            tag.decompose()
    articles = soup.find_all("article")
    if articles:
        return max(articles, key=lambda a: len(a.get_text(" ", strip=True)))
    main = soup.find("main") or soup.find(attrs={"role": "main"})
    if main is not None:
        return main
    body = soup.body or soup
    for tag in body.find_all("header"):
        if not tag.find("h1"):
            tag.decompose()
    return body
