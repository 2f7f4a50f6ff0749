"""The learner's transcript: ask by email (/o/<organisation>/transcript), open the mailed link, download the PDF.

Organisations are addressed by id: certificates knows an organisation only by the id registration gives it.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError

from suite_common.branding import branding_source, page_branding, show_branding_of
from suite_common.db import get_session, utcnow
from suite_common.fields import Email
from suite_common.forms import protect_forms
from suite_common.i18n import current_language
from suite_common.pdf import letterhead

from ..services import transcripts

blp = Blueprint("transcripts", __name__)
protect_forms(blp)
ORGANISATION = "<int(max=2147483647):organisation_id>"


class TranscriptRequest(Schema):
    email = Email(required=True)


def _organisation_name(organisation_id: int) -> str:
    return page_branding().display_name or _("the organiser")


@blp.route(f"/o/{ORGANISATION}/transcript", methods=["GET", "POST"])
def request_form(organisation_id: int) -> Any:
    """The same answer for every well-formed address, known or not: the page reveals no one."""
    show_branding_of(organisation_id)
    errors: dict[str, list[str]] = {}
    email = request.form.get("email", "")
    if request.method == "POST":
        try:
            data = TranscriptRequest().load({"email": email})
            transcripts.request_link(get_session(), organisation_id, data["email"], current_language(), utcnow())
            return render_template("transcript_sent.html", organisation=_organisation_name(organisation_id),
                                   days=transcripts.LINK_DAYS, organisation_id=organisation_id)
        except ValidationError as exc:
            errors = {"email": [_("Enter an email address such as name@hospital.example.")]} if exc.messages else {}
    return render_template("transcript_request.html", organisation=_organisation_name(organisation_id),
                           organisation_id=organisation_id, email=email, errors=errors), 422 if errors else 200


def _found(organisation_id: int, token: str) -> transcripts.Transcript:
    show_branding_of(organisation_id)
    session = get_session()
    link = transcripts.by_secret(session, organisation_id, token, utcnow())
    if link is None:
        abort(404, description=_("This transcript link is unknown or has expired. Ask for a new one."))
    return transcripts.transcript(session, link)


@blp.get(f"/o/{ORGANISATION}/transcript/<token>")
def page(organisation_id: int, token: str) -> Any:
    found = _found(organisation_id, token)
    return render_template("transcript.html", found=found, organisation=_organisation_name(organisation_id),
                           token=token, base=request.host_url.rstrip("/"))


@blp.get(f"/o/{ORGANISATION}/transcript/<token>/transcript.pdf")
def pdf(organisation_id: int, token: str) -> Response:
    found = _found(organisation_id, token)
    labels = {"title": _("Transcript of certificates"), "generated": _("Generated %(date)s", date=str(utcnow().date())),
              "totals": _("Totals of valid certificates"), "system": _("Credit system"), "total": _("Total"),
              "no_totals": _("No valid certificates."), "certificates": _("Certificates"), "date": _("Date"),
              "event": _("Event"), "credits": _("Credits"), "code": _("Verification code"),
              "revoked": _("revoked, not counted")}
    source = branding_source()  # registration's, cached: the society's logo, colour and footer
    look = letterhead(source.branding(organisation_id), source.logo(organisation_id))
    body = transcripts.render_pdf(found, _organisation_name(organisation_id), labels, look)
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": 'inline; filename="transcript.pdf"', "Cache-Control": "private, no-store"})
