"""Languages: Flask-Babel in every service, the attendee's language, and dates and money per locale.

Every service's app factory calls ``init_i18n`` (through ``create_service_app``), so that every template
has ``_()``, ``gettext()`` and ``ngettext()`` (Jinja's i18n extension, new style: ``_("Hello %(name)s",
name=x)`` escapes and formats) and Python code uses ``from flask_babel import gettext, lazy_gettext,
ngettext``.

Catalogs: one per service in ``<service>/translations/<lang>/LC_MESSAGES/messages.po`` plus this
package's ``suite_common/translations`` for the shared templates and code; a service looks in its own
catalog first, then in the shared one. The ``.po`` files are the only form in the repository: they are
compiled in memory when a process first needs a language (milliseconds), so a clean clone, ``make run``
and ``make test`` need no compile step and a stale ``.mo`` cannot exist. ``devtools/translations.py``
extracts and updates them (``make translations``).

The attendee's language, per request: ``?lang=xx`` (remembered in the ``lang`` cookie for a year), then
that cookie, then the browser's ``Accept-Language``, then English. API, internal and console requests
are always English: organisers' pages are not translated and JSON error messages are part of the contract.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations
from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, Domain, force_locale, get_locale

SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "nl", "de", "fr")
DEFAULT_LANGUAGE = "en"
# Each language named in itself, as a switcher shows it (someone looking for Deutsch may not read "German").
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "nl": "Nederlands", "de": "Deutsch", "fr": "Français"}
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600
# Paths whose responses stay English whatever the visitor chose: the organiser's console, the APIs.
UNTRANSLATED_PREFIXES = ("/api/", "/internal/", "/console", "/openapi", "/docs")

SHARED_TRANSLATIONS = Path(__file__).parent / "translations"

# ISO 4217 currencies whose minor unit is not the usual 2 decimals; every other code has 2. ISO's table,
# not CLDR's (which prints ISK and IQD with other digits than the amounts are kept in).
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


class PoDomain(Domain):
    """A Flask-Babel domain that reads the ``.po`` catalogs and compiles them in memory, once per language
    and process, instead of loading ``.mo`` files that would have to be built and kept in step."""

    def __init__(self, directories: list[Path]) -> None:
        super().__init__(translation_directories=[str(d) for d in directories])
        self.directories = directories

    def get_translations(self) -> Translations:
        language = current_language()
        try:
            return self.cache[language]
        except KeyError:
            self.cache[language] = compiled_translations(self.directories, language)
            return self.cache[language]


def compiled_translations(directories: list[Path], language: str) -> Translations:
    """The catalogs of ``language`` in ``directories`` merged, the first directory's messages winning.
    Fuzzy and empty translations are left out (they fall back to English), as ``pybabel compile`` does."""
    merged = Translations()
    for directory in reversed(directories):
        po_path = directory / language / "LC_MESSAGES" / "messages.po"
        if not po_path.is_file():
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        compiled = Translations(fp=buffer)
        merged.merge(compiled)
        merged.plural = compiled.plural  # merge() keeps the first catalog's plural rule: use the language's
    return merged


class SuiteBabel(Babel):
    """Babel whose default domain is the in-memory ``PoDomain`` over the service's and the shared catalogs."""

    def __init__(self, directories: list[Path]) -> None:
        self.directories = directories
        super().__init__()

    @cached_property
    def domain_instance(self) -> PoDomain:  # type: ignore[override]
        return PoDomain(self.directories)


