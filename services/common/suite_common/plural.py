"""Choosing a plural form for a decimal amount (credits such as 1, 1.5, 4.25) per language.

gettext's plural rules take whole numbers only ("1.5 credits" cannot be asked of ``ngettext``
directly), while CLDR's rules, which Babel has, say how each language treats fractions: English,
Dutch and German use the plural for 1.5, French the singular ("1,5 crédit"). ``plural_count``
turns CLDR's answer into the whole number that gives the same form through gettext.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel import Locale


def plural_count(value: object, language: str) -> int:
    """1 when ``language`` uses its singular ("one") for ``value``, else 2; these are the gettext
    numbers of the singular and the plural in every language the suite speaks (en, nl, de, fr).
    A value that is not a number counts as plural."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return 2
    if not amount.is_finite():
        return 2
    return 1 if Locale.parse(language).plural_form(abs(amount)) == "one" else 2
