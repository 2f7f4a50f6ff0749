"""Shapes of the Zoom participants-report fetches at the organiser API."""
from __future__ import annotations

from marshmallow import Schema, fields


class ReportFetchOutput(Schema):
    id = fields.Integer()
    webinar_id = fields.String()
    reason = fields.String(metadata={"description": "webinar.ended (Zoom's webhook) or by hand"})
    status = fields.String(metadata={"description": "queued, done or failed"})
    attempts = fields.Integer()
    due_at = fields.AwareDateTime(metadata={"description": "when the (next) attempt is due"})
    last_error = fields.String(allow_none=True)
    outcome = fields.Dict(allow_none=True, metadata={
        "description": "once done: report_id (certificates' attendance report), rows_read, matched, unmatched, "
                       "skipped (waiting room, unreadable), repeated (the same report as before: nothing changed)"})
    created_at = fields.AwareDateTime()
    finished_at = fields.AwareDateTime(allow_none=True)


class ReportFetchList(Schema):
    items = fields.List(fields.Nested(ReportFetchOutput))
