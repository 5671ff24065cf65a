"""Locale catalogs: `messages/locales/<language>/<area>.toml`.

A key is `<area>.<name>` (nested tables add more dots). A message is a string, or, when it
counts something, a table of CLDR plural forms (`{ one = "...", other = "..." }`, and `many`
in Portuguese and Spanish) from which `text` picks by the `count` it is given. A table may add
`zero`, said for exactly 0 in any language ("Nobody has signed yet").

Catalog strings are trusted HTML written by us; every value substituted into a placeholder is
escaped here, once, unless it is already `Html` (a fragment we rendered ourselves).
"""

from __future__ import annotations

import html
import re
import string
import tomllib
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.lists import format_list
from babel.numbers import format_decimal

from bot.campaign import DEFAULT_LANGUAGE, LANGUAGES

LOCALES = Path(__file__).parent / "locales"
# British English, Brazilian Portuguese and Latin American Spanish: es_419 writes 12,345 and 2.5
# as Mexico, Central America and the UK around our readers do (Spain's "es" writes 12.345 and 2,5).
BABEL_LOCALES = {"en": "en_GB", "pt": "pt_BR", "es": "es_419"}
# A table with this key is one message in its plural forms, not a group of messages.
PLURAL_OTHER = "other"
EXACTLY_ZERO = "zero"
# A placeholder naming a thing ("broadcast #1234"), never grouped like an amount.
IDENTIFIER = "id"

TAG = re.compile(r"<[^>]+>")

Message = str | dict[str, str]


class Html(str):
    """Text that is already safe HTML and must not be escaped again."""


def _flatten(prefix: str, table: dict) -> dict[str, Message]:
    flat: dict[str, Message] = {}
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if isinstance(value, dict) and PLURAL_OTHER not in value:
            flat.update(_flatten(name, value))
        else:
            flat[name] = value
    return flat


def _read(path: Path) -> dict[str, Message]:
    """One catalog file's messages (raises tomllib.TOMLDecodeError)."""
    return _flatten(path.stem, tomllib.loads(path.read_text(encoding="utf-8")))


@cache
def catalog(language: str) -> dict[str, Message]:
    """Every message of one language, keyed `<area>.<name>`; a plural message is a dict of
    CLDR category -> template."""
    entries: dict[str, Message] = {}
    for path in sorted((LOCALES / language).glob("*.toml")):
        entries.update(_read(path))
    return entries


def forms(message: Message) -> list[str]:
    """The templates of a message: itself, or each of its plural forms."""
    return list(message.values()) if isinstance(message, dict) else [message]


def placeholders(message: Message) -> set[str]:
    return {
        field
        for template in forms(message)
        for _, field, _, _ in string.Formatter().parse(template)
        if field
    }


@cache
def plural_categories(language: str) -> frozenset[str]:
    """The CLDR plural categories a count can fall in, e.g. {'one', 'other'} in English."""
    return Locale.parse(BABEL_LOCALES[language]).plural_form.tags | {PLURAL_OTHER}


@lru_cache(maxsize=4096)
def plural_category(language: str, count: int) -> str:
    """'one', 'many' or 'other' for `count` by the language's CLDR rule (Portuguese and Spanish
    say 'many' for round millions: "1.000.000 de pessoas")."""
    return Locale.parse(BABEL_LOCALES[language]).plural_form(count)


@lru_cache(maxsize=4096)  # Babel parses the pattern and looks up the locale each call: ~30 µs
def number(language: str, value: float, pattern: str = "#,##0") -> str:
    """12,345 in English and Spanish, 12.345 in Portuguese (and 2.5 / 2,5 with a pattern)."""
    return format_decimal(value, format=pattern, locale=BABEL_LOCALES[language])


def language_for(code: str | None) -> str:
    """Our language for a Telegram `language_code`: pt*, es*, otherwise English."""
    prefix = (code or "").lower()[:2]
    return prefix if prefix in LANGUAGES else DEFAULT_LANGUAGE


def escape(value: object) -> str:
    if isinstance(value, Html):
        return value
    return html.escape(str(value))


def join(language: str, items: Iterable[object]) -> Html:
    """Items escaped and joined as the language joins a list: "A, B and C", "A, B e C",
    "A, B y C"."""
    escaped = [escape(item) for item in items]
    return Html(format_list(escaped, locale=BABEL_LOCALES[language]) if escaped else "")


