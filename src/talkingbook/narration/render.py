"""Section audio: each section's script spoken (through the cache), joined with pauses,
loudness-normalised and encoded, then tagged. The finished section MP3 is cached too, so
an unchanged section is copied rather than assembled and encoded again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..engines import Engine, open_engine
from ..errors import EngineUnavailableError
from ..media.audio import ENCODER_ID, encode_mp3, mp3_span, resample, silence, tag_mp3
from ..model import Book, Clip, Cover, SectionAudio
from ..publication import Layout
from ..structure.toc import TocEntry, book_summary
from ..system.cache import SpeechCache, digest
from ..system.processes import worker_thread
from .lexicon import Lexicon
from .script import LEAD_IN, LEAD_OUT, Utterance, section_script

log = logging.getLogger(__name__)


class Voices:
    """The book's engine, and engines for passages marked in other languages (opened on demand)."""

    def __init__(self, main: Engine, language: str, engine_name: str, rate: float) -> None:
        self.main, self.language, self.engine_name, self.rate = main, language, engine_name, rate
        self._others: dict[str, Engine] = {}

    def for_language(self, lang: str) -> Engine:
        if not lang or lang.split("-")[0] == self.language.split("-")[0]:
            return self.main
        primary = lang.split("-")[0]
        if primary not in self._others:
            try:
                # Piper speaks English only: its book's other languages get auto's voice; any other
                # engine chosen by the user reads them too
                name = "auto" if self.engine_name in ("auto", "piper") else self.engine_name
                self._others[primary] = open_engine(name, lang, None, self.rate)
            except EngineUnavailableError as exc:
                log.warning("no voice speaks '%s' here (%s); reading it with %s", lang, exc.why, self.main.voice)
                self._others[primary] = self.main
        return self._others[primary]


def speech_key(engine: Engine, text: str) -> str:
    return digest(
        "speech", engine.name, engine.voice, getattr(engine, "variant", ""), engine.rate, engine.sample_rate, text
    )


def render_audio(
    book: Book,
    toc: tuple[TocEntry, ...],
    layout: Layout,
    voices: Voices,
    folder: Path,
    progress,
    cache: SpeechCache,
    lexicon: Lexicon = Lexicon(),
    read_code: bool = False,
    pause_scale: float = 1.0,
    keep_pcm: Path | None = None,
    cover: Cover | None = None,
) -> dict[int, SectionAudio]:
    """Write one tagged MP3 per TOC entry into ``folder`` (``Layout.section_mp3``); returns each
    one's audio by number, with the tagged file's size and digest.

    With ``keep_pcm`` (a folder), each section's unlevelled PCM is also left there as
    ``<slug>.pcm``, even for a section whose MP3 came from the cache: the full-length
    audiobook is encoded from it (never from the MP3s).
    """
    main = voices.main
    scripts = {
        e.number: [
            replace(u, text=lexicon.apply(u.text), pause_after=round(u.pause_after * pause_scale))
            for u in section_script(e.section, book.metadata, main.voice, read_code=read_code)
        ]
        for e in toc
    }
    description = book_summary(book, toc)  # every section MP3 carries the book's tags
    progress.book_started(book.metadata.title, len(toc), sum(len(s) for s in scripts.values()))
    (folder / layout.AUDIO).mkdir()
    done: dict[int, SectionAudio] = {}
    # Synthesis runs here, one section after another; encoding (ffmpeg, a separate process)
    # runs in the pool, one section per core, overlapping the synthesis of the next. At most
    # two sections per core wait as PCM, so memory stays flat however long the article is.
    workers = max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, initializer=worker_thread) as pool:
        pending: list[tuple[TocEntry, Future]] = []
        for entry in toc:
            while pending and (len(pending) >= 2 * workers or pending[0][1].done()):
                _finish(*pending.pop(0), done, progress)
            progress.section_started(entry)
            job = _section_job(
                entry,
                scripts[entry.number],
                voices,
                folder / layout.section_mp3(entry),
                cache,
                progress,
                book,
                keep_pcm,
                cover,
                description,
            )
            pending.append((entry, pool.submit(job)))
        for entry, future in pending:
            _finish(entry, future, done, progress)
    return done


