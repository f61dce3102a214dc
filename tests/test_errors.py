"""Every user mistake: a one-line error, a non-zero exit, and the output folder exactly as it was."""

import errno
import hashlib
import os
from pathlib import Path

import pytest

from conftest import SAMPLE
from talkingbook.errors import SynthesisError


def snapshot(folder: Path) -> dict:
    """Every file and folder under ``folder`` (hidden ones too) with a digest of its bytes."""
    if not folder.exists():
        return {"<absent>": True}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def earlier_book(tmp_path, build, private_cache):
    """An output folder holding a good book from an earlier run into this test's cache (the run's
    shared book and its cache, copied)."""
    return build().copy(tmp_path / "dist", cache=private_cache)


def assert_one_line_error(code, err, *fragments, exit_code=1):
    assert code == exit_code
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def copy_sample(tmp_path, data: bytes, name: str = SAMPLE.name) -> Path:
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make_input, why",
    [
        (lambda d: d / "missing.html", "no such file"),
        (lambda d: d, "is a folder"),
        (lambda d: copy_sample(d, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), SAMPLE.name), "binary"),
        (lambda d: copy_sample(d, b"Plain words, no markup at all.\n", SAMPLE.name), "not an HTML page"),
        (
            lambda d: copy_sample(d, b"<html><body><nav><a href='/'>Home</a></nav></body></html>", SAMPLE.name),
            "no article text",
        ),
        (lambda d: copy_sample(d, b"", SAMPLE.name), "empty"),
    ],
)
def test_bad_input_leaves_the_earlier_book_intact(tmp_path, run, earlier_book, make_input, why):
    before = snapshot(earlier_book)
    source = make_input(tmp_path)
    code, _, err = run("convert", source, "-o", earlier_book, "--engine", "fake")
    assert_one_line_error(code, err, str(source), why)
    assert snapshot(earlier_book) == before


def test_bad_input_does_not_create_the_output_folder(tmp_path, run):
    code, _, err = run("convert", tmp_path / "nope.html", "-o", tmp_path / "new" / "dist")
    assert_one_line_error(code, err, "no such file")
    assert sorted(tmp_path.iterdir()) == []


def test_unwritable_output(tmp_path, run):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run("convert", SAMPLE, "-o", blocker / "dist", "--no-audio")
    assert_one_line_error(code, err, "a-file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_file_at_the_target_is_left_alone_and_the_book_goes_beside_it(tmp_path, run, caplog):
    (tmp_path / SAMPLE.stem).write_text("in the way")
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, "--no-audio")
    assert code == 0, err
    assert (tmp_path / SAMPLE.stem).read_text() == "in the way"
    assert (tmp_path / f"{SAMPLE.stem}-2" / f"{SAMPLE.stem}-2.epub").is_file()
    assert any("is not a folder" in r.getMessage() and f"{SAMPLE.stem}-2" in r.getMessage() for r in caplog.records)


def test_forced_engine_that_cannot_read_the_language(tmp_path, run, earlier_book):
    before = snapshot(earlier_book)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--language", "ja", "--engine", "espeak")
    assert_one_line_error(code, err, "ja", "--engine gtts", "--no-audio")
    assert snapshot(earlier_book) == before


def test_failure_midway_keeps_the_earlier_book_and_leaves_no_temporary_folder(run, earlier_book, monkeypatch):
    from talkingbook.engines.fake import FakeEngine

    before = snapshot(earlier_book)
    real = FakeEngine.synthesize

    def flaky(self, text):
        if len(self.calls) >= 12:
            raise SynthesisError("fake", "the engine broke")
        return real(self, text)

    monkeypatch.setattr(FakeEngine, "synthesize", flaky)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none", "--no-cache")
    assert_one_line_error(code, err, "the engine broke")
    assert snapshot(earlier_book) == before


