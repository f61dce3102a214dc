"""The library as read from disk: every book folder of ``DIR`` described by its own manifest.json.

Nothing else is remembered between refreshes: a book folder deleted is forgotten at the next one,
a book folder (talkingbook's marker in it) whose manifest is missing or damaged is skipped with a
warning (and listed in ``Library.skipped``), never a failure of the whole library; someone else's
folder is not a book and is passed over in silence.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UsageError
from ..system.files import read_regular, shown as shown_name, why
from ..system.publish import read_marker

log = logging.getLogger(__name__)

CATALOG = "catalog"  # DIR/catalog/: the OPDS files; never a book's folder name
SETTINGS = ".talkingbook-library.json"  # the title, description and base URL `talkingbook library` was given
MANIFEST = "manifest.json"
MANIFEST_LIMIT = 64 * 1024 * 1024
LONGEST = 1_000_000.0  # seconds (11 days): a longer narration is a damaged manifest's number, not an article's


@dataclass(frozen=True)
class Entry:
    """One book of the library; every path is relative to the library's folder (``slug/...``)."""

    slug: str
    identifier: str
    title: str
    author: str
    publisher: str
    language: str
    date: str  # the article's date, YYYY-MM-DD, or ''
    modified: str  # the book's dcterms:modified (the page file's mtime, or SOURCE_DATE_EPOCH), ISO 8601
    summary: str
    source_url: str
    epub: str
    epub_size: int
    cover: str | None
    page: str | None  # the listening page
    mp3: str | None  # the full-length MP3 with chapters
    mp3_size: int
    m4b: str | None
    m4b_size: int
    chapters: str | None
    transcript: str | None  # the whole book's WebVTT
    duration: float | None  # seconds of narration
    authors: tuple[str, ...] = ()  # each author by name (``author`` is them as one line)

    @property
    def published(self) -> datetime:
        """The article's date (midnight UTC), else the book's modification date."""
        for text in (self.date, self.modified):
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=UTC)
        return datetime(1970, 1, 1, tzinfo=UTC)

    @property
    def primary_language(self) -> str:
        """The language without region, script or variant: 'en' for en-GB."""
        return self.language.split("-", 1)[0].lower()

    @property
    def site(self) -> str:
        """The publisher, else the host of the article's URL."""
        host = self.source_url.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")
        return self.publisher or host


@dataclass(frozen=True)
class Settings:
    """What the user gave `talkingbook library` (kept in ``DIR/.talkingbook-library.json``)."""

    title: str = ""
    description: str = ""
    base_url: str = ""
    audiobookshelf: str = ""  # an absolute path: the folder kept with one M4B per book (library/shelf.py)


@dataclass(frozen=True)
class Library:
    """The books of a folder, newest first, and the folders skipped with the reason."""

    folder: Path
    settings: Settings
    books: tuple[Entry, ...]
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def title(self) -> str:
        return self.settings.title or _text(self.folder.resolve().name) or "Library"

    @property
    def description(self) -> str:
        return self.settings.description or f"Articles read aloud: {self.title}"

    @property
    def languages(self) -> tuple[str, ...]:
        """Every book's primary language ('en' for en-US and en-GB alike), sorted, once each: the
        catalog's language groups."""
        return tuple(sorted({b.primary_language for b in self.books}))

    @property
    def language(self) -> str:
        """The one language of every book: its tag when all share it (en-US), the primary language when
        they differ only by region or script (en-US and en-GB: en), '' when they are mixed or none."""
        tags = {b.language for b in self.books}
        if len(tags) == 1:
            return next(iter(tags))
        return self.languages[0] if len(self.languages) == 1 else ""

    @property
    def updated(self) -> datetime:
        """The newest book's modification date (a fixed date for an empty library: reproducible files)."""
        times = [_when(b.modified) for b in self.books]
        return max(times) if times else datetime(1970, 1, 1, tzinfo=UTC)


