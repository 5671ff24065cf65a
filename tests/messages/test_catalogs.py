"""Every string a person reads exists in English, Brazilian Portuguese and Latin American Spanish,
with the same placeholders, counts in each language's plural forms, and renders as HTML Telegram
accepts."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterator

import pytest

from bot.app.offline import TELEGRAM_TAGS
from bot.config import Settings
from messages.core import date
from messages.i18n import (
    LANGUAGES,
    PLURAL_OTHER,
    catalog,
    catalog_problems,
    forms,
    join,
    plural_categories,
    text,
)
from tests.support.harness import tags_in

CAMPAIGN_FILE = Settings.model_fields["campaign_file"].default

# A placeholder directly before a word that changes with the count ("{limit} characters") is a
# count rendered without its plural rule. Those words are read from the catalog itself: the
# first word after {count} that differs between a plural message's 'one' and 'other' forms
# ("person"/"people", "pessoa"/"pessoas"), so a new plural message teaches the check new words.
AFTER_COUNT = re.compile(r"\{count\}(?:</\w+>)?(.*)", re.DOTALL)
WORD = re.compile(r"[^\W\d_]+")

# Words a translation may share with English: names, and words that are the same in the language.
NAMES = re.compile(
    r"Step Up Migrant Women|Latin American Women's Rights Service|LAWRS|Bluesky|WhatsApp"
    r"|Telegram|WriteToThem|UTC|\bX\b"
)
SAME_WORDS = {"en": set(), "pt": {"menu"}, "es": {"no"}}
UNITS = {"s", "min", "h"}

# Portugal's Portuguese where Brazil says otherwise: aceder/acessar, registado/registrado,
# ficheiro/arquivo, partilha/compartilhamento, "o seu progresso"/"seu progresso" (the article
# stays where the possessive stands alone, "a sua tem 700 caracteres", and after "todos/todas",
# "todas as suas mensagens"), "-lhe"/"-me" after the verb ("dizer-me"/"me dizer"),
# telemóvel/celular, ecrã/tela, utilizador/usuário, "está a enviar"/"está enviando".
EUROPEAN_PORTUGUESE = re.compile(
    r"\bacede|\bregistad[oa]s?\b|\bregisto\b|\bficheiros?\b|\bpartilh|\btelem[óo]ve|\becrã"
    r"|\butilizador|\bcontact[oa]r?\b|\bfacto\b|\bequipa\b|\bdescarreg|\bcarregue\b|\bprima\b"
    r"|(?<!todos )(?<!todas )\b(?:[Oo]s?|[Aa]s?) (?:meus?|minhas?|seus?|suas?|noss[oa]s?)\b"
    r"(?! (?:tem|é|pel[oa])\b)"
    r"|\w-(?:lhes?|me)\b|\b[Ee]st(?:ou|á|ão|amos|ava) a \w+[aei]r\b"
    r"|^[Aa] (?:enviar|publicar|calcular|aguardar|processar)\b"
    r"|\b(?:tenha|tem|têm|tenho|tinha) de \w+r\b",
    re.MULTILINE,
)
# Spain's Spanish where Latin America says otherwise: vosotros and its verbs, ordenador/computadora,
# móvil/celular, coger/tomar, «comillas» where Latin American texts quote “like this”.
SPAIN_SPANISH = re.compile(
    r"\bvosotr[oa]s\b|\bvuestr[oa]s?\b|\b\w+(?:áis|éis)\b|\bordenador|\bm[óo]vil(?:es)?\b"
    r"|\bcog(?:er|e|es|ió)\b|\bhas \w+(?:do|to|cho)\b|[«»]"
)
# One register per language: "você" in Portuguese, so never "te"/"ti"/"contigo"/"teu"/"tua" ("a
# organização vai te ajudar"); "tú" in Spanish, so never "usted", its imperatives ("toque",
# "escriba") or Argentina's "vos". Letters addressed to the MP are formal on purpose.
OTHER_REGISTER = {
    "pt": re.compile(r"\b(?:te|ti|contigo|teus?|tuas?|tu)\b", re.IGNORECASE),
    "es": re.compile(
        r"\busted(?:es)?\b|\b[Vv]os\b|(?<!un )(?<!solo )\b[Tt]oque\b"
        r"|\b(?:[Ee]scriba|[Ee]nvíe|[Ee]lija|[Pp]ulse|[Pp]resione|[Ii]ntente|[Rr]evise)\b"
    ),
}
ADDRESSED_TO_THE_MP = ("campaign.mp_letter.", "campaign.meeting_request.")
# The reader's gender is unknown: never "ready"/"welcome"/"alone" in one gender said of them, nor
# "thank you" in the reader's own voice on a button ("Não, obrigada").
READERS_GENDER = {
    "pt": re.compile(
        r"(?:^|[.!?] )(?:Pront[oa]|Bem-vind[oa]s?) (?:para|a|à)\b"
        r"|\b[Vv]ocê (?:está|estiver|é|foi|ficou) (?:pront|sozinh|bem-vind|convidad|inscrit"
        r"|cadastrad|interessad|obrigad)[oa]s?\b",
        re.MULTILINE,
    ),
    "es": re.compile(
        r"(?:^|[.!?¡¿] ?)(?:List[oa]|Bienvenid[oa]s?) (?:para|a)\b"
        r"|\b(?:[Ee]stás|[Ee]res|[Ff]uiste) (?:list|sol|bienvenid|invitad|inscrit|interesad)"
        r"[oa]s?\b",
        re.MULTILINE,
    ),
}
THANKS = {"pt": re.compile(r"\bobrigad[oa]\b", re.I), "es": re.compile(r"\bagradecid[oa]\b", re.I)}
# Language names take no capital inside a Portuguese or Spanish sentence ("sua carta em Português").
CAPITALISED_LANGUAGE = re.compile(
    r"(?<=[a-záéíóúâêôãõàç,] )(?:Inglês|Português|Espanhol|Inglés|Portugués|Español|English)\b"
)
# A count of one takes no article: "para 1 pessoa", not "para a 1 pessoa" (but "enviar a 1
# pessoa", where "a" is the preposition).
ARTICLE_BEFORE_ONE = {
    "pt": re.compile(
        r"(?:^|\b(?:para|com|de|em|por) )[AaOo] (?:<b>)?\{count\}"
        r"|\b(?:à|ao|na|no|da|do|pela|pelo) (?:<b>)?\{count\}",
        re.MULTILINE,
    ),
    "es": re.compile(r"\b(?:[Ll]a|[Ee]l|al) (?:<b>)?\{count\}"),
}
# An MP's gender is not known: "deputado(a)", "deputados e deputadas", "diputado/a", "el diputado o
# la diputada"; never "o deputado" alone.
MP_BOTH_GENDERS = {
    "pt": re.compile(
        r"[Dd]eputad[oa]s?\((?:a|as)\)|[Dd]eputados (?:e|nem) deputadas"
        r"|[Dd]eputado ou (?:a )?deputada"
    ),
    "es": re.compile(
        r"[Dd]iputad[oa]s?/as?|[Dd]iputados (?:y|ni) diputadas|[Dd]iputado o (?:la )?diputada"
    ),
}
# "Whatever their immigration status" is about the survivors, never the reader: with "você"/"tú"
# a bare "a sua situação"/"su situación" reads as the supporter's own status, in public posts too.
SURVIVORS_STATUS = {
    "pt": re.compile(
        r"(?:seja qual for|independentemente d[ae]) (?:a )?(?:sua )?situação migratória"
        r"(?! delas?\b)"
    ),
    "es": re.compile(
        r"(?:sea cual sea|independientemente de) (?:su |la )?situación migratoria"
        r"(?! de (?:ellas?|cada una)\b)"
    ),
}
MP_WORD = {"pt": re.compile(r"\b[Dd]eputad\w*"), "es": re.compile(r"\b[Dd]iputad\w*")}
# A sentence naming a button the person is to tap: "tap <b>Skip</b>", "toque em “Já enviei”",
# "toca Omitir"; or showing it with its emoji in brackets, "(from the menu: 🔔 Messages)".
TAPPED_LABEL = {
    "en": re.compile(r"\b[Tt]ap (?:<b>|“)(?P<quoted>[^<”]+)(?:</b>|”)|\b[Tt]ap (?P<word>[A-Z]\w*)"),
    "pt": re.compile(
        r"\b[Tt]o(?:que|car)(?: primeiro)? em (?:<b>|“)(?P<quoted>[^<”]+)(?:</b>|”)"
        r"|\b[Tt]oque em (?P<word>[A-ZÁÉÍÓÚ]\w*)"
    ),
    "es": re.compile(
        r"\b(?:[Tt]oca|toques)(?: primero)? (?:<b>|«|“)(?P<quoted>[^<»”]+)(?:</b>|»|”)"
        r"|\b[Tt]oca (?P<word>[A-ZÁÉÍÓÚ]\w*)"
    ),
}
EMOJI_LABEL = re.compile(r"\([^()]*?(?P<label>[\U0001F300-\U0001FAFF]\ufe0f? [^(),]+)[,)]")
# ...or in bold after its emoji: "🤝 <b>Meet your MP</b>, in the menu".
EMOJI_BOLD_LABEL = re.compile(r"(?P<emoji>[\U0001F300-\U0001FAFF]\ufe0f?) <b>(?P<words>[^<{]+)</b>")
LEADING_SYMBOLS = re.compile(r"^[^\w{]+")


def localised_texts(table: object, path: str = "") -> Iterator[tuple[str, dict[str, str]]]:
    """(where, {en, pt, es}) for every text the campaign file gives in the three languages."""
    if isinstance(table, dict) and set(table) == set(LANGUAGES):
        yield path, table
    elif isinstance(table, dict):
        for key, value in table.items():
            yield from localised_texts(value, f"{path}.{key}")
    elif isinstance(table, list):
        for index, value in enumerate(table):
            yield from localised_texts(value, f"{path}[{index}]")


def campaign_texts() -> list[tuple[str, dict[str, str]]]:
    return list(localised_texts(tomllib.loads(CAMPAIGN_FILE.read_text(encoding="utf-8"))))


def every_text(language: str) -> Iterator[tuple[str, str]]:
    """(key, template) for every catalog form and campaign text in `language`."""
    for key, message in catalog(language).items():
        for template in forms(message):
            yield key, template
    for where, texts in campaign_texts():
        yield f"campaign{where}", texts[language]


def marked(language: str, marker: re.Pattern[str], skip: tuple[str, ...] = ()) -> list:
    """(key, what matched) for each place `marker` matches in `language`'s texts, leaving out the
    keys that start with one of `skip`."""
    return [
        (key, match.group(0))
        for key, template in every_text(language)
        if not key.startswith(skip)
        for match in marker.finditer(template)
    ]


def words(template: str, language: str) -> set[str]:
    """The words of a text once tags, placeholders, links, hashtags and names are taken out."""
    bare = re.sub(r"<[^>]*>|\{\w+\}|https?://\S+|#\w+", " ", template)
    found = set(re.findall(r"[^\W\d_]+", NAMES.sub(" ", bare)))
    return {word for word in found - UNITS if word.lower() not in SAME_WORDS[language]}


def test_the_shipped_catalogs_have_no_problems():
    assert catalog_problems() == []


def test_a_broken_translation_is_named_with_its_file_and_key(tmp_path):
    for language, area in [
        ("en", 'n = { one = "{count} day", other = "{count} days" }\nx = "{a}"')
    ]:
        (tmp_path / language).mkdir()
        (tmp_path / language / "core.toml").write_text(area, encoding="utf-8")
    (tmp_path / "pt").mkdir()
    (tmp_path / "pt" / "core.toml").write_text('n = "{count} dias"\nx = "{b}"', encoding="utf-8")
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "core.toml").write_text('n = { one = "{count} día"', encoding="utf-8")

    problems = catalog_problems(tmp_path)

    pt = tmp_path / "pt" / "core.toml"
    assert f"{pt}: core.n: English counts here: give the plural forms ['many', 'one', 'other']" in (
        problems
    )
    assert f"{pt}: core.x: placeholders ['b'], English has ['a']" in problems
    assert any(problem.startswith(f"{tmp_path / 'es' / 'core.toml'}: ") for problem in problems)
    assert f"{tmp_path / 'es' / 'core.toml'}: core.n is missing" in problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_messages_have_exactly_the_cldr_forms_of_their_language(language):
    for key, message in catalog(language).items():
        if isinstance(message, dict):
            assert set(message) - {"zero"} == plural_categories(language), key


def counted_words(language: str) -> set[str]:
    """The words that change with the count in the language's plural messages, lower case."""
    found = set()
    for message in catalog(language).values():
        if isinstance(message, dict) and "one" in message:
            one, other = (AFTER_COUNT.search(message[form]) for form in ("one", PLURAL_OTHER))
            pairs = zip(WORD.findall(one.group(1)), WORD.findall(other.group(1)), strict=False)
            found |= next(({a.lower(), b.lower()} for a, b in pairs if a != b), set())
    return found