def test_ctrl_c_midway_keeps_the_earlier_book(run, earlier_book, monkeypatch):
    from talkingbook.engines.fake import FakeEngine

    before = snapshot(earlier_book)

    def interrupt(self, text):
        raise KeyboardInterrupt

    monkeypatch.setattr(FakeEngine, "synthesize", interrupt)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none", "--no-cache")
    assert code == 130 and "interrupted" in err
    assert snapshot(earlier_book) == before


@pytest.mark.parametrize("option", ["--title", "--author", "--publisher"])
def test_an_override_that_is_not_utf8_is_a_usage_error(tmp_path, run, option):
    """Bytes that are not UTF-8 on the command line (a Latin-1 terminal) reach Python as lone surrogates."""
    code, out, err = run("convert", SAMPLE, "-o", tmp_path, "--no-audio", option, "Caf\udce9")
    assert code == 2 and out == ""
    assert err == f"error: {option} 'Caf\\xe9': not UTF-8 text\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--engine", "festival"], "invalid choice"),
        (["--split-level", "9"], "invalid choice"),
        (["--date", "27/11/2026"], "YYYY-MM-DD"),
        (["--language", "not a language"], "BCP 47"),
    ],
)
def test_usage_errors_exit_2(tmp_path, run, args, fragment):
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, *args)
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_no_command_prints_help_and_exits_2(run):
    code, _, err = run()
    assert code == 2 and "convert" in err


def test_the_help_loads_no_reader_voice_writer_or_server():
    # Start-up is paid by every command: `talkingbook --help` and the command line's import load what the
    # argument parser needs, the rest where a command uses it (a speed target: bench/bench_startup.py).
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io; from talkingbook.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()): main(['--help'])\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    heavy = {"bs4", "lxml", "trafilatura", "dask", "distributed", "starlette", "uvicorn", "feedparser", "mutagen"}
    ours = {"talkingbook.convert", "talkingbook.batch", "talkingbook.readers.html", "talkingbook.writers"}
    assert not loaded & (heavy | ours), sorted(loaded & (heavy | ours))


def test_a_text_only_conversion_loads_no_voice_server_cluster_or_pool(tmp_path):
    # What a small page's `convert --no-audio` pays for is what it uses (a speed target:
    # bench/bench_startup.py): no voice, no server, no cluster, no feed reader, no process pool, no
    # speech cache, and for a page in English no table of all the world's languages.
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io; from talkingbook.cli import main\n"
        f"code = main(['convert', {str(SAMPLE)!r}, '--no-audio', '-q', '-o', {str(tmp_path)!r}])\n"
        "print(code, ' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status, *loaded = done.stdout.split()
    assert status == "0", done.stderr
    assert "talkingbook.convert" in loaded and "trafilatura" in loaded  # it did convert, with both readings
    heavy = {
        "onnxruntime",
        "kokoro_onnx",
        "piper",
        "espeakng_loader",
        "gtts",
        "pydub",
        "mutagen",
        "dask",
        "distributed",
        "starlette",
        "uvicorn",
        "feedparser",
        "concurrent.futures.process",
        "platformdirs",
        "pycountry",
    }
    engines = {m for m in loaded if m.startswith("talkingbook.engines.")}
    assert not set(loaded) & heavy and not engines, sorted(set(loaded) & heavy | engines)


def test_one_bad_input_among_several_does_not_stop_the_others(tmp_path, run):
    code, _, err = run("convert", tmp_path / "missing.html", SAMPLE, "-o", tmp_path / "out", "--no-audio", "-q")
    assert code == 1
    assert err.strip().splitlines() == [f"error: {tmp_path / 'missing.html'}: no such file"]
    assert (tmp_path / "out" / SAMPLE.stem / f"{SAMPLE.stem}.epub").is_file()


# -- a full disk: one line naming the output, the earlier book intact, nothing left behind --------

SLUG = SAMPLE.stem
ENOSPC_LINE = "no space left on device"


