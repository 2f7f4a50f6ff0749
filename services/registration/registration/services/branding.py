"""The organisation's branding: what organisers set, what pages, mails and documents show.

A logo is an image the suite prints in PDFs and shows on pages to anyone, so only PNG and JPEG are
taken (no SVG: it can carry script), and a file must both start with the format's magic bytes and
decode completely with Pillow: a renamed file, a truncated one or a decompression bomb is refused
with words, never stored.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from flask import url_for
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from suite_common.branding import DEFAULT_COLOUR, Branding, BrandingSource, Logo, text_colour_on
from suite_common.db import get_session
from suite_common.errors import ApiError, validation_error

from ..models import Organisation

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 2000  # per side
MAGIC = {b"\x89PNG\r\n\x1a\n": ("PNG", "image/png"), b"\xff\xd8\xff": ("JPEG", "image/jpeg")}
FIELDS = ("display_name", "primary_colour", "footer_text", "privacy_url", "reply_to")
COLUMNS = {"display_name": "brand_display_name", "primary_colour": "brand_colour", "footer_text": "brand_footer",
           "privacy_url": "brand_privacy_url", "reply_to": "brand_reply_to"}


@dataclass(frozen=True)
class CheckedLogo:
    content_type: str
    data: bytes
    width: int
    height: int


def check_logo(data: bytes) -> CheckedLogo:
    """The logo if ``data`` is a PNG or JPEG within the limits; else a 413/422 that says what is wrong."""
    if len(data) > MAX_LOGO_BYTES:
        raise ApiError(413, "payload_too_large", f"The logo is larger than {MAX_LOGO_BYTES // 1024} KB.",
                       {"file": [f"Use an image of at most {MAX_LOGO_BYTES // 1024} KB."]})
    kind = next((found for magic, found in MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise validation_error({"file": ["The logo must be a PNG or JPEG image (SVG and other formats are not "
                                         "accepted)."]}, "The file is not a PNG or JPEG image.")
    pillow_format, content_type = kind
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as image:
                width, height = image.size
                if width > MAX_LOGO_PIXELS or height > MAX_LOGO_PIXELS:
                    raise validation_error(
                        {"file": [f"The logo is {width} × {height} pixels; use at most {MAX_LOGO_PIXELS} × "
                                  f"{MAX_LOGO_PIXELS}."]}, "The logo is too large.")
                image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise validation_error({"file": [f"The file is not a readable {pillow_format} image."]},
                               "The file is not a PNG or JPEG image.") from exc
    return CheckedLogo(content_type, data, width, height)


def branding_of(organisation: Organisation) -> Branding:
    return Branding(
        organisation_id=organisation.id, display_name=organisation.brand_display_name or organisation.name,
        primary_colour=organisation.brand_colour or DEFAULT_COLOUR, footer_text=organisation.brand_footer,
        privacy_url=organisation.brand_privacy_url, reply_to=organisation.brand_reply_to,
        logo_version=organisation.logo_sha256[:12] if organisation.logo_sha256 else None)


def logo_of(organisation: Organisation) -> Logo | None:
    if organisation.logo is None or organisation.logo_content_type is None:
        return None
    return Logo(organisation.logo_content_type, organisation.logo)


def describe(session: Session, organisation_id: int) -> dict[str, Any]:
    """The organiser's view: what was set (null: the default) and the text colour chosen."""
    organisation = session.get_one(Organisation, organisation_id)
    logo = None
    if organisation.logo_sha256:
        data = organisation.logo or b""
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        logo = {"content_type": organisation.logo_content_type, "width": width, "height": height,
                "bytes": len(data), "url": url_for("branding.brand_logo", organisation_id=organisation.id,
                                                   v=organisation.logo_sha256[:12], _external=True)}
    colour = organisation.brand_colour
    return {"display_name": organisation.brand_display_name, "primary_colour": colour,
            "text_colour": text_colour_on(colour or DEFAULT_COLOUR), "footer_text": organisation.brand_footer,
            "privacy_url": organisation.brand_privacy_url, "reply_to": organisation.brand_reply_to, "logo": logo}


def update(session: Session, organisation_id: int, data: dict[str, Any]) -> None:
    organisation = session.get_one(Organisation, organisation_id)
    for name in FIELDS:
        value = data.get(name)
        setattr(organisation, COLUMNS[name], value.lower() if name == "primary_colour" and value else value)


def set_logo(session: Session, organisation_id: int, data: bytes) -> None:
    checked = check_logo(data)
    organisation = session.get_one(Organisation, organisation_id)
    organisation.logo = checked.data
    organisation.logo_content_type = checked.content_type
    organisation.logo_sha256 = hashlib.sha256(checked.data).hexdigest()


class DatabaseBranding(BrandingSource):
    """Registration's own source: its database, in the request's session."""

    def branding(self, organisation_id: int) -> Branding | None:
        organisation = get_session().get(Organisation, organisation_id)
        return None if organisation is None else branding_of(organisation)

    def logo(self, organisation_id: int) -> Logo | None:
        organisation = get_session().get(Organisation, organisation_id)
        return None if organisation is None else logo_of(organisation)
