"""Every user mistake: a one-line error, a non-zero exit, and the output folder exactly as it was."""

import hashlib
from pathlib import Path

import pytest

from talkingbook.errors import SynthesisError

from conftest import SAMPLE


def snapshot(folder: Path) -> dict:
    """Every file and folder under ``folder`` (hidden ones too) with a digest of its bytes."""
    if not folder.exists():
        return {"<absent>": True}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def earlier_book(tmp_path, run):
    """An output folder holding a good book from an earlier run."""
    out = tmp_path / "dist"
    assert run("convert", SAMPLE, "-o", out, "--engine", "fake", "-q")[0] == 0
    return out


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


@pytest.mark.parametrize("make_input, why", [
    (lambda d: d / "missing.html", "no such file"),
    (lambda d: d, "is a folder"),
    (lambda d: copy_sample(d, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), SAMPLE.name), "binary"),
    (lambda d: copy_sample(d, b"Plain words, no markup at all.\n", SAMPLE.name), "not an HTML page"),
    (lambda d: copy_sample(d, b"<html><body><nav><a href='/'>Home</a></nav></body></html>", SAMPLE.name),
     "no article text"),
    (lambda d: copy_sample(d, b"", SAMPLE.name), "empty"),
])
def test_bad_input_leaves_the_earlier_book_intact(tmp_path, run, earlier_book, make_input, why):
    before = snapshot(earlier_book)
    source = make_input(tmp_path)
    code, out, err = run("convert", source, "-o", earlier_book, "--engine", "fake")
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


def test_target_that_is_a_file(tmp_path, run):
    (tmp_path / SAMPLE.stem).write_text("in the way")
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, "--no-audio")
    assert_one_line_error(code, err, "not a folder")
    assert (tmp_path / SAMPLE.stem).read_text() == "in the way"


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
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none",
                       "--no-cache")
    assert_one_line_error(code, err, "the engine broke")
    assert snapshot(earlier_book) == before


def test_ctrl_c_midway_keeps_the_earlier_book(run, earlier_book, monkeypatch):
    from talkingbook.engines.fake import FakeEngine

    before = snapshot(earlier_book)

    def interrupt(self, text):
        raise KeyboardInterrupt

    monkeypatch.setattr(FakeEngine, "synthesize", interrupt)
    code, _, err = run("convert", SAMPLE, "-o", earlier_book, "--engine", "fake", "--progress", "none",
                       "--no-cache")
    assert code == 130 and "interrupted" in err
    assert snapshot(earlier_book) == before


@pytest.mark.parametrize("args, fragment", [
    (["--engine", "festival"], "invalid choice"),
    (["--split-level", "9"], "invalid choice"),
    (["--date", "27/11/2026"], "YYYY-MM-DD"),
    (["--language", "not a language"], "BCP 47"),
])
def test_usage_errors_exit_2(tmp_path, run, args, fragment):
    code, _, err = run("convert", SAMPLE, "-o", tmp_path, *args)
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_no_command_prints_help_and_exits_2(run):
    code, out, err = run()
    assert code == 2 and "convert" in err


def test_one_bad_input_among_several_does_not_stop_the_others(tmp_path, run):
    code, _, err = run("convert", tmp_path / "missing.html", SAMPLE, "-o", tmp_path / "out", "--no-audio", "-q")
    assert code == 1
    assert err.strip().splitlines() == [f"error: {tmp_path / 'missing.html'}: no such file"]
    assert (tmp_path / "out" / SAMPLE.stem / f"{SAMPLE.stem}.epub").is_file()
