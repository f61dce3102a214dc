"""The command line: parse, call the library, print progress and errors. Nothing else prints."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .engines import CHOICES
from .errors import TalkingbookError, UsageError
from .readers.urls import PRIVATE_MODES, web_url

if TYPE_CHECKING:  # imported where a conversion needs them: `talkingbook --help` loads no reader or voice
    from .batch import BatchProgress
    from .convert import Options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="talkingbook",
        description="Turn an article (HTML) into an accessible EPUB 3 and one narrated MP3 per section.",
    )
    parser.add_argument("--version", action="version", version=f"talkingbook {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)  # what convert and follow share
    common.add_argument(
        "-o",
        "--output",
        metavar="DIR",
        default="dist",
        help="parent folder of the books (default: dist); each book goes to DIR/<slug>/",
    )
    common.add_argument(
        "--engine",
        choices=CHOICES,
        default="auto",
        help="speech engine: auto (default: per language, the offline voice understood best, as "
        "measured; see `talkingbook voices`), piper, kokoro, espeak, gtts (online, Google), or "
        "fake (a test tone instead of speech, to try the pipeline quickly)",
    )
    common.add_argument(
        "--voice",
        metavar="VOICE",
        help="a Piper voice file (PATH.onnx with PATH.onnx.json beside it), a Kokoro voice (e.g. "
        "jm_kumo), an espeak-ng voice name (e.g. fr, en-gb), or for gtts a Google domain "
        "(e.g. co.uk)",
    )
    common.add_argument(
        "--rate",
        type=_number_between(0.5, 2.0),
        default=1.0,
        metavar="R",
        help="speaking speed, 0.5 to 2.0 (default 1.0)",
    )
    common.add_argument(
        "--pauses",
        dest="pause_scale",
        type=_number_between(0, 4),
        default=1.0,
        metavar="SCALE",
        help="lengthen or shorten every pause (sentence 0.35 s, item 0.5 s, paragraph 0.75 s, "
        "heading 0.9 s) by this factor, 0 to 4 (default 1)",
    )
    common.add_argument(
        "--lexicon",
        metavar="FILE",
        help='pronunciations: a TOML file with a [words] table ("word" = "spoken form") or a '
        "W3C PLS lexicon (aliases), applied to every engine",
    )
    common.add_argument(
        "--read-code",
        action="store_true",
        help="read code blocks aloud (by default they are skipped with a short notice)",
    )
    common.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="do not reuse or store synthesized speech (cache: $TALKINGBOOK_CACHE, else the user cache folder)",
    )
    common.add_argument(
        "--no-audio",
        dest="audio",
        action="store_false",
        help="write only the EPUB and manifest.json: no MP3s, no playlist",
    )
    common.add_argument(
        "--no-audiobook",
        dest="audiobook",
        action="store_false",
        help="skip the full-length M4B and MP3 (and chapters JSON): saves their encoding time",
    )
    common.add_argument(
        "--base-url",
        metavar="URL",
        help="where dist/<slug>/ will be published (an http:// or https:// URL without query or "
        "fragment): makes the feed's enclosure and transcript URLs absolute, as podcast apps "
        "need (default: relative, for local use)",
    )
    common.add_argument(
        "--base-dir",
        metavar="DIR",
        help="the folder local images may come from (default: the HTML file's own folder; "
        "for standard input, none: '-' embeds no local image without --base-dir)",
    )
    common.add_argument(
        "--no-read-along",
        dest="read_along",
        action="store_false",
        help="a text-only EPUB (smaller) even when audio is made; by default the EPUB carries "
        "the narration and highlights each sentence as it is read",
    )
    common.add_argument(
        "--fetch-images",
        action="store_true",
        help="also download the page's remote images (local images beside the page and data: URIs are always embedded)",
    )
    common.add_argument(
        "--private-network",
        choices=PRIVATE_MODES,
        default="auto",
        help="may redirects and remote images reach loopback and private addresses: auto (default) "
        "only when the article itself came from one, allow, or deny (only the URL you give and "
        "its own address and port). "
        "Link-local and multicast addresses (e.g. the cloud metadata service) are never fetched",
    )
    common.add_argument(
        "--split-level",
        type=int,
        choices=range(1, 7),
        metavar="N",
        help="every heading of rank <= N (2 = <h2>) starts a section and an MP3 "
        "(default: the highest rank below the title)",
    )
    group = common.add_argument_group("metadata overrides (instead of what the page says)")
    for name in ("title", "author", "language", "date", "publisher"):
        group.add_argument(
            f"--{name}",
            metavar=name.upper(),
            help={"language": "BCP 47 language tag, e.g. en, fr-CA", "date": "publication date, YYYY-MM-DD"}.get(
                name, f"the article's {name}"
            ),
        )
    common.add_argument(
        "--progress",
        choices=("auto", "bar", "plain", "none"),
        default="auto",
        help="progress on stderr: a bar on a terminal, plain lines otherwise (auto); plain suits screen readers",
    )
    common.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    common.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv for debug)")

    common.add_argument(
        "--jobs",
        type=_positive,
        metavar="N",
        help="convert N articles at once, each in its own process, at most one per CPU core (a larger N is "
        "lowered to that, with a note) (default: 1 for piper, kokoro, gtts and auto, whose voices use every "
        "core for one article; the number of cores for espeak, fake and --no-audio)",
    )
    common.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="convert on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:8786), one article a task; "
        "DIR must be the same path on every worker (a shared volume)",
    )
    conv = commands.add_parser(
        "convert",
        parents=[common],
        help="convert article pages into books",
        description="Convert article pages into DIR/<slug>/: an EPUB 3, one MP3 per "
        "section, an M3U8 playlist and manifest.json. Several sources make a batch: each converted "
        "on its own, a summary at the end.",
    )
    conv.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="an HTML file, an http(s) URL, or - for standard input; several make several books",
    )
    conv.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="also convert the sources listed in FILE, one path or URL a line (# comments, blank lines ignored)",
    )
    fol = commands.add_parser(
        "follow",
        parents=[common],
        help="convert the new articles of an RSS or Atom feed into the library",
        description="Read the feed at FEED_URL and convert the articles not yet in DIR (known by their GUID "
        "or link, remembered in DIR/.talkingbook-follow.json): meant for cron or a systemd timer.",
    )
    fol.add_argument("feed", metavar="FEED_URL", help="the address of an RSS or Atom feed")
    fol.add_argument("--limit", type=_positive, metavar="N", help="convert at most N new articles (the feed's first)")
    fol.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD)")
    fol.add_argument(
        "--refresh",
        action="store_true",
        help="also look at the articles already converted; those whose page changed are made again",
    )

    commands.add_parser("voices", help="list the speech engines and voices available here, by language")
    cache = commands.add_parser("cache", help="show or clear the cache of synthesized speech")
    cache.add_argument("action", choices=("info", "clear"), help="info: where it is and its size; clear: empty it")
    check = commands.add_parser("check", help="read every output of a book back and report where they disagree")
    check.add_argument("folder", metavar="DIR", help="a book's folder, such as dist/<slug>")
    library = commands.add_parser(
        "library",
        help="refresh and list the library of an output folder (its page, podcast feed and catalog)",
        description="Refresh DIR/index.html, DIR/feed.xml (one podcast) and DIR/catalog/ (OPDS) from the books "
        "in DIR, and list them. `convert -o DIR` does the same after each book. The options given "
        "are kept for the refreshes that follow.",
    )
    library.add_argument("folder", metavar="DIR", help="the output folder of `convert -o DIR` (such as dist)")
    library.add_argument("--title", help="the library's title (default: the folder's name)")
    library.add_argument("--description", help="the library's description, shown by podcast apps")
    library.add_argument(
        "--base-url",
        metavar="URL",
        help="where DIR will be published (http:// or https://): makes the feed's and catalog's "
        "URLs absolute, as podcast apps need (default: relative links)",
    )
    library.add_argument(
        "--audiobookshelf",
        metavar="SHELF",
        help="also keep SHELF with one folder per narrated book holding only its M4B and cover, for "
        "Audiobookshelf and servers that take every audio file of a folder as the book (hard links, "
        "refreshed with the library); an empty SHELF ('') stops it",
    )
    serve = commands.add_parser(
        "serve",
        help="serve the library folder over HTTP to podcast apps, e-readers and browsers",
        description="Serve DIR read-only over HTTP (byte ranges, 304s, compressed text) "
        "until Ctrl-C; books converted into it meanwhile are served too.",
    )
    serve.add_argument("folder", metavar="DIR", nargs="?", default="dist", help="the library folder (default: dist)")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: phones on your network)",
    )
    serve.add_argument("--port", default="8000", metavar="PORT", help="TCP port (default 8000; 0: any free port)")
    serve.add_argument(
        "--base-url",
        metavar="URL",
        help="the library's public URL, for the absolute links of the feed and catalogs "
        "(default: the address each request was sent to); its host name is answered too",
    )
    serve.add_argument(
        "--allow-host",
        metavar="NAME",
        action="append",
        default=[],
        help="also answer requests addressed to NAME (a host name, an address, or *.domain; repeatable; "
        "'*' for any). Only the names serve listens on are answered by default (localhost too on this "
        "machine, this machine's name and addresses with --host 0.0.0.0, and --base-url's host), so that "
        "no web page can read the library under a name of its own (DNS rebinding): add the names of a "
        "proxy, a port forward or a DNS name here",
    )
    serve.add_argument("-v", "--verbose", action="count", default=0, help="log each request")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse already reported
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    with _signals_interrupt():
        try:
            if args.command == "voices":
                return _voices()
            if args.command == "cache":
                return _cache(args.action)
            if args.command == "check":
                return _check(args.folder)
            if args.command == "library":
                return _library(args)
            if args.command == "serve":
                return _serve(args)
            if args.command == "follow":
                return _follow(args)
            return _convert(args)
        except TalkingbookError as exc:
            _report(exc)
            return exc.exit_code
        except BrokenPipeError:  # the reader went away (`talkingbook voices | head`): nothing more to say
            _silence_stdout()
            return 0
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            done = "; the book being made was not written" if args.command in ("convert", "follow") else ""
            print(f"error: interrupted ({_signal_name(signum)}){done}", file=sys.stderr)
            return 128 + signum
        except Exception as exc:  # noqa: BLE001 - a bug of ours: one line, the traceback only with -v
            _report_bug(args.command, exc, getattr(args, "verbose", 0))
            return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's own flush at exit finds no closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP (or SIGINT) received: stop as Ctrl-C stops, and say which signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _signals_interrupt():
    """While a command runs, a stop signal kills our child processes (ffmpeg) and raises Interrupted
    in the main thread, so that every clean-up (the partial folder) runs; a signal ignored when we
    started (nohup's SIGHUP) stays ignored; a second signal during the clean-up is ignored too."""
    from .system import processes

    stopping = []

    def handler(signum, frame):
        processes.stop_all(signum)
        if not stopping:
            stopping.append(signum)
            raise Interrupted(signum)

    def unraisable(info):
        # The handler ran inside a C library's callback (espeak-ng's audio callback), which cannot
        # pass an exception on: Python would print it as "Exception ignored" and go on. Say nothing:
        # the run stops at its next child process, which processes.run refuses to start (Stopped).
        if not isinstance(info.exc_value, Interrupted):
            previous_hook(info)

    processes.allow()
    previous, previous_hook = {}, sys.unraisablehook
    if threading.current_thread() is threading.main_thread():
        for signum in sorted(processes.STOP_SIGNALS):
            if signal.getsignal(signum) != signal.SIG_IGN:
                previous[signum] = signal.signal(signum, handler)
        sys.unraisablehook = unraisable
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
        sys.unraisablehook = previous_hook


def _signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def _conversion(args) -> tuple[Options, BatchProgress]:
    """The options and progress display of convert and follow, checked (a bad one is a UsageError)."""
    logging.basicConfig(
        level=logging.WARNING - 10 * args.verbose if not args.quiet else logging.ERROR,
        format="%(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    for name in ("title", "author", "publisher", "language", "date", "base_url"):  # text, not file names
        value = getattr(args, name)
        if isinstance(value, str) and not _is_utf8(value):
            from .system.files import shown

            raw = shown(value)
            raise UsageError(f"--{name.replace('_', '-')} '{raw}'", "not UTF-8 text")
    if args.date is not None and not _is_date(args.date):
        raise UsageError(f"--date {args.date}", "expected YYYY-MM-DD")
    if args.base_url is not None:
        args.base_url = _base_url(args.base_url)
    if args.base_dir is not None and not Path(args.base_dir).is_dir():
        raise UsageError(f"--base-dir {args.base_dir}", "not a folder")
    from .convert import Options

    options = Options(
        engine=args.engine,
        voice=args.voice,
        audio=args.audio,
        split_level=args.split_level,
        fetch_images=args.fetch_images,
        rate=args.rate,
        read_code=args.read_code,
        lexicon=args.lexicon,
        cache=args.cache,
        pause_scale=args.pause_scale,
        read_along=args.read_along,
        base_url=args.base_url,
        audiobook=args.audiobook,
        private_network=args.private_network,
        base_dir=args.base_dir,
        overrides={k: getattr(args, k) for k in ("title", "author", "language", "date", "publisher")},
    )
    if args.language is not None:
        from .readers.metadata import normalize_language

        if not normalize_language(args.language):
            raise UsageError(f"--language {args.language}", "not a BCP 47 language tag (e.g. en, fr-CA)")
    mode = "none" if args.quiet else args.progress
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "plain"
    from .batch import BatchProgress
    from .display import BarProgress, PlainProgress

    progress = {"bar": BarProgress, "plain": PlainProgress, "none": BatchProgress}[mode]()
    return options, progress


def _jobs(args) -> int:
    """--jobs, at most the cores (with a note), else what suits the engine: a neural voice uses
    every core for one article."""
    from .batch import max_jobs

    most = max_jobs()
    if args.jobs is None:
        return most if args.engine in ("espeak", "fake") or not args.audio else 1
    if args.jobs > most and args.scheduler is None and not args.quiet:
        print(
            f"note: --jobs {args.jobs}: at most {most} here (the CPU cores this process may use); using {most}",
            file=sys.stderr,
        )
    return min(args.jobs, most)


def _convert(args) -> int:
    from .batch import run_batch

    sources = list(args.sources)
    if args.from_file is not None:
        sources += _sources_from(args.from_file)
    if not sources:
        raise UsageError("convert", "no SOURCE given (name pages, URLs or - , or --from FILE)")
    if args.scheduler is not None and "-" in sources:
        raise UsageError(
            "-", "standard input cannot be converted on a cluster (save it to a file on the shared volume)"
        )
    options, progress = _conversion(args)
    batch = len(sources) > 1 or args.from_file is not None or args.scheduler is not None
    if not batch:  # one article: made now, as asked, even when an earlier book is the same
        from .batch import convert_one

        result = convert_one(sources[0], Path(args.output), options, progress, keep_unchanged=False)
        _show(result, args)
        return result.exit_code
    from .display import Shown

    shown = Shown(progress, lambda result: _show(result, args))
    results = run_batch(sources, Path(args.output), options, _jobs(args), shown, scheduler=args.scheduler)
    return _summary(results, args.quiet)


def _follow(args) -> int:
    from datetime import UTC, datetime

    from .batch import follow
    from .display import Shown

    since = None
    if args.since is not None:
        if not _is_date(args.since):
            raise UsageError(f"--since {args.since}", "expected YYYY-MM-DD")
        since = datetime.fromisoformat(args.since).replace(tzinfo=UTC)
    options, progress = _conversion(args)
    report = follow(
        args.feed,
        Path(args.output),
        options,
        limit=args.limit,
        since=since,
        refresh=args.refresh,
        jobs=_jobs(args),
        progress=Shown(progress, lambda result: _show(result, args)),
        scheduler=args.scheduler,
    )
    if not args.quiet:
        waiting = f", {report.waiting} that failed recently left for a later run" if report.waiting else ""
        print(
            f"{args.feed}: {report.items} articles in the feed, {report.known} already in {args.output}{waiting}",
            file=sys.stderr,
        )
    return _summary(report.results, args.quiet)


MAX_LIST_BYTES = 64 * 1024 * 1024  # --from: about half a million URLs


def _sources_from(name: str) -> list[str]:
    """The sources listed in ``name``: one a line; blank lines and # comments ignored; a UTF-8
    byte-order mark (Notepad's) skipped. Read as every file someone may have put in our way is (a
    FIFO or a device is refused at once, the size is bounded); a line holding a NUL character is
    kept, to fail on its own as a source that cannot exist."""
    import errno

    from .system.files import NotRegularFile, read_regular, why

    try:
        text = read_regular(name, MAX_LIST_BYTES, follow=True).decode("utf-8-sig")
    except NotRegularFile as exc:
        raise UsageError(f"--from {name}", "not a regular file") from exc
    except OSError as exc:
        too_large = exc.errno == errno.EFBIG
        reason = f"larger than {MAX_LIST_BYTES // (1024 * 1024)} MB; not a list of pages" if too_large else why(exc)
        raise UsageError(f"--from {name}", reason) from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"--from {name}", "not a UTF-8 text file") from exc
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _show(result, args) -> None:
    """One article's end: where its book is, or one line saying why there is none."""
    from .batch import FAILED, UNCHANGED

    if result.status == FAILED:
        if result.trace and args.verbose:
            print(result.trace, file=sys.stderr, end="")
        if result.trace:
            hint = "please report this bug with the page that caused it" + (
                "" if args.verbose else " (-v shows the details)"
            )
            print(f"error: {result.why}; {hint}", file=sys.stderr)
        else:
            print(f"error: {result.why}", file=sys.stderr)
    elif not args.quiet:
        print(f"{'unchanged' if result.status == UNCHANGED else 'wrote'} {result.folder}", file=sys.stderr)


def _summary(results, quiet: bool) -> int:
    """The batch's end: each failure with its reason, then the counts. Exit 1 when any failed."""
    from .batch import CONVERTED, FAILED, UNCHANGED

    failed = [r for r in results if r.status == FAILED]
    if not quiet:
        for result in failed:
            print(f"failed: {result.why}", file=sys.stderr)
        counts = {s: sum(r.status == s for r in results) for s in (CONVERTED, UNCHANGED, FAILED)}
        print(", ".join(f"{s} {n}" for s, n in counts.items()), file=sys.stderr)
    return max((r.exit_code for r in failed), default=0)


def _base_url(value: str) -> str:
    """--base-url when it is an http(s) URL of a folder (no whitespace, query or fragment, no
    invisible formatting character such as a right-to-left override, which would show one address
    and link to another), in ASCII as feeds and catalogs need it: the host in IDNA (punycode), the
    path percent-encoded."""
    import unicodedata
    import urllib.parse

    from .readers.urls import ascii_host

    url = web_url(value)
    invisible = any(unicodedata.category(c) == "Cf" for c in value)
    if url is None or invisible or url.lower() != value.lower() or "?" in url or "#" in url:
        shown = value if value.isprintable() and " " not in value else repr(value)
        raise UsageError(
            f"--base-url {shown}",
            "expected an http:// or https:// URL of a folder, without spaces, query, fragment or invisible characters",
        )
    parts = urllib.parse.urlsplit(url)
    netloc = ascii_host(parts.hostname or "") + (f":{parts.port}" if parts.port is not None else "")
    path = urllib.parse.quote(parts.path, safe="/%:@!$&'()*+,;=-._~")
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", ""))


def _port(value: str) -> int:
    """--port as a number from 0 to 65535 (argparse's choices would list all 65,536 in its error)."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        shown = value if value.isprintable() else repr(value)
        raise UsageError(f"--port {shown}", "expected a port number from 0 to 65535 (0: any free port)")
    return port


def _report(exc: TalkingbookError) -> None:
    message = " ".join(f"{exc.what}: {exc.why}".split())
    print(f"error: {message}", file=sys.stderr)


def _report_bug(what: str, exc: Exception, verbose: int) -> None:
    """An exception we did not expect: a bug. One line naming it, the traceback with -v."""
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    detail = " ".join(str(exc).split())
    detail = f"{type(exc).__name__}: {detail[:200]}" if detail else type(exc).__name__
    hint = "please report this bug with the page that caused it" + ("" if verbose else " (-v shows the details)")
    print(f"error: {what}: internal error ({detail}); {hint}", file=sys.stderr)


def _positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value}")
    return int(value)


def _number_between(low: float, high: float):
    """An argparse type: a number from ``low`` to ``high``."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}")
        return number

    return parse


