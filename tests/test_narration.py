"""What is read, and how: normalisation, lexicons, rate, languages, cache and loudness."""

import json
import subprocess

import imageio_ffmpeg
import pytest

from conftest import DATA, SAMPLE
from talkingbook.narration.lexicon import load_lexicon
from talkingbook.narration.speech_text import normalize


@pytest.mark.parametrize(
    "text, spoken",
    [
        ("It cost $1,234.56.", "It cost one thousand, two hundred and thirty-four dollars and fifty-six cents."),
        ("Growth was 12.5% in 2026.", "Growth was twelve point five percent in twenty twenty-six."),
        ("On 2026-11-27 at 9:05 a.m.", "On November twenty-seventh, twenty twenty-six at nine oh five a m"),
        ("The 3rd of 5 km runs", "The third of five kilometers runs"),
        ("Dr. Smith lives on St. Mary St. in the U.S.", "Doctor Smith lives on Saint Mary Street in the U S"),
        (
            "Many, e.g. apples & pears, grew in the 1990s.",
            "Many, for example, apples and pears, grew in the nineteen nineties.",
        ),
        (
            "Write to info@example.org or see https://www.example.com/a/b.",
            "Write to info at example dot org or see link to example dot com.",
        ),  # the full stop is kept: a pause
        ("Read (https://example.org/a), then go.", "Read (link to example dot org), then go."),
        ("Licensed under CC BY-SA 3.0.", "Licensed under CC BY-SA three point zero."),
        ("Version 2.05 weighs 3.50 kg.", "Version two point zero five weighs three point five zero kilograms."),
        ("Claims were made.[1][12] Then—silence…", "Claims were made. Then, silence..."),
        ("It rose €5bn, from -4 to 1,000,000.", "It rose five billion euros, from minus four to one million."),
    ],
)
def test_english_normalisation(text, spoken):
    assert normalize(text, "en") == spoken


def test_other_languages_get_their_own_numbers():
    assert normalize("Il y a 42 chats [3].", "fr") == "Il y a quarante-deux chats ."


@pytest.mark.parametrize(
    ("text", "language", "spoken"),
    [
        ("Le Monde | 04.05.2015 à 13h36", "fr", "Le Monde | quatre mai deux mille quinze à treize heures trente-six"),
        ("el 04/05/2015", "es", "el cuatro de mayo de dos mil quince"),
        ("dnia 01.12.2020 r.", "pl", "dnia jeden grudnia dwa tysiące dwadzieścia r."),
        # not a date: read as before, figure by figure
        ("le 31.02.2015", "fr", "le trente et un virgule zéro deux.2015"),
    ],
)
def test_a_date_in_figures_is_read_as_a_date(text, language, spoken):
    # Day first, as every language but English writes it; never 'quatre virgule zéro cinq'.
    assert normalize(text, language) == spoken


