"""Links in mails that must work with one click: announcement unsubscribe (RFC 8058).

Mail clients send the one-click POST without cookies or forms, so there is no CSRF
token to check; it can only withdraw consent, which is harmless to repeat.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from suite_common.db import get_session

from ..services import signup

blp = Blueprint("mail_links", __name__)


@blp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Any:
    session = get_session()
    registration = signup.by_unsubscribe_token(session, token)
    if registration is None:
        abort(404, description="This unsubscribe link is not valid.")
    if request.method == "POST":
        signup.unsubscribe(session, registration)
        return render_template("unsubscribed.html", event=registration.event, done=True)
    return render_template("unsubscribed.html", event=registration.event,
                           done=registration.announcements_consent_at is None, token=token)
