"""Transcripts: a WebVTT cue per spoken unit, timed by the clips, per section and for the whole book;
the section's text in each MP3's USLT frame."""

import json

import webvtt
from mutagen.id3 import ID3


def seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_section_and_book_transcripts_follow_the_clips(build):
    folder = build().folder
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    whole = webvtt.read(str(folder / manifest["transcript"]))
    offset, k = 0.0, 0
    for section in manifest["sections"]:
        cues = webvtt.read(str(folder / section["transcript"]))
        assert [(seconds(c.start), seconds(c.end), c.text) for c in cues] == [
            (c["begin"], c["end"], c["text"]) for c in section["clips"]
        ]
        assert cues[0].text == section["title"]  # each section opens with its heading
        for cue in cues:  # the book's transcript: the same cues, shifted by the sections before
            assert whole[k].text == cue.text
            assert abs(seconds(whole[k].start) - (offset + seconds(cue.start))) < 0.002
            k += 1
        offset += section["duration"]
        lyrics = ID3(folder / section["mp3"]).getall("USLT")
        assert len(lyrics) == 1 and lyrics[0].text == " ".join(c["text"] for c in section["clips"])
        assert lyrics[0].lang == "eng"
    assert k == len(whole)
    # written, not spoken, form: the transcript says 2026 where the voice says 'twenty twenty-six'
    assert any("November 27, 2026" in c.text for c in whole)