@pytest.mark.parametrize(
    ("text", "language", "spoken"),
    [
        ("1.000.000 di euro", "it", "un milione di euro"),
        ("3.500 Menschen", "de", "dreitausendfünfhundert Menschen"),
        ("2.450,75 Euro", "de", "zweitausendvierhundertfünfzig Komma sieben fünf Euro"),
        ("Version 1.2.3", "de", "Version eins Komma zwei.3"),  # not grouped by thousands: as before
        ("3,5 et 42", "fr", "trois virgule cinq et quarante-deux"),  # French groups with a space
    ],
)
def test_a_number_grouped_by_dots_is_one_number_where_the_language_writes_it_so(text, language, spoken):
    # CLDR's thousand separator: '.' in German, Italian, Spanish, Portuguese, Dutch (never 'uno virgola zero').
    assert normalize(text, language) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # a month after the day: a date, read with the ending its article or preposition asks for
        ("Am 4. Mai 2024 wurde gewählt.", "Am vierten Mai zweitausendvierundzwanzig wurde gewählt."),
        ("Berlin, 1. Januar 2024", "Berlin, erster Januar zweitausendvierundzwanzig"),
        ("Es war Montag, der 4. Mai.", "Es war Montag, der vierte Mai."),
        ("Montag, den 4. Mai", "Montag, den vierten Mai"),
        ("Die Frist endet am 31. Dez.", "Die Frist endet am einunddreißigsten Dez."),
        ("Das Gesetz gilt ab 1. Jänner.", "Das Gesetz gilt ab ersten Jänner."),  # Austrian, from CLDR's de_AT
        ("Das war am 04.05.2015.", "Das war am vierten Mai zweitausendfünfzehn."),  # figures, via Babel's '4. Mai'
        # one ending for ordinals joined into one phrase
        ("Er war vom 3. bis 5. Mai verreist.", "Er war vom dritten bis fünften Mai verreist."),
        ("Wir haben am 3. und 4. Oktober geöffnet.", "Wir haben am dritten und vierten Oktober geöffnet."),
        ("3.–5. Mai", "dritter bis fünfter Mai"),
        # an article or a contraction before, the noun or adjective after
        ("Der 17. Parteitag der SPD beginnt.", "Der siebzehnte Parteitag der SPD beginnt."),
        ("Im 3. Quartal stieg der Umsatz.", "Im dritten Quartal stieg der Umsatz."),
        ("Zum 100. Geburtstag kamen alle.", "Zum hundertsten Geburtstag kamen alle."),
        ("Sie spielt in der 2. Bundesliga.", "Sie spielt in der zweiten Bundesliga."),
        ("Am Ende der 3. Runde führte er.", "Am Ende der dritten Runde führte er."),  # genitive
        ("Sie feierte ihren 17. Geburtstag.", "Sie feierte ihren siebzehnten Geburtstag."),
        ("Das geschah im 17. Jahrhundert.", "Das geschah im siebzehnten Jahrhundert."),
        ("Es war die 2. bundesweite Wahl.", "Es war die zweite bundesweite Wahl."),  # a lower-case word after
        ("Er kam am 3. Die Feier begann.", "Er kam am dritten. Die Feier begann."),  # 'am 3.' ends it too
        # rulers and popes, with the article their case and sex ask for
        ("Friedrich II. war König.", "Friedrich der Zweite war König."),
        ("Papst Benedikt XVI. trat zurück.", "Papst Benedikt der Sechzehnte trat zurück."),
        ("Unter Königin Elisabeth II. blühte das Land.", "Unter Königin Elisabeth der Zweiten blühte das Land."),
        ("Das geschah unter Friedrich II.", "Das geschah unter Friedrich dem Zweiten."),
        (
            "Der Tod des Königs Ludwig XIV. kam 1715.",
            "Der Tod des Königs Ludwig des Vierzehnten kam siebzehnhundertfünfzehn.",
        ),
        ("Katharina II. regierte.", "Katharina die Zweite regierte."),
        ("Elisabeth II. starb 2022.", "Elisabeth die Zweite starb zweitausendzweiundzwanzig."),
        ("Heinrich VIII. Er hatte sechs Frauen.", "Heinrich der Achte. Er hatte sechs Frauen."),
        # a Roman numeral after an article
        ("Im II. Weltkrieg fielen viele.", "Im Zweiten Weltkrieg fielen viele."),
        ("Das II. Vatikanische Konzil tagte.", "Das Zweite Vatikanische Konzil tagte."),
    ],
)
def test_german_ordinals_are_read_as_ordinals(text, spoken):
    assert normalize(text, "de") == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # a number ending a sentence stays a number: no article before it, no month or lower-case word after
        (
            "Sie kam im Jahr 2024. Die Regierung tagte.",
            "Sie kam im Jahr zweitausendvierundzwanzig. Die Regierung tagte.",
        ),
        ("Die Zahl stieg auf 17. Die Polizei ermittelt.", "Die Zahl stieg auf siebzehn. Die Polizei ermittelt."),
        ("Er belegte Platz 3. Das Team jubelte.", "Er belegte Platz drei. Das Team jubelte."),
        ("Es waren 17. ", "Es waren siebzehn."),
        # after an article, a word that opens a sentence: the full stop ended it ('die 17': a bus line)
        ("Wir nahmen die 17. Sie fuhr pünktlich.", "Wir nahmen die siebzehn. Sie fuhr pünktlich."),
        # a numbered part, not a ruler; figures with dots that are no ordinals
        ("Siehe Teil II. Dort steht mehr.", "Siehe Teil II. Dort steht mehr."),
        ("Sie wohnt in Washington DC. Die Stadt ist groß.", "Sie wohnt in Washington DC. Die Stadt ist groß."),
        (
            "Es kamen 3.500 Menschen um 17.30 Uhr.",
            "Es kamen dreitausendfünfhundert Menschen um siebzehn Uhr dreißig.",
        ),
    ],
)
def test_a_german_number_ending_a_sentence_stays_a_number(text, spoken):
    assert normalize(text, "de") == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # a year's own context: a date (also Babel's, from figures), a word naming a time, 'geboren', 'seit'
        ("Am 4. Mai 1990 wurde gewählt.", "Am vierten Mai neunzehnhundertneunzig wurde gewählt."),
        ("Das war am 04.05.1990.", "Das war am vierten Mai neunzehnhundertneunzig."),
        ("Im Okt. 1989 fiel die Mauer.", "Im Okt. neunzehnhundertneunundachtzig fiel die Mauer."),
        ("Im Jahr 1990 wurde er Kanzler.", "Im Jahr neunzehnhundertneunzig wurde er Kanzler."),
        ("Ende 1990 zog sie nach Berlin.", "Ende neunzehnhundertneunzig zog sie nach Berlin."),
        ("Sie ist Jahrgang 1965.", "Sie ist Jahrgang neunzehnhundertfünfundsechzig."),
        ("Die 1965 geborene Autorin schreibt.", "Die neunzehnhundertfünfundsechzig geborene Autorin schreibt."),
        ("Er ist seit 1990 Mitglied der SPD.", "Er ist seit neunzehnhundertneunzig Mitglied der SPD."),
        # ranges and decades
        ("Er regierte von 1990 bis 1995.", "Er regierte von neunzehnhundertneunzig bis neunzehnhundertfünfundneunzig."),
        (
            "Die Jahre 1990–1995 waren schwer.",
            "Die Jahre neunzehnhundertneunzig bis neunzehnhundertfünfundneunzig waren schwer.",
        ),
        ("Das war in den 1990er Jahren.", "Das war in den neunzehnhundertneunziger Jahren."),
        ("Die 1980er-Jahre und die 20er", "Die neunzehnhundertachtziger-Jahre und die zwanziger"),
        # no word says so: what follows decides (German capitalises its nouns)
        ("Die Mauer fiel 1990.", "Die Mauer fiel neunzehnhundertneunzig."),
        ("1990 fiel die Mauer.", "neunzehnhundertneunzig fiel die Mauer."),
        ("Er wurde 1965 in Berlin geboren.", "Er wurde neunzehnhundertfünfundsechzig in Berlin geboren."),
        (
            "Helmut Kohl (1930–2017) war Kanzler.",
            "Helmut Kohl (neunzehnhundertdreißig bis zweitausendsiebzehn) war Kanzler.",
        ),
        # from 2000 on a year reads as the number does
        ("Seit 2012 findet ihr hier Rezepte.", "Seit zweitausendzwölf findet ihr hier Rezepte."),
    ],
)
def test_a_german_year_is_read_as_a_year(text, spoken):
    assert normalize(text, "de") == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # a noun after it: a quantity ('von 1990 Bewertungen' is on the corpus's German page)
        ("Es kamen 1990 Menschen.", "Es kamen eintausendneunhundertneunzig Menschen."),
        ("3,65 von 1990 Bewertungen", "drei Komma sechs fünf von eintausendneunhundertneunzig Bewertungen"),
        ("1990", "eintausendneunhundertneunzig"),  # alone in its text (that page's count is in its own element)
        (
            "Die Preise liegen zwischen 1200 und 1500 Euro.",
            "Die Preise liegen zwischen eintausendzweihundert und eintausendfünfhundert Euro.",
        ),
        # an adjective or a plural verb after it, a unit, a word that counts before it, a duration after 'seit'
        ("Es entstehen 1500 neue Wohnungen.", "Es entstehen eintausendfünfhundert neue Wohnungen."),
        ("1500 starben bei dem Unglück.", "eintausendfünfhundert starben bei dem Unglück."),
        ("Die Strecke ist 1500 km lang.", "Die Strecke ist eintausendfünfhundert km lang."),
        ("Die Zahl stieg auf 1500.", "Die Zahl stieg auf eintausendfünfhundert."),
        ("Rund 1500 kamen.", "Rund eintausendfünfhundert kamen."),
        ("Das Kloster steht seit 1200 Jahren.", "Das Kloster steht seit eintausendzweihundert Jahren."),
    ],
)
def test_a_german_quantity_of_four_figures_stays_a_quantity(text, spoken):
    assert normalize(text, "de") == spoken


