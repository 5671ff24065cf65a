"""Everything a person reads: locale catalogs, pure render functions and keyboards."""

from messages.i18n import LANGUAGES, Html, catalog, join, language_for, number, text

__all__ = ["LANGUAGES", "Html", "catalog", "join", "language_for", "number", "text"]
