"""Organiser API: what was sent, queued or failed, and why; per-event wording."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView

from suite_common.api import ORGANISER, SuiteBlueprint
from suite_common.auth import current_organisation, organiser_required
from suite_common.db import get_session
from suite_common.events import organiser_event_required

from ..schemas.messages import (
    MessagePage,
    MessageQuery,
    TemplateInput,
    TemplateOutput,
    TemplateWording,
    TemplateWordingList,
)
from ..services import messages

blp = SuiteBlueprint("organiser_api", __name__, url_prefix="/api/v1", description="Organiser API (bearer token)")


@blp.route("/messages", methods=["GET"])
@organiser_required
@blp.doc(security=ORGANISER)
@blp.arguments(MessageQuery, location="query")
@blp.response(200, MessagePage)
def list_messages(filters: dict[str, Any]) -> Any:
    """Newest first; pass next_cursor as cursor for the next page."""
    query = messages.listing_query(current_organisation().id, {**filters, "after": filters.get("cursor")})
    items = list(get_session().scalars(query))
    next_cursor = items[-1].id if len(items) == filters["limit"] else None
    return {"items": items, "next_cursor": next_cursor}


@blp.route("/events/<slug:slug>/templates", methods=["GET"])
@organiser_event_required
@blp.doc(security=ORGANISER)
@blp.response(200, TemplateWordingList)
def list_event_templates(slug: str) -> Any:
    """Every message type with the wording this event uses, and whether it is overridden."""
    return {"items": messages.event_wordings(get_session(), current_organisation().id, slug)}


@blp.route("/events/<slug:slug>/templates/<template>")
class EventTemplate(MethodView):
    decorators = [organiser_event_required]

    @blp.doc(security=ORGANISER)
    @blp.response(200, TemplateWording)
    def get(self, slug: str, template: str) -> Any:
        """The wording this event's messages of this type use: the override, or the shipped one."""
        return messages.event_wording(get_session(), current_organisation().id, slug, template)

    @blp.doc(security=ORGANISER)
    @blp.arguments(TemplateInput)
    @blp.response(200, TemplateOutput)
    @blp.alt_response(422, description="the template does not render")
    def put(self, data: dict[str, Any], slug: str, template: str) -> Any:
        """Replaces the wording of one message type for one event; checked by rendering it now."""
        session = get_session()
        override = messages.put_override(session, current_organisation().id, slug, template, data)
        return override

    @blp.doc(security=ORGANISER)
    @blp.response(204)
    def delete(self, slug: str, template: str) -> None:
        """Back to the standard wording."""
        session = get_session()
        messages.delete_override(session, current_organisation().id, slug, template)