@pytest.mark.parametrize(
    ("text", "language", "spoken"),
    [
        # Dutch reads a year in hundreds too; its nouns are lower case, so only a year's context counts
        ("Op 4 mei 1990 viel de muur.", "nl", "Op vier mei negentienhonderdnegentig viel de muur."),
        ("Dat was in 1990.", "nl", "Dat was in negentienhonderdnegentig."),
        ("Hij is geboren in het jaar 1965.", "nl", "Hij is geboren in het jaar negentienhonderdvijfenzestig."),
        ("Er kwamen 1990 mensen.", "nl", "Er kwamen duizendnegenhonderdnegentig mensen."),
        ("In 1990 viel de muur.", "nl", "In duizendnegenhonderdnegentig viel de muur."),  # cannot be told: as before
        # French, Spanish, Italian, Polish read a year as a cardinal: num2words' 'year' is the same
        ("Il est né en 1990.", "fr", "Il est né en mille neuf cent quatre-vingt-dix."),
        ("Nació en 1990.", "es", "Nació en mil novecientos noventa."),
        ("Nel 1990 cadde il muro.", "it", "Nel millenovecentonovanta cadde il muro."),
        ("W 1990 roku", "pl", "W tysiąc dziewięćset dziewięćdziesiąt roku"),
    ],
)
def test_a_year_is_read_as_the_language_reads_it(text, language, spoken):
    assert normalize(text, language) == spoken


