"""A small filesystem to fill: a tmpfs mounted for one test (root only; CI runs as root)."""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

from conftest import need


@contextmanager
def small_disk(folder: Path, size: str):
    """Mount a tmpfs of ``size`` (e.g. '2m') on ``folder`` for the duration of the block."""
    folder.mkdir(parents=True, exist_ok=True)
    need(shutil.which("mount") is not None and shutil.which("umount") is not None, "mount is not installed")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    need(mounted.returncode == 0, f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
