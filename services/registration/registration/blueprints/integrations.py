"""Organiser API: the organisation's integrations (Zoom)."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from suite_common.api import ORGANISER, SuiteBlueprint
from suite_common.auth import current_organisation, organiser_required
from suite_common.db import commit_before_calling_out, get_db, get_session
from suite_common.errors import ApiError

from ..schemas.zoom import ZoomConnectionInput, ZoomConnectionOutput, ZoomWebinarOutput
from ..services.zoom import connection, webinars
from .lookups import organiser_event

blp = SuiteBlueprint("integrations", __name__, url_prefix="/api/v1", description="Integrations (Zoom)")


def _owner_only() -> None:
    """An integration holds the society's credentials at another company: owners set them, others read."""
    if current_organisation().role != "owner":
        raise ApiError(403, "forbidden", "Only an owner of the organisation may change its integrations.")


@blp.route("/organisation/integrations/zoom")
class ZoomIntegration(MethodView):
    """The organisation's Zoom Server-to-Server OAuth app; secrets are write-only."""

    decorators = [organiser_required]

    @blp.doc(security=ORGANISER)
    @blp.response(200, ZoomConnectionOutput)
    def get(self) -> Any:
        """What is set: the account and client IDs, and whether each secret is set (never the secrets)."""
        return connection.describe(connection.get_connection(get_session(), current_organisation().id))

    @blp.doc(security=ORGANISER)
    @blp.arguments(ZoomConnectionInput)
    @blp.response(200, ZoomConnectionOutput)
    def put(self, data: dict[str, Any]) -> Any:
        """Connects Zoom, or replaces the connection; a secret left out keeps the stored one."""
        _owner_only()
        saved = connection.connect(get_session(), current_organisation().id, connection.secret_box(), data)
        return connection.describe(saved)

    @blp.doc(security=ORGANISER)
    @blp.response(204)
    def delete(self) -> None:
        """Disconnects Zoom: the secrets are deleted; registrants made at Zoom stay there."""
        _owner_only()
        if not connection.remove_connection(get_session(), current_organisation().id):
            raise ApiError(404, "not_found", "Zoom is not connected.")


@blp.route("/events/<slug>/zoom-webinar", methods=["POST"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.response(201, ZoomWebinarOutput)
@blp.alt_response(409, description="the event has a Zoom webinar already, or Zoom is not connected")
@blp.alt_response(502, description="Zoom refused or did not answer; nothing was changed")
def create_zoom_webinar(slug: str) -> Any:
    """Creates the event's webinar at Zoom (registration required, approved automatically) and links it:
    confirmed registrations become its registrants."""
    event = organiser_event(slug)
    commit_before_calling_out()
    webinar_id = webinars.create_and_link(get_session(), get_db(), current_app.extensions["suite_settings"], event)
    return {"slug": event.slug, "zoom_webinar_id": webinar_id}
