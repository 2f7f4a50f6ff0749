"""Internal API: other services hand messages over here (signed calls only)."""
from __future__ import annotations

from typing import Any

from flask import current_app

from suite_common.api import SERVICE, SuiteBlueprint
from suite_common.auth import service_required
from suite_common.db import get_session

from ..schemas.messages import MessageAccepted, MessageInput
from ..services import messages

blp = SuiteBlueprint("internal_api", __name__, url_prefix="/internal/v1", description="Service-to-service API")


def _mail_domain() -> str:
    return current_app.extensions["suite_settings"].smtp.mail_domain


@blp.route("/messages", methods=["POST"])
@service_required("registration", "certificates")
@blp.doc(security=SERVICE)
@blp.arguments(MessageInput)
@blp.response(202, MessageAccepted)
@blp.alt_response(409, description="the idempotency_key was used for a different message")
def create_message(data: dict[str, Any]) -> Any:
    """Stored before it is acknowledged; the same idempotency_key returns the same message."""
    session = get_session()
    message = messages.accept(session, data, _mail_domain())
    return message


@blp.route("/messages/<path:idempotency_key>", methods=["DELETE"])
@service_required("registration", "certificates")
@blp.doc(security=SERVICE)
@blp.response(200, MessageAccepted)
@blp.alt_response(409, description="already sent")
def cancel_message(idempotency_key: str) -> Any:
    """Cancels a message not yet sent; a cancellation that arrives first still holds."""
    session = get_session()
    message = messages.cancel(session, idempotency_key[:200], _mail_domain())
    return message