def _cache(action: str) -> int:
    from .system.cache import SpeechCache, is_marked

    cache = SpeechCache()
    if action == "clear":
        freed = cache.clear()
        print(f"cleared {cache.root} ({freed / 1e6:.1f} MB)")
    elif os.path.lexists(cache.root) and not is_marked(cache.root):
        print(f"{cache.root}: not a talkingbook cache (no CACHEDIR.TAG written by talkingbook); not used")
    else:
        files, size = cache.usage()
        print(f"{cache.root}: {files} files, {size / 1e6:.1f} MB")
    return 0


def _is_utf8(value: str) -> bool:
    """False for an argument that held bytes that are not UTF-8 (Python keeps them as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_date(value: str) -> bool:
    from .readers.metadata import normalize_date

    return len(value) == 10 and normalize_date(value) == value


def _check(folder: str) -> int:
    """Exit 0 when every output agrees with the EPUB's table of contents; 1 naming each that does not."""
    from .check import check_book
    from .errors import InputError

    path = Path(folder)
    if not path.is_dir():
        raise InputError(folder, "not a book folder")
    path = path.resolve()  # its name is the book's slug, also for "."
    report = check_book(path)
    for output, problems in report.problems.items():
        for problem in problems:
            print(f"{path.name}/{output}: {problem}", file=sys.stderr)
    if report.ok:
        print(f"{path.name}: {len(report.checked)} outputs agree with the table of contents")
        return 0
    print(f"{path.name}: {len(report.problems)} of {len(report.checked)} outputs disagree", file=sys.stderr)
    return 1


