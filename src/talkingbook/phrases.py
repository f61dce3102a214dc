"""What the narration says around the text (announcements), in the book's language.

A listener to a French article should hear "Citation." rather than "Quote." read by a
French voice. Languages without a table here fall back to English, marked as English,
so that an English voice reads those few words. Dates are written out by Babel (CLDR).
"""

from __future__ import annotations

import re
from datetime import date

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "source": "Source: {source}.",
        "license": "Licensed under {license}.",
        "by": "By {author}.",
        "published_by_on": "Published by {publisher} on {date}.",
        "published_by": "Published by {publisher}.",
        "published_on": "Published on {date}.",
        "narrator": "This narration is read by a synthetic voice: {voice}.",
        "quote": "Quote.",
        "end_quote": "End of quote.",
        "table": "Table.",
        "table_caption": "Table: {caption}",
        "end_table": "End of table.",
        "image": "Image: {alt}",
        "code": "Code example.",
        "code_skipped": "A code example is skipped.",
    },
    "fr": {
        "source": "Source : {source}.",
        "license": "Sous licence {license}.",
        "by": "Par {author}.",
        "published_by_on": "Publié par {publisher} le {date}.",
        "published_by": "Publié par {publisher}.",
        "published_on": "Publié le {date}.",
        "narrator": "Cette narration est lue par une voix de synthèse : {voice}.",
        "quote": "Citation.",
        "end_quote": "Fin de citation.",
        "table": "Tableau.",
        "table_caption": "Tableau : {caption}",
        "end_table": "Fin du tableau.",
        "image": "Image : {alt}",
        "code": "Exemple de code.",
        "code_skipped": "Un exemple de code est omis.",
    },
    "de": {
        "source": "Quelle: {source}.",
        "license": "Lizenz: {license}.",
        "by": "Von {author}.",
        "published_by_on": "Veröffentlicht von {publisher} am {date}.",
        "published_by": "Veröffentlicht von {publisher}.",
        "published_on": "Veröffentlicht am {date}.",
        "narrator": "Diese Lesung spricht eine synthetische Stimme: {voice}.",
        "quote": "Zitat.",
        "end_quote": "Ende des Zitats.",
        "table": "Tabelle.",
        "table_caption": "Tabelle: {caption}",
        "end_table": "Ende der Tabelle.",
        "image": "Bild: {alt}",
        "code": "Codebeispiel.",
        "code_skipped": "Ein Codebeispiel wird übersprungen.",
    },
    "es": {
        "source": "Fuente: {source}.",
        "license": "Licencia: {license}.",
        "by": "Por {author}.",
        "published_by_on": "Publicado por {publisher} el {date}.",
        "published_by": "Publicado por {publisher}.",
        "published_on": "Publicado el {date}.",
        "narrator": "Esta narración la lee una voz sintética: {voice}.",
        "quote": "Cita.",
        "end_quote": "Fin de la cita.",
        "table": "Tabla.",
        "table_caption": "Tabla: {caption}",
        "end_table": "Fin de la tabla.",
        "image": "Imagen: {alt}",
        "code": "Ejemplo de código.",
        "code_skipped": "Se omite un ejemplo de código.",
    },
    "it": {
        "source": "Fonte: {source}.",
        "license": "Licenza: {license}.",
        "by": "Di {author}.",
        "published_by_on": "Pubblicato da {publisher} il {date}.",
        "published_by": "Pubblicato da {publisher}.",
        "published_on": "Pubblicato il {date}.",
        "narrator": "Questa narrazione è letta da una voce sintetica: {voice}.",
        "quote": "Citazione.",
        "end_quote": "Fine della citazione.",
        "table": "Tabella.",
        "table_caption": "Tabella: {caption}",
        "end_table": "Fine della tabella.",
        "image": "Immagine: {alt}",
        "code": "Esempio di codice.",
        "code_skipped": "Un esempio di codice è omesso.",
    },
    "pt": {
        "source": "Fonte: {source}.",
        "license": "Licença: {license}.",
        "by": "Por {author}.",
        "published_by_on": "Publicado por {publisher} em {date}.",
        "published_by": "Publicado por {publisher}.",
        "published_on": "Publicado em {date}.",
        "narrator": "Esta narração é lida por uma voz sintética: {voice}.",
        "quote": "Citação.",
        "end_quote": "Fim da citação.",
        "table": "Tabela.",
        "table_caption": "Tabela: {caption}",
        "end_table": "Fim da tabela.",
        "image": "Imagem: {alt}",
        "code": "Exemplo de código.",
        "code_skipped": "Um exemplo de código é omitido.",
    },
    "nl": {
        "source": "Bron: {source}.",
        "license": "Licentie: {license}.",
        "by": "Door {author}.",
        "published_by_on": "Gepubliceerd door {publisher} op {date}.",
        "published_by": "Gepubliceerd door {publisher}.",
        "published_on": "Gepubliceerd op {date}.",
        "narrator": "Dit wordt voorgelezen door een synthetische stem: {voice}.",
        "quote": "Citaat.",
        "end_quote": "Einde citaat.",
        "table": "Tabel.",
        "table_caption": "Tabel: {caption}",
        "end_table": "Einde tabel.",
        "image": "Afbeelding: {alt}",
        "code": "Codevoorbeeld.",
        "code_skipped": "Een codevoorbeeld wordt overgeslagen.",
    },
    "pl": {
        "source": "Źródło: {source}.",
        "license": "Licencja: {license}.",
        "by": "Autor: {author}.",
        "published_by_on": "Opublikował {publisher}, {date}.",
        "published_by": "Opublikował {publisher}.",
        "published_on": "Opublikowano {date}.",
        "narrator": "Tekst czyta syntetyczny głos: {voice}.",
        "quote": "Cytat.",
        "end_quote": "Koniec cytatu.",
        "table": "Tabela.",
        "table_caption": "Tabela: {caption}",
        "end_table": "Koniec tabeli.",
        "image": "Obraz: {alt}",
        "code": "Przykład kodu.",
        "code_skipped": "Pominięto przykład kodu.",
    },
    "ko": {
        "source": "출처: {source}.",
        "license": "라이선스: {license}.",
        "by": "글: {author}.",
        "published_by_on": "{publisher}, {date} 발행.",
        "published_by": "{publisher} 발행.",
        "published_on": "{date} 발행.",
        "narrator": "이 낭독은 합성 음성이 읽습니다: {voice}.",
        "quote": "인용.",
        "end_quote": "인용 끝.",
        "table": "표.",
        "table_caption": "표: {caption}",
        "end_table": "표 끝.",
        "image": "이미지: {alt}",
        "code": "코드 예시.",
        "code_skipped": "코드 예시는 건너뜁니다.",
    },
    "ar": {
        "source": "المصدر: {source}.",
        "license": "الترخيص: {license}.",
        "by": "بقلم {author}.",
        "published_by_on": "نشره {publisher} في {date}.",
        "published_by": "نشره {publisher}.",
        "published_on": "نُشر في {date}.",
        "narrator": "يقرأ هذا النص صوت اصطناعي: {voice}.",
        "quote": "اقتباس.",
        "end_quote": "نهاية الاقتباس.",
        "table": "جدول.",
        "table_caption": "جدول: {caption}",
        "end_table": "نهاية الجدول.",
        "image": "صورة: {alt}",
        "code": "مثال برمجي.",
        "code_skipped": "تم تخطي مثال برمجي.",
    },
    "ja": {
        "source": "出典：{source}。",
        "license": "ライセンス：{license}。",
        "by": "著者：{author}。",
        "published_by_on": "{publisher}、{date}発行。",
        "published_by": "{publisher}発行。",
        "published_on": "{date}発行。",
        "narrator": "この朗読は合成音声によるものです：{voice}。",
        "quote": "引用。",
        "end_quote": "引用終わり。",
        "table": "表。",
        "table_caption": "表：{caption}",
        "end_table": "表終わり。",
        "image": "画像：{alt}",
        "code": "コード例。",
        "code_skipped": "コード例は省略します。",
    },
}


