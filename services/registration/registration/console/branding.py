"""The society's look in the console: name, colour, footer, privacy link, reply-to and logo. Owners only.

The same rules as ``/api/v1/organisation/branding``: the form goes through the API's schema
(``BrandingInput``) and the service's ``update``, the logo through ``set_logo``, which checks it
exactly as the API's upload does (PNG or JPEG by magic bytes and a full decode, the size limits).
A field left empty is the suite's default again, as a JSON null is.
"""
from __future__ import annotations

from typing import Any

from flask import flash, request
from marshmallow import ValidationError

from suite_common.auth import current_organisation
from suite_common.db import get_session
from suite_common.errors import ApiError

from ..models import Role
from ..schemas.branding import BrandingInput
from ..services import branding
from .core import form_errors, messages_of, render, route, see_other

LABELS = {"display_name": "Display name", "primary_colour": "Colour", "footer_text": "Footer",
          "privacy_url": "Privacy policy link", "reply_to": "Reply-to address", "file": "Logo"}


def _page(status: int = 200, values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None,
          logo_errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    """The page with what is stored; ``values`` is the form as sent back when it had errors."""
    stored = branding.describe(get_session(), current_organisation().id)
    shown = values if values is not None else {name: stored[name] or "" for name in branding.FIELDS}
    return render("console/branding.html", status, stored=stored, values=shown, errors=errors or {},
                  logo_errors=logo_errors or {}, labels=LABELS, max_kb=branding.MAX_LOGO_BYTES // 1024,
                  max_pixels=branding.MAX_LOGO_PIXELS)


@route("/branding", Role.OWNER, methods=("GET", "POST"))
def branding_page() -> Any:
    """GET shows the society's look and its forms; POST saves the five texts at once (a PUT of the API)."""
    if request.method == "GET":
        return _page()
    form = {name: request.form.get(name, "").strip() for name in branding.FIELDS}
    try:
        data = BrandingInput().load({name: value or None for name, value in form.items()})
    except ValidationError as error:
        return _page(422, form, form_errors(error))
    branding.update(get_session(), current_organisation().id, data)
    flash("The society’s look is saved: pages, mails and documents show it from now on.")
    return see_other("console.branding_page")


@route("/branding/logo", Role.OWNER, methods=("POST",))
def branding_logo() -> Any:
    """Uploads or replaces the logo (multipart field ``file``); a refused file is named in the form."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(422, logo_errors={"file": ["Choose a PNG or JPEG file to upload."]})
    try:
        branding.set_logo(get_session(), current_organisation().id, upload.read(branding.MAX_LOGO_BYTES + 1))
    except ApiError as refusal:
        return _page(refusal.status, logo_errors={"file": messages_of(refusal.fields or [refusal.message])})
    flash("The logo is saved.")
    return see_other("console.branding_page")