def init_i18n(app: Flask, service_translations: Path) -> None:
    """Set up Flask-Babel for one service: its catalog first, then the shared one; the language chooser;
    the ``lang`` cookie; the template globals ``current_language()`` and ``language_links()``; the filters
    ``localized`` (the organiser's translated texts) and ``l10n_money``, ``l10n_number``, ``l10n_datetime``,
    ``l10n_day``, ``l10n_date`` (per locale; the console keeps its own, English, filters)."""
    SuiteBabel([service_translations, SHARED_TRANSLATIONS]).init_app(
        app, default_locale=DEFAULT_LANGUAGE, locale_selector=choose_language)
    # {% trans %} blocks are extracted with their whitespace collapsed (babel.cfg: trimmed); render them so.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.after_request(_remember_language)
    app.add_template_global(current_language, "current_language")
    app.add_template_global(language_links, "language_links")
    app.add_template_global(LANGUAGE_NAMES, "language_names")
    app.add_template_filter(localized, "localized")
    app.add_template_filter(format_money, "l10n_money")
    app.add_template_filter(format_number, "l10n_number")
    app.add_template_filter(format_when, "l10n_datetime")
    app.add_template_filter(format_day, "l10n_day")
    app.add_template_filter(format_calendar_date, "l10n_date")
    app.add_template_filter(format_percentage, "l10n_percent")


def supported(language: object) -> str | None:
    """``language`` if the suite speaks it ("nl", "NL", "nl-BE" → "nl"), else None."""
    if not isinstance(language, str):
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED_LANGUAGES else None


def choose_language() -> str:
    """The language a page is rendered in: the one asked for, but English for the APIs and the console."""
    if not has_request_context() or request.path.startswith(UNTRANSLATED_PREFIXES):
        return DEFAULT_LANGUAGE
    return requested_language()


