"""The translation catalogs of every package (suite_common and the three services) are complete and in step:
every message extracted from the sources is in each language's catalog, translated (every plural form),
not fuzzy, with the same placeholders as the English, and no catalog keeps a message the sources dropped.

After adding or changing attendee-facing text: `make translations`, translate what arrived empty, commit.
"""
from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog, Message

from devtools.translations import PACKAGES, TRANSLATED, extract, lagging, po_path, read_catalog

# %(name)s style (gettext in Python and Jinja's new style) and %s/%d without a name.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdifr]|%[sdif]")

CATALOGS = [(package, language) for package in PACKAGES for language in TRANSLATED]


def catalog(package: str, language: str) -> Catalog:
    return read_catalog(po_path(PACKAGES[package], language), language)


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize(("package", "language"), CATALOGS)
def test_every_message_is_translated_without_fuzzy_guesses(package: str, language: str) -> None:
    messages = [message for message in catalog(package, language) if message.id]
    untranslated = [ids(m)[0] for m in messages if not all(text.strip() for text in forms(m))]
    fuzzy = [ids(m)[0] for m in messages if m.fuzzy]
    assert untranslated == [], f"{package} {language}: untranslated"
    assert fuzzy == [], f"{package} {language}: fuzzy"


@pytest.mark.parametrize(("package", "language"), CATALOGS)
def test_translations_keep_the_placeholders(package: str, language: str) -> None:
    wrong = []
    for message in catalog(package, language):
        if not message.id:
            continue
        english = set().union(*(placeholders(text) for text in ids(message)))
        for text in filter(None, forms(message)):  # an empty one is the test above's finding
            # A plural form may leave out the number ("un crédit"), never add or rename a placeholder.
            said = placeholders(text)
            if not said <= english or (not message.pluralizable and said != english):
                wrong.append((ids(message)[0], text))
    assert wrong == []


@pytest.mark.parametrize(("package", "language"), CATALOGS)
def test_plural_forms_are_the_languages(package: str, language: str) -> None:
    read = catalog(package, language)
    expected = Catalog(locale=language).num_plurals
    assert read.num_plurals == expected
    assert all(len(forms(m)) == expected for m in read if m.id and m.pluralizable)


@pytest.mark.parametrize("package", list(PACKAGES))
def test_catalogs_are_in_step_with_the_sources(package: str) -> None:
    assert lagging(PACKAGES[package]) == [], "run `make translations` and translate what is new"


def test_extraction_finds_the_attendee_pages_strings() -> None:
    """The check above means something only if extraction reads templates and code: it finds strings of both."""
    found = {message.id for message in extract(PACKAGES["registration"])}
    assert "Register for %(title)s" in found  # a template
    assert "Unknown discount code." in found  # code
    assert ("%(num)d seat left", "%(num)d seats left") in found  # a plural in a template
    assert "Language" in {message.id for message in extract(PACKAGES["suite_common"])}


def test_every_package_has_its_catalogs() -> None:
    for package, language in CATALOGS:
        assert po_path(PACKAGES[package], language).is_file(), (package, language)
