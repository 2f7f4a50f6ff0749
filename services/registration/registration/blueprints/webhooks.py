"""Stripe's and Zoom's webhook endpoints: signatures checked on the raw body, each event applied once."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from suite_common.db import get_session
from suite_common.errors import ApiError

from ..services import payments
from ..services.zoom import attendance as zoom_attendance
from ..services.zoom import connection as zoom_connection

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


@blp.post("/webhooks/zoom")
def zoom_webhook() -> Any:
    """Zoom's events: the URL validation challenge answered, ``webinar.ended`` applied once."""
    payload = request.get_data(cache=False)
    session = get_session()
    try:
        verified = zoom_attendance.verify(session, zoom_connection.secret_box(), payload,
                                          request.headers.get("x-zm-request-timestamp", ""),
                                          request.headers.get("x-zm-signature", ""))
        if verified.event.get("event") == "endpoint.url_validation":
            return jsonify(zoom_attendance.url_validation_answer(verified))
    except zoom_attendance.BadSignature as exc:
        raise ApiError(401, "bad_signature", str(exc)) from exc
    delay = dt.timedelta(seconds=current_app.extensions["suite_settings"].zoom.report_delay_seconds)
    outcome = zoom_attendance.apply_event(session, verified, delay)
    log.info("zoom event", extra={"type": verified.event.get("event"), "outcome": outcome})
    return jsonify(received=True, outcome=outcome)
