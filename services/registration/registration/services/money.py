"""Money as integer minor units with an ISO 4217 currency, never floats: VAT splits, rounding and
how amounts are printed. Pure; used by the documents, the mails and the pages alike.
"""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

# ISO 4217 currencies whose minor unit is not the usual 2 decimals; every other code has 2.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


class Breakdown(NamedTuple):
    """One amount split into net and VAT, in minor units; always ``net + vat == gross``."""

    net: int
    vat: int
    gross: int


def check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int in minor units, not {type(value).__name__}")
    return value


def check_rate(rate: object) -> Decimal:
    if isinstance(rate, bool) or not isinstance(rate, (Decimal, int)):
        raise TypeError(f"the VAT rate must be a Decimal percentage, not {type(rate).__name__}")
    rate = Decimal(rate)
    if not rate.is_finite() or rate < 0:
        raise ValueError(f"the VAT rate must be a finite percentage >= 0, not {rate}")
    return rate


def check_currency(currency: object) -> str:
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii() and currency.isupper()
            and currency.isalpha()):
        raise ValueError(f"the currency must be an ISO 4217 code such as EUR, not {currency!r}")
    return currency


def round_half_up(value: Fraction) -> int:
    """The nearest integer, halves away from zero (2.5 -> 3, -2.5 -> -3), exactly: no float involved."""
    magnitude = (abs(value.numerator) * 2 + value.denominator) // (value.denominator * 2)
    return magnitude if value >= 0 else -magnitude


def vat_breakdown(amount: int, vat_rate: Decimal, prices_include_vat: bool) -> Breakdown:
    """Split ``amount`` (minor units) at ``vat_rate`` percent.

    Prices including VAT: gross = amount, vat = round_half_up(amount * rate / (100 + rate)),
    net = gross - vat. Prices excluding VAT: net = amount, vat = round_half_up(amount * rate / 100),
    gross = net + vat. A negative amount splits as the mirror image of the positive one.
    """
    amount = check_int(amount, "the amount")
    rate = Fraction(check_rate(vat_rate))
    if prices_include_vat:
        vat = round_half_up(amount * rate / (100 + rate))
        return Breakdown(net=amount - vat, vat=vat, gross=amount)
    vat = round_half_up(amount * rate / 100)
    return Breakdown(net=amount, vat=vat, gross=amount + vat)


def minor_units(currency: str) -> int:
    """How many decimals ``currency`` has: 0 for JPY, 3 for KWD, 2 for EUR and most others."""
    return MINOR_UNITS.get(check_currency(currency), 2)


def format_money(amount: int, currency: str) -> str:
    """``amount`` minor units as accounts departments read it: "EUR 1,234.50", "JPY 12,345", "EUR -5.00"."""
    amount = check_int(amount, "the amount")
    decimals = minor_units(currency)
    whole, fraction = divmod(abs(amount), 10 ** decimals)
    digits = f"{whole:,}" + (f".{fraction:0{decimals}d}" if decimals else "")
    return f"{currency} {'-' if amount < 0 else ''}{digits}"


def format_rate(rate: Decimal) -> str:
    """A VAT rate as people write it: 20%, 7.7%, 0% (never 20.00% or 2E+1%)."""
    text = format(check_rate(rate).normalize(), "f")
    return f"{text}%"