def _when(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


# C0 and C1 controls but tab, newline and carriage return; lone surrogates (bytes that were not UTF-8 on
# the command line); what XML 1.0 cannot hold. lxml refuses most of them: a title holding one would
# stop every feed and catalog of the library.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_FOLDER_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?", re.IGNORECASE)


def setting_problem(name: str, value: str) -> str | None:
    """Why ``value`` cannot be the library's ``name`` (title, description, base_url) or a name of its files
    (any other ``name``: a folder's, a file's), or None."""
    found = _CONTROL.search(value)
    if found is not None:
        char = found.group()
        if "\ud800" <= char <= "\udfff":
            return "is not UTF-8 text"
        return f"holds a control character (U+{ord(char):04X})"
    if name == "base_url" and value and (not _FOLDER_URL.fullmatch(value) or not value.isascii()):
        return "is not an http:// or https:// URL of a folder in ASCII"  # `--base-url` writes IDNA, %-escapes
    if name == "audiobookshelf" and value and not os.path.isabs(value):
        return "is not an absolute path"
    return None


def check_setting(name: str, value: str) -> str:
    """``value`` when it can be the library's ``name``; UsageError naming the option otherwise."""
    problem = setting_problem(name, value)
    if problem is not None:
        raise UsageError(f"--{name.replace('_', '-')} {value!r}", f"{problem}; nothing was saved")
    return value


def read_settings(folder: Path) -> Settings:
    """The library's saved settings; the defaults when there are none (or they are damaged), and without
    any value that could not be written in a feed (ignored with a warning)."""
    path = folder / SETTINGS
    try:
        data = json.loads(read_regular(path, 1024 * 1024))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError, RecursionError) as exc:
        log.warning("%s: ignored (%s)", path, why(exc) if isinstance(exc, OSError) else "not JSON")
        return Settings()
    if not isinstance(data, dict):
        log.warning("%s: ignored (not a JSON object)", path)
        return Settings()
    kept = {}
    for name in ("title", "description", "base_url", "audiobookshelf"):
        value = data.get(name)
        if value is None or value == "":
            continue
        problem = setting_problem(name, value) if isinstance(value, str) else "is not text"
        if problem is None:
            kept[name] = value
        else:
            option = f"--{name.replace('_', '-')}"
            log.warning(
                "%s: the saved %s %s: ignored (`talkingbook library %s` sets it again)", path, option, problem, option
            )
    return Settings(**kept)


def read_library(folder: Path, settings: Settings | None = None) -> Library:
    """Every book folder of ``folder``, newest first (article date, then modification date, then name)."""
    books, skipped = [], []
    with os.scandir(folder) as entries:
        names = sorted(
            e.name
            for e in entries
            if not e.name.startswith(".") and e.name != CATALOG and e.is_dir(follow_symlinks=False)
        )
    memo = _read_memo(folder)
    for name in names:
        key = _memo_key(folder / name)
        known = memo.get(name)
        if key is not None and isinstance(known, dict) and known.get("key") == key:
            remembered = _remembered(name, known.get("entry"))
            if remembered is not None:
                books.append(remembered)
                continue  # else a memo of another version, or damaged: read the manifest
        try:
            books.append(read_book(folder / name))
        except BookSkipped as exc:
            if read_marker(folder / name) is None and not exc.ours:  # someone's folder, not a book: no news
                log.info("%s: not a book of talkingbook's; not in the library", folder / name)
                continue
            shown = shown_name(name)
            log.warning("%s: skipped from the library: %s", folder / shown, exc.why)
            skipped.append((shown, exc.why))
    books.sort(key=lambda b: (b.published, _when(b.modified), b.slug), reverse=True)
    _warn_shared_identifiers(folder, books)
    return Library(folder, settings if settings is not None else read_settings(folder), tuple(books), tuple(skipped))


def _warn_shared_identifiers(folder: Path, books: list[Entry]) -> None:
    """Two books with one identifier are one episode to a podcast app and one book to an e-reader:
    say so (two pages saved under one file name without a canonical URL are given one identifier)."""
    seen: dict[str, list[str]] = {}
    for book in books:
        seen.setdefault(book.identifier, []).append(book.slug)
    for identifier, slugs in seen.items():
        if len(slugs) > 1:
            log.warning(
                "%s: %s have the same identifier (%s): podcast apps and e-readers will show only one "
                "of them; give each page its canonical URL, or convert it from a file of its own name",
                folder,
                " and ".join(sorted(slugs)),
                identifier,
            )


# A memo of the entries read from the manifests, so that a refresh of 500 books does not parse 500
# manifests (tens of MB: every clip of every section) when none changed. An entry is reused only
# while its folder and manifest.json are the very same files: a book replaced is a new folder (the
# swap renames it in), a file added or removed in it changes the folder's mtime, and an edited
# manifest changes its own. Deleting the memo changes nothing but the time a refresh takes.
MEMO = ".books.json"  # in DIR/catalog/


def _memo_key(book: Path) -> list[int] | None:
    try:
        folder, manifest = os.lstat(book), os.lstat(book / MANIFEST)
    except OSError:
        return None
    return [folder.st_ino, folder.st_mtime_ns, manifest.st_ino, manifest.st_size, manifest.st_mtime_ns]


