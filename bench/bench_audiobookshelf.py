"""Audiobookshelf's own parsers on a talkingbook library: every field it reads beside the manifest's.

    python bench/bench_audiobookshelf.py --abs PATH [--page PAGE ...] [--keep DIR]

PATH is an Audiobookshelf source tree (2.36.0 measured; its code is GPL-3.0, so it is neither vendored
nor downloaded here), prepared once with, in PATH:

    npm ci --omit=dev --ignore-scripts

(the modules driven require xml2js, axios, sequelize... at load; no install script is needed, nothing
of Audiobookshelf is started). Needs node and ffprobe (Debian ffmpeg) on the PATH, as Audiobookshelf
does. From a bare mirror: `git --git-dir=MIRROR archive HEAD server/ package.json package-lock.json |
tar -x -C PATH`.

The pages (default: the sample article) are converted with the fake voice into a temporary library,
which is served with `talkingbook serve` on 127.0.0.1; bench/audiobookshelf.js then runs, from PATH:
the library scan (which folders become books, with which audio files: Audiobookshelf plays every audio
file of a book folder as the book), the audio prober and the tag-to-book mapping on the M4B and the
full MP3, the EPUB/OPF parser, and the RSS parser of "add a podcast" on the library feed and each
article's feed as served. Each field is printed beside what manifest.json says, MISMATCH where they
differ. Figures only: the exit status is 0 whatever the mismatches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the served library, as the client tests start it

from serving import Serving  # noqa: E402

SAMPLE = ROOT / "source" / "japan-south-korea-k-pop-drums.html"
DRIVER = Path(__file__).resolve().parent / "audiobookshelf.js"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
CHAPTER_TOLERANCE = 0.01  # seconds
DURATION_TOLERANCE = 0.1  # seconds: an MP3's frames round its length


def _authors(meta: dict) -> list[str]:
    """The authors the manifest names (each one; the publisher when it names none)."""
    return meta.get("authors") or [meta["author"] or meta["publisher"]]


class Table:
    """Rows of (where, field, what Audiobookshelf read, what the manifest says, verdict)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, where: str, field: str, got, expected, ok: bool | None = None, note: str = "") -> None:
        """``ok`` None: compare for equality; expected None: shown for information only."""
        if expected is None and ok is None:
            verdict = "info"
        else:
            verdict = "ok" if (got == expected if ok is None else ok) else "MISMATCH"
        self.rows.append((where, field, _show(got), _show(expected), verdict + (f" ({note})" if note else "")))

    def print(self) -> None:
        width = 46
        where = ""
        for row in self.rows:
            if row[0] != where:
                where = row[0]
                print(f"\n== {where}")
                print(f"  {'field':<22} {'Audiobookshelf read':<{width}} {'manifest.json says':<{width}} verdict")
            print(f"  {row[1]:<22} {_cut(row[2], width)} {_cut(row[3], width)} {row[4]}")
        bad = [r for r in self.rows if r[4].startswith("MISMATCH")]
        print(f"\n{len(self.rows)} fields read, {len(bad)} mismatches")
        for r in bad:
            got, expected = _cut(r[2], 70).strip(), _cut(r[3], 70).strip()
            print(f"  {r[0].split(' (')[0]} / {r[1]}: Audiobookshelf {got}; manifest {expected}")


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _cut(text: str, width: int) -> str:
    return (text if len(text) <= width else text[: width - 1] + "…").ljust(width)


def same_language(got: str | None, expected: str) -> bool:
    """Whether two codes name one language ("eng" and "en"): ID3's TLAN is ISO 639-2 by its spec."""
    import pycountry

    def two(code: str | None) -> str | None:
        if not code:
            return None
        primary = code.split("-")[0].lower()
        found = pycountry.languages.get(alpha_3=primary) if len(primary) == 3 else None
        return getattr(found, "alpha_2", primary) if found else primary

    return two(got) == two(expected)


def start_of(manifest: dict) -> datetime:
    """The article's date at midnight UTC, else the book's modification time (what feeds date from)."""
    text = manifest["metadata"].get("date") or manifest["modified"]
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def convert(pages: list[Path], folder: Path, cache: Path) -> None:
    for page in pages:
        subprocess.run(
            [sys.executable, "-m", "talkingbook", "convert", str(page), "-o", str(folder), "--engine", "fake", "-q"],
            check=True,
            env={**ENV, "TALKINGBOOK_CACHE": str(cache)},
        )


