"""The sign-up form's country select: ISO 3166-1 alpha-2 codes, named in the page's language.

The answer is stored as the code (``answers["country"] = "NL"``), as the JSON sign-up gives it, so that
certificates' accreditor summary counts participants by country whatever language each one signed up in.
The names come from the CLDR through Babel (``Locale.territories``); CLDR also names regions (001,
150), groupings (EU, UN) and codes ISO only reserves (AC, EA, IC, XK...), which are left out: what
remains is exactly the 249 officially assigned codes of ISO 3166-1.
"""
from __future__ import annotations

import unicodedata

from babel import Locale

from suite_common.i18n import current_language

# Two-letter CLDR territories that are not officially assigned ISO 3166-1 codes.
NOT_ISO_3166 = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})
COUNTRY_CODES = frozenset(code for code in Locale("en").territories
                          if len(code) == 2 and code.isalpha() and code not in NOT_ISO_3166)


def _sort_key(name: str) -> str:
    """Österreich between Norwegen and Pakistan, as a reader looks for it, not after Z."""
    return "".join(char for char in unicodedata.normalize("NFD", name) if not unicodedata.combining(char)).casefold()


def country_choices() -> list[tuple[str, str]]:
    """(code, name) of every country, named and ordered in the page's language."""
    names = Locale.parse(current_language()).territories
    return sorted(((code, names.get(code, code)) for code in COUNTRY_CODES), key=lambda item: _sort_key(item[1]))


def is_country(code: str) -> bool:
    return code in COUNTRY_CODES
