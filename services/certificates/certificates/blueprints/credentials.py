"""Signed credentials in public: the VC-JWT of a certificate, each organisation's issuer profile, JWKS and
status lists, and verification (a page, and ``POST /api/v1/verify``), all without a token."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from suite_common.api import SuiteBlueprint
from suite_common.db import get_session, utcnow
from suite_common.forms import protect_forms

from ..schemas.credentials import MAX_CREDENTIAL_CHARS, VerifyInput, VerifyOutput
from ..services import certificates, credentials, signing_keys, status_list

pages = Blueprint("credentials", __name__)
protect_forms(pages)
api = SuiteBlueprint("verify_api", __name__, url_prefix="/api/v1",
                     description="Verification of signed credentials (public, no token)")


def _jwt(token: str, filename: str | None = None) -> Response:
    response = Response(token, mimetype=signing_keys.MEDIA_TYPE)
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _issued(certificate: Any) -> Response:
    if certificate is None:
        abort(404, description="This link does not lead to a certificate.")
    if certificate.revoked_at is not None:
        abort(410, description="This certificate has been revoked.")
    return _jwt(credentials.signed(get_session(), certificate, utcnow()), f"credential-{certificate.code}.jwt")


@pages.get("/c/<token>/credential.jwt")
def credential(token: str) -> Response:
    """The participant's signed credential, behind their unguessable link."""
    return _issued(certificates.by_download_token(get_session(), token))


@pages.get("/verify/<code>/credential.jwt")
def credential_by_code(code: str) -> Response:
    """The same credential for whoever holds the printed code (it says what ``/verify/<code>`` says)."""
    return _issued(certificates.by_code(get_session(), code))


@pages.get("/organisations/<int:organisation_id>")
def issuer(organisation_id: int) -> Response:
    profile = credentials.issuer_profile(get_session(), organisation_id)
    if profile is None:
        abort(404, description="No issuer has this address.")
    return jsonify(profile)


@pages.get("/organisations/<int:organisation_id>/jwks.json")
def jwks(organisation_id: int) -> Response:
    keys = signing_keys.jwks(get_session(), organisation_id)
    if keys is None:
        abort(404, description="This organisation has no signing keys.")
    response = jsonify(keys)
    response.mimetype = "application/jwk-set+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@pages.get("/organisations/<int:organisation_id>/status-lists/<int:number>")
def status(organisation_id: int, number: int) -> Response:
    token = status_list.served(get_session(), organisation_id, number)
    if token is None:
        abort(404, description="No status list has this address.")
    response = _jwt(token)
    response.headers["Cache-Control"] = "no-cache"  # a revocation must be seen at the next check
    return response


@pages.route("/verify/credential", methods=["GET", "POST"])
def verify_page() -> Any:
    """Paste a credential, read whether it holds; a plain form, so it works without JavaScript."""
    text = request.form.get("credential", "")[:MAX_CREDENTIAL_CHARS] if request.method == "POST" else ""
    result = credentials.verify(get_session(), text, utcnow()) if text.strip() else None
    missing = request.method == "POST" and not text.strip()
    return render_template("verify_credential.html", result=result, text=text, missing=missing), \
        422 if missing else 200


@api.route("/verify", methods=["POST"])
@api.arguments(VerifyInput)
@api.response(200, VerifyOutput)
def verify(data: dict[str, Any]) -> Any:
    """Whether a signed credential's signature, issuer, status and validity period hold (200 also when they
    do not: ``valid`` says). Only this service's keys and status lists are trusted; nothing is fetched."""
    return credentials.verify(get_session(), data["credential"], utcnow()).to_dict()
