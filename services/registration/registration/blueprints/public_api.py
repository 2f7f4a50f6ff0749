"""Sign-up as JSON, for society web sites (no token; idempotent with Idempotency-Key)."""
from __future__ import annotations

import re
from typing import Any

from flask import request

from suite_common.api import SuiteBlueprint
from suite_common.db import get_session
from suite_common.errors import validation_error

from ..schemas.registrations import SignUpInput, SignUpResult
from ..services import events as event_service
from ..services import payments, signup
from ..services.urls import manage_url

blp = SuiteBlueprint("public_api", __name__, url_prefix="/api/v1", description="Public sign-up")

IDEMPOTENCY_KEY_MAX = 100
# Visible ASCII only: keys are compared and stored as given, and PostgreSQL refuses e.g. NUL.
IDEMPOTENCY_KEY = re.compile(rf"^[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX}}}$")


@blp.route("/events/<slug:slug>/registrations", methods=["POST"])
@blp.arguments(SignUpInput)
@blp.response(201, SignUpResult)
@blp.alt_response(403, description="outside the registration window")
@blp.alt_response(404, description="no such event")
@blp.alt_response(409, description="already registered, or Idempotency-Key reused with other data")
def register(data: dict[str, Any], slug: str) -> Any:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.match(key):
        raise validation_error({"Idempotency-Key": [f"Use 1-{IDEMPOTENCY_KEY_MAX} visible ASCII characters."]})
    session = get_session()
    event = event_service.get_public_event(session, slug)
    outcome = signup.sign_up(session, event, data, idempotency_key=key)
    registration = outcome.registration
    body = {
        "id": registration.id,
        "reference": registration.reference,
        "status": registration.status,
        "manage_url": manage_url(registration),
        "waitlist_position": outcome.waitlist_position,
        "payment_url": payments.payment_url(session, registration),
        "amount_due": registration.amount_due,
        "currency": registration.currency,
    }
    return body, 201, ({} if outcome.created else {"Idempotent-Replayed": "true"})
