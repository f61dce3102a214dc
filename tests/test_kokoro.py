"""The Kokoro engine: espeak-ng IPA rewritten for the model, Japanese readings, the voice `auto` picks
per language, and (slow) the model itself speaking."""

import logging

import numpy as np
import pytest

from talkingbook.engines import AUTO, UNCLEAR, book_engine, clear_enough, kokoro, open_engine
from talkingbook.engines.espeak import ipa
from talkingbook.errors import EngineUnavailableError


def test_espeak_ipa_keeps_clause_punctuation_ties_and_no_language_flags():
    said = ipa("Bonjour, je m'appelle Marie! Le mot weekend.", "fr")
    assert said.count(",") == 1 and "!" in said and said.endswith(".")
    assert "(en)" not in said and "(fr)" not in said and "(" not in said
    assert "t\u0361ʃ" in ipa("church", "en-us")  # a tie inside the multi-letter phoneme


def test_tied_phonemes_become_kokoros_single_symbols():
    assert kokoro.from_espeak("t\u0361sˈaɪt") == "ʦˈaɪt"  # upstream: t^s -> ʦ
    assert kokoro.from_espeak("d\u0361ʒ") == "ʤ"
    assert kokoro.from_espeak("ʧˈɛɕt\u0361ɕ d\u0361ʑ") == "ʧˈɛɕʨ ʥ"  # ours: Polish affricates


def test_symbols_missing_from_the_vocabulary_are_mapped():
    vocab = kokoro.vocabulary()
    for symbol, nearest in kokoro.MISSING.items():
        assert symbol not in vocab or symbol == "g", symbol  # only map what the model lacks
        assert all(c in vocab for c in nearest), (symbol, nearest)
    assert kokoro.phonemes("Glück", "de").count("y") == 1  # German ʏ, absent from the vocabulary
    assert "ʏ" not in vocab


def test_english_follows_upstream_american_rules():
    said = kokoro.phonemes("The water bottle, and go home.", "en")
    assert "T" in said  # the flap in 'water' is Kokoro's T
    assert "O" in said  # 'go': o͡ʊ is O
    assert "ː" not in said  # American: no length marks


def test_every_phoneme_given_to_the_model_is_in_its_vocabulary():
    vocab = kokoro.vocabulary()
    for language, text in [
        ("fr", "L'Assemblée nationale a approuvé le projet."),
        ("ar", "معارضون يسيطرون على مخازن"),
        ("zh", "大熊猫是中国特有的动物"),
        ("ko", "서울은 대한민국의 수도입니다."),
        ("ja", "【速報】東京〜大阪（とうきょう）"),
    ]:
        said = kokoro.phonemes(text, language)
        assert said and all(c in vocab for c in said), (language, said)


def test_unknown_symbols_are_dropped_and_logged_once(caplog, monkeypatch):
    monkeypatch.setattr(kokoro, "_warned", set())
    with caplog.at_level(logging.INFO, logger="talkingbook.engines.kokoro"):
        assert kokoro._known("aʘb", "xx") == "ab"
        kokoro._known("ʘ", "xx")
    assert [r.getMessage() for r in caplog.records if "ʘ" in r.getMessage()] == [
        "kokoro: 'ʘ' (LATIN LETTER BILABIAL CLICK, xx) is not in the model's vocabulary; dropped"
    ]


def test_long_phoneme_strings_are_cut_after_punctuation():
    said = ("abc def, " * 100).strip()
    pieces = kokoro.chunks(said, 100)
    assert all(len(p) <= 100 for p in pieces) and all(p.endswith(",") for p in pieces[:-1])
    assert "".join(pieces).replace(" ", "") == said.replace(" ", "")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3月11日", "saŋɡaʦɨ ʥɨːiʨiɲiʨi"),  # not 'san tsuki', as the package reads digits alone
        ("10時30分", "ʥɨːʥi saɲʥɨʔpɯɴ"),
        ("5人", "ɡo ɲiɴ"),
        ("1人", "çitoɾʲi"),
        ("2026年", "ɲi seɴ ɲiʥɨːɾokɯ neɴ"),
    ],
)
def test_japanese_digits_are_read_with_their_counters(text, expected):
    assert kokoro.phonemes(text, "ja").replace(" ", "") == expected.replace(" ", "")  # word breaks vary


@pytest.mark.parametrize(
    "written, spoken",
    [
        ("価格は＋10％です。", "価格はプラス10パーセントです。"),
        ("東京〜大阪、3〜5人", "東京から大阪、3から5人"),
        ("2026/3/11 10:30", "2026年3月11日 10時30分"),
        ("気温は−5℃、¥1,500", "気温はマイナス5度、1500円"),
    ],
)
def test_japanese_symbols_are_spoken(written, spoken):
    from talkingbook.narration.speech_text import normalize

    assert normalize(written, "ja") == spoken