def compare_audio(table: Table, where: str, read: dict, manifest: dict, chapters: list[dict]) -> None:
    """The book Audiobookshelf makes of one audio file's tags and chapters."""
    if "error" in read:
        table.add(where, "probe", read["error"], "readable", ok=False)
        return
    meta, book = manifest["metadata"], read["book"]
    table.add(where, "title", book.get("title"), meta["title"])
    table.add(where, "authors", book.get("authors"), _authors(meta))
    voice = manifest.get("narration", {}).get("voice")
    narrators = book.get("narrators")
    retold = bool(voice and narrators and narrators != [voice])
    table.add(where, "narrators", narrators, [voice] if voice else None, note="its name parser" if retold else "")
    table.add(where, "publisher", book.get("publisher"), meta.get("publisher") or None)
    table.add(
        where,
        "language",
        book.get("language"),
        meta["language"],
        ok=same_language(book.get("language"), meta["language"]),
        note="same language" if book.get("language") not in (None, meta["language"]) else "",
    )
    table.add(where, "description", book.get("description"), meta.get("summary") or None)
    year = (meta.get("date") or "")[:4] or None
    whole = bool(year and book.get("publishedYear") not in (None, year))
    table.add(where, "publishedYear", book.get("publishedYear"), year, note="the date tag kept whole" if whole else "")
    table.add(where, "genres", book.get("genres"), None)
    got = book.get("chapters") or []
    table.add(where, "chapter titles", [c["title"] for c in got], [c["title"] for c in chapters])
    worst = max((abs(a["start"] - b["startTime"]) for a, b in zip(got, chapters, strict=False)), default=float("inf"))
    table.add(
        where,
        "chapter starts",
        f"{len(got)} chapters, max Δ {worst * 1000:.1f} ms",
        f"{len(chapters)} chapters (chapters JSON)",
        ok=len(got) == len(chapters) and worst <= CHAPTER_TOLERANCE,
    )
    table.add(
        where,
        "duration",
        f"{read['duration']:.3f} s",
        f"{manifest['duration']:.3f} s",
        ok=abs(read["duration"] - manifest["duration"]) <= DURATION_TOLERANCE,
    )


def compare_epub(table: Table, where: str, read: dict, manifest: dict) -> None:
    """The book Audiobookshelf makes of an EPUB's OPF (authors: dc:creator with role aut only)."""
    if "error" in read:
        table.add(where, "OPF", read["error"], "readable", ok=False)
        return
    meta, book = manifest["metadata"], read["book"]
    table.add(where, "title", book.get("title"), meta["title"])
    table.add(where, "authors", book.get("authors"), _authors(meta))
    voice = manifest.get("narration", {}).get("voice")
    table.add(where, "narrators", book.get("narrators"), [voice] if voice else None)
    table.add(where, "publisher", book.get("publisher"), meta.get("publisher") or None)
    table.add(where, "language", book.get("language"), meta["language"])
    table.add(where, "description", book.get("description"), meta.get("summary") or None)
    table.add(where, "publishedYear", book.get("publishedYear"), (meta.get("date") or "")[:4] or None)
    table.add(where, "cover", read.get("cover"), None)


def compare_scan(table: Table, scan: dict, durations: dict, manifests: dict[str, dict], shelf: bool = False) -> None:
    """Which folders Audiobookshelf's scan makes books of, and the audio it plays as each book."""
    kind = "the audiobook shelf" if shelf else "the output folder"
    where = f"library scan ({kind} as an Audiobookshelf library)"
    table.add(where, "books", sorted(scan), sorted(manifests))
    for slug, manifest in manifests.items():
        audio = [f"{slug}/{name}" for name in scan.get(slug, []) if f"{slug}/{name}" in durations]
        total = sum(durations[a] or 0 for a in audio)
        table.add(
            where,
            f"{slug[:14]}… audio",
            f"{len(audio)} files, {total:.1f} s played as the book",
            f"1 audiobook, {manifest['duration']:.1f} s",
            ok=abs(total - manifest["duration"]) <= 1,
        )