@pytest.mark.parametrize(
    ("text", "language", "spoken"),
    [
        # German: 'Uhr' after the time, or a colon after 'um', 'ab', 'gegen' or a date
        ("Wir öffnen um 17.30 Uhr.", "de", "Wir öffnen um siebzehn Uhr dreißig."),
        ("Anpfiff ist um 17:30 Uhr.", "de", "Anpfiff ist um siebzehn Uhr dreißig."),
        ("Geöffnet von 9–17 Uhr.", "de", "Geöffnet von neun bis siebzehn Uhr."),
        ("Geöffnet von 9.30 bis 18.00 Uhr.", "de", "Geöffnet von neun Uhr dreißig bis achtzehn Uhr."),
        (
            "Es begann um 1 Uhr, um 13.01 Uhr war es vorbei.",
            "de",
            "Es begann um ein Uhr, um dreizehn Uhr eins war es vorbei.",
        ),
        ("Einlass ab 20:00, Ende gegen 22:30.", "de", "Einlass ab zwanzig Uhr, Ende gegen zweiundzwanzig Uhr dreißig."),
        (
            "Antworten 19. Februar 2017 20:00 Alexandra",
            "de",
            "Antworten neunzehnter Februar zweitausendsiebzehn zwanzig Uhr Alexandra",
        ),
        # French: 'h' between the hours and the minutes (both feminine: 'une heure une')
        ("Rendez-vous à 17h30.", "fr", "Rendez-vous à dix-sept heures trente."),
        ("à 17 h 30, puis à 21h", "fr", "à dix-sept heures trente, puis à vingt et une heures"),
        ("à 1h01 et à 0h30", "fr", "à une heure une et à zéro heure trente"),
    ],
)
def test_a_clock_time_is_read_as_a_time(text, language, spoken):
    assert normalize(text, language) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # no word says it is a time: a German page may write an English decimal, a score takes a colon
        ("Um 17.30 beginnt es.", "Um siebzehn Komma drei beginnt es."),
        ("Der Kurs stieg um 3.5 Prozent.", "Der Kurs stieg um drei Komma fünf Prozent."),
        ("Das kostet 17,30 Euro.", "Das kostet siebzehn Komma drei Euro."),
        ("Der THW gewann 25:23.", "Der THW gewann fünfundzwanzig:dreiundzwanzig."),
    ],
)
def test_a_german_number_that_is_no_clock_time_stays_a_number(text, spoken):
    assert normalize(text, "de") == spoken


