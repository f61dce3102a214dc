"""A content-addressed cache of synthesized speech, of finished section audio, of full-length
audiobooks and of covers.

Sentences are stored as raw 16-bit PCM under a key made of the engine, voice, rate,
lexicon and the exact text sent to the engine; a finished (untagged) section MP3 is
stored under a key made of its sentences' keys, pauses and the encoder settings. Each
entry is written to a temporary file and renamed, so a crash never leaves a half entry
and a re-run resumes from the last finished sentence. Location: ``$TALKINGBOOK_CACHE``,
else the user's cache folder (``$XDG_CACHE_HOME/talkingbook`` on Linux).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path


def default_root() -> Path:
    """Where the cache lives unless told otherwise."""
    override = os.environ.get("TALKINGBOOK_CACHE")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("talkingbook", appauthor=False))


def digest(*parts) -> str:
    """A stable hex key for JSON-serialisable parts."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


class SpeechCache:
    """Sentence PCM and section MP3s on disk; a disabled cache stores and finds nothing."""

    def __init__(self, root: Path | None = None, enabled: bool = True) -> None:
        self.root = Path(root) if root else default_root()
        self.enabled = enabled

    def _path(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    def get_pcm(self, key: str) -> bytes | None:
        return self.get_bytes("speech", key, ".pcm")

    def put_pcm(self, key: str, pcm: bytes) -> None:
        self.put_bytes("speech", key, ".pcm", pcm)

    def get_section(self, key: str) -> tuple[Path, dict] | None:
        """A cached section MP3 and what was stored with it (duration, clips)."""
        if not self.enabled:
            return None
        mp3 = self._path("sections", key, ".mp3")
        try:
            info = json.loads(self._path("sections", key, ".json").read_text(encoding="utf-8"))
            return (mp3, info) if mp3.is_file() and isinstance(info, dict) else None
        except (OSError, ValueError):
            return None

    def put_section(self, key: str, mp3: Path, info: dict) -> None:
        """Store a finished section MP3 with its JSON-serialisable ``info``; the MP3 first, so
        an entry whose description exists is complete."""
        if self.enabled:
            self._write(self._path("sections", key, ".mp3"), mp3.read_bytes())
            self._write(self._path("sections", key, ".json"), json.dumps(info).encode())

    def get_files(self, kind: str, key: str, suffixes: tuple[str, ...]) -> dict[str, Path] | None:
        """Files stored together under ``key`` (one per suffix), or None unless all are there."""
        if not self.enabled:
            return None
        paths = {suffix: self._path(kind, key, suffix) for suffix in suffixes}
        return paths if all(p.is_file() for p in paths.values()) else None

    def put_files(self, kind: str, key: str, files: dict[str, Path]) -> None:
        """Store files together under ``key``; the first suffix is written last, so finding it means all are there."""
        if self.enabled:
            for suffix, path in reversed(list(files.items())):
                self._write(self._path(kind, key, suffix), path.read_bytes())

    def get_bytes(self, kind: str, key: str, suffix: str) -> bytes | None:
        if not self.enabled:
            return None
        try:
            return self._path(kind, key, suffix).read_bytes()
        except OSError:
            return None

    def put_bytes(self, kind: str, key: str, suffix: str, data: bytes) -> None:
        if self.enabled:
            self._write(self._path(kind, key, suffix), data)

    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time

    def clear(self) -> int:
        """Remove every entry; returns the number of bytes freed."""
        size = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file()) if self.root.exists() else 0
        for kind in ("speech", "sections", "books", "covers"):
            shutil.rmtree(self.root / kind, ignore_errors=True)
        return size
