"""Zoom in the console: the organisation's Server-to-Server OAuth app and its webhook secret token. Owners only.

The same rules as ``/api/v1/organisation/integrations/zoom``: the form goes through the API's schema
(``ZoomConnectionInput``) and the service's ``connect``; a secret left empty keeps the stored one, as a
secret left out of the API's PUT does. Secrets are write-only here too: the page says whether each is
set, and a refused form comes back with the IDs only, never with a secret typed into it. The audit log
records this page's POSTs by route and status, never the form.
"""
from __future__ import annotations

from typing import Any

from flask import flash, request
from marshmallow import ValidationError

from suite_common.auth import current_organisation
from suite_common.db import get_session
from suite_common.errors import ApiError

from ..models import Role
from ..schemas.zoom import ZoomConnectionInput
from ..services.urls import public_base
from ..services.zoom import connection
from .core import form_errors, messages_of, render, route, see_other

LABELS = {"account_id": "Account ID", "client_id": "Client ID", "client_secret": "Client secret",
          "webhook_secret_token": "Webhook secret token"}
SECRETS = ("client_secret", "webhook_secret_token")
# The one event the suite needs from Zoom: the participants report is fetched when a webinar ends.
WEBHOOK_EVENT = "webinar.ended"


def _page(status: int = 200, values: dict[str, str] | None = None,
          errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    """The page with what is stored; ``values`` is the form as sent back, its secrets left out."""
    stored = connection.describe(connection.get_connection(get_session(), current_organisation().id))
    shown = values if values is not None else {"account_id": stored["account_id"] or "",
                                               "client_id": stored["client_id"] or ""}
    return render("console/zoom.html", status, stored=stored, values=shown, errors=errors or {}, labels=LABELS,
                  webhook_url=f"{public_base()}/webhooks/zoom", webhook_event=WEBHOOK_EVENT)


@route("/integrations/zoom", Role.OWNER, methods=("GET", "POST"))
def zoom_page() -> Any:
    """GET shows the connection and its form; POST connects Zoom or replaces the connection (the API's PUT)."""
    if request.method == "GET":
        return _page()
    form = {name: request.form.get(name, "").strip() for name in LABELS}
    # An empty secret is left out, which keeps the stored one; typed, it must be a valid secret.
    payload = {name: value for name, value in form.items() if value or name not in SECRETS}
    ids_only = {name: value for name, value in form.items() if name not in SECRETS}
    try:
        data = ZoomConnectionInput().load(payload)
    except ValidationError as error:
        return _page(422, ids_only, form_errors(error))
    try:
        connection.connect(get_session(), current_organisation().id, connection.secret_box(), data)
    except ApiError as refusal:
        return _page(refusal.status, ids_only,
                     {name: messages_of(messages) for name, messages in (refusal.fields or {}).items()}
                     or {"_schema": [refusal.message]})
    flash("Zoom is connected: events can create or link their webinars, and sign-ups become its registrants.")
    return see_other("console.zoom_page")


@route("/integrations/zoom/disconnect", Role.OWNER, methods=("POST",))
def zoom_disconnect() -> Any:
    """Forgets the app and its secrets (the API's DELETE); registrants already made stay at Zoom."""
    if connection.remove_connection(get_session(), current_organisation().id):
        flash("Zoom is disconnected and its secrets are deleted. Registrants already made stay at Zoom.")
    else:
        flash("Zoom was not connected.", "warning")
    return see_other("console.zoom_page")