def test_only_german_reads_a_number_and_full_stop_as_an_ordinal():
    assert normalize("Il est né le 4. Mai", "fr") == "Il est né le quatre. Mai"
    assert normalize("Friedrich II. was king.", "en") == "Friedrich II. was king."


def test_a_german_date_is_one_sentence_read_as_a_date():
    from builders import read
    from talkingbook.narration.script import section_script

    page = (
        "<html lang='de'><body><article><h1>Wahl</h1>"
        "<p>Am 4. Mai 2024 wurde gewählt. Im Jahr 2024. Die Regierung tagte.</p>"
        "<figure><img src='x.png' alt=''><figcaption>Der 17. Parteitag am 4. Mai.</figcaption></figure>"
        "</article></body></html>"
    )
    book = read(page)
    texts = [u.text for u in section_script(book.sections[0], book.metadata, "v")]
    assert "Am vierten Mai zweitausendvierundzwanzig wurde gewählt." in texts
    assert "Im Jahr zweitausendvierundzwanzig." in texts and "Die Regierung tagte." in texts
    assert "Der siebzehnte Parteitag am vierten Mai." in texts  # a caption, cut in the book's language


def test_toml_and_pls_lexicons(tmp_path):
    toml = tmp_path / "words.toml"
    toml.write_text(
        '[words]\n"K-pop" = "kay pop"\n"New York" = "New York"\n"New York City" = "the big apple"\n', encoding="utf-8"
    )
    assert (
        load_lexicon(str(toml)).apply("K-pop in New York City, not K-popular")
        == "kay pop in the big apple, not K-popular"
    )
    pls = tmp_path / "words.pls"
    pls.write_text(
        '<?xml version="1.0"?><lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-'
        'lexicon" alphabet="ipa" xml:lang="en"><lexeme><grapheme>Seoul</grapheme><alias>sole</alias>'
        "</lexeme><lexeme><grapheme>tomato</grapheme><phoneme>təˈmɑːtoʊ</phoneme></lexeme></lexicon>",
        encoding="utf-8",
    )
    assert load_lexicon(str(pls)).apply("Seoul and tomato") == "sole and tomato"


def test_bad_lexicon_is_a_one_line_error(tmp_path, run):
    bad = tmp_path / "bad.toml"
    bad.write_text("[words\n", encoding="utf-8")
    code, _, err = run("convert", SAMPLE, "-o", tmp_path / "out", "--engine", "fake", "--lexicon", bad)
    assert code == 1 and "bad.toml" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_lexicon_reaches_the_engine(tmp_path, run, monkeypatch):
    from talkingbook.engines.fake import FakeEngine

    spoken = []
    real = FakeEngine.synthesize
    monkeypatch.setattr(FakeEngine, "synthesize", lambda self, text: spoken.append(text) or real(self, text))
    lexicon = tmp_path / "l.toml"
    lexicon.write_text('[words]\n"K-pop" = "kay pop"\n', encoding="utf-8")
    assert run("convert", SAMPLE, "-o", tmp_path / "o", "--engine", "fake", "--lexicon", lexicon, "-q")[0] == 0
    text = " ".join(spoken)
    assert "kay pop" in text and "K-pop" not in text


