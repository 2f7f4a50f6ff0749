"""Public pages: certificate download, Open Badge, verification, the participant's page (evaluation)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from marshmallow import Schema, ValidationError, fields, validate

from suite_common.auth import check_participant_token
from suite_common.db import get_session
from suite_common.errors import wants_json
from suite_common.fields import Text
from suite_common.forms import protect_forms

from ..services import accreditation as accreditation_service
from ..services import badges, certificates, issuing, registry
from ..services.pdf import CertificateData, render_certificate

blp = Blueprint("public", __name__)
protect_forms(blp)


def pdf_data(certificate: Any, accreditation: Any) -> CertificateData:
    printed = certificate.snapshot
    return CertificateData(
        participant=printed["participant"], event_title=printed["event_title"], event_dates=printed["event_dates"],
        place=printed["place"], credits=Decimal(printed["credits"]), credit_body=printed["credit_body"],
        credit_unit=printed["credit_unit"], statement=printed["statement"],
        signatory_name=printed["signatory_name"], signatory_title=printed["signatory_title"],
        organisation_name=printed["organisation_name"], issued_on=dt.date.fromisoformat(printed["issued_on"]),
        verification_code=certificate.code, verify_url=certificates.links(certificate)["verify_url"],
        logo_png=accreditation.logo_png if accreditation else None,
        signature_png=accreditation.signature_png if accreditation else None,
        revision=certificate.revision, sessions=[(title, Decimal(c)) for title, c in printed["sessions"]],
    )


def _certificate_or_404(token: str) -> Any:
    certificate = certificates.by_download_token(get_session(), token)
    if certificate is None:
        abort(404, description="This link does not lead to a certificate.")
    return certificate


@blp.get("/c/<token>")
def download(token: str) -> Response:
    certificate = _certificate_or_404(token)
    if certificate.revoked_at is not None:
        abort(410, description="This certificate has been revoked.")
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


@blp.get("/verify/<code>")
def verify(code: str) -> Any:
    """Anyone with the code (printed, or in the QR) can check a certificate; unknown codes reveal nothing."""
    certificate = certificates.by_code(get_session(), code)
    if certificate is None:
        if wants_json():
            return jsonify(valid=False, error={"code": "not_found", "message": "No certificate has this code."}), 404
        return render_template("verify.html", found=None, code=code[:20]), 404
    result = certificates.verification(certificate)
    if wants_json():
        return jsonify(result)
    return render_template("verify.html", found=result, code=certificate.code)


def _answers_schema(questions: list[dict[str, Any]]) -> Schema:
    declared: dict[str, fields.Field] = {}
    for question in questions:
        required = question.get("required", True)
        if question["kind"] == "rating":
            declared[question["id"]] = fields.Integer(required=required, validate=validate.Range(min=1, max=5))
        elif question["kind"] == "yes_no":
            declared[question["id"]] = fields.String(required=required, validate=validate.OneOf(("yes", "no")))
        else:
            declared[question["id"]] = Text(2000, allow_blank=True, multiline=True, required=required)
    return Schema.from_dict(declared, name="EvaluationAnswers")()


@blp.route("/events/<slug:slug>/participants/<token>", methods=["GET", "POST"])
def participant(slug: str, token: str) -> Any:
    """The participant's page: the evaluation (when required) and the certificate once issued."""
    settings = current_app.extensions["suite_settings"]
    registration_id = check_participant_token(settings.service_keys["registration"], slug[:64], token[:64])
    if registration_id is None:
        abort(404, description="This link is not valid.")
    session = get_session()
    found = registry.person_by_id(registration_id)
    if found is None or found[1] != slug:
        abort(404, description="This link is not valid.")
    person, _slug, organisation_id = found
    rules = accreditation_service.get(session, organisation_id, slug)
    questions = rules.evaluation_questions if rules else []
    confirmed = person.status == "confirmed"
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if request.method == "POST" and questions and confirmed:
        values = {q["id"]: request.form.get(q["id"], "").strip() for q in questions}
        submitted = {k: v for k, v in values.items() if v != ""}
        try:
            answers = _answers_schema(questions).load(submitted)
            certificates.record_evaluation(session, organisation_id, slug, registration_id, answers, "attendee")
        except ValidationError as exc:
            errors = exc.normalized_messages()
    evaluated = registration_id in issuing.evaluated_ids(session, organisation_id, slug)
    certificate = certificates.for_registration(session, organisation_id, slug, registration_id)
    status = 422 if errors else 409 if request.method == "POST" and not confirmed else 200
    return render_template(
        "participant.html", person=person, confirmed=confirmed, questions=questions if confirmed else [],
        evaluated=evaluated, errors=errors, values=values, required=bool(rules and rules.evaluation_required),
        certificate=certificate, links=certificates.links(certificate) if certificate else None,
    ), status