def _shelf(value: str) -> str:
    """``--audiobookshelf PATH`` as the absolute path kept in the settings; '' turns the shelf off."""
    from .library.model import check_setting

    return check_setting("audiobookshelf", str(Path(value).resolve()) if value else "")


def _library(args) -> int:
    """Refresh the library files of a folder and list its books, newest first."""
    from dataclasses import replace

    from .errors import InputError
    from .library import refresh
    from .library.model import check_setting, read_settings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr)
    path = Path(args.folder)
    if not path.is_dir():
        raise InputError(args.folder, "not a folder")
    settings = None
    given = {
        k: v
        for k, v in (
            ("title", args.title and check_setting("title", args.title)),
            ("description", args.description and check_setting("description", args.description)),
            ("base_url", args.base_url and _base_url(args.base_url)),
            ("audiobookshelf", None if args.audiobookshelf is None else _shelf(args.audiobookshelf)),
        )
        if v is not None
    }
    if given:
        settings = replace(read_settings(path), **given)
    library = refresh(path, settings)
    for book in library.books:
        facts = ", ".join(filter(None, (book.language, book.date, book.site)))
        print(f"{book.slug}: {book.title} ({facts})")
    print(
        f"{len(library.books)} books in {path}/index.html, feed.xml and catalog/"
        + (f"; {len(library.skipped)} folders skipped" if library.skipped else ""),
        file=sys.stderr,
    )
    return 0


