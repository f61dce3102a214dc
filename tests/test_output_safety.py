"""`-o DIR` replaces only a book folder talkingbook wrote for the same article; everything else
(someone's folder, a file, a symlink, another article's book) is left alone and the book goes
beside it, in a folder it finds again on the next run."""

import hashlib
import json
import os
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import SAMPLE, book_names
from talkingbook.system.publish import MARKER


def tree(folder: Path) -> dict:
    """Every path under ``folder`` (symlinks not followed) with a digest of each file."""
    out = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(top) / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                out[key] = f"-> {os.readlink(path)}"
            elif path.is_file():
                out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[key] = "dir"
    return out


@contextmanager
def no_hang(seconds: int):
    """Fail instead of hanging (a FIFO opened for reading waits for a writer forever)."""

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def page(title: str, body: str = "", canonical: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    text = body or f"This page is about {title.lower()}. It has a few sentences of its own. " * 12
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title>{link}</head><body><article>"
        f"<h1>{title}</h1><p>{text}</p><h2>More</h2><p>{text}</p></article></body></html>"
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def convert(run, source, out, *options):
    code, _, err = run("convert", source, "-o", out, "--no-audio", "-q", *options)
    assert code == 0, err
    return err


def title_of(book: Path) -> str:
    return json.loads((book / "manifest.json").read_text(encoding="utf-8"))["metadata"]["title"]


def test_someones_folder_is_never_touched_and_the_book_goes_beside_it_every_time(tmp_path, run, caplog):
    out = tmp_path / "out"
    mine = out / SAMPLE.stem
    write(mine / "thesis.txt", "three years of work")
    write(mine / "manifest.json", '{"name": "a web app manifest, not ours"}')
    before = tree(mine)
    convert(run, SAMPLE, out)
    convert(run, SAMPLE, out)  # again: the same folder beside it, no -3
    assert tree(mine) == before
    assert book_names(out) == [SAMPLE.stem, f"{SAMPLE.stem}-2"]
    assert (out / f"{SAMPLE.stem}-2" / f"{SAMPLE.stem}-2.epub").is_file()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings and all(str(mine) in w and "did not write" in w and f"{SAMPLE.stem}-2" in w for w in warnings)


def test_two_articles_saved_under_the_same_name_keep_two_books(tmp_path, run):
    out = tmp_path / "out"
    first = write(tmp_path / "a" / "source.html", page("Rivers of the north"))
    second = write(tmp_path / "b" / "source.html", page("Lakes of the south"))
    convert(run, first, out)
    convert(run, second, out)
    assert title_of(out / "source") == "Rivers of the north"
    assert title_of(out / "source-2") == "Lakes of the south"
    kept = tree(out / "source")
    write(second, page("Lakes of the south, revised"))
    convert(run, second, out)  # the second article finds its own folder again
    assert title_of(out / "source-2") == "Lakes of the south, revised"
    assert tree(out / "source") == kept
    write(first, page("Rivers of the north, revised"))
    convert(run, first, out)
    assert title_of(out / "source") == "Rivers of the north, revised"
    assert book_names(out) == ["source", "source-2"]


def test_the_same_article_from_two_copies_is_one_book(tmp_path, run):
    """The canonical URL says which article a page is, wherever its file was saved."""
    out = tmp_path / "out"
    url = "https://news.example.org/2026/rivers"
    convert(run, write(tmp_path / "a" / "rivers.html", page("Rivers", canonical=url)), out)
    convert(run, write(tmp_path / "b" / "rivers.html", page("Rivers, updated", canonical=url)), out)
    assert book_names(out) == ["rivers"]
    assert title_of(out / "rivers") == "Rivers, updated"


def test_a_book_of_an_earlier_version_is_replaced_by_the_same_article_only(tmp_path, run):
    """Folders written before the marker existed are recognised by their manifest.json."""
    out = tmp_path / "out"
    source = write(tmp_path / "in" / "story.html", page("A story"))
    other = write(tmp_path / "elsewhere" / "story.html", page("Another story"))
    convert(run, source, out)
    (out / "story" / MARKER).unlink()  # as an earlier version left it
    (out / "story" / "old-file.txt").write_text("from the earlier run")
    convert(run, source, out)
    assert not (out / "story" / "old-file.txt").exists() and (out / "story" / MARKER).is_file()
    (out / "story" / MARKER).unlink()
    convert(run, other, out)
    assert title_of(out / "story") == "A story" and title_of(out / "story-2") == "Another story"


@pytest.mark.parametrize("points_at", ["someones-folder", "a-book"])
def test_a_symlink_at_the_target_is_neither_followed_nor_renamed(tmp_path, run, points_at):
    out = tmp_path / "out"
    if points_at == "a-book":
        convert(run, SAMPLE, tmp_path / "real")
        real = tmp_path / "real" / SAMPLE.stem
    else:
        real = tmp_path / "real"
        write(real / "thesis.txt", "mine")
    before = tree(real)
    out.mkdir()
    (out / SAMPLE.stem).symlink_to(real, target_is_directory=True)
    convert(run, SAMPLE, out)
    assert (out / SAMPLE.stem).is_symlink() and os.readlink(out / SAMPLE.stem) == str(real)
    assert tree(real) == before
    assert (out / f"{SAMPLE.stem}-2" / f"{SAMPLE.stem}-2.epub").is_file()
    assert [p.name for p in out.iterdir() if ".old" in p.name or p.name.endswith(".partial")] == []


def test_a_fifo_in_place_of_the_marker_or_manifest_never_hangs_the_choice(tmp_path, run):
    out = tmp_path / "out"
    (out / SAMPLE.stem).mkdir(parents=True)
    os.mkfifo(out / SAMPLE.stem / MARKER)
    os.mkfifo(out / SAMPLE.stem / "manifest.json")
    with no_hang(60):
        convert(run, SAMPLE, out)
    assert (out / f"{SAMPLE.stem}-2" / f"{SAMPLE.stem}-2.epub").is_file()
    assert sorted(p.name for p in (out / SAMPLE.stem).iterdir()) == sorted(["manifest.json", MARKER])


def test_a_batch_of_two_articles_with_one_name_gives_two_books(tmp_path, run):
    out = tmp_path / "out"
    first = write(tmp_path / "a" / "index.html", page("First"))
    second = write(tmp_path / "b" / "index.html", page("Second"))
    code, _, err = run("convert", first, second, "-o", out, "--no-audio", "-q")
    assert code == 0, err
    assert {title_of(out / "index"), title_of(out / "index-2")} == {"First", "Second"}


def test_a_failed_run_leaves_a_new_output_folder_uncreated(tmp_path, run, monkeypatch):
    from builders import replace_writer

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    replace_writer(monkeypatch, "write_epub", broken)
    code, _, err = run("convert", SAMPLE, "-o", tmp_path / "new" / "out", "--no-audio")
    assert code == 1 and "no space left on device" in err
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_the_way_of_the_output_folder(tmp_path, run):
    (tmp_path / "out").write_text("a file")
    code, _, err = run("convert", SAMPLE, "-o", tmp_path / "out", "--no-audio")
    assert code == 1 and err.startswith(f"error: {tmp_path / 'out'}:") and err.count("\n") == 1
    assert (tmp_path / "out").read_text() == "a file"
    shutil.rmtree(tmp_path / "out", ignore_errors=True)
