"""Sign-up as JSON, for society web sites (no token; idempotent with Idempotency-Key)."""
from __future__ import annotations

from typing import Any

from suite_common.api import SuiteBlueprint
from suite_common.db import get_session
from suite_common.i18n import requested_language
from suite_common.idempotency import PARAMETER, request_key

from ..schemas.registrations import SignUpInput, SignUpResult
from ..services import events as event_service
from ..services import pricing, signup
from ..services.urls import manage_url
from . import checkout

blp = SuiteBlueprint("public_api", __name__, url_prefix="/api/v1", description="Public sign-up")


@blp.route("/events/<slug:slug>/registrations", methods=["POST"])
@blp.arguments(SignUpInput)
@blp.response(201, SignUpResult)
@blp.doc(parameters=[PARAMETER])
@blp.alt_response(400, description="Idempotency-Key not 1-100 visible ASCII characters")
@blp.alt_response(403, description="outside the registration window")
@blp.alt_response(404, description="no such event")
@blp.alt_response(409, description="already registered, or Idempotency-Key reused with other data")
def register(data: dict[str, Any], slug: str) -> Any:
    session = get_session()
    event = event_service.get_public_event(session, slug)
    outcome = signup.sign_up(session, event, data, idempotency_key=request_key(), language=requested_language())
    registration = outcome.registration
    body = {
        "id": registration.id,
        "reference": registration.reference,
        "status": registration.status,
        "manage_url": manage_url(registration),
        "waitlist_position": outcome.waitlist_position,
        "payment_url": checkout.payment_url(registration),
        "amount_due": pricing.amount_to_pay(registration),
        "currency": registration.currency,
    }
    return body, 201, ({} if outcome.created else {"Idempotent-Replayed": "true"})