def requested_language() -> str:
    """The language the visitor asked for: ``?lang=``, the cookie, ``Accept-Language`` (by quality), English.
    Also read by a JSON sign-up without ``"language"``: a society's site posting from the browser sends it."""
    chosen = supported(request.args.get("lang")) or supported(request.cookies.get(LANGUAGE_COOKIE))
    if chosen:
        return chosen
    for value, _quality in request.accept_languages:
        if language := supported(value):
            return language
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of the current request or ``in_language`` block; English outside both."""
    locale = get_locale()
    return supported(locale.language if locale else None) or DEFAULT_LANGUAGE


def _remember_language(response: Response) -> Response:
    """A page asked for with ``?lang=xx`` sets the cookie, so the next page (a form's POST, a link without
    ``?lang``) stays in the chosen language."""
    chosen = supported(request.args.get("lang"))
    if chosen and not request.path.startswith(UNTRANSLATED_PREFIXES) and request.cookies.get(LANGUAGE_COOKIE) != chosen:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=LANGUAGE_COOKIE_MAX_AGE, samesite="Lax",
                            secure=request.scheme == "https", httponly=True)
    return response


def language_links(page: str | None = None) -> list[dict[str, object]]:
    """The switcher's links: this page (same path, same other query parameters) in each language; ``page``
    (a path) instead of this one for a page rendered by a POST, whose address a link cannot repeat."""
    links = []
    for code in SUPPORTED_LANGUAGES:
        if page is None:
            query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
            href = f"{request.path}?{urlencode([*query, ('lang', code)])}"
        else:
            href = f"{page}?{urlencode([('lang', code)])}"
        links.append({"code": code, "name": LANGUAGE_NAMES[code], "href": href, "current": code == current_language()})
    return links


@contextmanager
def in_language(language: str | None) -> Iterator[str]:
    """Render in ``language`` (a registration's stored language) inside an app context, e.g. a mail or a
    document built by a worker: ``with in_language(reg.language): gettext(...)``. Unknown → English."""
    chosen = supported(language) or DEFAULT_LANGUAGE
    with force_locale(chosen):
        yield chosen


def localized(item: object, field: str) -> str:
    """``item``'s ``field`` in the current language, from its ``translations`` ({"nl": {"title": ...}}, the
    organiser's own translations) when there is one, else as the organiser wrote it."""
    texts = (getattr(item, "translations", None) or {}).get(current_language()) or {}
    return texts.get(field) or getattr(item, field)


def currency_decimals(currency: str) -> int:
    """How many decimals ``currency`` is kept in (ISO 4217): 0 for JPY, 3 for KWD, 2 for EUR and most."""
    return MINOR_UNITS.get(currency, 2)


def format_money(amount: int, currency: str, language: str | None = None) -> str:
    """``amount`` minor units in the locale's way: "€ 1.234,50" (nl), "1.234,50 €" (de), "€1,234.50" (en)."""
    decimals = currency_decimals(currency)
    value = Decimal(amount).scaleb(-decimals)
    return format_currency(value, currency, locale=language or current_language(), currency_digits=False,
                           format_type="standard", decimal_quantization=True,
                           format=None if decimals == 2 else _pattern_with(decimals, language))


def _pattern_with(decimals: int, language: str | None) -> str:
    """The locale's currency pattern with ``decimals`` fraction digits (CLDR's own may differ from ISO's)."""
    pattern = Locale.parse(language or current_language()).currency_formats["standard"].pattern
    fraction = "." + "0" * decimals if decimals else ""
    return pattern.replace("#,##0.00", "#,##0" + fraction)


def format_number(value: int | Decimal, language: str | None = None) -> str:
    """A number as the locale writes it: 1,5 (nl, de, fr) or 1.5 (en)."""
    return format_decimal(value, locale=language or current_language())


def format_percentage(percent: Decimal | int, language: str | None = None) -> str:
    """A percentage (21, 7.7) as the locale writes it: "21%" (en, nl), "21 %" (de, fr), "7,7 %" (de)."""
    return format_percent(Decimal(percent) / 100, locale=language or current_language(), decimal_quantization=False)


def format_when(moment: dt.datetime, timezone: str, language: str | None = None) -> str:
    """``moment`` in the event's ``timezone`` as the locale writes a date and time: "Mon, Mar 1, 2027, 9:00 AM",
    "ma 1 mrt 2027, 09:00", "Mo., 1. März 2027, 09:00", "lun. 1 mars 2027, 09:00"."""
    locale = Locale.parse(language or current_language())
    return _glue(locale, format_day(moment, timezone, language), _time(moment, timezone, locale))


def format_day(moment: dt.datetime, timezone: str, language: str | None = None) -> str:
    """The day of ``moment`` in ``timezone``, with its weekday: "Mon, Mar 1, 2027", "ma 1 mrt 2027"."""
    return format_skeleton("yMMMEd", moment, tzinfo=ZoneInfo(timezone), fuzzy=True,
                           locale=language or current_language())


def format_calendar_date(day: dt.date | str, language: str | None = None) -> str:
    """A calendar date without a time (a certificate's date of issue, kept as ISO text) as the locale writes
    it in full: "March 1, 2027", "1 maart 2027", "1. März 2027", "1 mars 2027"."""
    value = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return format_date(value, "long", locale=language or current_language())


def format_span(start: dt.datetime, end: dt.datetime, timezone: str, language: str | None = None) -> str:
    """From ``start`` to ``end`` in ``timezone``, naming the end's day only when it differs:
    "ma 1 mrt 2027, 09:00 – 17:30", "Mon, Mar 1, 2027, 9:00 AM – Wed, Mar 3, 2027, 5:30 PM"."""
    zone = ZoneInfo(timezone)
    locale = Locale.parse(language or current_language())
    same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
    end_text = _time(end, timezone, locale) if same_day else format_when(end, timezone, str(locale))
    return f"{format_when(start, timezone, str(locale))} – {end_text}"


def _time(moment: dt.datetime, timezone: str, locale: Locale) -> str:
    return format_time(moment, "short", tzinfo=ZoneInfo(timezone), locale=locale)


def _glue(locale: Locale, day: str, time: str) -> str:
    """Date and time joined as the locale joins them in its medium format (CLDR's "{1}, {0}")."""
    pattern = str(locale.datetime_formats.get("medium", "{1}, {0}")).replace("'", "")
    return pattern.replace("{1}", day).replace("{0}", time)
