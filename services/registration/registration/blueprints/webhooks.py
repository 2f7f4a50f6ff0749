"""Stripe's webhook endpoint: signature checked on the raw body, each event applied once."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, jsonify, request

from suite_common.db import get_session
from suite_common.errors import ApiError

from ..services import payments

blp = Blueprint("webhooks", __name__)
log = logging.getLogger(__name__)


@blp.post("/webhooks/stripe")
def stripe_webhook() -> Any:
    payload = request.get_data(cache=False)
    try:
        event = payments.verify(payload, request.headers.get("Stripe-Signature", ""))
    except payments.BadSignature as exc:
        raise ApiError(400, "bad_signature", str(exc)) from exc
    session = get_session()
    outcome = payments.apply_event(session, event)
    log.info("stripe event", extra={"stripe_event": event["id"], "type": event["type"], "outcome": outcome})
    return jsonify(received=True, outcome=outcome)
