"""The outputs of a book, as one literal list of steps (as Sphinx's ``Epub3Builder.handle_finish``
lists its own): each step writes its files from the :class:`~talkingbook.publication.Publication`.

The list drives the order of writing, the progress stages, the listening page's links and the
manifest's file list. Adding an output is a module with ``write_x(pub, folder) -> Path`` and one
line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..publication import Output, Publication
from .audiobook import write_audiobook
from .chapters import write_chapters
from .cover import write_cover
from .epub import write_epub
from .feed import write_feed
from .listening_page import write_listening_page
from .manifest import write_manifest
from .playlist import write_playlist
from .transcripts import write_transcripts


@dataclass(frozen=True)
class Step:
    """One output: its name (the progress stage), when it is made, what it writes, and how."""

    name: str
    write: Callable[[Publication, Path], Path]
    applies: Callable[[Publication], bool]
    outputs: Callable[[Publication], tuple[Output, ...]]  # its files; a label links one from the listening page


def _always(pub: Publication) -> bool:
    return True


def _narrated(pub: Publication) -> bool:
    return pub.narration is not None


def _audiobook(pub: Publication) -> bool:
    return pub.audiobook


STEPS: tuple[Step, ...] = (
    Step("cover", write_cover, _always, lambda p: (Output(p.layout.cover(p.cover)),)),
    Step(
        "EPUB", write_epub, _always, lambda p: (Output(p.layout.epub, "EPUB (read-along)" if p.read_along else "EPUB"),)
    ),
    Step(
        "audiobook",
        write_audiobook,
        _audiobook,
        lambda p: (
            Output(p.layout.m4b, "Audiobook (M4B, with chapters)"),
            Output(p.layout.mp3, "Audiobook (MP3, with chapters)"),
        ),
    ),
    Step("chapters", write_chapters, _audiobook, lambda p: (Output(p.layout.chapters),)),
    Step("feed", write_feed, _narrated, lambda p: (Output(p.layout.FEED, "Podcast feed"),)),
    Step("playlist", write_playlist, _narrated, lambda p: (Output(p.layout.playlist, "Playlist"),)),
    Step(
        "transcripts",
        write_transcripts,
        _narrated,
        lambda p: (Output(p.layout.transcript, "Transcript"), *(Output(p.layout.section_vtt(e)) for e in p.toc)),
    ),
    Step("listening page", write_listening_page, _narrated, lambda p: (Output(p.layout.PAGE),)),
    Step("manifest", write_manifest, _always, lambda p: (Output(p.layout.MANIFEST),)),
)


def planned(pub: Publication) -> dict[str, tuple[Output, ...]]:
    """Every step that applies to ``pub``, with the files it will write, in step order."""
    return {step.name: step.outputs(pub) for step in STEPS if step.applies(pub)}
