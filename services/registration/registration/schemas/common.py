"""Field types shared by registration's schemas; the generic ones live in suite_common.fields."""
from __future__ import annotations

from suite_common.fields import Moment, Pattern, StrictBoolean, Text, TimeZone
from suite_common.routing import SLUG_PATTERN

__all__ = ["CODE", "CURRENCY", "SLUG", "SLUG_PATTERN", "Moment", "StrictBoolean", "Text", "TimeZone"]

SLUG = Pattern(SLUG_PATTERN.pattern,
               error="Use 1-64 lowercase letters, digits and hyphens, not starting or ending with a hyphen.")
CODE = Pattern(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", error="Use 1-40 letters, digits, '.', '_' or '-'.")
CURRENCY = Pattern(r"^[A-Z]{3}$", error="Use a three-letter ISO 4217 code such as EUR.")
