"""What the command line shows while it converts: a line per section (what a screen reader follows), a
redrawn bar on a terminal, and each article's end as it comes. The command line imports it when it
converts, so ``talkingbook --help`` and the commands that convert nothing load no reader, voice or writer.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from .batch import BatchProgress, Result
from .structure.toc import TocEntry


class PlainProgress(BatchProgress):
    """One line per section: what a screen reader can follow."""

    def batch_started(self, total, jobs):
        self._total_articles = total
        if total > 1:
            print(f"converting {total} articles, {jobs} at a time", file=sys.stderr, flush=True)

    def article_started(self, source):
        if getattr(self, "_total_articles", 1) > 1:
            print(f"article {source}", file=sys.stderr, flush=True)

    def article_finished(self, result, done, total, left):
        if total > 1:
            print(f"[{done}/{total} articles] about {left:.0f} s left", file=sys.stderr, flush=True)

    def book_started(self, title, sections, utterances):
        self._started = time.monotonic()
        print(f"narrating '{title}': {sections} sections, {utterances} sentences", file=sys.stderr)

    def section_finished(self, entry: TocEntry, seconds):
        elapsed = time.monotonic() - self._started
        print(
            f"[{entry.number}/{entry.total}] {entry.title} ({seconds:.0f} s of audio, {elapsed:.0f} s elapsed)",
            file=sys.stderr,
            flush=True,
        )

    def stage(self, name):
        if hasattr(self, "_started"):  # a narrated book, long enough to say what comes next
            print(f"making the {name}", file=sys.stderr, flush=True)


class BarProgress(BatchProgress):
    """A redrawn bar on a terminal: sentences done, time left."""

    def book_started(self, title, sections, utterances):
        self._total, self._done, self._started = max(utterances, 1), 0, time.monotonic()

    def utterance_done(self, entry):
        self._done += 1
        elapsed = time.monotonic() - self._started
        left = elapsed / self._done * (self._total - self._done)
        filled = int(30 * self._done / self._total)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {self._done}/{self._total} sentences, "
            f"section {entry.number}/{entry.total}, {left:.0f} s left "
        )
        sys.stderr.flush()

    def section_finished(self, entry, seconds):
        if entry.number == entry.total:
            sys.stderr.write("\n")

    def stage(self, name):
        if hasattr(self, "_started"):  # a narrated book, long enough to say what comes next
            sys.stderr.write(f"making the {name}\n")
            sys.stderr.flush()

    def batch_started(self, total, jobs):
        self._batch = total > 1

    def article_finished(self, result, done, total, left):
        if getattr(self, "_batch", False):
            sys.stderr.write(f"{done}/{total} articles done, about {left:.0f} s left\n")
            sys.stderr.flush()


class Shown(BatchProgress):
    """A batch's progress as shown: each article's end printed as it comes (its book, or why it has
    none: ``show``), the rest passed on to the chosen display."""

    def __init__(self, display: BatchProgress, show: Callable[[Result], None]) -> None:
        self._display, self._show = display, show

    def book_started(self, title, sections, utterances):
        self._display.book_started(title, sections, utterances)

    def section_started(self, entry):
        self._display.section_started(entry)

    def utterance_done(self, entry):
        self._display.utterance_done(entry)

    def section_finished(self, entry, seconds):
        self._display.section_finished(entry, seconds)

    def stage(self, name):
        self._display.stage(name)

    def batch_started(self, total, jobs):
        self._display.batch_started(total, jobs)

    def article_started(self, source):
        self._display.article_started(source)

    def article_finished(self, result, done, total, left):
        self._show(result)
        self._display.article_finished(result, done, total, left)
