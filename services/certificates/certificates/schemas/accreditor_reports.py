"""Queries and answers of the accreditor reports (services/accreditor_reports.py)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from suite_common.fields import CREDIT_SYSTEM_CODE, Pattern


class ReportQuery(Schema):
    system = fields.String(required=True, validate=CREDIT_SYSTEM_CODE,
                           metadata={"description": "the credit system's code", "example": "ECMEC"})


class ParsQuery(ReportQuery):
    activity_id = fields.String(load_default="", validate=Pattern(r"^[A-Za-z0-9_-]{0,40}$"), metadata={
        "description": "the activity's ID in PARS, written in the Activity ID column (empty without it)"})


class SummaryQuery(ReportQuery):
    format = fields.String(validate=validate.OneOf(("json", "pdf")),
                           metadata={"description": "pdf for the printable report (or Accept: application/pdf)"})


class SummaryOutput(Schema):
    event = fields.Dict()
    system = fields.Dict()
    generated_at = fields.String()
    participants = fields.Dict(metadata={"description": "confirmed, learners, reportable, by_country and "
                                                        "by_profession ([{value, participants, learners}])"})
    credits = fields.Dict(metadata={"description": "total, mean and distribution ([{credits, learners}])"})
    evaluation = fields.Dict(metadata={"description": "as GET .../evaluation-results"})
    faculty = fields.Dict(metadata={"description": "available, and items: name, role, sessions, none, "
                                                   "disclosures ([{company, relationship, ended_on}])"})