def text(language: str, key: str, **values: object) -> Html:
    """The message `key` in `language`, with `values` escaped into its placeholders.

    A plural message needs `count`, an int: it picks the form and is written with the
    language's digit grouping. Raises TypeError when a plural message gets no int count.
    """
    if not values:
        return _fixed_text(language, key)
    message = _template(language, key, values)
    return Html(message.format(**{name: escape(value) for name, value in values.items()}))


@cache  # about half the texts an update sends have nothing to fill in; the catalogs never change
def _fixed_text(language: str, key: str) -> Html:
    return Html(_template(language, key, {}).format())


def label(language: str, key: str, **values: object) -> str:
    """A button's label: the message `key` with `values` as they were typed. Telegram shows
    button labels as plain text, so escaping would show "&amp;" for "&". Counts as in `text`."""
    return _template(language, key, values).format(**values)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _template(language: str, key: str, values: dict[str, object]) -> str:
    """The message `key` in `language`, the plural form for `values["count"]` if it has forms.
    Every whole number but an `{id}` is written in the language's digits, in place: a figure in
    a label ("Going: 1,234", "Confirmaron: 1,234") is a number a person reads too."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    message = catalog(language)[key]
    if isinstance(message, dict):
        count = values.get("count")
        if not _whole(count):
            raise TypeError(f"{key} is a plural message: pass count=<int>, not {count!r}")
        if count == 0 and EXACTLY_ZERO in message:
            message = message[EXACTLY_ZERO]
        else:
            message = message.get(plural_category(language, count), message[PLURAL_OTHER])
    for name, value in values.items():
        if _whole(value) and name != IDENTIFIER:
            values[name] = number(language, value)
    return message


def plain(html_text: str) -> str:
    """Telegram HTML as plain text (for a terminal, an image, a preview): tags dropped, entities
    decoded."""
    return html.unescape(TAG.sub("", html_text))


def _message_problems(language: str, english: Message, message: Message) -> list[str]:
    """How `message` falls short of its English original: braces, placeholders, plural forms."""
    try:
        theirs, ours = placeholders(english), placeholders(message)
    except ValueError as error:  # an unmatched { or }
        return [f"{error}; write {{{{ or }}}} for a brace"]
    if ours != theirs:
        return [f"placeholders {sorted(ours)}, English has {sorted(theirs)}"]
    wanted = plural_categories(language)
    if not isinstance(english, dict):
        return ["plural forms, but English is one text"] if isinstance(message, dict) else []
    if not isinstance(message, dict):
        return [f"English counts here: give the plural forms {sorted(wanted)}"]
    found = set(message) - {EXACTLY_ZERO}
    problems = [] if found == wanted else [f"plural forms {sorted(found)}, not {sorted(wanted)}"]
    return problems + [
        f"its '{form}' form does not show {{count}}"
        for form in sorted(found)
        if "{count}" not in message[form]
    ]


def catalog_problems(locales: Path | None = None) -> list[str]:
    """Everything that would break the catalogs under `locales` (ours by default), one line each
    naming the file and the key: a TOML error, a message missing or extra beside English, other
    placeholders than the English, plural forms that are not the language's CLDR ones. Empty
    when all is well."""
    locales = locales or LOCALES
    problems: list[str] = []
    loaded: dict[str, dict[str, Message]] = {language: {} for language in LANGUAGES}
    for language in LANGUAGES:
        for path in sorted((locales / language).glob("*.toml")):
            try:
                loaded[language].update(_read(path))
            except tomllib.TOMLDecodeError as error:
                problems.append(f"{path}: {error}")
    english = loaded[DEFAULT_LANGUAGE]
    for language, messages in loaded.items():

        def where(key: str, language: str = language) -> Path:
            return locales / language / f"{key.split('.')[0]}.toml"

        problems += [f"{where(key)}: {key} is missing" for key in english.keys() - messages.keys()]
        problems += [
            f"{where(key)}: {key} is not in English" for key in messages.keys() - english.keys()
        ]
        for key in sorted(messages.keys() & english.keys()):
            found = _message_problems(language, english[key], messages[key])
            problems += [f"{where(key)}: {key}: {problem}" for problem in found]
    return problems
