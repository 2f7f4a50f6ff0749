"""How a person's name is printed: "given family" or "family given".

Chinese, Japanese and Korean names are written family name first (王 芳, not 芳 王). Which order a
person uses is their choice, stored with their registration; when they do not say, the script of
the name decides, since a name written in Han, kana or Hangul is almost always written in that order.
"""
from __future__ import annotations

import unicodedata

# Prefixes of the Unicode character names of the scripts whose names are written family name first.
FAMILY_FIRST_SCRIPTS = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HANGUL", "HIRAGANA", "KATAKANA")


def written_family_first(*parts: str) -> bool:
    """Whether a name in these parts is, by its script, written family name first: any letter of the
    name in Han, kana or Hangul decides (a romanised name keeps the Western order unless chosen)."""
    for char in "".join(parts):
        if char.isalpha() and unicodedata.name(char, "").startswith(FAMILY_FIRST_SCRIPTS):
            return True
    return False


def full_name(given_name: str, family_name: str, family_name_first: bool) -> str:
    """The name as printed, in the person's order; an empty part leaves no stray space."""
    parts = (family_name, given_name) if family_name_first else (given_name, family_name)
    return " ".join(part for part in parts if part)
