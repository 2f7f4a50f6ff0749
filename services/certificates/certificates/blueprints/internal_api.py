"""Internal API: registration hands over attendance it fetched from Zoom (signed service calls only)."""
from __future__ import annotations

from typing import Any

from suite_common.api import SERVICE, SuiteBlueprint
from suite_common.auth import service_required
from suite_common.db import get_session
from suite_common.errors import validation_error

from ..schemas.certificates import AttendanceImport, ReportOutput
from ..services import attendance

blp = SuiteBlueprint("internal_api", __name__, url_prefix="/internal/v1", description="Service-to-service API")


@blp.route("/events/<slug:slug>/attendance-imports", methods=["POST"])
@service_required("registration")
@blp.doc(security=SERVICE)
@blp.arguments(AttendanceImport)
@blp.response(201, ReportOutput)
@blp.alt_response(200, description="the same report again: nothing changed", schema=ReportOutput)
@blp.alt_response(404, description="no such event in the organisation")
def import_attendance(data: dict[str, Any], slug: str) -> Any:
    """Zoom's participants report of the event's webinar, recorded as an uploaded report is (listed with the
    attendance reports as source zoom-api); a newer fetch of the same webinar replaces the earlier one."""
    for row in data["participants"]:
        if row["leave_time"] < row["join_time"]:
            raise validation_error({"participants": [f"line {row['line']}: leave_time is before join_time"]})
    outcome = attendance.import_zoom_report(get_session(), data["organisation_id"], slug, data)
    outcome.report.repeated = not outcome.created
    return outcome.report, 201 if outcome.created else 200