def count_calls(monkeypatch):
    from talkingbook.engines.fake import FakeEngine

    calls = []
    real = FakeEngine.synthesize
    monkeypatch.setattr(FakeEngine, "synthesize", lambda self, text: calls.append(text) or real(self, text))
    return calls


@pytest.mark.slow
def test_unchanged_article_synthesizes_nothing_and_an_edit_only_its_sentence(tmp_path, run, monkeypatch):
    calls = count_calls(monkeypatch)
    assert run("convert", SAMPLE, "-o", tmp_path / "a", "--engine", "fake", "-q", "--no-audiobook")[0] == 0
    first = len(calls)
    assert first > 30
    assert run("convert", SAMPLE, "-o", tmp_path / "b", "--engine", "fake", "-q", "--no-audiobook")[0] == 0
    assert len(calls) == first
    a = sorted((tmp_path / "a" / SAMPLE.stem / "audio").iterdir())
    b = sorted((tmp_path / "b" / SAMPLE.stem / "audio").iterdir())
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]  # reused, same bytes
    edited = tmp_path / SAMPLE.name
    edited.write_text(SAMPLE.read_text(encoding="utf-8").replace("To Conclude", "In Conclusion"), encoding="utf-8")
    assert run("convert", edited, "-o", tmp_path / "c", "--engine", "fake", "-q", "--no-audiobook")[0] == 0
    assert calls[first:] == ["In Conclusion"]


@pytest.mark.slow
def test_no_cache_synthesizes_again(tmp_path, run, monkeypatch):
    calls = count_calls(monkeypatch)
    options = ("--engine", "fake", "-q", "--no-audiobook", "--no-cache")
    assert run("convert", SAMPLE, "-o", tmp_path / "a", *options)[0] == 0
    first = len(calls)
    assert run("convert", SAMPLE, "-o", tmp_path / "b", *options)[0] == 0
    assert len(calls) == 2 * first


@pytest.mark.slow
def test_interrupted_run_resumes_with_finished_sentences(tmp_path, run, monkeypatch):
    from talkingbook.engines.fake import FakeEngine

    calls = []
    real = FakeEngine.synthesize

    def crash_after_ten(self, text):
        if len(calls) == 10:
            raise KeyboardInterrupt
        calls.append(text)
        return real(self, text)

    monkeypatch.setattr(FakeEngine, "synthesize", crash_after_ten)
    assert run("convert", SAMPLE, "-o", tmp_path / "a", "--engine", "fake", "-q", "--no-audiobook")[0] == 130
    monkeypatch.setattr(FakeEngine, "synthesize", real)
    resumed = count_calls(monkeypatch)
    assert run("convert", SAMPLE, "-o", tmp_path / "a", "--engine", "fake", "-q", "--no-audiobook")[0] == 0
    assert not set(calls) & set(resumed)  # the ten finished sentences were not spoken again


@pytest.mark.slow
def test_cache_clear_command(tmp_path, run, private_cache):
    assert run("convert", SAMPLE, "-o", tmp_path, "--engine", "fake", "-q", "--no-audiobook")[0] == 0
    assert any(private_cache.rglob("*.pcm"))
    code, out, _ = run("cache", "clear")
    assert code == 0 and "cleared" in out and not any(private_cache.rglob("*.pcm"))


def total_duration(run, out, *options) -> float:
    """Seconds of audio in the sample's book, converted with the fake engine and ``options``."""
    assert run("convert", SAMPLE, "-o", out, "--engine", "fake", "-q", "--no-audiobook", *options)[0] == 0
    manifest = json.loads((out / SAMPLE.stem / "manifest.json").read_text(encoding="utf-8"))
    return sum(s["duration"] for s in manifest["sections"])


