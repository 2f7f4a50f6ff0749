"""Organiser API for privacy requests: one person's data as one JSON document, and erasure."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from suite_common.api import ORGANISER, SuiteBlueprint
from suite_common.auth import current_organisation, organiser_required
from suite_common.db import get_session
from suite_common.fields import Email

from ..services import privacy

blp = SuiteBlueprint("privacy", __name__, url_prefix="/api/v1/privacy", description="Privacy (GDPR) requests")


class PersonQuery(Schema):
    email = Email(required=True)


class PersonExport(Schema):
    email = fields.String()
    generated_at = fields.String()
    registration = fields.Dict(metadata={"description": "registrations, consents, payment documents"})
    notifications = fields.Dict(metadata={"description": "messages sent or queued"})
    certificates = fields.Dict(metadata={"description": "certificates, attendance, check-ins, evaluations"})


class ErasureOutput(Schema):
    erased = fields.Dict()
    kept = fields.List(fields.Dict(), metadata={"description": "what was kept, why, and until when"})


@blp.route("/export", methods=["GET"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(PersonQuery, location="query")
@blp.response(200, PersonExport)
def export(query: dict[str, Any]) -> Any:
    """Everything the suite holds about this email address in this organisation, across all services."""
    return privacy.export(get_session(), current_organisation().id, query["email"])


@blp.route("/erase", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(PersonQuery)
@blp.response(200, ErasureOutput)
def erase(data: dict[str, Any]) -> Any:
    """Anonymises the person everywhere except what the law and accreditation require to keep."""
    session = get_session()
    result = privacy.erase(session, current_organisation().id, data["email"])
    return result
