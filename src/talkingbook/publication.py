"""The one value every writer reads: :class:`Publication`, and :class:`Layout`, which names every
file of a book's folder.

A writer is ``write_x(pub, folder) -> Path``: it takes everything it may use from ``pub``
(the book, its table of contents, the narration's audio with each MP3's length, size and
digest, the cover, the options, the dates, the layout) and never reads what another step
wrote. ``check`` uses the same :class:`Layout` to find the files it reads back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from .model import Book, Cover, SectionAudio
from .structure.toc import TocEntry, book_summary

if TYPE_CHECKING:
    from .system.cache import SpeechCache

PrivateNetwork = Literal["auto", "allow", "deny"]


@dataclass(frozen=True)
class Options:
    """What the user asked for (the command line's options), all of it recorded in the manifest."""

    engine: str = "auto"
    voice: str | None = None
    audio: bool = True
    split_level: int | None = None
    fetch_images: bool = False
    rate: float = 1.0
    read_code: bool = False
    pause_scale: float = 1.0
    lexicon: str | None = None
    cache: bool = True
    read_along: bool = True  # the EPUB carries the MP3s and media overlays when audio is made
    base_url: str | None = None  # where the book's folder will be published (absolute feed URLs)
    audiobook: bool = True  # the full-length M4B and MP3 with chapters
    private_network: PrivateNetwork = "auto"  # may fetches reach loopback and private addresses
    base_dir: str | None = None  # where local images may come from (a file's own folder; none for stdin)
    overrides: Mapping[str, str | None] = field(default_factory=dict)  # title, author... instead of the page's

    def recorded(self) -> dict:
        """The options as the manifest records them (overrides left out where not given)."""
        data = asdict(self)
        data["overrides"] = {k: v for k, v in self.overrides.items() if v is not None}
        return data


@dataclass(frozen=True)
class Layout:
    """Every file of a book's folder, named once: writers, the manifest, the listening page and
    ``check`` all take their names from here."""

    slug: str  # the folder's name, also the stem of the book-wide files

    AUDIO = "audio"  # one MP3 per section
    TRANSCRIPTS = "transcripts"  # one WebVTT per section
    FEED = "feed.xml"
    PAGE = "index.html"
    MANIFEST = "manifest.json"
    COVERS: ClassVar[dict[str, str]] = {"image/jpeg": "cover.jpg", "image/png": "cover.png"}

    @property
    def epub(self) -> str:
        return f"{self.slug}.epub"

    @property
    def m4b(self) -> str:
        return f"{self.slug}.m4b"

    @property
    def mp3(self) -> str:
        """The full-length audiobook as one MP3 with chapters."""
        return f"{self.slug}.mp3"

    @property
    def chapters(self) -> str:
        return f"{self.slug}.chapters.json"

    @property
    def playlist(self) -> str:
        return f"{self.slug}.m3u8"

    @property
    def transcript(self) -> str:
        """The whole book's WebVTT transcript."""
        return f"{self.slug}.vtt"

    def section_mp3(self, entry: TocEntry) -> str:
        return f"{self.AUDIO}/{entry.slug}.mp3"

    def section_vtt(self, entry: TocEntry) -> str:
        return f"{self.TRANSCRIPTS}/{entry.slug}.vtt"

    @classmethod
    def cover(cls, cover: Cover) -> str:
        return cls.COVERS[cover.media_type]


@dataclass(frozen=True)
class Narration:
    """What narrating the book made: each section's tagged MP3 (in the book's folder, at
    ``Layout.section_mp3``) described by its :class:`~talkingbook.model.SectionAudio`."""

    engine: str  # the engine's name ('piper', 'kokoro'...)
    voice: str  # the voice's human name, as the narrator is credited
    sample_rate: int  # of the sections' PCM
    sections: Mapping[int, SectionAudio]  # by TOC number
    pcm: Path | None = None  # a folder holding each section's unlevelled PCM (<entry slug>.pcm), for the audiobook

    @property
    def durations(self) -> dict[int, float]:
        return {number: audio.duration for number, audio in self.sections.items()}


@dataclass(frozen=True)
class Output:
    """A file a step writes, and the label the listening page links it with ('' : not linked)."""

    path: str
    label: str = ""


@dataclass(frozen=True)
class Publication:
    """Everything the writers may use, frozen: made once by the pipeline, read by every step."""

    book: Book
    toc: tuple[TocEntry, ...]
    layout: Layout
    options: Options
    modified: datetime  # dcterms:modified, the feed's build date (SOURCE_DATE_EPOCH when set)
    cover: Cover
    narration: Narration | None = None  # None: a text-only book
    cache: SpeechCache | None = None  # where finished outputs may be reused from (None: never)
    outputs: Mapping[str, tuple[Output, ...]] = field(default_factory=dict)  # by step name, in step order

    @property
    def summary(self) -> str:
        """The page's description, else the book's first sentences (the audio's description, the manifest's summary)."""
        return book_summary(self.book, self.toc)

    @property
    def read_along(self) -> bool:
        """The EPUB carries the narration as media overlays."""
        return self.narration is not None and self.options.read_along

    @property
    def audiobook(self) -> bool:
        """The full-length M4B and MP3 are made."""
        return self.narration is not None and self.options.audiobook

    def audio(self, entry: TocEntry) -> SectionAudio:
        """The narration of one section (a narrated publication only)."""
        assert self.narration is not None, "a text-only publication has no audio"
        return self.narration.sections[entry.number]

    @property
    def links(self) -> tuple[Output, ...]:
        """The outputs the listening page links to, in step order."""
        return tuple(o for outputs in self.outputs.values() for o in outputs if o.label)
