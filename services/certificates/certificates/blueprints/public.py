"""Public pages: certificate download, Open Badge, verification, the participant's page (evaluation)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext

from suite_common.auth import check_participant_token
from suite_common.branding import branding_source, show_branding_of
from suite_common.db import get_session, utcnow
from suite_common.errors import wants_json
from suite_common.forms import protect_forms

from ..services import accreditation as accreditation_service
from ..services import badges, certificates, claims, evaluations, identifiers, presence, registry
from ..services.pdf import CertificateData, PrintedSystem, render_certificate

blp = Blueprint("public", __name__)
protect_forms(blp)


def pdf_data(certificate: Any, accreditation: Any) -> CertificateData:
    """The page from the certificate's snapshot: one printed credit system in the single-system layout
    (whichever system it is), several each with its own name, credits, sessions and statement. The logo
    is the accreditation's own when it has one (an event's accreditor may require its mark), else the
    society's branding logo."""
    printed = certificate.snapshot
    systems = [PrintedSystem(name=s["name"], body=s["body"], credits=Decimal(s["credits"]), statement=s["statement"],
                             sessions=[(title, Decimal(c)) for title, c in s["sessions"]])
               for s in printed["systems"]]
    lead = systems[0]
    return CertificateData(
        participant=printed["participant"], event_title=printed["event_title"], event_dates=printed["event_dates"],
        place=printed["place"], credits=lead.credits, credit_body=lead.body,
        credit_unit=lead.name, statement=lead.statement, systems=systems if len(systems) > 1 else (),
        signatory_name=printed["signatory_name"], signatory_title=printed["signatory_title"],
        organisation_name=printed["organisation_name"], issued_on=dt.date.fromisoformat(printed["issued_on"]),
        verification_code=certificate.code, verify_url=certificates.links(certificate)["verify_url"],
        logo_png=(accreditation.logo_png if accreditation and accreditation.logo_png
                  else _society_logo(certificate.organisation_id)),
        signature_png=accreditation.signature_png if accreditation else None,
        revision=certificate.revision, sessions=lead.sessions, language=printed.get("language") or "en",
    )


def _society_logo(organisation_id: int) -> bytes | None:
    logo = branding_source().logo(organisation_id)
    return logo.data if logo else None


def _certificate_or_404(token: str) -> Any:
    certificate = certificates.by_download_token(get_session(), token)
    if certificate is None:
        abort(404, description=gettext("This link does not lead to a certificate."))
    return certificate


@blp.get("/c/<token>")
def download(token: str) -> Response:
    certificate = _certificate_or_404(token)
    if certificate.revoked_at is not None:
        abort(410, description=gettext("This certificate has been revoked."))
    accreditation = accreditation_service.get(get_session(), certificate.organisation_id, certificate.event_slug)
    body = render_certificate(pdf_data(certificate, accreditation))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-{certificate.code}.pdf"',
        "Cache-Control": "private, no-store"})


@blp.get("/c/<token>/badge.json")
def badge(token: str) -> Response:
    certificate = _certificate_or_404(token)
    response = jsonify(badges.open_badge(certificate))
    response.headers["Content-Disposition"] = f'attachment; filename="badge-{certificate.code}.json"'
    return response


@blp.get("/verify/", defaults={"code": ""})
@blp.get("/verify/<path:code>")
def verify(code: str) -> Any:
    """Anyone with the code (printed, or in the QR) can check a certificate; unknown codes reveal nothing.
    Any path under /verify/ (a code mistyped with a slash, none at all) gets this page, not a bare 404."""
    certificate = certificates.by_code(get_session(), code) if code else None
    if certificate is None:
        if wants_json():
            return jsonify(valid=False, error={"code": "not_found", "message": "No certificate has this code."}), 404
        return render_template("verify.html", found=None, code=code[:20]), 404
    show_branding_of(certificate.organisation_id)
    result = certificates.verification(certificate)
    if wants_json():
        return jsonify(result)
    return render_template("verify.html", found=result, code=certificate.code)


@blp.route("/events/<slug:slug>/participants/<token>", methods=["GET", "POST"])
def participant(slug: str, token: str) -> Any:
    """The participant's page: presence codes, the evaluation (when required), claims where a credit
    system requires one, and the certificate once issued. Each form posts ``action`` (code, claim;
    the evaluation's form has none)."""
    settings = current_app.extensions["suite_settings"]
    registration_id = check_participant_token(settings.service_keys["registration"], slug[:64], token[:64])
    if registration_id is None:
        abort(404, description=gettext("This link is not valid."))
    session = get_session()
    found = registry.person_by_id(registration_id)
    if found is None or found[1] != slug:
        abort(404, description=gettext("This link is not valid."))
    person, _slug, organisation_id = found
    show_branding_of(organisation_id)
    confirmed = person.status == "confirmed"
    now = utcnow()
    action = request.form.get("action", "evaluation") if request.method == "POST" else None
    state = evaluations.participant_state(session, organisation_id, slug, registration_id)
    errors: dict[str, list[str]] = {}
    entry: presence.Entry | None = None
    claimed = False
    if action == "code" and confirmed:
        entry = presence.enter_code(session, organisation_id, slug, registration_id, request.form.get("code", ""),
                                    now)
    elif action == "claim" and confirmed:
        errors = claims.submit(session, organisation_id, slug, person, request.form, now)
        claimed = not errors
    elif action == "identifiers" and confirmed:
        errors = identifiers.submit(session, organisation_id, slug, registration_id, person.email, request.form)
    elif action == "evaluation" and confirmed and state.has_form and not state.completed:
        errors = evaluations.submit(session, organisation_id, slug, registration_id, state, request.form)
        if not errors:
            state = evaluations.participant_state(session, organisation_id, slug, registration_id)
    certificate = certificates.for_registration(session, organisation_id, slug, registration_id)
    refused = bool(errors) or (entry is not None and entry.refused)
    status = 422 if refused else 409 if request.method == "POST" and not confirmed else 200
    return render_template(
        "participant.html", person=person, confirmed=confirmed, state=state, show_form=confirmed and state.has_form,
        evaluated=state.completed, errors=errors, values=request.form if errors else {}, action=action,
        field_name=evaluations.field_name, required=state.required, entry=entry, claimed=claimed,
        has_codes=confirmed and presence.has_codes(session, organisation_id, slug),
        codes_entered=presence.participant_codes(session, organisation_id, slug, registration_id),
        claim_options=claims.options(session, organisation_id, slug, registration_id, now) if confirmed else [],
        attestation=claims.ATTESTATION,
        certificate=certificate, links=certificates.links(certificate) if certificate else None,
        identifier_systems=identifiers.page_state(session, organisation_id, slug, registration_id) if confirmed else [],
        identifier_values=request.form if errors and action == "identifiers" else {}, boards=identifiers.BOARDS,
        # Every certificate of this organiser, across events, with totals per system and year.
        transcript_url=url_for("transcripts.request_form", organisation_id=organisation_id),
    ), status
