"""Privacy requests between services: registration, which organisers ask, collects what each
service holds about an email address and asks each to erase it. Each service answers for its
own database through the same two internal endpoints, built here."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from .api import SERVICE, SuiteBlueprint
from .auth import service_required
from .db import get_session
from .fields import Email

Export = Callable[[Session, int, str], dict[str, Any]]
# Returns what was erased, and what was kept with the reason and for how long.
Erase = Callable[[Session, int, str], tuple[dict[str, Any], list[dict[str, str]]]]


class PrivacyRequest(Schema):
    organisation_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    email = Email(required=True)


class PrivacyAnswer(Schema):
    data = fields.Dict()
    kept = fields.List(fields.Dict(), metadata={"description": "what was kept, why, and until when"})


def privacy_blueprint(export: Export, erase: Erase) -> SuiteBlueprint:
    blp = SuiteBlueprint("privacy_api", __name__, url_prefix="/internal/v1/privacy", description="Privacy requests")

    @blp.route("/export", methods=["POST"])
    @service_required("registration")
    @blp.doc(security=SERVICE)
    @blp.arguments(PrivacyRequest)
    @blp.response(200, PrivacyAnswer)
    def export_view(data: dict[str, Any]) -> Any:
        return {"data": export(get_session(), data["organisation_id"], data["email"]), "kept": []}

    @blp.route("/erase", methods=["POST"])
    @service_required("registration")
    @blp.doc(security=SERVICE)
    @blp.arguments(PrivacyRequest)
    @blp.response(200, PrivacyAnswer)
    def erase_view(data: dict[str, Any]) -> Any:
        erased, kept = erase(get_session(), data["organisation_id"], data["email"])
        return {"data": erased, "kept": kept}

    return blp