def state(folder: Path) -> tuple:
    """What changes whenever :func:`read_library` may read something else, for those that keep what
    they made of it (`serve`'s feed and catalogs): the folder itself (a book added, replaced or removed
    renames or deletes a folder in it), the memo the refresh after each conversion rewrites (a new file
    each time an entry changes) and the settings. Three ``stat`` calls, where the memo's own check reads
    every book's folder: a book changed in place by hand shows once `talkingbook library` has run."""
    out: list[tuple[int, ...] | None] = []
    for path in (folder, folder / CATALOG / MEMO, folder / SETTINGS):
        try:
            info = os.stat(path)
        except OSError:
            out.append(None)
            continue
        out.append((info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns))
    return tuple(out)


def _read_memo(folder: Path) -> dict:
    try:
        data = json.loads(read_regular(folder / CATALOG / MEMO, MANIFEST_LIMIT))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def memo(library: Library) -> bytes:
    """The memo of ``library``'s entries, for the next :func:`read_library` (written by the refresh)."""
    out = {}
    for book in library.books:
        key = _memo_key(library.folder / book.slug)
        if key is not None:
            out[book.slug] = {"key": key, "entry": asdict(book)}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


_OPTIONAL_PATHS = ("cover", "page", "mp3", "m4b", "chapters", "transcript")


def _remembered(slug: str, data) -> Entry | None:
    """The memo's entry for the book folder ``slug`` when it is one :func:`read_book` could have made
    (every field of its type, clean text, paths inside the folder); None otherwise."""
    if not isinstance(data, dict) or set(data) != {f.name for f in fields(Entry)} or data["slug"] != slug:
        return None
    if not all(_field_ok(name, value, slug) for name, value in data.items()):
        return None
    return Entry(**{**data, "authors": tuple(data["authors"])})


def _field_ok(name: str, value, slug: str) -> bool:
    if name == "authors":
        return isinstance(value, list) and all(isinstance(a, str) and a and _text(a) == a for a in value)
    if name in ("epub_size", "mp3_size", "m4b_size"):
        return type(value) is int and value >= 0
    if name == "duration":
        return value is None or (type(value) is float and _seconds(value) == value)
    if name == "epub" or name in _OPTIONAL_PATHS:
        if value is None:
            return name != "epub"
        return isinstance(value, str) and value.startswith(f"{slug}/") and _safe(value[len(slug) + 1 :])
    if name == "language":
        return isinstance(value, str) and _language(value) == value
    if name == "slug":
        return isinstance(value, str) and setting_problem("folder", value) is None
    if name in ("date", "modified"):
        return isinstance(value, str) and _iso(value, 10 if name == "date" else 0) == value
    return isinstance(value, str) and _text(value) == value


class BookSkipped(Exception):
    """A folder the library cannot list, and why."""

    def __init__(self, why: str, ours: bool = False) -> None:
        super().__init__(why)
        self.why, self.ours = why, ours  # ours: its manifest says talkingbook made it