@pytest.mark.slow
def test_rate_makes_speech_faster(tmp_path, run):
    normal = total_duration(run, tmp_path / "1", "--rate", "1.0")
    assert total_duration(run, tmp_path / "2", "--rate", "1.5") < normal * 0.8
    assert run("convert", SAMPLE, "-o", tmp_path / "x", "--rate", "9")[0] == 2


def test_passage_in_another_language_uses_that_languages_voice(tmp_path, run, monkeypatch):
    from talkingbook.engines.espeak import EspeakEngine

    voices = []
    real = EspeakEngine.synthesize
    monkeypatch.setattr(
        EspeakEngine, "synthesize", lambda self, text: voices.append((self.voice, text)) or real(self, text)
    )
    page = tmp_path / "mixed.html"
    page.write_text(
        "<html lang='en'><body><article><h1>Mixed</h1><p>An English sentence.</p>"
        "<blockquote lang='fr'><p>Une phrase en français.</p></blockquote></article></body></html>",
        encoding="utf-8",
    )
    assert run("convert", page, "-o", tmp_path / "o", "--engine", "espeak", "-q")[0] == 0
    by_text = {text: voice for voice, text in voices}
    assert by_text["Une phrase en français."].endswith("fr")
    assert "fr" not in by_text["An English sentence."]


def test_code_is_skipped_unless_asked():
    from builders import read
    from talkingbook.narration.script import section_script

    book = read((DATA / "kitchen-sink.html").read_bytes(), name="k.html")
    texts = [u.text for u in section_script(book.sections[1], book.metadata, "v")]
    assert "A code example is skipped." in texts and not any("hello" in t for t in texts)
    texts = [u.text for u in section_script(book.sections[1], book.metadata, "v", read_code=True)]
    assert any("def hello" in t for t in texts)


def loudness(path):
    proc = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
    )
    summary = proc.stderr[proc.stderr.rfind("Summary:") :]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


@pytest.mark.slow  # the sample narrated by espeak-ng, end to end
def test_every_mp3_is_at_podcast_loudness(tmp_path, run):
    assert run("convert", SAMPLE, "-o", tmp_path, "--engine", "espeak", "-q")[0] == 0
    for mp3 in sorted((tmp_path / SAMPLE.stem / "audio").iterdir()):
        integrated, peak = loudness(mp3)
        assert -17.0 <= integrated <= -15.0, (mp3.name, integrated)
        assert peak <= -1.0, (mp3.name, peak)


@pytest.mark.slow
def test_pauses_scale(tmp_path, run):
    normal = total_duration(run, tmp_path / "1", "--pauses", "1")
    # the sample has about forty pauses of 0.35 to 0.9 s: doubling them adds well over ten seconds
    assert total_duration(run, tmp_path / "2", "--pauses", "2") - normal > 10


def test_announcements_are_in_the_books_language_or_english_marked_as_such():
    from builders import read
    from talkingbook.narration.script import section_script

    def script(lang):
        page = (
            f"<html lang='{lang}'><head><meta name='author' content='A. Auteur'>"
            "<meta property='article:published_time' content='2026-11-27'></head><body><article><h1>Titre</h1>"
            "<p>Une phrase assez longue pour être un article.</p><blockquote><p>Dit-il.</p></blockquote>"
            "</article></body></html>"
        ).encode()
        book = read(page, name="p.html")
        return [(u.text, u.lang) for u in section_script(book.sections[0], book.metadata, "espeak-ng fr")]

    french = script("fr")
    assert ("Par A. Auteur.", "") in french and ("Citation.", "") in french and ("Fin de citation.", "") in french
    assert any(text.startswith("Publié le vingt-sept novembre deux mille vingt-six") for text, _ in french)
    swahili = script("sw")  # no phrases for Swahili here: English words, read by an English voice
    assert ("By A. Auteur.", "en") in swahili and ("Quote.", "en") in swahili
