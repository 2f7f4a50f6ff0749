"""Organiser API: fetch a webinar's attendance from Zoom by hand, and see every fetch and its outcome."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView

from suite_common.api import ORGANISER, SuiteBlueprint
from suite_common.auth import organiser_required
from suite_common.db import get_session
from suite_common.errors import ApiError

from ..schemas.zoom_attendance import ReportFetchList, ReportFetchOutput
from ..services.zoom import attendance
from .lookups import organiser_event

api = SuiteBlueprint("zoom_attendance", __name__, url_prefix="/api/v1",
                     description="Organiser API: Zoom attendance (bearer token)")


@api.route("/events/<slug:slug>/zoom/attendance-fetch")
class AttendanceFetch(MethodView):
    decorators = [organiser_required]

    @api.doc(security=ORGANISER)
    @api.response(202, ReportFetchOutput)
    @api.alt_response(404, description="no such event in this organisation")
    @api.alt_response(409, description="the event has no Zoom webinar, or the organisation no Zoom connection")
    def post(self, slug: str) -> Any:
        """Fetches Zoom's participants report of the event's webinar now (the worker does it, in seconds)
        and records it at certificates as attendance; fetching again changes nothing unless Zoom's report did."""
        try:
            return attendance.fetch_by_hand(get_session(), organiser_event(slug)), 202
        except attendance.NotLinked as exc:
            raise ApiError(409, "not_linked_to_zoom", str(exc)) from exc


@api.route("/events/<slug:slug>/zoom/attendance-fetches")
class AttendanceFetches(MethodView):
    decorators = [organiser_required]

    @api.doc(security=ORGANISER)
    @api.response(200, ReportFetchList)
    @api.alt_response(404, description="no such event in this organisation")
    def get(self, slug: str) -> Any:
        """The event's last 50 report fetches, newest first: when, why, and what came of them."""
        return {"items": attendance.fetches_of(get_session(), organiser_event(slug))}