def _serve(args) -> int:
    """Serve until stopped; Ctrl-C (or SIGTERM, SIGHUP) is the normal end, so it exits 0."""
    from . import serve

    base_url = _base_url(args.base_url) if args.base_url is not None else None
    port = _port(args.port)
    host = serve.listen_host(args.host)  # an address as written by ipaddress, or a host name
    allowed = [serve.allowed_host(name) for name in args.allow_host]
    folder = serve.library_folder(Path(args.folder))
    sock = serve.bind(host, port)
    hosts = serve.allowed_hosts(sock, host, base_url, allowed)
    app = serve.create_app(folder, base_url, serve.dynamic_routes(folder), hosts)
    port = sock.getsockname()[1]
    address = serve.listening_on(sock)
    shown = f"[{host}]" if ":" in host else host
    try:  # from the first line printed: a Ctrl-C as soon as the address is shown is the normal end too
        print(f"serving {folder} at http://{shown}:{port}/", file=sys.stderr)
        if address.is_unspecified:
            lan = serve.lan_address()
            print(
                f"on this network: http://{lan}:{port}/" if lan else "no network address found for phones to use",
                file=sys.stderr,
            )
        print("press Ctrl-C to stop", file=sys.stderr, flush=True)
        stopped_by = serve.run(app, sock, access_log=args.verbose > 0)
    except KeyboardInterrupt as exc:  # a signal before the server set its own handlers
        stopped_by = getattr(exc, "signum", signal.SIGINT)
    print(f"stopped ({_signal_name(stopped_by)})" if stopped_by else "stopped", file=sys.stderr)
    return 0


