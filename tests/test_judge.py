"""The judge's comparison (tests/judge.py) on strings: no audio, no Whisper."""

import judge

MONSOON = (  # bench/passages/hi.html's opening, in Devanagari and as Whisper writes Hindi: in Urdu script
    "भारत में हर साल जून के महीने में मानसून आता है। गर्मी के लंबे दिनों के बाद लोग बारिश का बेसब्री से "
    "इंतज़ार करते हैं, क्योंकि खेती और पीने का पानी दोनों इसी पर निर्भर हैं।"
)
MONSOON_URDU = (
    "بھارت میں ہر سال جون کے مہینے میں مانسون آتا ہے۔ گرمی کے لمبے دنوں کے بعد لوگ بارش کا بے صبری سے "
    "انتظار کرتے ہیں، کیونکہ کھیتی اور پینے کا پانی دونوں اسی پر نربھر ہیں۔"
)
FARMERS = (  # the passage's last paragraph: another text on another subject
    "देश के ज़्यादातर किसान अपनी फ़सल के लिए मानसून की बारिश पर भरोसा करते हैं। अच्छी बारिश से धान, गन्ना और "
    "दालें अच्छी उगती हैं। लेकिन कभी-कभी बहुत ज़्यादा बारिश से नदियों में बाढ़ आ जाती है।"
)


def test_chinese_is_compared_in_simplified_characters():
    written = "台湾的头发与发展，后来的软件里面的信息"
    heard = "臺灣的頭髮與發展，後來的軟件裡面的信息"  # the same, as Whisper may write it: Traditional
    assert judge.recall(written, heard, "zh") == 1.0
    assert judge.recall(heard, written, "zh") == 1.0
    assert judge.recall(written, "今天天气很好，我们去公园散步", "zh") < 0.2


def test_hindi_words_keep_their_vowel_signs():
    assert judge.units("भारत में बारिश", "en") == ["भारत", "में", "बारिश"]  # not भ, रत, म, ...


def test_hindi_words_in_devanagari_and_urdu_script_meet():
    pairs = [("भारत", "بھارت"), ("पानी", "پانی"), ("बच्चे", "بچے"), ("ज़िंदगी", "زندگی"), ("सुबह", "صبح")]
    pairs += [("ज़रूरत", "ضرورت"), ("असर", "اثر"), ("बड़ा", "بڑا"), ("फ़िल्म", "فلم"), ("लंबे", "لمبے")]
    for devanagari, urdu in pairs:
        assert judge.units(devanagari, "hi") == judge.units(urdu, "hi"), (devanagari, urdu)
    assert judge.units("पानी", "hi") != judge.units("नदी", "hi")


def test_the_same_hindi_sentence_in_urdu_script_scores_high_and_another_low():
    assert judge.recall(MONSOON, MONSOON_URDU, "hi") >= 0.95  # बेसब्री is two words in Urdu: بے صبری
    assert judge.recall(MONSOON, FARMERS, "hi") < 0.3
    assert judge.recall(MONSOON, MONSOON, "en") == 1.0
    assert judge.recall(MONSOON, MONSOON_URDU, "en") == 0.0  # what the judge did before: no word in common


def test_japanese_compares_kana_readings_so_ruby_meets_kanji():
    assert judge.units("法律", "ja") == judge.units("ほうりつ", "ja")
    assert judge.recall("ほうりつができる", "法律ができる", "ja") == 1.0


def test_section_text_reads_ruby_as_its_reading_or_as_written():
    xhtml = (
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p><ruby>\xe6\xb3\x95\xe5\xbe\x8b<rp>(</rp>'
        b"<rt>\xe3\x81\xbb\xe3\x81\x86\xe3\x82\x8a\xe3\x81\xa4</rt><rp>)</rp></ruby>\xe3\x81\x8c</p></body></html>"
    )
    assert judge.section_text(xhtml, ruby="reading") == "ほうりつが"
    assert judge.section_text(xhtml, ruby="base") == "法律が"
