"""The listening page, index.html, in headless Chromium: no console errors, every audio element
points at a file that exists, and keyboard focus moves through the sections in order."""

import json
import os
import shutil
import subprocess

from lxml import html

from conftest import ARTIFACTS, CHROMIUM, JS, SAMPLE, need


def test_listening_page_in_chromium(tmp_path, run):
    need(CHROMIUM is not None, "Chromium is not installed (Debian package chromium)")
    need(
        shutil.which("node") is not None and (JS / "node_modules" / "puppeteer-core").exists(),
        "puppeteer-core is not installed: npm ci --prefix tests/js --ignore-scripts",
    )
    assert run("convert", SAMPLE, "-o", tmp_path, "--engine", "fake", "-q")[0] == 0
    folder = tmp_path / SAMPLE.stem
    sections = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["sections"]
    page = html.parse(str(folder / "index.html")).getroot()
    assert page.get("lang") == "en"
    assert [h.text_content() for h in page.xpath("//main//h3")] == [s["title"] for s in sections]
    for link in page.xpath("//a/@href | //audio/@src | //track/@src | //img/@src"):
        assert link.startswith("https://") or (folder / link).is_file(), link

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "listening-page.png"
    proc = subprocess.run(
        ["node", str(JS / "listen.js"), str(folder / "index.html"), str(shot)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, CHROMIUM=CHROMIUM),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout)
    assert seen["errors"] == []
    assert seen["audio"] == [s["mp3"] for s in sections] and all((folder / a).is_file() for a in seen["audio"])
    # the cover, shown and decorative (the title beside it is text)
    assert seen["images"] == [{"src": "cover.png", "alt": "", "width": 1400, "height": 1400}]
    order = []
    for stop in seen["focus"]:
        if stop["section"] and (not order or order[-1] != stop["section"]):
            order.append(stop["section"])
    assert order == [f"section-{s['number']}" for s in sections]  # focus follows the sections, each once
    kinds = {(stop["section"], stop["tag"]) for stop in seen["focus"] if stop["section"]}
    assert all((f"section-{s['number']}", tag) in kinds for s in sections for tag in ("audio", "summary"))
    assert shot.stat().st_size > 10_000