def _voices() -> int:
    """The measured table (what `auto` picks per language, how clearly it was understood), then
    every engine and voice available here, by language."""
    from .engines import AUTO, CHANCE, CLEAR_ENOUGH, SPEED_BUDGET, UNCLEAR, clear_enough, espeak, kokoro, piper

    print("Measured (bench/bench_voices.py): recall = share of the words (characters for Japanese, Chinese, Thai)")
    print("that Whisper base heard, in order; cpu = CPU seconds of synthesis per second of speech.")
    floors = ", ".join(f"{code} {clear_enough(code):g}" for code in CHANCE)
    print(
        f"auto picks the clearest voice with cpu <= {SPEED_BUDGET:g} (a native speaker of the language when "
        f"nearly as clear); below recall {CLEAR_ENOUGH:g} ({floors}: "
        "characters match by chance) it makes the book without audio."
    )
    print(f"  {'language':<16}{'auto':<34}{'recall':>7}{'cpu':>6}")
    for code, row in sorted({**AUTO, **UNCLEAR}.items(), key=lambda kv: -kv[1].recall):
        voice = row.voice or (piper.BUNDLED_NAME if row.engine == "piper" else None)
        chosen = (
            " ".join(filter(None, (row.engine, voice)))
            if code in AUTO
            else f"no audio (best: {row.engine}{' ' + row.voice if row.voice else ''})"
        )
        print(f"  {row.language + ' (' + code + ')':<16}{chosen:<34}{row.recall:>7.2f}{row.cpu:>6.2f}")
    print("Engines and voices here:")
    try:
        model, _ = piper.bundled_voice()
        print(f"  piper    {piper.BUNDLED_NAME}: English (offline) {model}")
    except TalkingbookError as exc:
        print(f"  piper    not available: {exc.why}")
    names = kokoro.voices()
    if names:
        print(
            f"  kokoro   {', '.join(names)} (offline, --engine kokoro --voice NAME): Japanese, and every "
            "language espeak-ng has below, through its phonemes"
        )
    else:
        print(f"  kokoro   not available ({kokoro.INSTALL_HINT})")
    table = espeak.voices()
    if table:
        print(f"  espeak   (offline), {len(table)} languages (--engine espeak --voice NAME):")
        for code, ident in sorted(table.items()):
            note = "  (not used: reads this language badly)" if code.split("-")[0] in espeak.UNFIT else ""
            print(f"    {code:<10} {ident}{note}")
    else:
        print("  espeak   not available (pip install espeakng-loader)")
    print("  gtts     (online, needs network): --engine gtts; languages as Google Translate speaks them")
    return 0