def bare_count(language: str) -> re.Pattern[str]:
    """A placeholder before one of the language's counted words ("{limit} characters"), or any
    word after {count}, our name for a number of things ("{count} of {total}" and a count in a
    label, "Going: {count}", need no plural)."""
    words = "|".join(sorted(counted_words(language), key=len, reverse=True))
    return re.compile(
        rf"\{{\w+\}}(?:</\w+>)? +(?:{words})\b|\{{count\}}(?:</\w+>)? +(?!(?:of|de) \{{)[^\W\d_]",
        re.IGNORECASE,
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_count_is_rendered_without_its_plural_rule(language):
    counted = [
        (key, match.group(0))
        for key, message in catalog(language).items()
        if not isinstance(message, dict)
        for match in bare_count(language).finditer(message)
    ]
    assert counted == []


@pytest.mark.parametrize(
    ("template", "bare"),
    [
        ("Up to {limit} characters.", True),
        ("<b>{count}</b> supporters", True),
        ("{count} waiting", True),
        ("Done: {done} of {count}", False),
        ("Going: {count}", False),
        ("{count} of {total} answered", False),
        ("Up to {limit}.", False),
    ],
)
def test_a_bare_count_is_caught(template, bare):
    assert bool(bare_count("en").search(template)) == bare


def test_the_counted_words_are_read_from_the_catalog():
    assert {"character", "characters", "person", "people"} <= counted_words("en")
    assert {"caractere", "caracteres", "pessoa", "pessoas"} <= counted_words("pt")
    assert {"carácter", "caracteres", "persona", "personas"} <= counted_words("es")
    assert "of" not in counted_words("en") and "de" not in counted_words("pt")


@pytest.mark.parametrize("language", ["pt", "es"])
def test_portuguese_and_spanish_texts_are_translated(language):
    english = dict(every_text("en"))
    untranslated = [
        key
        for key, template in every_text(language)
        if template in english.values()
        and english.get(key) == template
        and words(template, language)
    ]
    assert untranslated == []


def test_no_european_portuguese_in_brazilian_texts():
    assert marked("pt", EUROPEAN_PORTUGUESE) == []


@pytest.mark.parametrize("language", ["pt", "es"])
def test_the_mp_is_named_without_assuming_a_gender(language):
    one_gender = [
        (key, match.group(0))
        for key, template in every_text(language)
        for match in MP_WORD[language].finditer(MP_BOTH_GENDERS[language].sub("", template))
    ]
    assert one_gender == []


@pytest.mark.parametrize(
    ("language", "template", "inclusive"),
    [
        ("pt", "uma carta ao deputado certo", False),
        ("pt", "uma carta ao(à) deputado(a)", True),
        ("pt", "Deputados e deputadas percebem", True),
        ("es", "los diputados responden", False),
        ("es", "cada persona se reúne con el diputado o la diputada", True),
        ("es", "Escribe a tu diputado/a", True),
    ],
)
def test_a_one_gender_mp_is_caught(language, template, inclusive):
    left = MP_BOTH_GENDERS[language].sub("", template)
    assert (MP_WORD[language].search(left) is None) == inclusive


@pytest.mark.parametrize("language", ["pt", "es"])
def test_whatever_immigration_status_is_the_survivors_not_the_readers(language):
    assert marked(language, SURVIVORS_STATUS[language]) == []


@pytest.mark.parametrize(
    ("language", "template", "survivors"),
    [
        ("pt", "para todas as sobreviventes, seja qual for a sua situação migratória.", False),
        ("pt", "para todas as sobreviventes, seja qual for a situação migratória.", False),
        ("pt", "para todas as sobreviventes, seja qual for a situação migratória delas.", True),
        ("es", "para todas las sobrevivientes, sea cual sea su situación migratoria.", False),
        ("es", "todas las sobrevivientes, sea cual sea la situación migratoria de ellas", True),
        ("es", "sea cual sea la situación migratoria de cada una", True),
    ],
)
def test_a_status_that_reads_as_the_readers_is_caught(language, template, survivors):
    assert (SURVIVORS_STATUS[language].search(template) is None) == survivors


@pytest.mark.parametrize("language", ["pt", "es"])
def test_the_lobby_day_is_named_one_way(language):
    """ "dia de lobby"/"día de lobby" on supporters' and organisers' screens alike, not "dia de
    visita a deputados" on one and "dia de lobby" on the next."""
    other_names = re.compile(
        r"\bvisitas? a (?:deputad|diputad)|\bprimeir[oa] lobby|\bprimer lobby", re.IGNORECASE
    )
    assert [key for key, template in every_text(language) if other_names.search(template)] == []


@pytest.mark.parametrize("language", ["pt", "es"])
def test_no_english_word_is_left_in(language):
    """ "seu MP", "um post", "broadcast", "RSVP": the MP intro alone says the UK term, once."""
    english = re.compile(r"(?<![{/])\b(?:MPs?|posts?|broadcasts?|RSVPs?|email|feedback)\b")
    assert marked(language, english, skip=("mp.intro",)) == []


@pytest.mark.parametrize("language", ["pt", "es"])
def test_the_campaigns_ask_is_named_one_way(language):
    """ "proteção igual"/"igualdad de protección" in the summary, the letters, the prompts and the
    guide alike, not "igual protección" on one screen and "una protección igual" on the next."""
    other_names = {
        "pt": re.compile(r"\bigual(?:dade de)? proteção|proteção igualitária", re.IGNORECASE),
        "es": re.compile(r"\bigual protección|protección igual", re.IGNORECASE),
    }
    assert marked(language, other_names[language]) == []


@pytest.mark.parametrize("language", ["pt", "es"])
def test_the_organisers_are_named_one_way(language):
    """ "a organização"/"la organización" everywhere, not "as organizadoras" on one screen and "a
    equipe organizadora" on the next."""
    other_names = re.compile(r"\borganizador\w*|\bequip[eo] organizador", re.IGNORECASE)
    assert [key for key, template in every_text(language) if other_names.search(template)] == []


@pytest.mark.parametrize("language", ["pt", "es"])
def test_each_language_speaks_to_the_reader_in_one_register(language):
    assert marked(language, OTHER_REGISTER[language], skip=ADDRESSED_TO_THE_MP) == []


@pytest.mark.parametrize(
    ("language", "template", "marker"),
    [
        ("pt", "a organização vai te ajudar a encontrar", "te"),
        ("pt", "nenhum link que eu te mando", "te"),
        ("pt", "alguém que está contigo", "contigo"),
        ("pt", "Escreva a tua história", "tua"),
        ("es", "Si usted no puede ir", "usted"),
        ("es", "Toque el botón de abajo", "Toque"),
        ("es", "Escriba su nombre", "Escriba"),
        ("es", "¿Vos querés firmar?", "Vos"),
    ],
)
def test_each_other_register_marker_is_caught(language, template, marker):
    assert OTHER_REGISTER[language].search(template)
    assert not OTHER_REGISTER[language].search(template.replace(marker, "…"))


def test_a_touch_is_not_an_imperative():
    """ "un toque", "es un solo toque" are the noun, not "usted toque"."""
    assert not OTHER_REGISTER["es"].search("Cuéntanos qué pasó con un toque; es un solo toque.")


@pytest.mark.parametrize("language", ["pt", "es"])
def test_the_reader_is_not_given_a_gender(language):
    said_of_the_reader = marked(language, READERS_GENDER[language])
    thanks_in_their_voice = [
        key
        for key, message in catalog(language).items()
        if "button" in key and any(THANKS[language].search(form) for form in forms(message))
    ]
    assert said_of_the_reader == [] and thanks_in_their_voice == []


@pytest.mark.parametrize(
    ("language", "template", "marker"),
    [
        ("pt", "Pronto para enviar a <b>2</b> pessoas.", "Pronto"),
        ("pt", "Você está pronta para o dia de lobby?", "pronta"),
        ("pt", "Bem-vindo à campanha", "Bem-vindo"),
        ("es", "Listo para enviar a <b>2</b> personas.", "Listo"),
        ("es", "¡Bienvenida a la campaña!", "Bienvenida"),
        ("es", "No estás sola.", "sola"),
    ],
)
def test_each_gendered_reader_marker_is_caught(language, template, marker):
    assert READERS_GENDER[language].search(template)
    assert not READERS_GENDER[language].search(template.replace(marker, "…"))


def test_done_is_not_ready():
    """ "Pronto: ..." and "Listo: ..." say "Done", and "Tudo pronto para" is said of the message."""
    assert not READERS_GENDER["pt"].search("Pronto: a partir de agora. Tudo pronto para enviar.")
    assert not READERS_GENDER["es"].search("Listo: desde ahora. Todo listo para enviar.")


@pytest.mark.parametrize("language", ["pt", "es"])
def test_language_names_take_no_capital_inside_a_sentence(language):
    capitalised = marked(language, CAPITALISED_LANGUAGE)
    # ...and the names put into sentences ("sua carta em {language_name}") are lower case.
    names = [text(language, f"core.languages.{code}") for code in LANGUAGES]
    assert capitalised == [] and all(name == name.lower() for name in names)


@pytest.mark.parametrize(
    ("template", "capitalised"),
    [
        ("Aqui está sua carta em Português, para você ler:", True),
        ("Em English, Português ou Español.", True),
        ("Idioma: Português", False),
        ("Português", False),
        ("Em português, inglês ou espanhol.", False),
    ],
)
def test_a_capitalised_language_name_is_caught(template, capitalised):
    assert bool(CAPITALISED_LANGUAGE.search(template)) == capitalised


@pytest.mark.parametrize(
    ("language", "template", "article"),
    [
        ("pt", "Enviar para a {count} pessoa inscrita?", True),
        ("pt", "A {count} pessoa confirmada será avisada.", True),
        ("pt", "Pronto para enviar a <b>{count}</b> pessoa.", False),
        ("es", "¿Enviar a la {count} persona suscrita?", True),
        ("es", "Se avisará a {count} persona.", False),
    ],
)
def test_an_article_before_a_count_is_caught(language, template, article):
    assert bool(ARTICLE_BEFORE_ONE[language].search(template)) == article


@pytest.mark.parametrize("language", ["pt", "es"])
def test_a_count_of_one_takes_no_article(language):
    found = [
        (key, match.group(0))
        for key, message in catalog(language).items()
        if isinstance(message, dict)
        for match in ARTICLE_BEFORE_ONE[language].finditer(message["one"])
    ]
    assert found == []


# A lobby day's title is the organisers' words, of either gender ("Lobby em massa", "Marcha
# pela proteção"): no participle or adjective is made to agree with it.
AGREES_WITH_TITLE = re.compile(
    r"\{title\}[^.<]*?\b(?:foi|é|está|ficou|fue|es|quedó)\s+\w+(?:ad|id)[oa]s?\b"
)


@pytest.mark.parametrize("language", ["pt", "es"])
def test_nothing_agrees_in_gender_with_a_lobby_days_title(language):
    assert marked(language, AGREES_WITH_TITLE) == []


@pytest.mark.parametrize(
    "template",
    ["<b>{title}, em {date}, foi cancelado.</b>", "{title} quedó cancelado.", "{title} fue movido"],
)
def test_a_title_given_a_gender_is_caught(template):
    assert AGREES_WITH_TITLE.search(template)


def test_no_spain_spanish_in_latin_american_texts():
    assert marked("es", SPAIN_SPANISH) == []


@pytest.mark.parametrize(
    ("template", "marker"),
    [
        ("¿Queréis firmar?", "Queréis"),
        ("desde vuestra casa", "vuestra"),
        ("en el ordenador", "ordenador"),
        ("Mira lo que has hecho", "has hecho"),
        ("Si aún no has firmado la petición", "has firmado"),
        ("¿Ya has escrito a tu diputado/a?", "has escrito"),
        ("toca «Omitir»", "«Omitir»"),
    ],
)
def test_each_spain_spanish_marker_is_caught(template, marker):
    assert SPAIN_SPANISH.search(template)
    assert not SPAIN_SPANISH.search(template.replace(marker, "…"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_button_a_sentence_names_exists_with_that_exact_label(language):
    """ "Tap <b>I've sent it</b>" under a button reading "✅ I've sent it", in every language."""
    buttons = {
        template: LEADING_SYMBOLS.sub("", template)
        for key, message in catalog(language).items()
        if "button" in key
        for template in forms(message)
    }
    named = (
        [
            (key, match.group("quoted") or match.group("word"))
            for key, message in catalog(language).items()
            for template in forms(message)
            for match in TAPPED_LABEL[language].finditer(template)
        ]
        + [
            (key, match.group("label"))
            for key, message in catalog(language).items()
            for template in forms(message)
            for match in EMOJI_LABEL.finditer(template)
        ]
        + [
            (key, f"{match.group('emoji')} {match.group('words')}")
            for key, message in catalog(language).items()
            if "button" not in key
            for template in forms(message)
            for match in EMOJI_BOLD_LABEL.finditer(template)
        ]
    )
    assert len(named) >= 10  # the patterns still find the sentences they are meant for
    assert [
        (key, label)
        for key, label in named
        if label not in buttons and label not in buttons.values()
    ] == []


@pytest.mark.parametrize(
    ("language", "sentence", "label"),
    [
        ("en", "When you've sent it, tap <b>I've sent it</b>.", "I've sent it"),
        ("pt", "Depois, toque em “Já enviei”.", "Já enviei"),
        ("es", "Escribe tu nombre, o toca Omitir.", "Omitir"),
        ("en", "Change them from the menu (🔔 Messages).", "🔔 Messages"),
        ("es", "(puedes decirlo desde el menú: 🔔 Mensajes)", "🔔 Mensajes"),
        ("pt", "Para dizer que você vai, toque primeiro em <b>Eu vou</b>.", "Eu vou"),
        ("en", "<b>Thank you!</b> 💜 Every person, every day, counts.", None),
        ("en", "<b>Has your MP replied?</b> Tap their answer below.", None),
        ("pt", "Toque em um botão para mudar.", None),
    ],
)
def test_a_named_button_is_found_in_a_sentence(language, sentence, label):
    found = TAPPED_LABEL[language].search(sentence) or EMOJI_LABEL.search(sentence)
    assert (found and next(group for group in found.groups() if group)) == label


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("🤝 <b>Meet your MP</b>, in the menu, lets you say you're going.", ("🤝", "Meet your MP")),
        ("📊 <b>{count}</b> people have signed so far.", None),
    ],
)
def test_a_button_shown_in_bold_after_its_emoji_is_found(sentence, label):
    found = EMOJI_BOLD_LABEL.search(sentence)
    assert (found and found.groups()) == label


@pytest.mark.parametrize(
    ("template", "marker"),
    [
        ("Não consigo aceder ao serviço", "aceder"),
        ("sua resposta foi registada", "registada"),
        ("estes ficheiros", "ficheiros"),
        ("Cada partilha conta", "partilha"),
        ("🔒 Os meus dados", "Os meus"),
        ("<b>O seu progresso</b>", "O seu"),
        ("Escrevi-lhe como eleitor", "-lhe"),
        ("A enviar a mensagem", "A enviar"),
        ("seu telemóvel", "telemóvel"),
        ("Escreva a sua história", "a sua"),
        ("apaga todas as suas mensagens e a sua conta", "a sua"),
        ("e dizer-me o que fará", "-me"),
        ("que nenhuma mulher tenha de escolher", "tenha de"),
    ],
)
def test_each_european_portuguese_marker_is_caught(template, marker):
    assert EUROPEAN_PORTUGUESE.search(template)
    assert not EUROPEAN_PORTUGUESE.search(template.replace(marker, "…"))


def test_an_identical_translation_is_caught_but_names_and_units_are_not():
    assert words("<b>Sending broadcast #{id}</b>", "pt") == {"Sending", "broadcast"}
    assert words("🦋 Bluesky · {minutes} min · #16Days https://x.org", "es") == set()
    assert words("⬅️ Menu", "en") == {"Menu"} and words("⬅️ Menu", "pt") == set()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_uses_only_telegram_html(language):
    for key, template in every_text(language):
        assert tags_in(template) <= TELEGRAM_TAGS, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_empty(language):
    assert all(template.strip() for _, template in every_text(language))


@pytest.mark.parametrize(
    ("language", "one", "two", "million"),
    [
        ("en", "1 person has signed", "2 people have signed", "1,000,000 people have signed"),
        ("pt", "1 pessoa já assinou", "2 pessoas já assinaram", "1.000.000 de pessoas já"),
        ("es", "1 persona ya firmó", "2 personas ya firmaron", "1,000,000 de personas ya"),
    ],
)
def test_a_count_picks_its_plural_form_and_local_digits(language, one, two, million):
    def count(n: int) -> str:
        return re.sub(r"</?b>", "", text(language, "petition.count_total", count=n))

    assert one in count(1)
    assert two in count(2)
    assert million in count(1_000_000)
    assert "<b>" not in text(language, "petition.count_total", count=0)


@pytest.mark.parametrize(
    ("language", "written"), [("en", "1,234"), ("pt", "1.234"), ("es", "1,234")]
)
def test_a_count_in_a_label_is_written_in_the_languages_digits(language, written):
    """ "Going: 1,234", "Presenças confirmadas até agora: 1.234": a count said once, not in
    forms, or any other figure, is still a number a person reads; "#1234" names a broadcast."""
    assert text(language, "lobby.going_so_far", count=1234).endswith(f": {written}")
    line = text(language, "lobby.admin_line", title="T", when="W", status="S", going=1234)
    assert line.endswith(f": {written}")
    assert text(language, "broadcast.stop_button", id=1234).endswith("#1234")


def test_a_plural_message_refuses_to_render_without_a_whole_count():
    with pytest.raises(TypeError, match=r"petition\.count_total"):
        text("en", "petition.count_total")
    with pytest.raises(TypeError):
        text("en", "petition.count_total", count="12")


@pytest.mark.parametrize(
    ("language", "joined"),
    [
        ("en", "English, Portuguese and Spanish"),
        ("pt", "inglês, português e espanhol"),
        ("es", "inglés, portugués y español"),
    ],
)
def test_lists_are_joined_the_way_each_language_joins_them(language, joined):
    names = [text(language, f"core.languages.{code}") for code in LANGUAGES]
    assert join(language, names) == joined
    assert join(language, ["<b>"]) == "&lt;b&gt;"


def test_values_are_escaped_once_at_render_time():
    rendered = text("en", "core.menu.item_done", action="<b>x</b> & y")
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in rendered


def test_dates_read_the_same_whatever_babel_release_is_installed():
    """Our own patterns, not a locale skeleton whose rendering changed in Babel 2.19."""
    day = dt.date(2026, 11, 28)
    assert date("en", day) == "28 November"
    assert date("en", day, with_year=True) == "28 November 2026"
    assert date("pt", day, with_year=True) == "28 de novembro de 2026"
    assert date("es", day, with_year=True) == "28 de noviembre de 2026"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_screen_claims_most_mps_read_english(language):
    """Not something we know; the letter-language question says why English is recommended."""
    claim = re.compile(r"most MPs|maioria dos deputados|mayoría (de los diputados )?lee", re.I)
    assert [key for key, template in every_text(language) if claim.search(template)] == []
