"""The one exception tree of talkingbook.

::

    TalkingbookError                 every error the CLI reports as ``error: <what>: <why>``
    ├── UsageError                   bad options or combinations (exit 2)
    ├── InputError                   the article cannot be read (missing, binary, no text)
    ├── EngineUnavailableError       no engine/voice can speak this; carries an install hint
    ├── SynthesisError               an engine failed while speaking (network, damaged voice)
    └── OutputError                  the output cannot be written

Library code raises these (wrapping third-party errors with ``raise ... from exc``);
only :mod:`talkingbook.cli` prints them and chooses the exit code.
"""

from __future__ import annotations


class TalkingbookError(Exception):
    """Base of every error talkingbook reports to a user."""

    exit_code = 1

    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why


class UsageError(TalkingbookError):
    """The command line asks for something that cannot be done."""

    exit_code = 2


class InputError(TalkingbookError):
    """The input article is missing, unreadable or holds no article."""


class EngineUnavailableError(TalkingbookError):
    """No speech engine or voice here can speak what was asked."""


class SynthesisError(TalkingbookError):
    """A speech engine failed while speaking."""


class OutputError(TalkingbookError):
    """The output folder or a file in it cannot be written."""
