"""Internal API (/internal/v1) for the other services of the suite; signed calls only."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from suite_common.api import SERVICE, SuiteBlueprint
from suite_common.auth import service_required
from suite_common.db import get_session
from suite_common.errors import not_found
from suite_common.identity import OrganisationOutput

from ..services.organisations import resolve_token

blp = SuiteBlueprint("internal_api", __name__, url_prefix="/internal/v1", description="Service-to-service API")


class TokenIntrospectionInput(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenIntrospectionOutput(Schema):
    organisation = fields.Nested(OrganisationOutput)


@blp.route("/token-introspection", methods=["POST"])
@service_required("notifications", "certificates")
@blp.doc(security=SERVICE)
@blp.arguments(TokenIntrospectionInput)
@blp.response(200, TokenIntrospectionOutput)
@blp.alt_response(404, description="unknown or revoked token")
def introspect(data: dict[str, Any]) -> Any:
    organisation = resolve_token(get_session(), data["token"])
    if organisation is None:
        raise not_found("token")
    return {"organisation": organisation}
