"""Endpoints every service has for checking credentials: an organiser asks
"whose token is this?", a service asks "do you accept my signature?"."""
from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields

from .api import ORGANISER, SERVICE, SuiteBlueprint
from .auth import current_organisation, organiser_required, service_required


class OrganisationOutput(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()
    actor = fields.String(metadata={"description": "the token that speaks, as the audit log names it"})
    role = fields.String(metadata={"description": "owner, staff or viewer: an API token is an owner; a console "
                                                  "session has its person's role"})


class PingOutput(Schema):
    service = fields.String(metadata={"description": "the calling service, as authenticated"})


def identity_blueprint() -> SuiteBlueprint:
    blp = SuiteBlueprint("identity", __name__, description="Credential checks")

    @blp.route("/api/v1/organisation", methods=["GET"])
    @organiser_required
    @blp.doc(security=ORGANISER)
    @blp.response(200, OrganisationOutput)
    def organisation() -> Any:
        """The organisation this token speaks for."""
        return current_organisation()

    @blp.route("/internal/v1/ping", methods=["POST"])
    @service_required()
    @blp.doc(security=SERVICE)
    @blp.response(200, PingOutput)
    def ping() -> Any:
        """Answers a correctly signed call from another service of the suite."""
        return {"service": g.calling_service}

    return blp