def compare_feed(table: Table, where: str, read: dict, expected: dict, server: Serving) -> None:
    """What "add a podcast by RSS" reads: the channel, then each episode (by its enclosure's file name)."""
    if "error" in read:
        table.add(where, "feed", read["error"], "a podcast", ok=False)
        return
    channel = read["metadata"]
    for field, value in expected["channel"].items():
        table.add(where, f"channel {field}", channel.get(field), value)
    by_file = {PurePosixPath(urlsplit(e["enclosure"]["url"]).path).name: e for e in read["episodes"]}
    table.add(where, "episodes", len(read["episodes"]), len(expected["episodes"]))
    for name, want in expected["episodes"].items():
        episode = by_file.get(name)
        tag = f"#{want['number']}"
        if episode is None:
            table.add(where, f"{tag} episode", None, name, ok=False)
            continue
        url = episode["enclosure"]["url"]
        table.add(where, f"{tag} title", episode["title"], want["title"])
        table.add(where, f"{tag} enclosure url", url, want["url"])
        if urlsplit(url).scheme in ("http", "https"):
            status, _, _ = server.get(url, "HEAD")
            table.add(where, f"{tag} url answers", f"HTTP {status}", "HTTP 200", ok=status == 200)
        else:
            table.add(where, f"{tag} url answers", "relative: cannot be downloaded", "HTTP 200", ok=False)
        table.add(where, f"{tag} type", episode["enclosure"].get("type"), "audio/mpeg")
        table.add(where, f"{tag} length", int(episode["enclosure"].get("length") or 0), want["length"])
        table.add(where, f"{tag} duration s", episode.get("durationSeconds"), want["duration"])
        guid = episode.get("guid")
        table.add(where, f"{tag} guid", guid, want["guid"], ok=want["guid"] in (guid or ""))
        published = episode.get("publishedAt")
        when = datetime.fromtimestamp(published / 1000, UTC).isoformat() if published else None
        table.add(where, f"{tag} published", when, want["published"])
        table.add(where, f"{tag} chapters url", episode.get("chaptersUrl"), want["chapters"])
        author = episode.get("author") or channel.get("author")  # the podcast's author where the episode has none
        table.add(where, f"{tag} author", author, want["author"])