def full_disk(*args, **kwargs):
    """What a write() says when the disk is full: no file name."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def leftovers(out: Path) -> list[str]:
    return [str(p) for p in out.rglob("*") if p.name.endswith((".partial", ".tmp", ".pcm")) or ".old" in p.name]


@pytest.mark.parametrize(
    "writer, output",
    [
        ("write_epub", f"{SLUG}.epub"),
        ("write_playlist", f"{SLUG}.m3u8"),
        ("write_transcripts", f"{SLUG}.vtt"),
        ("write_feed", "feed.xml"),
        ("write_listening_page", "index.html"),
        ("write_manifest", "manifest.json"),
        ("write_audiobook", f"{SLUG}.m4b"),
        ("render_audio", "audio"),
    ],
)
def test_a_full_disk_in_any_writer_names_its_output(run, earlier_book, monkeypatch, writer, output):
    from builders import replace_writer
    from talkingbook import convert as convert_module

    before = snapshot(earlier_book)
    if writer == "render_audio":
        monkeypatch.setattr(convert_module, writer, full_disk)
    else:
        replace_writer(monkeypatch, writer, full_disk)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none")
    assert_one_line_error(code, err)
    assert err.strip() == f"error: {earlier_book / SLUG / output}: {ENOSPC_LINE}"
    assert snapshot(earlier_book) == before and leftovers(earlier_book) == []


def test_a_full_disk_writing_the_cover_names_the_cover(run, earlier_book, monkeypatch):
    before = snapshot(earlier_book)
    real = Path.write_bytes

    def write_bytes(self, data):
        if self.name.startswith("cover."):
            full_disk()
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--no-audio")
    assert_one_line_error(code, err)
    assert err.strip() == f"error: {earlier_book / SLUG / 'cover.png'}: {ENOSPC_LINE}"
    assert snapshot(earlier_book) == before and leftovers(earlier_book) == []


def test_a_writer_that_names_its_file_is_reported_by_the_published_name(run, earlier_book, monkeypatch):
    from builders import replace_writer

    def cannot_open(pub, folder):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / pub.layout.playlist))  # as open() says it

    replace_writer(monkeypatch, "write_playlist", cannot_open)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none")
    assert_one_line_error(code, err)
    assert err.strip() == f"error: {earlier_book / SLUG / (SLUG + '.m3u8')}: {ENOSPC_LINE}"


def test_ffmpeg_out_of_space_names_the_section_mp3_not_a_temporary_file(run, earlier_book, monkeypatch):
    from talkingbook.system import processes

    def ffmpeg(args):
        return 1, f"[out#0/mp3 @ 0x5] Error writing trailer of {args[-1]}: No space left on device\n".encode()

    monkeypatch.setattr(processes, "run", ffmpeg)
    before = snapshot(earlier_book)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none", "--no-cache")
    assert_one_line_error(code, err, f"{earlier_book / SLUG / 'audio'}/", ".mp3: " + ENOSPC_LINE)
    assert ".pcm" not in err and "encoding failed" not in err
    assert snapshot(earlier_book) == before and leftovers(earlier_book) == []


@pytest.mark.slow
def test_an_m4b_failure_says_m4b(run, earlier_book, monkeypatch):
    from talkingbook.writers import audiobook

    monkeypatch.setattr(audiobook, "AAC_OUTPUT", ("-c:a", "aac", "-b:a", "not-a-bitrate"))
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none", "--no-cache")
    assert_one_line_error(code, err, f"{earlier_book / SLUG / (SLUG + '.m4b')}: ", "M4B")
    assert "MP3" not in err and ".partial" not in err


@pytest.mark.slow
@pytest.mark.parametrize("size, options", [("3000k", ["--no-audiobook"]), ("8m", []), ("11000k", [])])
def test_a_real_full_disk(tmp_path, run, size, options):
    """A tmpfs that holds the earlier book but not the new one: the disk fills at some stage."""
    from small_disk import small_disk

    with small_disk(tmp_path / "disk", size) as disk:
        out = disk / "out"
        assert run("convert", SAMPLE, "-o", out, "--no-audio", "-q")[0] == 0
        before = snapshot(out)
        code, _, err = run("convert", SAMPLE, "-o", out, "--engine", "fake", "--progress", "none", *options)
        assert_one_line_error(code, err, f"error: {out / SLUG}", f": {ENOSPC_LINE}")
        assert ".pcm" not in err and "encoding failed" not in err and ".partial" not in err
        assert snapshot(out) == before and leftovers(out) == []


# -- batches: every source converted on its own, whatever happens to another -----------------------


def test_a_bug_on_one_source_stops_no_other_and_is_one_line(tmp_path, run, monkeypatch):
    from talkingbook import convert as convert_module

    real = convert_module.read_html

    def buggy(source, options):
        if source.name.endswith("bad.html"):
            raise ZeroDivisionError("division by zero")
        return real(source, options)

    monkeypatch.setattr(convert_module, "read_html", buggy)
    sources = [copy_sample(tmp_path, SAMPLE.read_bytes(), name) for name in ("a.html", "bad.html", "c.html")]
    # --jobs 1: the patched reader lives in this process, not in a worker's
    code, _, err = run("convert", *sources, "-o", tmp_path / "out", "--no-audio", "--jobs", "1")
    assert code == 1 and "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        (
            f"error: {sources[1]}: internal error (ZeroDivisionError: division by zero); please report "
            "this bug with the page that caused it (-v shows the details)"
        )
    ]
    assert err.strip().splitlines()[-1] == "converted 2, unchanged 0, failed 1"
    assert (tmp_path / "out" / "a" / "a.epub").is_file() and (tmp_path / "out" / "c" / "c.epub").is_file()


def test_a_bug_on_a_single_source_is_one_line_and_v_shows_the_traceback(tmp_path, run, monkeypatch):
    from talkingbook import convert as convert_module

    def buggy(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(convert_module, "build_toc", buggy)
    code, _, err = run("convert", SAMPLE, "-o", tmp_path / "out", "--no-audio")
    assert_one_line_error(code, err, str(SAMPLE), "internal error (KeyError: 'surprise')", "report")
    code, _, err = run("convert", SAMPLE, "-o", tmp_path / "out", "--no-audio", "-v")
    assert code == 1 and "Traceback" in err and err.splitlines()[-1].startswith(f"error: {SAMPLE}: internal error")
    assert not (tmp_path / "out").exists()


def test_a_batch_ends_with_a_summary(tmp_path, run):
    code, _, err = run("convert", tmp_path / "missing.html", SAMPLE, "-o", tmp_path / "out", "--no-audio")
    assert code == 1
    lines = err.strip().splitlines()
    assert [line for line in lines if line.startswith("error:")] == [
        f"error: {tmp_path / 'missing.html'}: no such file"
    ]
    assert lines[-2:] == [f"failed: {tmp_path / 'missing.html'}: no such file", "converted 1, unchanged 0, failed 1"]


def test_a_killed_ffmpeg_is_reported_by_its_signal_not_by_its_last_words(run, earlier_book, monkeypatch, tmp_path):
    """The out-of-memory killer (or a user) ends ffmpeg with SIGKILL: what it last wrote, often a line of its
    banner, says nothing of why; the signal does."""
    import imageio_ffmpeg

    ffmpeg = tmp_path / "ffmpeg"
    ffmpeg.write_text(
        "#!/bin/sh\necho 'ffmpeg version n9.0.2 Copyright (c) 2000-2026 the FFmpeg developers' >&2\nkill -KILL $$\n"
    )
    ffmpeg.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(ffmpeg))
    before = snapshot(earlier_book)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none", "--no-cache")
    assert_one_line_error(code, err, ".mp3: MP3 encoding failed (ffmpeg was killed by signal 9 (SIGKILL))")
    assert "Copyright" not in err
    assert snapshot(earlier_book) == before and leftovers(earlier_book) == []