def test_ruby_reading_is_narrated_and_the_kanji_kept_on_the_page():
    from builders import read
    from talkingbook.narration.script import section_script
    from talkingbook.structure.toc import build_toc

    page = (
        "<html lang='ja'><body><article><h1>題</h1><p><ruby>法律<rt>ほうりつ</rt></ruby>ができる。"
        "<ruby>漢字<rt>kanji</rt></ruby>です。</p></article></body></html>"
    )
    book = read(page.encode(), name="ruby.html")
    script = [u for e in build_toc(book) for u in section_script(e.section, book.metadata, "Kokoro jf_alpha")]
    said = {u.display: u.text for u in script}
    assert said["法律ができる。"] == "ほうりつができる。"  # the page's reading is spoken...
    assert said["漢字です。"] == "漢字です。"  # ...only when it is kana (not a romanisation)


@pytest.mark.parametrize("language", sorted(AUTO))
def test_auto_follows_the_measured_table(language):
    row = AUTO[language]
    assert row.recall >= clear_enough(language)
    engine = open_engine("auto", language)
    assert engine.name == row.engine
    if row.voice:
        assert engine.voice.endswith(row.voice)
    assert book_engine("auto", language) is not None


@pytest.mark.parametrize("language", sorted(UNCLEAR))
def test_auto_makes_a_text_only_book_when_no_voice_is_clear(language, caplog):
    assert UNCLEAR[language].recall < clear_enough(language)
    with caplog.at_level(logging.WARNING):
        assert book_engine("auto", language) is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "\n" not in lines[0] and "--engine gtts" in lines[0] and "--engine espeak" in lines[0]
    assert book_engine("espeak", language).name == "espeak"  # forcing an engine always works


def test_a_kokoro_voice_is_chosen_by_name_and_unknown_ones_are_refused():
    assert open_engine("auto", "fr", "jf_nezumi").voice == "Kokoro jf_nezumi"
    with pytest.raises(EngineUnavailableError, match="select one of: jf_alpha"):
        open_engine("kokoro", "fr", "no_such_voice")


def test_cache_key_names_the_model_the_language_and_the_voice():
    from talkingbook.narration.render import speech_key

    fr, es = open_engine("kokoro", "fr", "jm_kumo"), open_engine("kokoro", "es", "jm_kumo")
    assert kokoro.model_digest()[:16] in fr.variant
    assert speech_key(fr, "hola") != speech_key(es, "hola")
    assert speech_key(fr, "hola") != speech_key(open_engine("kokoro", "fr", "jf_nezumi"), "hola")


def test_damaged_model_parts_are_refused(monkeypatch):
    monkeypatch.setattr(kokoro, "model_digest", lambda: "0" * 64)
    kokoro._session.cache_clear()
    try:
        with pytest.raises(EngineUnavailableError, match="damaged"):
            kokoro._session()
    finally:
        kokoro._session.cache_clear()


@pytest.mark.slow
def test_kokoro_speaks_japanese_and_french():
    for language, text in [
        ("ja", "子どもへの体罰を禁止する法律ができる。"),
        ("fr", "Bonjour à tous, le concert commence."),
    ]:
        engine = open_engine("kokoro", language)
        pcm = np.frombuffer(engine.synthesize(text), dtype=np.int16)
        assert engine.sample_rate == 24000
        assert 1.0 < len(pcm) / engine.sample_rate < 6.0, language
        assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 300, language


@pytest.mark.slow
def test_the_rewritten_model_speaks_the_same_samples_as_the_packaged_one():
    """kokoro_model.faster turns the integer convolutions into integer matrix products: the same
    integers summed, so the same audio to the bit, and the speech cache stays valid."""
    import onnx
    import onnxruntime as ort

    from talkingbook.engines import kokoro_model

    packaged = kokoro._model_bytes()
    rewritten = kokoro_model.faster(packaged)
    ops = [n.op_type for n in onnx.load_from_string(rewritten).graph.node]
    assert ops.count("ConvInteger") <= 3 and ops.count("MatMulInteger") > 80  # the strided ones stay

    vocab, style = kokoro.vocabulary(), kokoro._styles()["jm_kumo"]
    outputs = []
    for model in (packaged, rewritten):
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        said = [vocab[c] for c in kokoro.phonemes("Bonjour à tous, le concert commence ce soir.", "fr")]
        audio = session.run(
            None,
            {
                "tokens": np.array([[0, *said, 0]], dtype=np.int64),
                "style": np.asarray(style[len(said) - 1], dtype=np.float32).reshape(1, 256),
                "speed": np.array([1.0], dtype=np.float32),
            },
        )[0]
        outputs.append(np.asarray(audio))
    assert outputs[0].size > 24000  # more than a second of speech
    assert np.array_equal(outputs[0], outputs[1])


def test_a_korean_page_becomes_a_text_only_book_with_one_warning(tmp_path):
    import json
    import subprocess
    import sys

    page = tmp_path / "ko.html"
    page.write_text(
        "<html lang='ko'><head><title>서울</title></head><body><article><h1>서울</h1>"
        "<p>서울은 대한민국의 수도입니다. 한강이 도시를 가로질러 흐릅니다.</p></article></body></html>",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "talkingbook", "convert", str(page), "-o", str(tmp_path / "out"), "--progress", "none"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    err = proc.stderr
    assert proc.returncode == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "'ko'" in warnings[0] and "--engine gtts" in warnings[0], err
    folder = tmp_path / "out" / "ko"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["narration"] is None and not (folder / "audio").exists()
    assert (folder / "ko.epub").is_file() and not (folder / "audio").exists()