def _section_job(
    entry: TocEntry,
    script: list[Utterance],
    voices: Voices,
    path: Path,
    cache: SpeechCache,
    progress,
    book: Book,
    keep_pcm: Path | None = None,
    cover: Cover | None = None,
    description: str = "",
):
    """Speak a section now; return the rest (encode or copy to ``path``, then tag) as a function for
    the pool."""
    main = voices.main
    engines = [voices.for_language(u.lang) for u in script]
    keys = [speech_key(engine, u.text) for engine, u in zip(engines, script)]
    section_key = digest(
        "section",
        keys,
        [u.pause_after for u in script],
        [u.unit for u in script],
        [u.display for u in script],
        LEAD_IN,
        LEAD_OUT,
        main.sample_rate,
        ENCODER_ID,
    )
    stored = cache.get_section(section_key, path)  # the MP3 is copied to ``path`` only when whole
    cached: SectionAudio | None = None
    if stored:
        try:
            cached = _from_json(stored)
        except (KeyError, ValueError, TypeError):
            cached = None  # an entry from an older version: made again
    # the section's PCM goes to a file beside the output, never the whole section in memory
    pcm = (keep_pcm or path.parent) / f"{entry.slug}.pcm"
    if cached and keep_pcm is None:
        for _ in script:
            progress.utterance_done(entry)
    else:  # spoken, or put together again from the cached sentences for the audiobook
        clips = _speak(script, engines, keys, main.sample_rate, cache, entry, progress, pcm)

    def finish() -> SectionAudio:
        if cached:
            audio = cached
        else:
            try:
                audio = _encoded(pcm, main.sample_rate, path, clips)
            finally:
                if keep_pcm is None:
                    pcm.unlink(missing_ok=True)
            cache.put_section(section_key, path, _to_json(audio))
        tag_mp3(
            path,
            entry,
            book.metadata,
            main.voice,
            " ".join(c.text for c in audio.clips),
            section_chapters(entry, audio),
            cover,
            description,
        )
        return replace(audio, size=path.stat().st_size, sha256=_sha256(path), span=mp3_span(path))

    return finish


def section_chapters(entry: TocEntry, audio: SectionAudio) -> list[tuple[float, float, str]]:
    """Chapter marks inside a section's MP3: its start, then each deeper heading where its clip begins
    (none when the section has no deeper headings)."""
    begins = {c.unit: c.begin for c in audio.clips}
    marks = [(0.0, entry.title)] + [(begins[s.anchor], s.title) for s in entry.subentries if s.anchor in begins]
    if len(marks) < 2:
        return []
    ends = [start for start, _ in marks[1:]] + [audio.duration]
    return [(start, end, title) for (start, title), end in zip(marks, ends)]


def _sha256(path: Path) -> str:
    """The digest of the tagged MP3, so that later steps know it without reading the file again."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _encoded(pcm: Path, rate: int, path: Path, clips: tuple[Clip, ...]) -> SectionAudio:
    duration, loudness = encode_mp3(pcm, rate, path)
    return SectionAudio(duration, clips, loudness)


def _to_json(audio: SectionAudio) -> dict:
    return {
        "duration": audio.duration,
        "loudness": audio.loudness,
        "clips": [[c.unit, c.begin, c.end, c.text] for c in audio.clips],
    }


def _from_json(info: dict) -> SectionAudio:
    loudness = info["loudness"]
    return SectionAudio(
        float(info["duration"]),
        tuple(Clip(u, float(b), float(e), str(t)) for u, b, e, t in info["clips"]),
        None if loudness is None else float(loudness),
    )


def _finish(entry: TocEntry, job: Future, done: dict, progress) -> None:
    done[entry.number] = job.result()
    progress.section_finished(entry, done[entry.number].duration)


def _speak(script, engines, keys, rate: int, cache: SpeechCache, entry, progress, out: Path) -> tuple[Clip, ...]:
    """Write the section's PCM to ``out``; return its clips: each utterance with the pause after it
    belongs to the utterance's element; the lead-in belongs to the first, the lead-out to the last."""
    with open(out, "wb") as sink:
        return _speak_into(sink, script, engines, keys, rate, cache, entry, progress)


def _speak_into(sink, script, engines, keys, rate, cache, entry, progress) -> tuple[Clip, ...]:
    lead_in = silence(LEAD_IN, rate)
    sink.write(lead_in)
    samples = len(lead_in) // 2
    clips: list[list] = []
    for i, (utterance, engine, key) in enumerate(zip(script, engines, keys)):
        pcm = cache.get_pcm(key)
        if pcm is None:
            pcm = engine.synthesize(utterance.text)
            cache.put_pcm(key, pcm)  # kept at once: a crash later loses no finished sentence
        if engine.sample_rate != rate:
            pcm = resample(pcm, engine.sample_rate, rate)
        pause = silence(LEAD_OUT if i == len(script) - 1 else utterance.pause_after, rate)
        begin = 0 if i == 0 else samples
        samples += (len(pcm) + len(pause)) // 2
        if clips and clips[-1][0] == utterance.unit:
            clips[-1][2] = samples
            clips[-1][3].append(utterance.display or utterance.text)
        else:
            clips.append([utterance.unit, begin, samples, [utterance.display or utterance.text]])
        sink.write(pcm)
        sink.write(pause)
        progress.utterance_done(entry)
    return tuple(Clip(unit, round(b / rate, 3), round(e / rate, 3), " ".join(texts)) for unit, b, e, texts in clips)