def expected_feeds(folder: Path, base: str, manifests: dict[str, dict]) -> dict[str, dict]:
    """What each served feed means to say, from the manifests: every URL absolute under ``base``."""
    feeds: dict[str, dict] = {}
    newest = max(manifests, key=lambda s: start_of(manifests[s]))
    library = {
        "channel": {"title": folder.name, "image": f"{base}{newest}/{manifests[newest]['cover']}"},
        "episodes": {},
    }
    for number, (slug, m) in enumerate(sorted(manifests.items(), key=lambda i: start_of(i[1]), reverse=True), 1):
        meta, mp3 = m["metadata"], m["audiobook"]["mp3"]
        library["episodes"][PurePosixPath(mp3).name] = {
            "number": number,
            "title": meta["title"],
            "url": f"{base}{slug}/{mp3}",
            "length": (folder / slug / mp3).stat().st_size,
            "duration": round(m["duration"]),
            "guid": meta["identifier"],
            "published": start_of(m).isoformat(),
            "chapters": f"{base}{slug}/{m['audiobook']['chapters']}",
            "author": meta["author"] or meta["publisher"],
        }
        feeds[f"{slug}/feed.xml"] = {
            "channel": {
                "title": meta["title"],
                "author": meta["author"] or meta["publisher"],
                "image": f"{base}{slug}/{m['cover']}",
                "language": meta["language"],
            },
            "episodes": {
                PurePosixPath(s["mp3"]).name: {
                    "number": s["number"],
                    "title": s["title"],
                    "url": f"{base}{slug}/{s['mp3']}",
                    "length": (folder / slug / s["mp3"]).stat().st_size,
                    "duration": round(s["duration"]),
                    "guid": meta["identifier"],  # each section's guid holds the book's identifier
                    "published": (start_of(m) + timedelta(minutes=s["number"] - 1)).isoformat(),
                    "chapters": None,
                    "author": meta["author"] or meta["publisher"],
                }
                for s in m["sections"]
            },
        }
    return {"feed.xml": library, **feeds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--abs", required=True, type=Path, help="an Audiobookshelf source tree (with node_modules)")
    parser.add_argument("--page", action="append", type=Path, help="a page to convert (default: the sample)")
    parser.add_argument("--keep", type=Path, help="convert into this folder and keep it (default: a temporary one)")
    parser.add_argument(
        "--shelf",
        action="store_true",
        help="scan the audiobook shelf `talkingbook library --audiobookshelf` keeps, not the output folder",
    )
    args = parser.parse_args()
    if not (args.abs / "server" / "utils" / "prober.js").is_file():
        raise SystemExit(f"{args.abs}: not an Audiobookshelf source tree (no server/utils/prober.js)")
    if not (args.abs / "node_modules" / "xml2js").is_dir():
        install = f"cd {args.abs} && npm ci --omit=dev --ignore-scripts"
        raise SystemExit(f"{args.abs}: its dependencies are missing: {install}")
    for program in ("node", "ffprobe"):
        if shutil.which(program) is None:
            raise SystemExit(f"{program} is not on the PATH (Audiobookshelf needs it)")
    version = json.loads((args.abs / "package.json").read_text("utf-8")).get("version")
    pages = args.page or [SAMPLE]

    with tempfile.TemporaryDirectory(prefix="bench-abs-") as tmp:
        work = Path(tmp)
        folder = args.keep or work / "library"
        convert(pages, folder, work / "cache")
        scanned = folder
        if args.shelf:
            scanned = work / "shelf"
            subprocess.run(
                [sys.executable, "-m", "talkingbook", "library", str(folder), "--audiobookshelf", str(scanned)],
                check=True,
                env=ENV,
                capture_output=True,
            )
        slugs = sorted(p.parent.name for p in folder.glob("*/manifest.json"))
        manifests = {s: json.loads((folder / s / "manifest.json").read_text("utf-8")) for s in slugs}
        server = Serving(folder)
        try:
            feeds = {}
            for name in ["feed.xml", *(f"{s}/feed.xml" for s in slugs)]:
                status, _, body = server.get(server.base + name)
                if status != 200:
                    raise SystemExit(f"{server.base}{name}: HTTP {status}")
                saved = work / "feeds" / name.replace("/", "--")
                saved.parent.mkdir(exist_ok=True)
                saved.write_bytes(body)
                feeds[name] = str(saved)
            job = {
                "library": str(scanned),
                "audio": [str(folder / s / m["audiobook"][k]) for s, m in manifests.items() for k in ("m4b", "mp3")],
                "epubs": [str(folder / s / m["epub"]) for s, m in manifests.items()],
                "feeds": feeds,
            }
            (work / "job.json").write_text(json.dumps(job), encoding="utf-8")
            proc = subprocess.run(
                ["node", str(DRIVER), str(args.abs), str(work / "job.json")], capture_output=True, text=True
            )
            if proc.returncode != 0:
                raise SystemExit(f"the Audiobookshelf driver failed:\n{proc.stderr[-3000:]}")
            read = json.loads(proc.stdout)

            print(f"Audiobookshelf {version} ({args.abs}) on {len(slugs)} book(s) served at {server.base}")
            table = Table()
            compare_scan(table, read["scan"], read["scanDurations"], manifests, shelf=args.shelf)
            for slug, m in manifests.items():
                chapters = json.loads((folder / slug / m["audiobook"]["chapters"]).read_text("utf-8"))["chapters"]
                for kind in ("m4b", "mp3"):
                    path = str(folder / slug / m["audiobook"][kind])
                    where = f"{slug}/{m['audiobook'][kind]} (prober + tags)"
                    compare_audio(table, where, read["audio"][path], m, chapters)
                path = str(folder / slug / m["epub"])
                compare_epub(table, f"{slug}/{m['epub']} (parseEpubMetadata, OPF)", read["epubs"][path], m)
            for name, want in expected_feeds(folder, server.base, manifests).items():
                compare_feed(table, f"{server.base}{name} (podcastUtils RSS parser)", read["feeds"][name], want, server)
            table.print()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