def phrase_language(language: str) -> str:
    """The language the announcements are spoken in: the book's when known here, else English."""
    primary = (language or "en").split("-")[0].lower()
    return primary if primary in PHRASES else "en"


def phrase(language: str, key: str, **values: str) -> str:
    return PHRASES[phrase_language(language)][key].format(**values)


def long_date(iso: str, language: str = "en") -> str:
    """'2026-11-27' as 'November 27, 2026' (English), '27 novembre 2026' (French)..."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return iso
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    try:
        return format_date(day, format="long", locale=(language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return format_date(day, format="long", locale="en")


def list_of_names(names: tuple[str, ...] | list[str], language: str = "en") -> str:
    """('Ann Lee', 'Bob Stone', 'Cid Vey') as 'Ann Lee, Bob Stone and Cid Vey' (English), '… et Cid Vey'
    (French): the language's list pattern, from Babel (CLDR)."""
    if len(names) < 2:
        return "".join(names)
    from babel.core import UnknownLocaleError
    from babel.lists import format_list

    try:
        return format_list(list(names), locale=(language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return format_list(list(names), locale="en")


def spoken_voice_name(voice: str) -> str:
    """'Piper en_US-joe-medium' as 'Piper joe medium', 'Kokoro jf_alpha' as 'Kokoro alpha': no
    language codes read aloud."""
    name = re.sub(r"\b[a-z]{2,3}[_-][A-Z]{2}\b[-_]?", "", voice)
    name = re.sub(r"\b[a-z][fm]_(?=[a-z])", "", name)  # Kokoro's voices: language and sex
    return " ".join(re.sub(r"[-_]+", " ", name).split())


def narrator_notice(voice: str, language: str = "en") -> str:
    return phrase(language, "narrator", voice=spoken_voice_name(voice))