def read_book(folder: Path) -> Entry:
    """The library's entry for one book folder, from its manifest.json; raises BookSkipped."""
    try:
        data = json.loads(read_regular(folder / MANIFEST, MANIFEST_LIMIT))
    except FileNotFoundError:
        raise BookSkipped("no manifest.json (not a book talkingbook made, or an unfinished one)") from None
    except OSError as exc:
        raise BookSkipped(f"manifest.json: {why(exc)}") from None
    except (ValueError, RecursionError):
        raise BookSkipped("manifest.json is damaged (not JSON)") from None
    if not isinstance(data, dict) or not str(data.get("generator", "")).startswith("talkingbook "):
        raise BookSkipped("manifest.json was not written by talkingbook")
    meta = data.get("metadata")
    if not isinstance(meta, dict) or not _text(meta.get("title")):
        raise BookSkipped("manifest.json has no title", ours=True)
    slug = folder.name
    if (problem := setting_problem("folder", slug)) is not None:  # its links could not be written
        raise BookSkipped(f"its folder's name {problem}; rename the folder", ours=True)
    epub = _file(folder, data.get("epub"))
    if isinstance(data.get("epub"), str) and (problem := setting_problem("file", data["epub"])) is not None:
        raise BookSkipped(f"its EPUB's file name {problem}", ours=True)
    if epub is None:
        raise BookSkipped("its EPUB is missing", ours=True)
    audiobook: dict = data["audiobook"] if isinstance(data.get("audiobook"), dict) else {}
    mp3, m4b = _file(folder, audiobook.get("mp3")), _file(folder, audiobook.get("m4b"))
    duration = data.get("duration")
    if not isinstance(duration, (int, float)) or isinstance(duration, bool):  # an earlier version's manifest
        sections: list = data["sections"] if isinstance(data.get("sections"), list) else []
        found = [s.get("duration") for s in sections if isinstance(s, dict)]
        numbers = [d for d in found if isinstance(d, (int, float))]
        duration = sum(numbers) if numbers and len(numbers) == len(found) else None
    seconds = _seconds(duration)
    if duration is not None and seconds is None:
        shown = str(duration)[:24]  # not all 400 digits of a damaged number
        log.warning("%s: manifest.json: duration %s is not a length of narration; listed without it", folder, shown)
    return Entry(
        slug=slug,
        identifier=_text(meta.get("identifier")) or f"urn:talkingbook:{slug}",
        title=_text(meta.get("title")),
        author=_text(meta.get("author")),
        authors=_authors(meta),
        publisher=_text(meta.get("publisher")),
        language=_language(meta.get("language")),
        date=_iso(meta.get("date"), 10),
        modified=_iso(data.get("modified"), 0) or _mtime(folder / MANIFEST),
        summary=_text(meta.get("summary")),
        source_url=_text(meta.get("source_url")),
        epub=f"{slug}/{epub[0]}",
        epub_size=epub[1],
        cover=_path(folder, data.get("cover")),
        page=_path(folder, data.get("page")),
        mp3=f"{slug}/{mp3[0]}" if mp3 else None,
        mp3_size=mp3[1] if mp3 else 0,
        m4b=f"{slug}/{m4b[0]}" if m4b else None,
        m4b_size=m4b[1] if m4b else 0,
        chapters=_path(folder, audiobook.get("chapters")),
        transcript=_path(folder, data.get("transcript")),
        duration=seconds,
    )


def _seconds(value) -> float | None:
    """A length of narration in seconds: a number, finite, from 0 to LONGEST; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer of 400 digits
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds <= LONGEST else None


# what XML 1.0 cannot hold (lxml refuses it): a damaged or edited manifest must not stop the library
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _authors(meta: dict) -> tuple[str, ...]:
    """The book's authors by name: the manifest's list, else its one line (manifests before the list)."""
    listed = meta.get("authors")
    names = [_text(a) for a in listed] if isinstance(listed, list) and len(listed) <= 100 else []
    return tuple(n for n in names if n) or tuple(filter(None, [_text(meta.get("author"))]))


def _text(value) -> str:
    return " ".join(_NOT_XML.sub(" ", value).split()) if isinstance(value, str) else ""


def _language(value) -> str:
    """A BCP 47 tag as the manifest gives it ('und' when it gives none that looks like one)."""
    text = _text(value)
    return text if re.fullmatch(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", text) else "und"


def _iso(value, length: int) -> str:
    """An ISO 8601 date (length 10) or date and time, as written; '' when it is not one."""
    text = _text(value)
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return ""
    return text if length != 10 or len(text) == 10 else ""


def _safe(name) -> bool:
    """A file name the manifest may point at: inside the book's folder, not hidden."""
    return (
        isinstance(name, str)
        and bool(name)
        and _CONTROL.search(name) is None  # not UTF-8 (a URL cannot be written), or a control character
        and not name.startswith(("/", "."))
        and "\\" not in name
        and all(part not in ("", ".", "..") and not part.startswith(".") for part in name.split("/"))
    )


def _file(folder: Path, name) -> tuple[str, int] | None:
    """``name`` and its size when it is a regular file of the book's folder (no symlink)."""
    if not _safe(name):
        return None
    try:
        info = os.lstat(folder / name)
    except OSError:
        return None
    return (name, info.st_size) if stat.S_ISREG(info.st_mode) else None


def _path(folder: Path, name) -> str | None:
    found = _file(folder, name)
    return f"{folder.name}/{found[0]}" if found else None


def _mtime(path: Path) -> str:
    try:
        return datetime.fromtimestamp(int(path.stat().st_mtime), tz=UTC).isoformat()
    except OSError:
        return ""


def search(library: Library, terms: str) -> tuple[Entry, ...]:
    """The books whose title, author, site or summary hold every word of ``terms`` (any case), newest
    first; every book for empty terms. What `serve` answers the OpenSearch template with."""
    words = terms.casefold().split()
    return tuple(
        b for b in library.books if all(w in f"{b.title} {b.author} {b.site} {b.summary}".casefold() for w in words)
    )
